/**
 * Replaying a capture against a target: the captured senders' actors and objects are re-hosted on the
 * probe under `${probe.origin}/replay/<tag>/<n>/…` (every URL rewritten consistently, see rewrite.ts),
 * each actor gets a fresh key, the capture's receiving actors become accounts on the target, and the
 * deliveries go out in the captured order, re-signed, with the captured timing preserved, compressed
 * or stepped through. After each delivery the target's state is read through its driver, and the
 * report says, per captured activity, what the receiver made of it (see observe.ts).
 * @module
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { WaitTimeoutError } from "../core/scenario.ts";
import { waitUntil } from "../core/wait.ts";
import type { Account, Driver } from "../drivers/driver.ts";
import type { InboxEntry, Probe } from "../peer/types.ts";
import { asArray, idOf, idsOf, isObject, typeOf } from "../protocol/as2.ts";
import { probeKeyPool } from "../protocol/key-pool.ts";
import { deliverSigned } from "../protocol/signatures.ts";
import type { HttpClient, SigningKey } from "../protocol/types.ts";
import { type Capture, type CaptureActor, type CaptureDelivery, deliveriesOf, type Json } from "./capture.ts";
import {
  type ActivityReport,
  type ObjectState,
  type ObserveContext,
  observeActivity,
  observeObject,
  type Step,
  stepHeader,
  stepOf,
} from "./observe.ts";
import { ACTOR_TYPES, capturedDocument, embeddedChain, planReplay, withoutFragment } from "./plan.ts";
import { createRewriter, originOf, type RewriteRule, type Rewriter } from "./rewrite.ts";

export type { ActivityReport, ObjectState } from "./observe.ts";

/** How deliveries are spaced. */
export type TimingMode = "preserve" | "compress" | "step";

/** Waits for a condition (the runner's `ctx.waitFor` in a scenario); throws WaitTimeoutError. */
export type WaitFunction = <T>(
  description: string,
  condition: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
) => Promise<T>;

/** Options of {@link replayCapture}. */
export interface ReplayOptions {
  capture: Capture;
  /** The probe that hosts the replayed actors and objects (and receives the target's answers). */
  probe: Probe;
  /** The receiving target: an id for the report and the driver that reads its state. */
  target: { id: string; driver: Driver };
  /** Client that delivers the re-signed POSTs (trusting the run's CA, allowed to reach the target). */
  http: HttpClient;
  /** Account on the target for a receiving actor of the capture. Default: `driver.provisionAccount(name)`. */
  account?: (name: string) => Promise<Account>;
  /** Default `compress`: each delivery as soon as the previous one's effect was read. */
  timing?: TimingMode;
  /** `preserve`: the longest pause kept between two deliveries, in ms. Default 60 000. */
  maxGapMs?: number;
  /**
   * `step`: called before each delivery; resolve true to deliver it, false to stop the replay there
   * (the rest is reported as skipped). Default: always go on.
   */
  onStep?: (step: { index: number; total: number; delivery: CaptureDelivery }) => Promise<boolean>;
  /** Called with each activity's report as soon as it is known. */
  onActivity?: (report: ActivityReport) => void;
  /** How long to wait for each activity's effect to show on the target, in ms. Default 5 000. */
  settleMs?: number;
  /** How long to wait for the target's own Follow when an Accept is replayed, in ms. Default 10 000. */
  followWaitMs?: number;
  /** Waiting function. Default: poll with backoff, woken by the probe's inbox. */
  wait?: WaitFunction;
  /** Path segment that keeps this replay's URLs apart from other replays on the probe. Default: random. */
  tag?: string;
  signal?: AbortSignal;
}

/** One receiving actor of the capture and the account that plays it on the target. */
export interface AccountMapping {
  name: string;
  /** The actor id in the capture (absent for the default account of a capture without receivers). */
  capturedId?: string;
  account: Account;
}

/** Everything a replay found out. */
export interface ReplayReport {
  capture: { source?: string; title?: string; deliveries: number; documents: number };
  target: string;
  probeOrigin: string;
  timing: TimingMode;
  /** The rewrite rules: captured URL (prefix) → replayed URL. */
  mapping: RewriteRule[];
  accounts: AccountMapping[];
  /** One entry per captured delivery, in order. */
  activities: ActivityReport[];
  /** Final state of every post the capture created, updated or deleted, read after the last delivery. */
  objects: ObjectState[];
  startedAt: string;
  durationMs: number;
}

