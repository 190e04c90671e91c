/**
 * Contracts of the probe: the harness's own instrumented ActivityPub server. The implementation is
 * `startProbe()` in probe.ts; scenarios and the probe driver use only what is declared here.
 * @module
 */

import type {
  HttpClientOptions,
  HttpResponse,
  SignatureScheme,
  SignatureVerdict,
  SigningKey,
} from "../protocol/types.ts";
import type { Finding } from "../validate/findings.ts";

/** Options of `startProbe()`. */
export interface ProbeOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Serve HTTPS with this certificate and key (PEM). Default: plain HTTP. */
  tls?: { cert: string; key: string };
  /** Origin used in ids when it differs from the listening address (e.g. `https://probe.test`). */
  publicOrigin?: string;
  /** Options of the outgoing HTTP client (CA, host map, limits). */
  client?: HttpClientOptions;
  /** Accept follow requests automatically unless the actor is locked. Default true. */
  autoAccept?: boolean;
  /** Scheme tried first when delivering. Default `draft-cavage-12`. */
  firstKnock?: SignatureScheme;
  /** Retry with the other scheme after a 4xx. Default true. */
  doubleKnock?: boolean;
  /** Accepted clock skew when verifying, in seconds. Default 3600. */
  skewSeconds?: number;
  /** Reject unsigned or badly signed inbox POSTs with 401. Default true. */
  requireSignatures?: boolean;
  /** Largest inbox body accepted, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Called for every GET or HEAD the probe sends (key and actor resolution, `fetch`, `resolveActor`),
   * after the answer was read or the request failed. Used to record captures. Default: none.
   */
  onFetch?: (record: FetchRecord) => void;
}

/** One GET or HEAD the probe sent, as {@link ProbeOptions.onFetch} reports it. */
export interface FetchRecord {
  /** ISO time the request was sent. */
  at: string;
  method: string;
  url: string;
  /** Request headers as sent, lower-case, secrets redacted (signatures kept). */
  requestHeaders: Record<string, string>;
  /** Status of the answer; absent when the request failed without one. */
  status?: number;
  /** Response headers, lower-case, secrets redacted. */
  headers?: Record<string, string>;
  /** Response body as text. */
  body?: string;
  /** URL after redirects, when it differs from `url`. */
  finalUrl?: string;
  /** Why the request failed without an answer. */
  error?: string;
}

/** One of the probe's actors. */
export interface ProbeActor {
  /** Local name, e.g. `alice`. */
  name: string;
  /** Actor id, e.g. `http://127.0.0.1:4000/users/alice`. */
  id: string;
  /** `alice@127.0.0.1:4000` or `alice@probe.test`. */
  handle: string;
  inbox: string;
  outbox: string;
  followers: string;
  following: string;
  keyId: string;
  locked: boolean;
}

/** Deliberate protocol violations for security scenarios. All default to off. */
export interface Misbehaviour {
  /** Send without any signature headers. */
  unsigned?: boolean;
  /** Sign with a freshly generated key that is published nowhere (keyId unchanged). */
  wrongKey?: boolean;
  /** Sign as this other probe actor while the activity's `actor` stays the original. */
  signAs?: ProbeActor;
  /** Use this keyId (e.g. a key document on the probe claiming an owner that does not list it). */
  keyIdOverride?: string;
  /** Shift the Date header (and RFC 9421 `created`) by this many seconds (negative = past). */
  dateOffsetSeconds?: number;
  /** Change the body after signing (digest no longer matches). */
  digestMismatch?: boolean;
  /** Write the Digest prefix as `sha-256=`. */
  lowercaseDigest?: boolean;
  /** Scheme to sign with, overriding firstKnock, with no double knock. */
  scheme?: SignatureScheme;
  /** Pad the body with whitespace up to this many bytes. */
  padToBytes?: number;
  /**
   * Write this `algorithm` in a draft-cavage `Signature` header (e.g. `hs2019`); the bytes stay
   * RSA-SHA256, as Mastodon reads hs2019 with an RSA key. Only affects cavage knocks.
   */
  cavageAlgorithm?: string;
  /**
   * Add to the embedded object (else to the activity) an extension member
   * `https://fedicheck.test/ns#nested` holding this many nested arrays. Written as text: a document
   * that deep cannot go through JSON.stringify.
   */
  nestedArrays?: number;
}

