/**
 * The documents the probe serves: actor, WebFinger JRD, NodeInfo, collections and Tombstones. Pure
 * functions of the probe's state, so they are easy to test and to compare with what targets serve.
 * @module
 */
import type { ProbeActor } from "./types.ts";

/** The Activity Streams 2.0 context IRI. */
export const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";
/** The security vocabulary context (publicKey, publicKeyPem, owner). */
export const SECURITY_CONTEXT = "https://w3id.org/security/v1";
/** The special Public collection, in its three spellings. */
export const PUBLIC_ADDRESSES: ReadonlySet<string> = new Set([
  "https://www.w3.org/ns/activitystreams#Public",
  "as:Public",
  "Public",
]);
/** The canonical Public address. */
export const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";
/** The NodeInfo 2.1 schema rel. */
export const NODEINFO_21_REL = "http://nodeinfo.diaspora.software/ns/schema/2.1";
/** Software name the probe reports in NodeInfo (matches `^[a-z0-9-]+$`). */
export const PROBE_SOFTWARE = { name: "fedicheck-probe", version: "0.1.0" } as const;

/** The actor document of a probe actor. */
export function actorDocument(
  actor: ProbeActor,
  options: { type: string; publicKeyPem: string; sharedInbox: string },
): Record<string, unknown> {
  return {
    "@context": [
      AS_CONTEXT,
      SECURITY_CONTEXT,
      // Not in every published AS2 context; defining it inline keeps the document self-describing.
      { manuallyApprovesFollowers: "as:manuallyApprovesFollowers" },
    ],
    id: actor.id,
    type: options.type,
    preferredUsername: actor.name,
    name: actor.name,
    summary: "An instrumented actor of the fedicheck probe.",
    url: actor.id,
    inbox: actor.inbox,
    outbox: actor.outbox,
    followers: actor.followers,
    following: actor.following,
    endpoints: { sharedInbox: options.sharedInbox },
    manuallyApprovesFollowers: actor.locked,
    publicKey: { id: actor.keyId, owner: actor.id, publicKeyPem: options.publicKeyPem },
  };
}

/** A WebFinger JRD (RFC 7033) for a probe actor: one AS2-typed `self` link. */
export function webfingerDocument(actor: ProbeActor): Record<string, unknown> {
  return {
    subject: `acct:${actor.handle}`,
    aliases: [actor.id],
    links: [
      { rel: "self", type: "application/activity+json", href: actor.id },
      { rel: "http://webfinger.net/rel/profile-page", type: "text/html", href: actor.id },
    ],
  };
}

/** The `/.well-known/nodeinfo` links document. */
export function nodeinfoLinks(origin: string): Record<string, unknown> {
  return { links: [{ rel: NODEINFO_21_REL, href: `${origin}/nodeinfo/2.1` }] };
}

/** A NodeInfo 2.1 document (valid against the draft-04 schema: no extra properties). */
export function nodeinfoDocument(counts: { users: number; localPosts: number }): Record<string, unknown> {
  return {
    version: "2.1",
    software: { name: PROBE_SOFTWARE.name, version: PROBE_SOFTWARE.version },
    protocols: ["activitypub"],
    services: { inbound: [], outbound: [] },
    openRegistrations: false,
    usage: {
      users: { total: counts.users, activeMonth: counts.users, activeHalfyear: counts.users },
      localPosts: counts.localPosts,
    },
    metadata: { nodeName: "fedicheck probe" },
  };
}

/** An OrderedCollection with its items inline (small collections need no paging). */
export function orderedCollection(id: string, items: unknown[]): Record<string, unknown> {
  return {
    "@context": AS_CONTEXT,
    id,
    type: "OrderedCollection",
    totalItems: items.length,
    orderedItems: items,
  };
}

/** Items per page of a paged collection. */
export const PAGE_SIZE = 20;

/**
 * A paged OrderedCollection (as Mastodon serves outboxes, COL-01): without `page` the collection with
 * `totalItems` and a `first` link; with `page` (1-based) that OrderedCollectionPage, linked by `next`.
 */
export function pagedCollection(
  id: string,
  items: unknown[],
  page: number | undefined,
): Record<string, unknown> {
  if (page === undefined) {
    return {
      "@context": AS_CONTEXT,
      id,
      type: "OrderedCollection",
      totalItems: items.length,
      first: `${id}?page=1`,
    };
  }
  const start = (page - 1) * PAGE_SIZE;
  return {
    "@context": AS_CONTEXT,
    id: `${id}?page=${page}`,
    type: "OrderedCollectionPage",
    partOf: id,
    orderedItems: items.slice(start, start + PAGE_SIZE),
    ...(start + PAGE_SIZE < items.length ? { next: `${id}?page=${page + 1}` } : {}),
    ...(page > 1 ? { prev: `${id}?page=${page - 1}` } : {}),
  };
}

/** The Tombstone served with 410 in place of a deleted object. */
export function tombstoneDocument(id: string, formerType: string, deleted: string): Record<string, unknown> {
  return { "@context": AS_CONTEXT, id, type: "Tombstone", formerType, deleted };
}

/**
 * A standalone key document (as some servers publish keys apart from the actor). Typed
 * `CryptographicKey`, the security v1 term for `sec:Key` (a bare `Key` is not defined there, so a
 * JSON-LD consumer such as Fedify would not read it as a key at all).
 */
export function keyDocument(keyId: string, owner: string, publicKeyPem: string): Record<string, unknown> {
  return { "@context": SECURITY_CONTEXT, id: keyId, type: "CryptographicKey", owner, publicKeyPem };
}
