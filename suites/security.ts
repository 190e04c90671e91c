/**
 * Security: what a receiver makes of deliveries that are properly signed but lie or overreach — a
 * post forged in another actor's name, a boost carrying a forged copy of someone else's object, a
 * body of several MiB, a document nested thousands of levels deep. The status code proves nothing:
 * every verdict is read from the receiver's state behind a sentinel, and a receiver that stops
 * taking posts afterwards fails too.
 * @module
 */
import type { Scenario, ScenarioContext } from "../harness/core/scenario.ts";
import type { PostView } from "../harness/drivers/driver.ts";
import { DeliveryError } from "../harness/peer/probe.ts";
import type { DeliveryResult, Misbehaviour, ProbeActor } from "../harness/peer/types.ts";
import { jsonDepth } from "../harness/protocol/as2.ts";
import {
  craftActivity,
  craftNote,
  deliveryEvidence,
  establishFollow,
  heldBy,
  inboxOf,
  type Party,
  PUBLIC,
  party,
  precondition,
  probeActorOf,
  probeSentinel,
  show,
  summarise,
  token,
  who,
} from "./steps.ts";

/** Size of the oversized body (SEC-03): far beyond any activity, within what loopback sends at once. */
export const OVERSIZED_BYTES = 4 * 1024 * 1024;
/** Nesting depths sent (SEC-04): one that overflows recursive walkers, one that most survive. */
export const NESTING_DEPTHS: readonly number[] = [10_000, 1_000];
/** Deepest nesting a held copy may carry (SEC-04); a normal post's API answer nests a dozen levels. */
export const MAX_KEPT_DEPTH = 100;

/** Roles of a crafted-delivery scenario: the receiver follows probe actor A (the cell's sender). */
async function probeFollowed(ctx: ScenarioContext) {
  const sender = await party(ctx, ctx.sender, "author");
  const receiver = await party(ctx, ctx.receiver, "reader");
  await establishFollow(ctx, receiver, sender);
  return { actor: probeActorOf(ctx, sender), receiver, inbox: await inboxOf(ctx, receiver.account.actorId) };
}

/**
 * Delivers as the probe, turning a connection the receiver cut (a refused big body often is) into
 * an outcome instead of an error.
 */
async function deliverCrafted(
  ctx: ScenarioContext,
  checkId: string,
  label: string,
  actor: ProbeActor,
  inbox: string,
  document: Record<string, unknown>,
  misbehaviour: Misbehaviour = {},
): Promise<string> {
  let result: DeliveryResult;
  try {
    result = await ctx.probe.deliver(actor, inbox, document, misbehaviour);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    ctx.evidence(checkId, { kind: "note", label, text: `no answer: ${reason}` });
    return `${label}: connection closed (${reason})`;
  }
  ctx.evidence(checkId, deliveryEvidence(label, result));
  return `${label}: HTTP ${result.status}`;
}

/**
 * The sentinel of a check that also judges that the receiver still works: it fails `checkId` when
 * the receiver no longer takes deliveries (DeliveryError) or never shows the sentinel (timeout).
 * Returns false when the check failed here.
 */
async function stillWorking(
  ctx: ScenarioContext,
  checkId: string,
  actor: ProbeActor,
  receiver: Party,
): Promise<boolean> {
  try {
    await probeSentinel(ctx, actor, receiver, { check: checkId });
    return true;
  } catch (error) {
    if (!(error instanceof DeliveryError)) throw error;
    ctx.record(checkId, "failed", `the receiver no longer takes deliveries: ${error.message}`, {
      expected: "a later post delivered and shown",
      observed: error.message,
    });
    return false;
  }
}

