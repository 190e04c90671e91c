/**
 * Steps the suites share: roles, establishing a follow, posting and waiting for arrival, sentinels
 * that prove an absence, crafting activities the probe sends, and turning HTTP exchanges and views
 * into evidence. Every wait goes through `ctx.waitFor` (no sleeps); a step that cannot set up what a
 * scenario needs throws {@link PreconditionError}, so later checks end `skipped`, never `failed`.
 * @module
 */
import { randomUUID } from "node:crypto";
import type { Evidence, Target } from "../harness/core/model.ts";
import { PreconditionError, type ScenarioContext, WaitTimeoutError } from "../harness/core/scenario.ts";
import {
  type Account,
  type FollowState,
  type PostInput,
  type PostRef,
  type PostView,
  UnsupportedError,
} from "../harness/drivers/driver.ts";
import type { Addressing, DeliveryResult, InboxEntry, ProbeActor } from "../harness/peer/types.ts";
import { asArray, idOf, idsOf, isObject, jsonDepth, originOf, typeOf } from "../harness/protocol/as2.ts";
import type { HttpResponse } from "../harness/protocol/types.ts";

/** A JSON object as it crosses the wire. */
export type Json = Record<string, unknown>;

/** The Public collection's canonical IRI. */
export const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";
/** The three spellings of Public seen on the wire. */
export const PUBLIC_IRIS: readonly string[] = [PUBLIC, "as:Public", "Public"];
/** The AS2 context IRI. */
export const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";
/** The two AS2 media types a GET may ask for. */
export const AS2_ACCEPT = {
  activityJson: "application/activity+json",
  ldJson: 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
} as const;

/** One role of a scenario: a target and the account acting on it. */
export interface Party {
  target: Target;
  account: Account;
}

/** A fresh account on `target` for this cell, as a {@link Party}. */
export async function party(ctx: ScenarioContext, target: Target, name: string): Promise<Party> {
  return { target, account: await ctx.account(target, name) };
}

/** The probe actor behind a party on the probe target. */
export function probeActorOf(ctx: ScenarioContext, p: Party): ProbeActor {
  return ctx.probeActor(p.account);
}

/** A unique marker to put in content, so a text check can only match this cell's post. */
export function token(label: string): string {
  return `fc-${label}-${randomUUID().slice(0, 8)}`;
}

/** `alice@a.test on fedify-a`, for messages. */
export function who(p: Party): string {
  return `${p.account.handle} (${p.target.id})`;
}

/** Short JSON for expected/observed texts. */
export function show(value: unknown, max = 400): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// AS2 reading
// ---------------------------------------------------------------------------------------------

// The readers live in harness/protocol/as2.ts; re-exported so scenarios import their steps from one place.
export { asArray, idOf, idsOf, isObject, originOf, typeOf };

/** The embedded object of an activity when it is embedded, else undefined. */
export function embeddedObject(activity: Json | undefined): Json | undefined {
  const object = activity?.object;
  return isObject(object) ? object : undefined;
}

// ---------------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------------

/**
 * `ctx.waitFor` for a precondition: a timeout becomes a {@link PreconditionError} carrying `why`,
 * so the scenario's remaining checks are skipped with a reason a person understands.
 */
export async function precondition<T>(
  ctx: ScenarioContext,
  description: string,
  condition: () => Promise<T | undefined | null | false>,
  why: string,
  timeoutMs?: number,
): Promise<T> {
  try {
    return await ctx.waitFor(description, condition, timeoutMs === undefined ? {} : { timeoutMs });
  } catch (error) {
    if (error instanceof WaitTimeoutError) throw new PreconditionError(`${why} (${error.message})`);
    throw error;
  }
}

/** The post as `p` holds it without fetching, or null. */
export function heldBy(p: Party, uri: string): Promise<PostView | null> {
  return p.target.driver.receivedPost(p.account, uri);
}

/**
 * Waits until `p` holds the post `uri`. With `check`, a timeout fails that check; without, it is a
 * precondition (the scenario's remaining checks are skipped).
 */