/** A replayed sender: its rewritten document and the key that signs for it. */
interface HostedActor {
  capturedId: string;
  id: string;
  key: SigningKey;
  document: Json;
}

const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";
const SECURITY_CONTEXT = "https://w3id.org/security/v1";

/** A minimal actor for a sender whose document the capture lacks. */
function synthesisedActor(id: string): Json {
  const name = new URL(id).pathname.split("/").filter(Boolean).at(-1) ?? "actor";
  return {
    "@context": [AS_CONTEXT, SECURITY_CONTEXT],
    id,
    type: "Person",
    preferredUsername: name.replace(/^@/, ""),
    name: name.replace(/^@/, ""),
    inbox: `${id}/inbox`,
    outbox: `${id}/outbox`,
    followers: `${id}/followers`,
    following: `${id}/following`,
  };
}

function withSecurityContext(context: unknown): unknown {
  const list = asArray(context);
  if (list.length === 0) return [AS_CONTEXT, SECURITY_CONTEXT];
  return list.includes(SECURITY_CONTEXT) ? context : [...list, SECURITY_CONTEXT];
}

/** Members that carry signatures over the original bytes, which the rewrite invalidates. */
const SIGNATURE_MEMBERS = ["signature", "proof"] as const;

function stripSignatures(activity: Json): string[] {
  const removed: string[] = [];
  for (const member of SIGNATURE_MEMBERS) {
    if (member in activity) {
      delete activity[member];
      removed.push(member);
    }
  }
  return removed;
}

/** A target account's actor document fields, for the exact rewrite rules. */
async function accountRules(
  probe: Probe,
  actor: CaptureActor,
  account: Account,
  receiverOrigin: string | undefined,
): Promise<RewriteRule[]> {
  const document = (await probe.resolveActor(account.actorId)) ?? {};
  const endpoints = isObject(document.endpoints) ? document.endpoints : {};
  const publicKey = asArray(document.publicKey).find(isObject);
  // The probe's own layout is the default for fields the capture does not name.
  const captured: Record<string, string | undefined> = {
    inbox: actor.inbox ?? `${actor.id}/inbox`,
    outbox: actor.outbox ?? `${actor.id}/outbox`,
    followers: actor.followers ?? `${actor.id}/followers`,
    following: actor.following ?? `${actor.id}/following`,
    keyId: actor.keyId ?? `${actor.id}#main-key`,
    sharedInbox: actor.sharedInbox ?? (receiverOrigin ? `${receiverOrigin}/inbox` : undefined),
  };
  const replayed: Record<string, string | undefined> = {
    inbox: idOf(document.inbox),
    outbox: idOf(document.outbox),
    followers: idOf(document.followers),
    following: idOf(document.following),
    keyId: idOf(publicKey),
    sharedInbox: idOf(endpoints.sharedInbox) ?? idOf(document.inbox),
  };
  const rules: RewriteRule[] = [{ from: actor.id, to: account.actorId, match: "exact" }];
  for (const [field, from] of Object.entries(captured)) {
    const to = replayed[field];
    if (from && to) rules.push({ from, to, match: "exact" });
  }
  return rules;
}

/** Hosts a sender's actor on the probe with a fresh key; the inboxes point at the probe's shared inbox. */
async function hostActor(
  probe: Probe,
  rewriter: Rewriter,
  capturedId: string,
  original: Json,
): Promise<HostedActor> {
  const document = rewriter.rewrite(original);
  const id = rewriter.rewriteString(capturedId);
  const pair = await probeKeyPool().take(); // distinct per actor; from the key cache (issue 8)
  const capturedKey = idOf(asArray(original.publicKey).find(isObject));
  const rewrittenKey = capturedKey ? rewriter.rewriteString(capturedKey) : undefined;
  // Keep the key's id when it lives in the actor document; a key published elsewhere moves in.
  const keyId =
    rewrittenKey && withoutFragment(rewrittenKey) === id && rewrittenKey !== id
      ? rewrittenKey
      : `${id}#main-key`;
  document.id = id;
  document["@context"] = withSecurityContext(document["@context"]);
  document.publicKey = { id: keyId, owner: id, publicKeyPem: pair.publicKeyPem };
  // Keys we cannot sign for (FEP-521a Multikeys) would only confuse a verifier.
  delete document.assertionMethod;
  // The target answers (Accept, Follow) to the probe's shared inbox, which logs and accepts them.
  document.inbox = `${probe.origin}/inbox`;
  document.endpoints = {
    ...(isObject(document.endpoints) ? document.endpoints : {}),
    sharedInbox: `${probe.origin}/inbox`,
  };
  if ("sharedInbox" in document) document.sharedInbox = `${probe.origin}/inbox`;
  probe.host(document);
  for (const field of ["outbox", "followers", "following", "featured"]) {
    const collection = idOf(document[field]);
    if (collection?.startsWith(`${probe.origin}/`)) {
      // An empty collection unless the capture holds the real one (hosted later, overriding this).
      probe.host({
        "@context": AS_CONTEXT,
        id: collection,
        type: "OrderedCollection",
        totalItems: 0,
        orderedItems: [],
      });
    }
  }
  return { capturedId, id, key: { keyId, privateKey: pair.privateKey, algorithm: "rsa-sha256" }, document };
}

