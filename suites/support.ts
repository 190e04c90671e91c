/**
 * The support suite (issue 10): hundreds of input variants of a post (fixtures/inputs), and what each
 * receiver made of them. One scenario per group of variants; per cell the sender delivers every
 * variant of the group, a sentinel proves they all had their chance, then each variant is read back
 * through the receiver's driver and an extractor (harness/support/extract.ts) turns the view into a
 * descriptive outcome. The outcomes ride on the cell (`CellResult.support`) for the support tables;
 * the group's check (suites/support-checks.ts) fails only when a variant misses a catalogue
 * requirement it exercises.
 *
 * The sender is the probe by default (it sends every document exactly as built, straight to the
 * receiver's inbox) or any target that can post raw documents (`raw-post`), which may fill in what a
 * variant removes (ids, attributedTo, published): that is recorded, not hidden.
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import type {
  CellResult,
  OutcomeKind,
  SupportOutcomes,
  Target,
  VariantOutcome,
} from "../harness/core/model.ts";
import type { Scenario, ScenarioContext } from "../harness/core/scenario.ts";
import { WaitTimeoutError } from "../harness/core/scenario.ts";
import type { PostView } from "../harness/drivers/driver.ts";
import type { DeliveryResult, ProbeActor } from "../harness/peer/types.ts";
import { type Extracted, extractOutcome, requirementHolds, short } from "../harness/support/extract.ts";
import {
  buildObject,
  fill,
  type Group,
  type InputSet,
  inputSet,
  type Json,
  type Placeholders,
  placeholdersUsed,
  type Variant,
} from "../harness/support/inputs.ts";
import {
  followersOf,
  followingPair,
  inboxOf,
  type Party,
  PUBLIC,
  postRaw,
  probeSentinel,
  publicAddressing,
  sentinel,
  token,
  waitHeld,
} from "./steps.ts";
import { SUPPORT_CHECKS } from "./support-checks.ts";

export { SUPPORT_CHECKS };

/** Options of {@link supportScenarios}. */
export interface SupportSuiteOptions {
  /** The input set. Default: fixtures/inputs. */
  inputs?: InputSet;
  /** Only these groups. Default all. */
  groups?: string[];
  /**
   * Deliveries and read-backs in flight at once per receiver, shared by all cells on that receiver
   * (servers rate-limit). Default 8.
   */
  concurrency?: number;
  /**
   * After the sentinel arrived, how long to keep polling for variants not seen yet (receivers that
   * process their inbox in parallel queues), in ms. Default 0 for `process` targets (they handle a
   * delivery before answering it), 5 000 otherwise.
   */
  settleMs?: (receiver: Target) => number;
  /**
   * Also run with senders other than the probe (any target with `raw-post`, which may fill in what
   * a variant removes). Default false: the probe sends, so every document goes out exactly as built
   * and a run costs one cell per group and receiver.
   */
  anySender?: boolean;
}

/** Evidence labels of a variant: the document sent and the receiver's view. */
export const evidenceLabel = {
  sent: (variant: string) => `sent ${variant}`,
  view: (variant: string) => `view ${variant}`,
} as const;

/** A counting semaphore. */
class Limiter {
  #running = 0;
  readonly #queue: Array<() => void> = [];
  constructor(readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limit) await new Promise<void>((resolve) => this.#queue.push(resolve));
    this.#running++;
    try {
      return await task();
    } finally {
      this.#running--;
      this.#queue.shift()?.();
    }
  }
}

/** One limiter per receiver (by id and origin), shared by every cell that sends to it. */
const limiters = new Map<string, Limiter>();

function limiterFor(receiver: Target, limit: number): Limiter {
  const key = `${receiver.id} ${receiver.origin} ${limit}`;
  let limiter = limiters.get(key);
  if (limiter === undefined) {
    limiter = new Limiter(limit);
    limiters.set(key, limiter);
  }
  return limiter;
}

/** Maps `items` through `task` under `limiter`, keeping order. */
function mapLimited<T, R>(
  limiter: Limiter,
  items: readonly T[],
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  return Promise.all(items.map((item) => limiter.run(() => task(item))));
}