export async function waitHeld(
  ctx: ScenarioContext,
  p: Party,
  uri: string,
  options: { check?: string; what?: string; timeoutMs?: number } = {},
): Promise<PostView> {
  const description = `${who(p)} holds ${options.what ?? "the post"} ${uri}`;
  if (options.check) {
    return ctx.waitFor(description, () => heldBy(p, uri), {
      check: options.check,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
  }
  return precondition(
    ctx,
    description,
    () => heldBy(p, uri),
    `${options.what ?? "the post"} never reached ${who(p)}`,
    options.timeoutMs,
  );
}

/**
 * Waits for a request the probe received that matches `predicate` (oldest match). With `check`, a
 * timeout fails that check; without, it is a precondition.
 */
export async function probeReceived(
  ctx: ScenarioContext,
  description: string,
  predicate: (entry: InboxEntry) => boolean,
  options: { check?: string; why?: string } = {},
): Promise<InboxEntry> {
  const find = async () => ctx.probe.inbox.query(predicate)[0] ?? null;
  if (options.check) return ctx.waitFor(description, find, { check: options.check });
  return precondition(ctx, description, find, options.why ?? `the probe never received ${description}`);
}

/** POST requests the probe received whose activity's actor is `actorId`, oldest first. */
export function activitiesFrom(ctx: ScenarioContext, actorId: string, type?: string): InboxEntry[] {
  return ctx.probe.inbox.query(
    (e) =>
      e.method === "POST" &&
      e.activity !== undefined &&
      idOf(e.activity.actor) === actorId &&
      (type === undefined || typeOf(e.activity) === type),
  );
}

/** Waits until `p` no longer holds `uri`; returns true, or false on timeout (no verdict recorded). */
export async function waitGone(
  ctx: ScenarioContext,
  p: Party,
  uri: string,
  description: string,
): Promise<boolean> {
  try {
    await ctx.waitFor(description, async () => (await heldBy(p, uri)) === null);
    return true;
  } catch (error) {
    if (error instanceof WaitTimeoutError) return false;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Follow
// ---------------------------------------------------------------------------------------------

/** The follow state `follower` sees towards `followee`. */
export function followStateOf(follower: Party, followee: Party): Promise<FollowState> {
  return follower.target.driver.followState(follower.account, followee.account.actorId);
}

/** Whether `followee`'s server lists `follower` as an accepted follower. */
export async function listsFollower(followee: Party, follower: Party): Promise<boolean> {
  const followers = await followee.target.driver.followers(followee.account);
  return followers.includes(follower.account.actorId);
}

/**
 * Makes `follower` follow `followee` and waits until both sides agree: the follower sees `following`
 * and the followee lists the follower (so deliveries to followers reach it). A follow that cannot be
 * established is a {@link PreconditionError}, unless `check` names the check it decides.
 */
export async function establishFollow(
  ctx: ScenarioContext,
  follower: Party,
  followee: Party,
  options: { check?: string } = {},
): Promise<void> {
  await follower.target.driver.follow(follower.account, followee.account.actorId);
  const description = `${who(follower)} sees its follow of ${who(followee)} as established`;
  const established = async () => (await followStateOf(follower, followee)) === "following";
  if (options.check) await ctx.waitFor(description, established, { check: options.check });
  else
    await precondition(
      ctx,
      description,
      established,
      `could not establish the follow ${who(follower)} → ${who(followee)}`,
    );
  await precondition(
    ctx,
    `${who(followee)} lists ${who(follower)} as a follower`,
    () => listsFollower(followee, follower),
    `${who(followee)} never listed ${who(follower)} as a follower, so deliveries to followers cannot be tested`,
  );
}

/** The standard roles of a pair: a fresh account on each side, the receiver following the sender. */
export async function followingPair(
  ctx: ScenarioContext,
  names: { sender?: string; receiver?: string } = {},
): Promise<{ sender: Party; receiver: Party }> {
  const sender = await party(ctx, ctx.sender, names.sender ?? "sender");
  const receiver = await party(ctx, ctx.receiver, names.receiver ?? "receiver");
  await establishFollow(ctx, receiver, sender);
  return { sender, receiver };
}

// ---------------------------------------------------------------------------------------------
// Posting
// ---------------------------------------------------------------------------------------------

/** Posts through the sender's driver and waits until the receiver holds the post. */
export async function postAndWait(
  ctx: ScenarioContext,
  sender: Party,
  receiver: Party,
  input: PostInput,
  options: { check?: string; what?: string } = {},
): Promise<{ ref: PostRef; view: PostView }> {
  const ref = await sender.target.driver.post(sender.account, input);
  const view = await waitHeld(ctx, receiver, ref.uri, options);
  return { ref, view };
}

/**
 * Posts a raw AS2 object as the sender (capability `raw-post`), addressed to Public and the sender's
 * followers, and returns its reference. Throws the driver's UnsupportedError when it cannot.
 */
export async function postRaw(
  ctx: ScenarioContext,
  sender: Party,
  object: Json,
  addressing?: { to?: string[]; cc?: string[] },
): Promise<PostRef> {
  const driver = sender.target.driver;
  if (!driver.postRaw) throw new UnsupportedError(driver.implementation, "postRaw");
  const followers = await followersOf(ctx, sender.account.actorId);
  return driver.postRaw(sender.account, object, addressing ?? { to: [PUBLIC], cc: [followers] });
}

/**
 * Proves an absence: the sender posts a public sentinel after the thing that must not take effect,
 * and this waits until the receiver holds it. Anything sent before the sentinel has had its chance.
 */
export async function sentinel(ctx: ScenarioContext, sender: Party, receiver: Party): Promise<PostView> {
  const ref = await sender.target.driver.post(sender.account, {
    content: `sentinel ${token("sentinel")}`,
    visibility: "public",
  });
  return waitHeld(ctx, receiver, ref.uri, { what: "the sentinel post" });
}

/**
 * As {@link sentinel}, sent by a probe actor (for scenarios where the probe misbehaves first). With
 * `check`, a sentinel that never arrives fails that check (the receiver stopped working) instead of
 * being a precondition.
 */
export async function probeSentinel(
  ctx: ScenarioContext,
  actor: ProbeActor,
  receiver: Party,
  options: { check?: string } = {},
): Promise<PostView> {
  const create = await ctx.probe.post(
    actor,
    { type: "Note", content: `<p>sentinel ${token("sentinel")}</p>` },
    publicAddressing(actor),
  );
  const uri = idOf(create.object);
  if (!uri) throw new Error("the probe's Create has no object id");
  return waitHeld(ctx, receiver, uri, {
    what: "the sentinel post",
    ...(options.check === undefined ? {} : { check: options.check }),
  });
}

// ---------------------------------------------------------------------------------------------
// The probe as a crafting sender
// ---------------------------------------------------------------------------------------------

/** Public addressing of a probe actor's post: Public in `to`, its followers in `cc`. */
export function publicAddressing(actor: ProbeActor): Addressing {
  return { to: [PUBLIC], cc: [actor.followers] };
}

/** The followers collection of an actor, from its document. */
export async function followersOf(ctx: ScenarioContext, actorId: string): Promise<string> {
  const doc = await ctx.probe.resolveActor(actorId);
  const followers = idOf(doc?.followers);
  if (!followers) throw new PreconditionError(`the actor ${actorId} has no followers collection to address`);
  return followers;
}

/** The personal inbox of an actor, from its document. */
export async function inboxOf(ctx: ScenarioContext, actorId: string): Promise<string> {
  const doc = await ctx.probe.resolveActor(actorId);
  const inbox = idOf(doc?.inbox);
  if (!inbox)
    throw new PreconditionError(`could not find the inbox of ${actorId} (actor document unavailable)`);
  return inbox;
}

/** A Note by a probe actor, not hosted or sent yet; `fields` override the defaults. */
export function craftNote(ctx: ScenarioContext, actor: ProbeActor, fields: Json = {}): Json {
  return {
    id: ctx.probe.newId("note"),
    type: "Note",
    attributedTo: actor.id,
    content: "<p>crafted by fedicheck</p>",
    published: new Date().toISOString(),
    to: [PUBLIC],
    cc: [actor.followers],
    ...fields,
  };
}

/** An activity by a probe actor wrapping `object` (or naming it, when a string). */
export function craftActivity(
  ctx: ScenarioContext,
  actor: ProbeActor,
  type: string,
  object: Json | string,
  fields: Json = {},
): Json {
  const addressing = isObject(object)
    ? { to: object.to ?? [PUBLIC], cc: object.cc ?? [actor.followers] }
    : {};
  return {
    "@context": AS_CONTEXT,
    id: ctx.probe.newId("activity"),
    type,
    actor: actor.id,
    published: new Date().toISOString(),
    ...addressing,
    object,
    ...fields,
  };
}

// ---------------------------------------------------------------------------------------------
// Evidence
// ---------------------------------------------------------------------------------------------

/** Evidence of a delivery the probe made (request as sent, response as received). */
export function deliveryEvidence(label: string, result: DeliveryResult): Evidence {
  return {
    kind: "http",
    label,
    request: {
      method: result.request.method,
      url: result.request.url,
      headers: result.request.headers,
      body: prettyBody(result.request.body),
    },
    response: {
      status: result.response.status,
      headers: result.response.headers,
      body: prettyBody(result.response.body),
    },
    at: new Date().toISOString(),
  };
}

/** Evidence of a GET the harness made. */
export function fetchEvidence(
  label: string,
  url: string,
  requestHeaders: Record<string, string>,
  response: HttpResponse,
): Evidence {
  return {
    kind: "http",
    label,
    request: { method: "GET", url, headers: requestHeaders },
    response: { status: response.status, headers: response.headers, body: prettyBody(response.text()) },
    at: new Date().toISOString(),
  };
}

/** Pretty-prints JSON text and caps the size kept in evidence. */
function prettyBody(text: string): string {
  let out = text;
  // Only what may be JSON is parsed: a thrown SyntaxError per HTML page or image cost real time. A
  // body past the evidence limit is kept as sent: it would be cut anyway, and for SEC-03's 4 MiB of
  // padding the first bytes as sent are the better evidence.
  if (text.length <= EVIDENCE_BODY_LIMIT && /^\s*[[{]/.test(text)) {
    try {
      const parsed: unknown = JSON.parse(text);
      // Indenting grows with depth squared: SEC-04's 10 000 levels took ~24 ms, ~100 MB cut to 64 KiB.
      if (jsonDepth(parsed, MAX_INDENTED_DEPTH) <= MAX_INDENTED_DEPTH) out = JSON.stringify(parsed, null, 2);
    } catch {
      // Not JSON after all: keep as is.
    }
  }
  return out.length > EVIDENCE_BODY_LIMIT ? `${out.slice(0, EVIDENCE_BODY_LIMIT)}…` : out;
}

/** Characters of a body kept in evidence. */
const EVIDENCE_BODY_LIMIT = 65_536;
/** Deepest JSON body re-indented in evidence; deeper ones are kept as sent. */
const MAX_INDENTED_DEPTH = 64;

/**
 * GET an AS2 document as a federating server would: unsigned first, then signed by a fresh probe
 * actor when the target refuses unsigned fetches (authorized fetch).
 */
export async function fetchAs2(
  ctx: ScenarioContext,
  url: string,
  accept: string = AS2_ACCEPT.activityJson,
): Promise<HttpResponse> {
  const response = await ctx.probe.fetch(url, { accept });
  if (response.status !== 401 && response.status !== 403) return response;
  const client = await ctx.probe.createActor(`client-${randomUUID().slice(0, 8)}`);
  return ctx.probe.fetch(url, { accept, signedAs: client });
}

/** Parses a response body as JSON object, or undefined. */
export function jsonBody(response: HttpResponse): Json | undefined {
  try {
    const value: unknown = JSON.parse(response.text());
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A compact summary of a post view for `observed` texts. */
export function summarise(view: PostView | null | undefined): string {
  if (!view) return "no copy held";
  return show({
    text: view.text,
    visibility: view.visibility,
    contentWarning: view.contentWarning,
    sensitive: view.sensitive,
    attachments: view.attachments.map((a) => ({ kind: a.kind, url: a.url, description: a.description })),
    mentions: view.mentions,
    hashtags: view.hashtags,
    links: view.links,
    inReplyTo: view.inReplyTo,
  });
}