/** Hosts a rewritten document at its id when that id is on the probe. */
function hostDocument(probe: Probe, document: Json, context: unknown): void {
  const id = idOf(document);
  if (!id?.startsWith(`${probe.origin}/`) || id.includes("#")) return;
  probe.host(
    document["@context"] === undefined && context !== undefined
      ? { "@context": context, ...document }
      : document,
  );
}

/** Hosts what a delivery embeds (activity, object, inner object) as the sender would serve it. */
function hostEmbedded(probe: Probe, activity: Json): void {
  const context = activity["@context"];
  const chain = embeddedChain(activity);
  for (let i = 0; i < chain.length; i++) {
    const object = chain[i]!;
    const type = typeOf(object);
    const parentType = i > 0 ? typeOf(chain[i - 1]) : undefined;
    // What a Delete names is gone; its Tombstone is served by `tombstone`, not as a live object.
    if (type === "Tombstone" || parentType === "Delete") continue;
    if (ACTOR_TYPES.has(type ?? "")) continue; // actors are hosted with their keys
    hostDocument(probe, object, context);
  }
}

function abortable(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return ms <= 0 ? Promise.resolve() : sleep(ms, undefined, signal ? { signal } : {}).then(() => undefined);
}

/**
 * Replays a capture against a target (see the module doc). Rejects only on setup failures (an
 * account that cannot be provisioned); everything that happens per delivery is in the report.
 */