/** What happened when one variant was sent. */
interface Sent {
  variant: Variant;
  /** The object as sent (with its @context, as the activity carried it). */
  object: Json;
  /** The document put on the wire (the Create, for the probe) or handed to the sender. */
  document: Json;
  token: string;
  /** The variant's HTML fragment as sent (placeholders filled in), for the HTML extractors. */
  fragment?: string;
  /** The object's id, when known. */
  uri?: string;
  delivery?: DeliveryResult;
  /** Why sending failed (a harness or infrastructure problem, not the receiver's doing). */
  error?: string;
  /** What a non-probe sender may have changed. */
  note?: string;
}

/** What a group's cell knows about its roles. */
interface Cell {
  ctx: ScenarioContext;
  group: Group;
  inputs: InputSet;
  sender: Party;
  receiver: Party;
  /** The probe actor when the probe sends. */
  actor?: ProbeActor;
  inbox?: string;
  values: Omit<Placeholders, "token" | "label" | "id" | "now">;
  limiter: Limiter;
}

/** Delivers `document` as the probe actor, waiting out 429 answers (Retry-After, at most 3 times). */
async function deliverPolitely(cell: Cell, document: Json): Promise<DeliveryResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await cell.ctx.probe.deliver(cell.actor!, cell.inbox!, document);
    if (result.status !== 429 || attempt >= 3) return result;
    const retryAfter = Number(result.response.headers["retry-after"] ?? "2");
    const ms = Math.min(10_000, Math.max(500, (Number.isFinite(retryAfter) ? retryAfter : 2) * 1000));
    await delay(ms, undefined, { signal: cell.ctx.signal });
  }
}

async function send(cell: Cell, variant: Variant): Promise<Sent> {
  const { ctx } = cell;
  const marker = token("v");
  const now = new Date().toISOString();
  const probeSends = cell.actor !== undefined;
  const id = probeSends ? ctx.probe.newId("objects") : undefined;
  const values: Partial<Placeholders> = {
    ...cell.values,
    token: marker,
    label: variant.id,
    now,
    ...(id === undefined ? {} : { id }),
  };
  const object = buildObject(cell.inputs.base, cell.group, variant, values);
  const sent: Sent = { variant, object, document: object, token: marker };
  if (variant.fragment !== undefined) sent.fragment = fill(variant.fragment, values);
  try {
    if (probeSends) {
      const { "@context": context, ...body } = object;
      const create: Json = {
        ...(context === undefined ? {} : { "@context": context }),
        id: ctx.probe.newId("activities"),
        type: "Create",
        actor: cell.actor!.id,
        published: now,
        ...(body.to === undefined ? {} : { to: body.to }),
        ...(body.cc === undefined ? {} : { cc: body.cc }),
        object: body,
      };
      sent.document = create;
      if (typeof body.id === "string") {
        sent.uri = body.id;
        // Hosted at its id, so receivers that dereference it (or its parent, or a quote) can.
        if (body.id.startsWith(`${ctx.probe.origin}/`)) ctx.probe.host(object);
      }
      sent.delivery = await deliverPolitely(cell, create);
    } else {
      // The sender chooses its own ids; what the variant removes, it may fill in.
      if (object.id === "{id}") delete object.id;
      const ref = await postRaw(ctx, cell.sender, object, { to: [PUBLIC], cc: [cell.values.followers] });
      sent.uri = ref.uri;
      sent.note = `sent through ${cell.sender.target.id}'s own API, which may fill in id, attributedTo and published`;
    }
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    sent.error = error instanceof Error ? error.message : String(error);
  }
  return sent;
}

/** Sends a phase of variants and waits for a sentinel after them. */
async function sendPhase(cell: Cell, variants: readonly Variant[]): Promise<Sent[]> {
  const sent = await mapLimited(cell.limiter, variants, (v) => send(cell, v));
  // The sentinel: anything sent before it has had its chance once it is held.
  if (cell.actor !== undefined) await probeSentinel(cell.ctx, cell.actor, cell.receiver);
  else await sentinel(cell.ctx, cell.sender, cell.receiver);
  return sent;
}

