/**
 * What the probe sends on its own behalf: fetches (signed when a target insists), actor resolution,
 * and delivery of activities to every inbox they address.
 * @module
 */

import { idOf, isObject, type Json, typeOf } from "../protocol/as2.ts";
import { AS2_ACCEPT, signRequest } from "../protocol/signatures.ts";
import type { HttpClient, HttpResponse, SignatureScheme } from "../protocol/types.ts";
import { type LocalActor, localActorDocument } from "./actors.ts";
import { audienceOf, postDocument, type SigningDefaults, withoutHiddenRecipients } from "./delivery.ts";
import { PUBLIC_ADDRESSES } from "./documents.ts";
import type { ProbeState } from "./state.ts";
import type { DeliveryResult } from "./types.ts";

/** Thrown when a delivery the probe made on its own behalf (post, follow…) was not accepted everywhere. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly results: Array<DeliveryResult | { url: string; error: string }>,
  ) {
    super(message);
    this.name = "DeliveryError";
  }
}

/** What {@link createOutbound} needs from the probe. */
export interface OutboundContext {
  origin: string;
  client: HttpClient;
  state: ProbeState;
  signing: SigningDefaults;
  /** The probe's actors, so local ids resolve without a request. */
  actors: ReadonlyMap<string, LocalActor>;
  /** Signs retries of fetches refused unsigned (authorized fetch). */
  instanceActor: LocalActor;
}

/** The probe's outgoing side. */
export interface Outbound {
  /** GET with an Accept header, signed as `as` when given (double knock on 400/401/403). */
  get(url: string, accept: string, as?: LocalActor): Promise<HttpResponse>;
  /** Fetches and caches a remote actor document; null when it cannot be had. */
  resolveActor(actorId: string): Promise<Json | null>;
  /**
   * Caches an actor document the probe fetched for another reason (a signature's key), so that
   * answering that actor (an Accept, a reply) needs no second GET of it.
   */
  rememberActor(document: Json): void;
  /** The document of actor `actorId` if the probe fetched it within `maxAgeMs` (default 60 s). */
  recentActor(actorId: string, maxAgeMs?: number): Json | undefined;
  /**
   * Hosts the activity (without bto/bcc), adds it to the sender's outbox, and delivers it to everyone
   * it addresses plus `extra` recipients. Rejects with {@link DeliveryError} if any delivery failed.
   */
  send(sender: LocalActor, activity: Json, extra?: string[]): Promise<Json>;
}

const KNOCK_AGAIN = new Set([400, 401, 403]);

/** Creates the probe's outgoing side. */
export function createOutbound(ctx: OutboundContext): Outbound {
  const { client, state, signing } = ctx;
  const remoteActors = new Map<string, { document: Json; fetchedAt: number }>();

  async function get(url: string, accept: string, as?: LocalActor): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept };
    if (!as) return client.request(url, { headers });
    const other: SignatureScheme = signing.firstKnock === "rfc9421" ? "draft-cavage-12" : "rfc9421";
    const schemes = signing.doubleKnock ? [signing.firstKnock, other] : [signing.firstKnock];
    let response: HttpResponse | undefined;
    for (const scheme of schemes) {
      const signed = signRequest({ method: "GET", url, headers }, as.key, { scheme });
      // A redirect would break the signature, which covers the target URI.
      response = await client.request(url, { headers: { ...headers, ...signed }, followRedirects: false });
      if (!KNOCK_AGAIN.has(response.status)) break;
    }
    return response!;
  }

  async function resolveActor(actorId: string): Promise<Json | null> {
    for (const entry of ctx.actors.values()) {
      if (entry.actor.id === actorId) return localActorDocument(entry, ctx.origin);
    }
    const cached = remoteActors.get(actorId);
    if (cached) return cached.document;
    try {
      let response = await get(actorId, AS2_ACCEPT);
      // Authorized-fetch targets answer unsigned GETs with 401: ask again, signed as the instance actor.
      if (response.status === 401 || response.status === 403) {
        response = await get(actorId, AS2_ACCEPT, ctx.instanceActor);
      }
      if (response.status !== 200) return null;
      const document = response.json();
      if (!isObject(document)) return null;
      remoteActors.set(actorId, { document, fetchedAt: Date.now() });
      return document;
    } catch {
      return null;
    }
  }

  /** Inboxes of the addressed actors: shared inbox preferred, own followers expanded, de-duplicated. */
  async function inboxesFor(sender: LocalActor, addresses: string[]) {
    const actorIds = new Set<string>();
    for (const address of addresses) {
      if (PUBLIC_ADDRESSES.has(address) || address === sender.actor.id) continue;
      if (address === sender.actor.followers) {
        for (const follower of state.followers.get(sender.actor.name)?.keys() ?? []) actorIds.add(follower);
        continue;
      }
      actorIds.add(address);
    }
    const inboxes = new Set<string>();
    const unresolved: string[] = [];
    await Promise.all(
      [...actorIds].map(async (id) => {
        const document = await resolveActor(id);
        if (!document) {
          unresolved.push(id);
          return;
        }
        const endpoints = isObject(document.endpoints) ? document.endpoints : {};
        // Collections and other non-actors have no inbox: there is nothing to deliver to.
        const inbox = idOf(endpoints.sharedInbox) ?? idOf(document.inbox);
        if (inbox) inboxes.add(inbox);
      }),
    );
    return { inboxes: [...inboxes], unresolved };
  }

  async function send(sender: LocalActor, activity: Json, extra: string[] = []): Promise<Json> {
    const addresses = [...new Set([...audienceOf(activity), ...extra])];
    const id = idOf(activity);
    if (id) state.audiences.set(id, addresses);
    const shown = withoutHiddenRecipients(activity);
    if (id?.startsWith(`${ctx.origin}/`)) state.hosted.set(id, { kind: "object", document: shown });
    state.addToOutbox(sender.actor.name, shown);
    const { inboxes, unresolved } = await inboxesFor(sender, addresses);
    const results = await Promise.all(
      inboxes.map(async (url) => {
        try {
          return await postDocument(client, url, shown, { key: sender.key }, signing);
        } catch (error) {
          return { url, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    const failed = results.filter((r) => "error" in r || r.status >= 300);
    if (failed.length > 0 || unresolved.length > 0) {
      const parts = failed.map((r) =>
        "error" in r
          ? `${r.url}: ${r.error}`
          : `${r.request.url} answered ${r.status} ${r.response.body.slice(0, 200)}`,
      );
      for (const actorId of unresolved) parts.push(`${actorId}: the actor document could not be fetched`);
      throw new DeliveryError(
        `${typeOf(activity) ?? "Activity"} ${id ?? ""} was not delivered everywhere: ${parts.join("; ")}`,
        results,
      );
    }
    return activity;
  }

  function rememberActor(document: Json): void {
    const id = idOf(document);
    if (id !== undefined && !remoteActors.has(id)) remoteActors.set(id, { document, fetchedAt: Date.now() });
  }

  function recentActor(actorId: string, maxAgeMs = 60_000): Json | undefined {
    const cached = remoteActors.get(actorId);
    if (cached === undefined || Date.now() - cached.fetchedAt > maxAgeMs) return undefined;
    // Only what GET actorId itself answered: the key resolver checks the id against the URL it asked.
    return idOf(cached.document) === actorId ? cached.document : undefined;
  }

  return { get, resolveActor, rememberActor, recentActor, send };
}