/** What {@link Probe.rotateKey} did. */
export interface KeyRotation {
  /** The key id the actor publishes now (the old one when `sameKeyId`). */
  keyId: string;
  /** The Update of the actor, signed with the new key. */
  update: Record<string, unknown>;
  /** Deliveries of the Update that were not accepted, in words (empty when all were). */
  failures: string[];
}

/** One request the probe received. */
export interface InboxEntry {
  /** Increasing sequence number. */
  seq: number;
  /** ISO time of arrival. */
  at: string;
  method: string;
  path: string;
  /** Name of the addressed actor, `shared` for the shared inbox, undefined for non-inbox paths. */
  recipient?: string;
  /** Request headers, lower-case, secrets redacted. */
  headers: Record<string, string>;
  /** Raw body text. */
  body: string;
  /** Parsed JSON body, when it parsed. */
  activity?: Record<string, unknown>;
  signature: SignatureVerdict;
  /** Validator findings on the activity. */
  findings: Finding[];
  /** Status the probe answered. */
  status: number;
}

/** The probe's record of everything that arrived, queryable and awaitable. */
export interface InboxLog {
  /** All entries, oldest first. */
  all(): InboxEntry[];
  /** Entries matching the predicate, oldest first. */
  query(predicate: (entry: InboxEntry) => boolean): InboxEntry[];
  /**
   * Resolves with the first entry (already logged or arriving later) that matches; rejects with a
   * timeout error naming `description` after `timeoutMs` (default 10 000). Never sleeps.
   */
  waitFor(
    predicate: (entry: InboxEntry) => boolean,
    options?: { timeoutMs?: number; signal?: AbortSignal; description?: string },
  ): Promise<InboxEntry>;
  /** Calls `listener` for every new entry; returns a function that unsubscribes. */
  subscribe(listener: (entry: InboxEntry) => void): () => void;
}

/** Result of one delivery attempt by the probe. */
export interface DeliveryResult {
  status: number;
  /** Scheme the accepted (or last) attempt used; undefined when unsigned. */
  scheme?: SignatureScheme;
  /** Request as sent (secrets redacted) and the response, for evidence. */
  request: { method: string; url: string; headers: Record<string, string>; body: string };
  response: { status: number; headers: Record<string, string>; body: string };
}

/** Addressing of an outgoing activity. */
export interface Addressing {
  to?: string[];
  cc?: string[];
  bto?: string[];
  bcc?: string[];
}

/** The running probe. */
export interface Probe {
  /** e.g. `http://127.0.0.1:41234`. */
  readonly origin: string;
  readonly inbox: InboxLog;

  createActor(name: string, options?: { locked?: boolean; type?: "Person" | "Service" }): Promise<ProbeActor>;
  /** Throws when no actor has that name. */
  actor(name: string): ProbeActor;
  /** Lock or unlock an actor (locked: follow requests wait for accept/reject). */
  setLocked(actor: ProbeActor, locked: boolean): void;

  /** Host any object at its id (must be on the probe's origin); served to GETs. */
  host(object: Record<string, unknown>): void;
  /** Replace a hosted object with a Tombstone served with 410. */
  tombstone(objectId: string): void;
  /** A new id on the probe's origin, e.g. `${origin}/objects/<uuid>` (`kind` replaces `objects`). */
  newId(kind?: string): string;
  /**
   * Host a standalone key document `{id, type: "CryptographicKey", owner, publicKeyPem}` whose `owner` claims
   * `claimedOwner`, an actor that does not list the key (SIG-04b). Sign with it through
   * `deliver(…, { keyIdOverride: keyId })`.
   */
  hostKeyDocument(claimedOwner: string): Promise<{ keyId: string; key: SigningKey }>;