/** A copy of a variant's post on the receiver: by id, else by its marker on the receiver's timeline. */
async function readBack(
  cell: Cell,
  sent: Sent,
  timeline: () => Promise<PostView[]>,
): Promise<PostView | null> {
  const driver = cell.receiver.target.driver;
  if (sent.uri !== undefined) {
    const view = await driver.receivedPost(cell.receiver.account, sent.uri);
    if (view !== null) return view;
  }
  const found = (await timeline()).find(
    (v) =>
      v.text.includes(sent.token) ||
      v.html.includes(sent.token) ||
      (v.contentWarning ?? "").includes(sent.token),
  );
  return found ?? null;
}

/** Reads every sent variant back, polling the missing ones for up to `settleMs`. */
async function readAll(
  cell: Cell,
  sent: readonly Sent[],
  settleMs: number,
): Promise<Map<Sent, PostView | null | Error>> {
  const results = new Map<Sent, PostView | null | Error>();
  let timelineCache: Promise<PostView[]> | undefined;
  const timeline = () => {
    timelineCache ??= cell.receiver.target.driver.timeline(cell.receiver.account);
    return timelineCache;
  };
  const pass = async (items: readonly Sent[]) => {
    timelineCache = undefined;
    await mapLimited(cell.limiter, items, async (s) => {
      try {
        results.set(s, await readBack(cell, s, timeline));
      } catch (error) {
        results.set(s, error instanceof Error ? error : new Error(String(error)));
      }
    });
  };
  const readable = sent.filter((s) => s.error === undefined);
  await pass(readable);
  const missing = () => readable.filter((s) => results.get(s) === null);
  if (settleMs > 0 && missing().length > 0) {
    try {
      await cell.ctx.waitFor(
        `${missing().length} variant(s) of ${cell.group.group} arrive on ${cell.receiver.target.id}`,
        async () => {
          await pass(missing());
          return missing().length === 0;
        },
        { timeoutMs: settleMs },
      );
    } catch (error) {
      // Still missing after the grace period: they were dropped.
      if (!(error instanceof WaitTimeoutError)) throw error;
    }
  }
  return results;
}

function deliveryNote(sent: Sent): string {
  const d = sent.delivery;
  if (d === undefined) return "";
  const body = short(d.response.body ?? "", 160).replace(/[.\s]+$/, "");
  return ` The delivery was answered ${d.status}${body ? `: ${body}` : ""}.`;
}

/** Turns a variant's read-back into its outcome and evidence. */
async function judge(
  cell: Cell,
  sent: Sent,
  read: PostView | null | Error | undefined,
): Promise<VariantOutcome> {
  const { ctx, group } = cell;
  const { variant } = sent;
  const checkId = group.checkId;
  await ctx.validate(checkId, evidenceLabel.sent(variant.id), sent.document, {
    origin: new URL(cell.values.actor).origin,
    delivered: cell.actor !== undefined,
  });
  let outcome: Extracted;
  if (sent.error !== undefined) {
    outcome = { value: "not sent", kind: "errored", detail: short(sent.error, 200) };
  } else if (read instanceof Error || read === undefined) {
    outcome = { value: "not read back", kind: "errored", detail: short(read?.message ?? "no answer", 200) };
  } else {
    outcome = extractOutcome(group.extractor, {
      variant: sent.fragment === undefined ? variant : { ...variant, fragment: sent.fragment },
      sent: sent.object,
      view: read,
      roles: {
        sender: cell.values.actor,
        receiver: cell.values.receiver,
        ...(cell.values.parent ? { parent: cell.values.parent } : {}),
        ...(cell.values.other ? { other: cell.values.other } : {}),
      },
    });
    if (read === null) {
      const answered = deliveryNote(sent);
      ctx.evidence(checkId, {
        kind: "note",
        label: evidenceLabel.view(variant.id),
        text: `${cell.receiver.target.id} holds no copy of this variant.${answered}`,
      });
      // Why it vanished, when the receiver said (e.g. `answered 400: Missing actor.`).
      if (answered !== "")
        outcome = {
          ...outcome,
          detail: answered
            .trim()
            .replace(/^The delivery was /, "")
            .replace(/\.$/, ""),
        };
    } else ctx.view(checkId, evidenceLabel.view(variant.id), read);
  }
  const detail = [outcome.detail, sent.note].filter(Boolean).join(" · ");
  const result: VariantOutcome = {
    variant: variant.id,
    title: variant.title,
    value: outcome.value,
    kind: outcome.kind,
    ...(detail ? { detail: short(detail, 300) } : {}),
    ...(sent.delivery ? { status: sent.delivery.status } : {}),
  };
  if (variant.check !== undefined) {
    result.check = variant.check;
    // The probe presents nothing: requirements about what a receiver shows are not judged on it.
    if (outcome.kind !== "errored" && !receiverIsProbe(cell))
      result.requirement = requirementHolds(variant.expect ?? "feature", outcome) ? "passed" : "failed";
  }
  return result;
}