const forgedAuthor: Scenario = {
  id: "security.forged-author",
  suite: "security",
  title: "A post forged in another actor's name is not shown as theirs",
  shape: "pair",
  probeSenderOnly: true,
  checks: ["SEC-01"],
  requires: { receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows probe actor A; probe actor V is the one A writes as.
    const { actor, receiver, inbox } = await probeFollowed(ctx);
    const victim = await ctx.probe.createActor(`victim-${token("v").slice(-8)}`);
    // 2. A delivers, properly signed as A, a Create of a note attributed to V (hosted nowhere, so no
    //    origin vouches for it).
    const note = craftNote(ctx, actor, {
      attributedTo: victim.id,
      content: `<p>words put in another's mouth ${token("forged")}</p>`,
    });
    const sent = await deliverCrafted(
      ctx,
      "SEC-01",
      `Create by ${actor.id} of a note attributed to ${victim.id}`,
      actor,
      inbox,
      craftActivity(ctx, actor, "Create", note),
    );
    // 3. Sentinel from A.
    await probeSentinel(ctx, actor, receiver);
    // 4. SEC-01: no copy shown as V's.
    const copy = await heldBy(receiver, String(note.id));
    if (copy) ctx.view("SEC-01", "the forged note on the receiver", copy);
    const forged = copy !== null && copy.author === victim.id;
    ctx.assert(
      "SEC-01",
      !forged,
      forged
        ? `the forged note is shown as a post by ${victim.id}`
        : copy
          ? `kept, but as a post by ${copy.author}`
          : "the forged note was not stored",
      {
        expected: `no post by ${victim.id} (it was sent by ${actor.id})`,
        observed: `${sent}; ${copy ? `held, author ${copy.author}` : "not held"}`,
      },
    );
  },
};

const forgedAnnounce: Scenario = {
  id: "security.forged-announce",
  suite: "security",
  title: "A boost embedding a forged copy shows the origin's object, not the copy",
  shape: "pair",
  checks: ["SEC-02"],
  requires: { sender: ["post"], receiver: ["follow"] },
  async run(ctx) {
    // The booster is a probe actor on a third origin, so neither role may be the probe.
    if (ctx.sender.implementation === "probe" || ctx.receiver.implementation === "probe") {
      ctx.record(
        "SEC-02",
        "inapplicable",
        "needs the probe as a third origin; run between two other targets",
      );
      return;
    }
    // 1. Roles: an author on the sender; a reader on the receiver who follows probe actor B (the
    //    booster) but not the author, so the receiver holds no copy of the author's posts.
    const author = await party(ctx, ctx.sender, "author");
    const reader = await party(ctx, ctx.receiver, "reader");
    const booster = await ctx.probe.createActor(`booster-${token("b").slice(-8)}`);
    await reader.target.driver.follow(reader.account, booster.id);
    await precondition(
      ctx,
      `${who(reader)} follows ${booster.handle}, and the probe lists it`,
      async () =>
        (await reader.target.driver.followState(reader.account, booster.id)) === "following" &&
        ctx.probe.followers(booster).includes(reader.account.actorId),
      `could not establish the follow ${who(reader)} → ${booster.handle}`,
    );
    // 2. The author posts publicly.
    const real = token("real");
    const ref = await author.target.driver.post(author.account, {
      content: `the real words ${real}`,
      visibility: "public",
    });
    // 3. B boosts it to the reader's inbox, embedding a forged copy: same id and author, other words.
    const fake = token("fake");
    const copy = {
      id: ref.uri,
      type: "Note",
      attributedTo: author.account.actorId,
      content: `<p>forged words ${fake}</p>`,
      published: new Date().toISOString(),
      to: [PUBLIC],
    };
    const announce = craftActivity(ctx, booster, "Announce", copy, {
      to: [PUBLIC],
      cc: [booster.followers, author.account.actorId],
    });
    const sent = await deliverCrafted(
      ctx,
      "SEC-02",
      "Announce embedding a forged copy",
      booster,
      await inboxOf(ctx, reader.account.actorId),
      announce,
    );
    // 4. Sentinel from B.
    await probeSentinel(ctx, booster, reader);
    // 5. SEC-02: the receiver shows the real words (fetched from the origin) or nothing.
    const held = await heldBy(reader, ref.uri);
    if (held) ctx.view("SEC-02", "the boosted post on the receiver", held);
    const believed = held?.text.includes(fake) === true;
    ctx.assert(
      "SEC-02",
      !believed,
      believed
        ? "the forged copy embedded in the Announce was shown"
        : held
          ? "the boosted post shows its origin's content"
          : "the boost was dropped",
      {
        expected: `the origin's words (${real}) or no copy; never the embedded ${fake}`,
        observed: `${sent}; ${summarise(held)}`,
      },
    );
  },
};

