/**
 * Resolving a signature's keyId to a public key and the actor that really owns it.
 * Ownership is confirmed from the actor's own document, never from the key document's `owner`
 * alone (GHSA-q9f8-5hc7-898f).
 * @module
 */
import type { KeyObject } from "node:crypto";
import { publicKeyFromMultibase, publicKeyFromPem } from "./keys.ts";
import { signRequest } from "./sign.ts";
import type { HttpClient, KeyResolver, ResolvedKey, SigningKey } from "./types.ts";

/** Options of {@link createKeyResolver}. */
export interface KeyResolverOptions {
  /** How long a resolved key stays cached, in ms. Default 10 minutes. */
  ttlMs?: number;
  /** Clock in ms. Default `Date.now`. */
  now?: () => number;
  /** When a GET answers 401/403 (authorized fetch), retry it signed with this key. Default: none. */
  signer?: SigningKey;
  /**
   * Told of every actor document a lookup fetched from the actor's own id and vouched for, so that
   * its owner can reuse it instead of fetching the actor again. Default: none.
   */
  onActor?: (actor: Record<string, unknown>) => void;
  /**
   * A document of `url` that the owner fetched moments ago (an actor it delivered to), used instead
   * of a GET unless the lookup asks for a refresh. Default: none (always GET).
   */
  recentDocument?: (url: string) => Record<string, unknown> | undefined;
}

/** A {@link KeyResolver} with a cache, that also says why a lookup failed. */
export interface CachingKeyResolver extends KeyResolver {
  /** Why the last lookup of `keyId` returned null, phrased for a person. */
  failureReason(keyId: string): string | undefined;
  /** Empties the cache. */
  clear(): void;
}

/** Media types asked for when fetching actors and keys. */
export const AS2_ACCEPT =
  'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"';

type Json = Record<string, unknown>;

class KeyLookupError extends Error {
  override name = "KeyLookupError";
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function idOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (isObject(value) && typeof value.id === "string") return value.id;
  return undefined;
}