const KIND_WORDS: Record<OutcomeKind, string> = {
  kept: "kept",
  transformed: "transformed",
  "feature-dropped": "feature dropped",
  "post-dropped": "post dropped",
  errored: "not decided",
};

/** `14 variants: 9 kept, 3 transformed, 2 post dropped`. */
export function tallyOutcomes(outcomes: readonly Pick<VariantOutcome, "kind">[]): string {
  const counts = new Map<OutcomeKind, number>();
  for (const o of outcomes) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
  const parts = (Object.keys(KIND_WORDS) as OutcomeKind[])
    .filter((k) => counts.has(k))
    .map((k) => `${counts.get(k)} ${KIND_WORDS[k]}`);
  return `${outcomes.length} variants: ${parts.join(", ")}`;
}

/** Records the group's verdict from its variants' outcomes. */
function decide(cell: Cell, outcomes: VariantOutcome[]): void {
  const { ctx, group } = cell;
  const support: SupportOutcomes = {
    inputSet: cell.inputs.version,
    group: group.group,
    groupTitle: group.title,
    read: group.read,
    variants: outcomes,
  };
  const errored = outcomes.filter((o) => o.kind === "errored");
  if (errored.length === outcomes.length) {
    throw new Error(
      `no variant of ${group.group} could be sent or read back: ${errored[0]?.detail ?? "unknown"}`,
    );
  }
  if (receiverIsProbe(cell)) {
    ctx.record(
      group.checkId,
      "inapplicable",
      `the probe keeps documents as they arrive and presents nothing to judge; its column shows what ${ctx.sender.id} sent · ${tallyOutcomes(outcomes)}`,
      { support },
    );
    return;
  }
  const judged = outcomes.filter((o) => o.requirement !== undefined);
  const failed = judged.filter((o) => o.requirement === "failed");
  const tally = tallyOutcomes(outcomes);
  const unsure = errored.length > 0 ? `; ${errored.length} not decided (harness)` : "";
  if (failed.length > 0) {
    const listed = failed
      .slice(0, 5)
      .map((o) => `${o.check} not met by ${o.variant} (${o.value})`)
      .join("; ");
    ctx.record(
      group.checkId,
      "failed",
      `${failed.length} of ${judged.length} requirement(s) not met: ${listed}${failed.length > 5 ? "; …" : ""}`,
      {
        expected: `every variant that exercises a requirement meets it (${[...new Set(judged.map((o) => o.check))].join(", ")})`,
        observed: `${failed.map((o) => `${o.variant}: ${o.value}`).join("; ")} · ${tally}${unsure}`,
        support,
      },
    );
  } else if (judged.length > 0) {
    ctx.record(group.checkId, "passed", `${judged.length} requirement(s) met · ${tally}${unsure}`, {
      support,
    });
  } else {
    ctx.record(group.checkId, "inapplicable", `descriptive group, no requirement · ${tally}${unsure}`, {
      support,
    });
  }
}

function receiverIsProbe(cell: Cell): boolean {
  return cell.ctx.receiver.implementation === "probe";
}

function defaultSettle(receiver: Target): number {
  return receiver.runtime === "process" ? 0 : 5_000;
}