export async function replayCapture(options: ReplayOptions): Promise<ReplayReport> {
  const { capture, probe, target, http, signal } = options;
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const timing = options.timing ?? "compress";
  const settleMs = options.settleMs ?? 5_000;
  const tag = options.tag ?? randomBytes(4).toString("hex");
  const base = `${probe.origin}/replay/${tag}`;
  const plan = planReplay(capture);
  const deliveries = deliveriesOf(capture);
  const wait: WaitFunction =
    options.wait ??
    ((description, condition, timeoutMs) =>
      waitUntil(description, condition, {
        timeoutMs,
        wakeOn: (listener) => probe.inbox.subscribe(listener),
        ...(signal ? { signal } : {}),
      }));

  // 1. The receiving actors become accounts on the target.
  const provision = options.account ?? ((name: string) => target.driver.provisionAccount(name));
  const accounts: AccountMapping[] = [];
  const rules: RewriteRule[] = [];
  for (const actor of plan.receiverActors) {
    const account = await provision(actor.name);
    accounts.push({ name: actor.name, capturedId: actor.id, account });
    rules.push(...(await accountRules(probe, actor, account, plan.receiverOrigin)));
  }
  if (accounts.length === 0) {
    // Nobody is named: one account receives and observes everything.
    accounts.push({ name: "replay", account: await provision("replay") });
  }
  // 2. Every other URL of the receiver, and every URL of the senders, moves under the probe.
  if (plan.receiverOrigin) rules.push({ from: plan.receiverOrigin, to: `${base}/0`, match: "prefix" });
  for (const [i, origin] of plan.senderOrigins.entries()) {
    rules.push({ from: origin, to: `${base}/${i + 1}`, match: "prefix" });
  }
  const rewriter = createRewriter(rules);

  // 3. Senders' actors, with fresh keys, then every other document the capture holds.
  const actors = new Map<string, HostedActor>();
  for (const capturedId of plan.senderActors) {
    if (!originOf(capturedId)) continue;
    const original = capturedDocument(capture, capturedId) ?? synthesisedActor(capturedId);
    const hosted = await hostActor(probe, rewriter, capturedId, original);
    actors.set(hosted.id, hosted);
  }
  for (const event of capture.events) {
    if (event.kind !== "document" || (event.status ?? 200) !== 200 || !event.document) continue;
    if (ACTOR_TYPES.has(typeOf(event.document) ?? "")) continue;
    hostDocument(probe, rewriter.rewrite(event.document), undefined);
  }

  const ctx: ObserveContext = {
    driver: target.driver,
    rewriter,
    wait,
    settleMs,
    deliveries,
  };
  const activities: ActivityReport[] = [];
  const touched = new Map<string, { account: Account; objectType?: string }>();
  let previousAt: number | undefined;
  // When the last POST went out: `preserve` spaces POSTs, whatever reading back took in between.
  let lastPostAt = Date.now();
  let stopped = false;

  // 4. Deliveries in order; documents that became 404/410 turn into Tombstones where they happened.
  let index = 0;
  for (const event of capture.events) {
    signal?.throwIfAborted();
    if (event.kind === "document") {
      const status = event.status ?? 200;
      if (status === 404 || status === 410) {
        const id = rewriter.rewriteString(withoutFragment(idOf(event.document) ?? event.url));
        if (id.startsWith(`${probe.origin}/`)) probe.tombstone(id);
      }
      continue;
    }
    index += 1;
    const delivery = event;
    const step = stepOf(delivery, index, rewriter);
    const at = delivery.at ? Date.parse(delivery.at) : Number.NaN;
    if (stopped) {
      activities.push(skipped(step, "the replay was stopped before this delivery"));
      continue;
    }
    if (timing === "preserve" && previousAt !== undefined && !Number.isNaN(at)) {
      const gap = Math.min(Math.max(0, at - previousAt), options.maxGapMs ?? 60_000);
      await abortable(gap - (Date.now() - lastPostAt), signal);
    }
    if (!Number.isNaN(at)) previousAt = at;
    if (timing === "step" && options.onStep) {
      const go = await options.onStep({ index, total: deliveries.length, delivery });
      if (!go) {
        stopped = true;
        activities.push(skipped(step, "the replay was stopped before this delivery"));
        continue;
      }
    }
    const report = await replayOne(delivery, step);
    activities.push(report);
    options.onActivity?.(report);
  }

  async function replayOne(delivery: CaptureDelivery, step: Step): Promise<ActivityReport> {
    if (!delivery.activity)
      return skipped(step, "the captured body is not a JSON object, so there is nothing to re-sign");
    const activity = rewriter.rewrite(delivery.activity);
    const notes: string[] = [];
    const removed = stripSignatures(activity);
    if (removed.length > 0) notes.push(`removed ${removed.join(" and ")} (signed over the original bytes)`);
    const signer = actors.get(idOf(activity.actor) ?? "");
    if (!signer) {
      return skipped(
        step,
        `the activity's actor ${idOf(delivery.activity.actor) ?? "(none)"} is not one of the capture's senders`,
      );
    }
    const observer = observerFor(delivery, activity);
    hostEmbedded(probe, activity);
    if (step.type === "Delete" || step.innerType === "Delete") {
      const gone = step.replayedObjectId;
      if (gone?.startsWith(`${probe.origin}/`)) probe.tombstone(gone);
    }
    if (step.type === "Accept" || step.type === "Reject") {
      notes.push(...(await reconcileFollowAnswer(activity, observer)));
    }
    const before = step.replayedObjectId
      ? await ctx.driver.receivedPost(observer, step.replayedObjectId).catch(() => null)
      : null;
    let delivered: ActivityReport["replayed"];
    let inbox: string | undefined;
    try {
      inbox = await inboxFor(delivery, activity, observer);
      lastPostAt = Date.now();
      const result = await deliverSigned(http, inbox, activity, signer.key, {
        firstKnock: "draft-cavage-12",
      });
      delivered = {
        inbox,
        status: result.response.status,
        scheme: result.scheme,
        body: result.response.text().slice(0, 500),
      };
    } catch (error) {
      delivered = {
        ...(inbox ? { inbox } : {}),
        error: error instanceof Error ? error.message : String(error),
      };
    }
    if (
      step.replayedObjectId &&
      step.objectId &&
      (step.postLike || step.type === "Delete" || step.innerType === "Delete")
    ) {
      const existing = touched.get(step.objectId);
      touched.set(step.objectId, { account: observer, objectType: existing?.objectType ?? step.objectType });
    }
    try {
      return await observeActivity(ctx, { step, activity, account: observer, before, delivered, notes });
    } catch (error) {
      // A driver that cannot read something back (unsupported, a failing API) costs this row only.
      if (signal?.aborted) throw error;
      const status = delivered.status ?? 0;
      return {
        ...skipped(step, ""),
        replayed: delivered,
        outcome: delivered.error ? "error" : status >= 200 && status < 300 ? "delivered" : "refused",
        summary: `answered ${delivered.status ?? delivered.error}; reading the target back failed: ${(error as Error).message}`,
        notes,
      };
    }
  }

  /** For an Accept/Reject of a Follow by a receiving actor: the target's account follows first. */
  async function reconcileFollowAnswer(activity: Json, account: Account): Promise<string[]> {
    const follow = activity.object;
    const followee = idOf(activity.actor);
    if (!followee) return [];
    const followerId = isObject(follow) ? idOf(follow.actor) : account.actorId;
    if (followerId !== account.actorId) return [];
    const since = probe.inbox.all().length;
    const isOurs = (entry: InboxEntry) =>
      entry.method === "POST" &&
      entry.activity !== undefined &&
      typeOf(entry.activity) === "Follow" &&
      idOf(entry.activity.actor) === account.actorId &&
      idOf(entry.activity.object) === followee;
    try {
      await ctx.driver.follow(account, followee);
    } catch (error) {
      return [`the target could not follow ${rewriter.restoreString(followee)}: ${(error as Error).message}`];
    }
    let entry: InboxEntry | undefined;
    try {
      entry = await wait(
        `${target.id} sends its Follow of ${followee} to the probe`,
        async () => probe.inbox.all().slice(since).find(isOurs) ?? probe.inbox.query(isOurs).at(-1),
        options.followWaitMs ?? 10_000,
      );
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) throw error;
      return [
        `${target.id} never sent a Follow of the replayed actor, so the ${typeOf(activity)} names the captured Follow`,
      ];
    }
    const ours = entry.activity!;
    const { "@context": _context, ...embedded } = ours;
    activity.object = isObject(follow) ? embedded : idOf(ours);
    return [
      `${typeOf(activity)} answers ${target.id}'s own Follow ${idOf(ours) ?? ""} (the captured Follow was the receiver's)`,
    ];
  }

  /** The account that receives (and observes) a delivery. */
  function observerFor(delivery: CaptureDelivery, activity: Json): Account {
    if (delivery.recipient && delivery.recipient !== "shared") {
      const named = accounts.find((a) => a.name === delivery.recipient);
      if (named) return named.account;
    }
    const referenced = new Set<string>();
    for (const object of embeddedChain(activity)) {
      for (const field of ["to", "cc", "bto", "bcc", "audience", "object", "actor"]) {
        for (const id of idsOf(object[field])) referenced.add(id);
      }
      for (const tag of asArray(object.tag)) if (isObject(tag)) referenced.add(idOf(tag.href) ?? "");
    }
    return (accounts.find((a) => referenced.has(a.account.actorId)) ?? accounts[0]!).account;
  }

  /** The target's inbox for a delivery: the addressed account's, or the shared one. */
  async function inboxFor(delivery: CaptureDelivery, _activity: Json, observer: Account): Promise<string> {
    const document = (await probe.resolveActor(observer.actorId)) ?? {};
    const endpoints = isObject(document.endpoints) ? document.endpoints : {};
    const personal = idOf(document.inbox);
    const shared = idOf(endpoints.sharedInbox);
    const chosen =
      delivery.recipient === "shared" || !delivery.recipient ? (shared ?? personal) : (personal ?? shared);
    if (!chosen) throw new Error(`${target.id} serves no inbox for ${observer.actorId}`);
    return chosen;
  }

  // 5. Afterwards: the final state of every post the capture touched.
  const objects: ObjectState[] = [];
  for (const [objectId, { account, objectType }] of touched) {
    objects.push(await observeObject(ctx, account, objectId, objectType));
  }
  return {
    capture: {
      ...(capture.source ? { source: capture.source } : {}),
      ...(capture.header.title ? { title: capture.header.title } : {}),
      deliveries: deliveries.length,
      documents: capture.events.length - deliveries.length,
    },
    target: target.id,
    probeOrigin: probe.origin,
    timing,
    mapping: rules,
    accounts,
    activities,
    objects,
    startedAt,
    durationMs: Date.now() - started,
  };
}

function skipped(step: Step, why: string): ActivityReport {
  return {
    ...stepHeader(step),
    replayed: {},
    outcome: "skipped",
    summary: `not replayed: ${why}`,
    notes: [],
  };
}