function stripFragment(url: string): string {
  const hash = url.indexOf("#");
  return hash < 0 ? url : url.slice(0, hash);
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** Public key material of a key object (`publicKeyPem`, or Multikey `publicKeyMultibase`). */
function keyMaterial(entry: Json): KeyObject | undefined {
  if (typeof entry.publicKeyPem === "string") return publicKeyFromPem(entry.publicKeyPem);
  if (typeof entry.publicKeyMultibase === "string") return publicKeyFromMultibase(entry.publicKeyMultibase);
  return undefined;
}

/** How an actor document lists a keyId, if it does. */
interface Listing {
  entry?: Json;
}

function findListing(actor: Json, keyId: string): Listing | undefined {
  for (const value of [...asArray(actor.publicKey), ...asArray(actor.assertionMethod)]) {
    if (idOf(value) !== keyId) continue;
    return isObject(value) ? { entry: value } : {};
  }
  return undefined;
}

function isKeyDocument(doc: Json): boolean {
  return typeof doc.publicKeyPem === "string" || typeof doc.publicKeyMultibase === "string";
}

/**
 * Creates a resolver that fetches a keyId's document (without fragment) as AS2 through `client`:
 * - an actor listing the key (`publicKey` object or array, or `assertionMethod` Multikey) owns it;
 * - a key document names an `owner` (or `controller`); that actor is fetched and must list the key,
 *   else `ownerActorId` is null and `claimedOwner` says whom the key claimed.
 * Keys are cached by keyId for `ttlMs`; `refresh: true` bypasses the cache. Returns null (never
 * throws) when no key can be had; `failureReason(keyId)` says why.
 */
export function createKeyResolver(client: HttpClient, options: KeyResolverOptions = {}): CachingKeyResolver {
  const ttlMs = options.ttlMs ?? 10 * 60 * 1000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { key: ResolvedKey; expiresAt: number }>();
  const failures = new Map<string, string>();
  const inFlight = new Map<string, Promise<ResolvedKey | null>>();

  async function fetchJson(url: string): Promise<{ doc: Json; url: string }> {
    const headers = { accept: AS2_ACCEPT };
    let response = await client.request(url, { headers });
    if ((response.status === 401 || response.status === 403) && options.signer) {
      const signed = signRequest({ method: "GET", url, headers }, options.signer);
      response = await client.request(url, { headers: { ...headers, ...signed } });
    }
    if (response.status < 200 || response.status > 299) {
      throw new KeyLookupError(`GET ${url} answered ${response.status}`);
    }
    const doc = response.json();
    if (!isObject(doc)) throw new KeyLookupError(`GET ${url} did not return a JSON object`);
    return { doc, url: response.url };
  }

  async function load(keyId: string, refresh: boolean): Promise<ResolvedKey> {
    const url = stripFragment(keyId);
    // A recent document serves only if it lists the key: a new key id means the actor changed.
    const recent = refresh ? undefined : options.recentDocument?.(url);
    const fetched =
      recent !== undefined && findListing(recent, keyId) ? { doc: recent, url } : await fetchJson(url);
    const doc = fetched.doc;
    const listing = findListing(doc, keyId);
    if (listing) {
      // The document is an actor that lists the key itself.
      const material = listing.entry ? keyMaterial(listing.entry) : undefined;
      if (!material)
        throw new KeyLookupError(`${fetched.url} lists ${keyId} but gives no key material for it`);
      const actorId = typeof doc.id === "string" ? doc.id : undefined;
      if (!actorId) throw new KeyLookupError(`${fetched.url} lists ${keyId} but has no id`);
      // An actor claiming an id on another origin than the one that served it vouches for nothing.
      if (!sameOrigin(actorId, fetched.url)) {
        throw new KeyLookupError(`${fetched.url} serves an actor whose id ${actorId} is on another origin`);
      }
      if (actorId === fetched.url) options.onActor?.(doc);
      const resolved: ResolvedKey = { keyId, publicKey: material, ownerActorId: actorId };
      const claimed = listing.entry?.owner ?? listing.entry?.controller;
      if (typeof claimed === "string") resolved.claimedOwner = claimed;
      return resolved;
    }
    if (!isKeyDocument(doc))
      throw new KeyLookupError(`${fetched.url} neither lists ${keyId} nor is a key document`);
    if (doc.id !== undefined && doc.id !== keyId) {
      throw new KeyLookupError(`${fetched.url} is a key document for ${String(doc.id)}, not ${keyId}`);
    }
    const material = keyMaterial(doc)!;
    const owner = idOf(doc.owner) ?? idOf(doc.controller);
    if (owner === undefined) return { keyId, publicKey: material, ownerActorId: null };
    let ownerActorId: string | null = null;
    try {
      const actor = await fetchJson(owner);
      if (actor.doc.id === owner && sameOrigin(owner, actor.url) && findListing(actor.doc, keyId)) {
        ownerActorId = owner;
        if (actor.url === owner) options.onActor?.(actor.doc);
      }
    } catch {
      // An owner that cannot be fetched confirms nothing; ownerActorId stays null.
    }
    return { keyId, publicKey: material, ownerActorId, claimedOwner: owner };
  }

  async function resolveFresh(keyId: string, refresh: boolean): Promise<ResolvedKey | null> {
    try {
      const key = await load(keyId, refresh);
      cache.set(keyId, { key, expiresAt: now() + ttlMs });
      failures.delete(keyId);
      return key;
    } catch (error) {
      failures.set(keyId, (error as Error).message);
      return null;
    }
  }

  return {
    resolve(keyId, resolveOptions) {
      const cached = cache.get(keyId);
      if (!resolveOptions?.refresh && cached && cached.expiresAt > now()) return Promise.resolve(cached.key);
      const pending = inFlight.get(keyId);
      if (pending) return pending;
      const promise = resolveFresh(keyId, resolveOptions?.refresh === true).finally(() =>
        inFlight.delete(keyId),
      );
      inFlight.set(keyId, promise);
      return promise;
    },
    failureReason: (keyId) => failures.get(keyId),
    clear: () => cache.clear(),
  };
}