/** The scenario of one group. */
function groupScenario(group: Group, inputs: InputSet, options: SupportSuiteOptions): Scenario {
  const used = new Set(
    group.variants.flatMap((v) => [...placeholdersUsed(buildObject(inputs.base, group, v, {}))]),
  );
  return {
    id: `support.${group.group.replaceAll("_", "-")}`,
    suite: "support",
    title: `Support table: ${group.title} (${group.variants.length} variants)`,
    shape: "pair",
    checks: [group.checkId],
    requires: { sender: ["raw-post"], receiver: ["follow"] },
    probeSenderOnly: !(options.anySender ?? false),
    timeoutMs: Math.max(60_000, 20_000 + group.variants.length * 1_500),
    async run(ctx) {
      // 1. Roles: the receiver follows the sender (servers take posts from accounts someone follows).
      const { sender, receiver } = await followingPair(ctx, { sender: "supsender", receiver: "supreceiver" });
      const probeSends = ctx.sender.implementation === "probe";
      const actor = probeSends ? ctx.probeActor(sender.account) : undefined;
      const cellToken = token("sup");
      const origin = ctx.probe.origin;
      const followers = actor?.followers ?? (await followersOf(ctx, sender.account.actorId));
      const cell: Cell = {
        ctx,
        group,
        inputs,
        sender,
        receiver,
        ...(actor ? { actor, inbox: await inboxOf(ctx, receiver.account.actorId) } : {}),
        values: {
          probe: origin,
          media: `${origin}/media/${cellToken}`,
          pages: `${origin}/pages/${cellToken}`,
          actor: sender.account.actorId,
          followers,
          receiver: receiver.account.actorId,
          receiverHandle: `@${receiver.account.handle}`,
          parent: "",
          other: "",
        },
        limiter: limiterFor(ctx.receiver, options.concurrency ?? 8),
      };
      // 2. What the variants refer to: a parent post the receiver already holds, another actor.
      if (used.has("parent")) cell.values.parent = await parentPost(cell);
      if (used.has("other")) {
        cell.values.other = actor
          ? (await ctx.probe.createActor(`supother-${cellToken.slice(-8)}`)).id
          : (await ctx.account(ctx.sender, "supother")).actorId;
      }
      // 3. Send every variant (bounded), then a sentinel; phase-2 variants after the first ones arrived.
      const phase1 = group.variants.filter((v) => v.phase === 1);
      const phase2 = group.variants.filter((v) => v.phase === 2);
      const sent = await sendPhase(cell, phase1);
      if (phase2.length > 0) sent.push(...(await sendPhase(cell, phase2)));
      // 4. Read each variant back and describe what the receiver made of it.
      const reads = await readAll(cell, sent, (options.settleMs ?? defaultSettle)(ctx.receiver));
      const order = new Map(group.variants.map((v, i) => [v.id, i]));
      sent.sort((a, b) => (order.get(a.variant.id) ?? 0) - (order.get(b.variant.id) ?? 0));
      const outcomes: VariantOutcome[] = [];
      for (const s of sent) outcomes.push(await judge(cell, s, reads.get(s)));
      // 5. SUP-…: requirements met, or descriptive only.
      decide(cell, outcomes);
    },
  };
}

/** A post by the sender that the receiver holds, for replies and quotes to point at. */
async function parentPost(cell: Cell): Promise<string> {
  const { ctx, actor } = cell;
  const content = `<p>the parent post ${token("parent")}</p>`;
  let uri: string;
  if (actor !== undefined) {
    const create = await ctx.probe.post(actor, { type: "Note", content }, publicAddressing(actor));
    const object = create.object;
    uri = typeof object === "object" && object !== null ? String((object as Json).id) : String(object);
  } else {
    uri = (await cell.sender.target.driver.post(cell.sender.account, { content, visibility: "public" })).uri;
  }
  await waitHeld(ctx, cell.receiver, uri, { what: "the parent post" });
  return uri;
}

/** The support scenarios, one per group of the input set. */
export function supportScenarios(options: SupportSuiteOptions = {}): Scenario[] {
  const inputs = options.inputs ?? inputSet();
  return inputs.groups
    .filter((g) => options.groups === undefined || options.groups.includes(g.group))
    .map((g) => groupScenario(g, inputs, options));
}

/** The support suite with its defaults. */
export const scenarios: Scenario[] = supportScenarios();

/** The support outcomes of some cells, for tests and tools: `variant → outcome` per cell. */
export function outcomesOf(cells: readonly CellResult[]): Map<string, VariantOutcome> {
  const out = new Map<string, VariantOutcome>();
  for (const cell of cells) for (const o of cell.support?.variants ?? []) out.set(o.variant, o);
  return out;
}