  /**
   * Give an actor a new key pair, under its current keyId (`sameKeyId`) or a new one, publish it in
   * its document at once, and send an Update of the actor, signed with the new key, to its followers.
   * A receiver that cannot verify the new key refuses the Update: that is reported in
   * {@link KeyRotation.failures}, never thrown, so a scenario can judge it (SIG-08).
   */
  rotateKey(actor: ProbeActor, options?: { sameKeyId?: boolean }): Promise<KeyRotation>;
  /**
   * Delete an actor: from now on its document (and so its key) and its WebFinger answer 410 Gone.
   * Returns a Delete of the actor addressed to Public and its followers, not sent: deliver it with
   * {@link Probe.deliver}, which still signs with the gone key (DEL-06).
   */
  deleteActor(actor: ProbeActor): Record<string, unknown>;

  /** Follow a remote actor. Resolves with the Follow activity after delivery. */
  follow(actor: ProbeActor, targetActorId: string): Promise<Record<string, unknown>>;
  /** Undo a Follow (embedded, or by bare id when `byId`). */
  unfollow(
    actor: ProbeActor,
    targetActorId: string,
    options?: { byId?: boolean },
  ): Promise<Record<string, unknown>>;
  /** Follow state as the probe sees it (set by Accept/Reject it received). */
  followState(actor: ProbeActor, targetActorId: string): "following" | "pending" | "rejected" | "none";
  /** Actor ids following this probe actor (after Accept). */
  followers(actor: ProbeActor): string[];
  /** Pending follow requests to a locked probe actor: the Follow activities. */
  followRequests(actor: ProbeActor): Array<Record<string, unknown>>;
  /** Answer a Follow; `embed` false sends only the Follow's id as object. Default embed true. */
  accept(actor: ProbeActor, follow: Record<string, unknown>, options?: { embed?: boolean }): Promise<void>;
  reject(actor: ProbeActor, follow: Record<string, unknown>): Promise<void>;

  /**
   * Create an object (a Note unless `object.type` says otherwise), host it, wrap it in Create and
   * deliver it to the addressed actors' inboxes (followers collection → each follower).
   * Returns the Create activity.
   */
  post(
    actor: ProbeActor,
    object: Record<string, unknown>,
    addressing: Addressing,
  ): Promise<Record<string, unknown>>;
  /** Send Update of a hosted object (fields merged, `updated` set) to its audience. */
  update(
    actor: ProbeActor,
    objectId: string,
    changes: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
  /** Tombstone the object and send Delete to its audience. */
  delete(actor: ProbeActor, objectId: string): Promise<Record<string, unknown>>;
  like(actor: ProbeActor, objectId: string, addressing?: Addressing): Promise<Record<string, unknown>>;
  announce(actor: ProbeActor, objectId: string, addressing?: Addressing): Promise<Record<string, unknown>>;
  /** Send Undo of one of this actor's earlier activities (embedded, or by bare id when `byId`). */
  undo(
    actor: ProbeActor,
    activity: Record<string, unknown>,
    addressing?: Addressing,
    options?: { byId?: boolean },
  ): Promise<Record<string, unknown>>;

  /**
   * POST any document to an inbox as `actor`, optionally misbehaving. Nothing is rewritten. A replay
   * needs no knob: deliver the same document twice.
   */
  deliver(
    actor: ProbeActor,
    inboxUrl: string,
    document: Record<string, unknown>,
    misbehaviour?: Misbehaviour,
  ): Promise<DeliveryResult>;
  /** GET a URL with the AS2 Accept header, signed as `signedAs` when given. */
  fetch(url: string, options?: { signedAs?: ProbeActor; accept?: string }): Promise<HttpResponse>;
  /** Fetch (and cache) a remote actor document; null when it cannot be fetched. */
  resolveActor(actorId: string): Promise<Record<string, unknown> | null>;

  /** Objects received in Create/Update activities, by object id (latest version), minus deleted ones. */
  receivedObject(objectId: string): Record<string, unknown> | null;
  /** Ids of objects the probe received a Delete for. */
  deletedObjects(): string[];
  /** Failures of work the probe did on its own (automatic Accepts), oldest first, for diagnosis. */
  backgroundErrors(): string[];

  close(): Promise<void>;
}