const oversized: Scenario = {
  id: "security.oversized-body",
  suite: "security",
  title: "A body of several MiB is refused without harm",
  shape: "pair",
  probeSenderOnly: true,
  checks: ["SEC-03"],
  requires: { receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows probe actor A.
    const { actor, receiver, inbox } = await probeFollowed(ctx);
    // 2. A delivers a Create padded with whitespace to 4 MiB (valid JSON, signed over every byte).
    const note = craftNote(ctx, actor, { content: `<p>padded to megabytes ${token("big")}</p>` });
    const sent = await deliverCrafted(
      ctx,
      "SEC-03",
      `Create padded to ${OVERSIZED_BYTES} bytes`,
      actor,
      inbox,
      craftActivity(ctx, actor, "Create", note),
      { padToBytes: OVERSIZED_BYTES },
    );
    // 3. Sentinel: the receiver still takes posts (else SEC-03 fails).
    if (!(await stillWorking(ctx, "SEC-03", actor, receiver))) return;
    // 4. SEC-03: nothing of the big one is kept.
    const copy = await heldBy(receiver, String(note.id));
    if (copy) ctx.view("SEC-03", "the oversized note on the receiver", copy);
    ctx.assert(
      "SEC-03",
      copy === null,
      copy
        ? `the ${OVERSIZED_BYTES}-byte Create was processed and stored`
        : "refused; the receiver kept working",
      {
        expected: "the oversized Create refused; later posts still arrive",
        observed: `${sent}; ${summarise(copy)}`,
      },
    );
  },
};

/** A held copy's text and how deep its driver answer nests (never the answer itself: it may be huge). */
function depthSummary(copy: PostView): { text: string; depth: number } {
  return { text: show(copy.text, 200), depth: jsonDepth(copy.raw) };
}

const deepJson: Scenario = {
  id: "security.deep-json",
  suite: "security",
  title: "Deeply nested JSON is refused or ignored without harm",
  shape: "pair",
  probeSenderOnly: true,
  checks: ["SEC-04"],
  requires: { receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows probe actor A.
    const { actor, receiver, inbox } = await probeFollowed(ctx);
    // 2. A delivers Creates whose notes carry an extension member nested 10 000 and 1 000 arrays deep.
    const sent: Array<{ depth: number; id: string; outcome: string }> = [];
    for (const depth of NESTING_DEPTHS) {
      const note = craftNote(ctx, actor, { content: `<p>nested ${depth} deep ${token("deep")}</p>` });
      const outcome = await deliverCrafted(
        ctx,
        "SEC-04",
        `Create with an extension nested ${depth} arrays deep`,
        actor,
        inbox,
        craftActivity(ctx, actor, "Create", note),
        { nestedArrays: depth },
      );
      sent.push({ depth, id: String(note.id), outcome });
    }
    // 3. Sentinel: the receiver still takes posts (else SEC-04 fails).
    if (!(await stillWorking(ctx, "SEC-04", actor, receiver))) return;
    // 4. SEC-04: what the receiver holds of them carries none of the nesting.
    const kept: string[] = [];
    const observed: string[] = [];
    for (const s of sent) {
      const copy = await heldBy(receiver, s.id);
      const summary = copy ? depthSummary(copy) : undefined;
      if (summary) ctx.view("SEC-04", `the note nested ${s.depth} deep, as held`, summary);
      if (summary && summary.depth > MAX_KEPT_DEPTH)
        kept.push(`the note nested ${s.depth} deep is held with its nesting (${summary.depth} levels)`);
      observed.push(`${s.outcome}; ${summary ? `held, ${summary.depth} levels deep` : "not held"}`);
    }
    ctx.assert(
      "SEC-04",
      kept.length === 0,
      kept.length === 0 ? "the nesting was refused or dropped; the receiver kept working" : kept.join("; "),
      {
        expected: `deliveries refused or the member dropped; nothing held nested beyond ${MAX_KEPT_DEPTH} levels`,
        observed: observed.join(" | "),
      },
    );
  },
};

/** The security suite. */
export const scenarios: Scenario[] = [forgedAuthor, forgedAnnounce, oversized, deepJson];
