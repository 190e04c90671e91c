/**
 * Follow: Follow/Accept/Reject/Undo between servers. Roles as everywhere: the receiver follows the
 * sender (the sender is the followed account). Scenarios that inspect what a target sends run with
 * the probe as receiver; those that need a crafted Accept or Undo run with the probe as the side that
 * must send it.
 * @module
 */
import {
  PreconditionError,
  type Scenario,
  type ScenarioContext,
  WaitTimeoutError,
} from "../harness/core/scenario.ts";
import {
  craftActivity,
  deliveryEvidence,
  embeddedObject,
  establishFollow,
  followStateOf,
  idOf,
  inboxOf,
  listsFollower,
  originOf,
  party,
  precondition,
  probeActorOf,
  probeReceived,
  probeSentinel,
  sentinel,
  show,
  token,
  typeOf,
  who,
} from "./steps.ts";

/**
 * A locked probe actor (the sender) and a fresh account on the receiver that follows it; resolves once
 * the probe holds the Follow (a precondition: the cell is skipped if it never arrives).
 */
async function heldFollowRequest(ctx: ScenarioContext) {
  const sender = await party(ctx, ctx.sender, "followee");
  const probeActor = probeActorOf(ctx, sender);
  ctx.probe.setLocked(probeActor, true);
  const receiver = await party(ctx, ctx.receiver, "follower");
  await receiver.target.driver.follow(receiver.account, probeActor.id);
  const follow = await precondition(
    ctx,
    `the probe holds a follow request from ${receiver.account.actorId}`,
    async () => ctx.probe.followRequests(probeActor).find((f) => idOf(f.actor) === receiver.account.actorId),
    `${who(receiver)} never sent its Follow to the probe`,
  );
  return { sender, probeActor, receiver, follow };
}

const autoAccept: Scenario = {
  id: "follow.auto-accept",
  suite: "follow",
  title: "An open account accepts a Follow; both sides agree",
  shape: "pair",
  checks: ["FOL-02", "FOL-06"],
  requires: { sender: ["follow"], receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: an open account on the sender (followed), a fresh account on the receiver (follower).
    const sender = await party(ctx, ctx.sender, "followee");
    const receiver = await party(ctx, ctx.receiver, "follower");
    // 2. The receiver follows the sender.
    await receiver.target.driver.follow(receiver.account, sender.account.actorId);
    // 3. FOL-02: the receiver sees the follow established (the sender's Accept arrived and matched).
    const state = await ctx.waitFor(
      `${who(receiver)} sees its follow of ${who(sender)} as established`,
      async () => (await followStateOf(receiver, sender)) === "following",
      { check: "FOL-02" },
    );
    ctx.assert("FOL-02", state, "the follow was accepted and the follower sees it established", {
      expected: "follow state 'following' on the follower's side",
      observed: "following",
    });
    // 4. FOL-06: the sender lists the receiver among its followers.
    await ctx.waitFor(
      `${who(sender)} lists ${who(receiver)} as follower`,
      () => listsFollower(sender, receiver),
      {
        check: "FOL-06",
      },
    );
    ctx.assert("FOL-06", true, "the followed account lists the new follower", {
      expected: `${receiver.account.actorId} in the followers of ${sender.account.actorId}`,
      observed: "listed",
    });
  },
};

const followForm: Scenario = {
  id: "follow.follow-form",
  suite: "follow",
  title: "The Follow a target sends is well-formed",
  shape: "pair",
  // The target under test is the one that sends the Follow, so here the sender follows the probe.
  probeReceiverOnly: true,
  checks: ["FOL-01"],
  requires: { sender: ["follow"] },
  async run(ctx) {
    // 1. Roles: a fresh account on the target (sender) and a probe actor (receiver).
    const sender = await party(ctx, ctx.sender, "follower");
    const receiver = await party(ctx, ctx.receiver, "followee");
    const probeActor = probeActorOf(ctx, receiver);
    // 2. The target follows the probe actor.
    await sender.target.driver.follow(sender.account, probeActor.id);
    // 3. Wait for the Follow at the probe.
    const entry = await probeReceived(
      ctx,
      `a Follow from ${sender.account.actorId}`,
      (e) => typeOf(e.activity) === "Follow" && idOf(e.activity?.actor) === sender.account.actorId,
      { check: "FOL-01" },
    );
    const follow = entry.activity ?? {};
    await ctx.validate("FOL-01", "Follow as received", follow, {
      headers: entry.headers,
      origin: new URL(sender.account.actorId).origin,
      delivered: true,
    });
    // 4. FOL-01: id on the follower's origin, actor = follower, object = the followed actor.
    const problems: string[] = [];
    const id = idOf(follow.id);
    if (!id) problems.push("no id");
    else if (originOf(id) !== originOf(sender.account.actorId))
      problems.push(`id ${id} not on the follower's origin`);
    if (idOf(follow.object) !== probeActor.id)
      problems.push(`object is ${show(follow.object)}, not ${probeActor.id}`);
    ctx.assert(
      "FOL-01",
      problems.length === 0,
      problems.length === 0 ? "Follow well-formed" : problems.join("; "),
      {
        expected: `{type: Follow, id on ${originOf(sender.account.actorId)}, actor: ${sender.account.actorId}, object: ${probeActor.id}}`,
        observed: show(follow),
      },
    );
  },
};

const acceptForm: Scenario = {
  id: "follow.accept-form",
  suite: "follow",
  title: "The Accept a target sends names its Follow and has its own id",
  shape: "pair",
  probeReceiverOnly: true,
  checks: ["FOL-05", "FOL-12"],
  requires: { sender: ["follow"] },
  async run(ctx) {
    // 1. Roles: an open account on the target (sender); a probe actor (receiver) follows it.
    const sender = await party(ctx, ctx.sender, "followee");
    const receiver = await party(ctx, ctx.receiver, "follower");
    const probeActor = probeActorOf(ctx, receiver);
    // 2. The probe actor follows the target.
    const follow = await ctx.probe.follow(probeActor, sender.account.actorId);
    // 3. Wait for the target's answer (no answer at all is FOL-02's failure, not these checks').
    const entry = await probeReceived(
      ctx,
      `an Accept from ${sender.account.actorId}`,
      (e) => typeOf(e.activity) === "Accept" && idOf(e.activity?.actor) === sender.account.actorId,
      { why: `${who(sender)} never answered the Follow with an Accept (see FOL-02)` },
    );
    const accept = entry.activity ?? {};
    await ctx.validate(undefined, "Accept as received", accept, {
      headers: entry.headers,
      origin: new URL(sender.account.actorId).origin,
      delivered: true,
    });
    // 4. FOL-12: the Accept's object is the Follow (embedded or by id).
    const object = accept.object;
    const embedded = embeddedObject(accept);
    const names =
      idOf(object) === follow.id ||
      (embedded !== undefined &&
        idOf(embedded.id) === undefined &&
        typeOf(embedded) === "Follow" &&
        idOf(embedded.actor) === probeActor.id &&
        idOf(embedded.object) === sender.account.actorId);
    ctx.assert(
      "FOL-12",
      names,
      names ? "the Accept names the Follow" : "the Accept does not name the Follow it answers",
      {
        expected: `object = the Follow ${String(follow.id)} (embedded or as its id)`,
        observed: `object = ${object === undefined ? "absent" : show(object)}`,
      },
    );
    // 5. FOL-05: the Accept has an id on the accepting actor's origin.
    const id = idOf(accept.id);
    ctx.assert(
      "FOL-05",
      id !== undefined && originOf(id) === originOf(sender.account.actorId),
      `Accept id ${id ?? "absent"}`,
      {
        expected: `an id on ${originOf(sender.account.actorId)}`,
        observed: id ?? "no id",
      },
    );
  },
};

/** FOL-03/FOL-04: the probe accepts a target's Follow in one of the two shapes. */
function acceptShape(embed: boolean): Scenario {
  const checkId = embed ? "FOL-03" : "FOL-04";
  return {
    id: embed ? "follow.accept-embedded" : "follow.accept-by-id",
    suite: "follow",
    title: embed
      ? "An Accept embedding the Follow completes it"
      : "An Accept naming the Follow by id completes it",
    shape: "pair",
    probeSenderOnly: true,
    checks: [checkId],
    requires: { receiver: ["follow"] },
    async run(ctx) {
      // 1–2. Roles: a locked probe actor (sender, followed) holding a Follow from a fresh target account.
      const { sender, probeActor, receiver, follow } = await heldFollowRequest(ctx);
      // 3. The probe accepts, embedding the Follow or naming it by id.
      await ctx.probe.accept(probeActor, follow, { embed });
      // 4. The receiver sees the follow established.
      await ctx.waitFor(
        `${who(receiver)} sees the follow established after an ${embed ? "embedded" : "id-only"} Accept`,
        async () => (await followStateOf(receiver, sender)) === "following",
        { check: checkId },
      );
      ctx.assert(checkId, true, `the ${embed ? "embedded" : "id-only"} Accept completed the follow`, {
        expected: "follow state 'following'",
        observed: "following",
      });
    },
  };
}

const locked: Scenario = {
  id: "follow.locked",
  suite: "follow",
  title: "A locked account holds the request until its owner accepts",
  shape: "pair",
  checks: ["FOL-07"],
  requires: { sender: ["locked-accounts"], receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the sender's account is locked; the receiver will follow it.
    const sender = await party(ctx, ctx.sender, "locked");
    await sender.target.driver.setLocked(sender.account, true);
    const receiver = await party(ctx, ctx.receiver, "follower");
    // 2. The receiver follows; the request shows on the sender as pending.
    await receiver.target.driver.follow(receiver.account, sender.account.actorId);
    await ctx.waitFor(
      `${who(sender)} shows a follow request from ${who(receiver)}`,
      async () =>
        (await sender.target.driver.followRequests(sender.account)).includes(receiver.account.actorId),
      { check: "FOL-07" },
    );
    // 3. FOL-07 (first half): while unanswered, the follower is pending, not following.
    const before = await followStateOf(receiver, sender);
    const listedEarly = await listsFollower(sender, receiver);
    if (before !== "pending" || listedEarly) {
      ctx.assert("FOL-07", false, "the follow did not wait for approval", {
        expected: "follower side 'pending', not yet listed as follower",
        observed: `follower side '${before}', listed as follower: ${listedEarly}`,
      });
      return;
    }
    // 4. The sender's owner accepts.
    await sender.target.driver.acceptFollow(sender.account, receiver.account.actorId);
    // 5. FOL-07 (second half): the follow completes on both sides.
    const completed = `${who(receiver)} sees the follow established after approval`;
    try {
      await ctx.waitFor(completed, async () => (await followStateOf(receiver, sender)) === "following");
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) throw error;
      // 6. Diagnosis: if even an open account's Accept completes nothing, that is FOL-02's failure,
      //    not something particular to locked accounts.
      const open = await party(ctx, ctx.sender, "open");
      const other = await party(ctx, ctx.receiver, "follower");
      await other.target.driver.follow(other.account, open.account.actorId);
      const openWorks = await ctx
        .waitFor(
          `${who(other)} sees a follow of an open account established`,
          async () => (await followStateOf(other, open)) === "following",
        )
        .then(
          () => true,
          (e: unknown) => {
            if (e instanceof WaitTimeoutError) return false;
            throw e;
          },
        );
      if (!openWorks) {
        throw new PreconditionError(
          `${who(sender)}'s server completes no follow at all, open or locked (see FOL-02)`,
        );
      }
      ctx.assert("FOL-07", false, "approving the request did not complete the follow", {
        expected: "pending → following after approval",
        observed: `still '${await followStateOf(receiver, sender)}' on the follower's side after approval, although follows of open accounts complete`,
      });
      return;
    }
    await ctx.waitFor(`${who(sender)} lists the approved follower`, () => listsFollower(sender, receiver), {
      check: "FOL-07",
    });
    ctx.assert("FOL-07", true, "pending while unapproved, established after approval", {
      expected: "pending → following",
      observed: "pending → following",
    });
  },
};

const reject: Scenario = {
  id: "follow.reject",
  suite: "follow",
  title: "A rejected follower ends up not following",
  shape: "pair",
  checks: ["FOL-08"],
  requires: { sender: ["locked-accounts", "reject-follow"], receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the sender's account is locked; the receiver will follow it.
    const sender = await party(ctx, ctx.sender, "locked");
    await sender.target.driver.setLocked(sender.account, true);
    const receiver = await party(ctx, ctx.receiver, "follower");
    // 2. The receiver follows; the request reaches the sender.
    await receiver.target.driver.follow(receiver.account, sender.account.actorId);
    await precondition(
      ctx,
      `${who(sender)} shows a follow request from ${who(receiver)}`,
      async () =>
        (await sender.target.driver.followRequests(sender.account)).includes(receiver.account.actorId),
      `the follow request never reached ${who(sender)} (see FOL-07)`,
    );
    // 3. The sender rejects it.
    await sender.target.driver.rejectFollow(sender.account, receiver.account.actorId);
    // 4. FOL-08: the receiver's state drops to none and the sender does not list it.
    await ctx.waitFor(
      `${who(receiver)} sees its follow as not established after Reject`,
      async () => (await followStateOf(receiver, sender)) === "none",
      { check: "FOL-08" },
    );
    const listed = await listsFollower(sender, receiver);
    ctx.assert(
      "FOL-08",
      !listed,
      listed ? "the rejected follower is still listed" : "rejected: not following",
      {
        expected: "follower side 'none', not in the followers",
        observed: `follower side 'none', listed as follower: ${listed}`,
      },
    );
  },
};

const undo: Scenario = {
  id: "follow.undo",
  suite: "follow",
  title: "Undo(Follow) removes the follower, and nothing is delivered afterwards",
  shape: "pair",
  checks: ["FOL-09", "FOL-10"],
  requires: { sender: ["follow", "post"], receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows the sender.
    const sender = await party(ctx, ctx.sender, "followee");
    const receiver = await party(ctx, ctx.receiver, "follower");
    await establishFollow(ctx, receiver, sender);
    // 2. The receiver unfollows (Undo in its own form).
    await receiver.target.driver.unfollow(receiver.account, sender.account.actorId);
    // 3. FOL-09: the sender no longer lists the receiver.
    await ctx.waitFor(
      `${who(sender)} stops listing ${who(receiver)} as follower`,
      async () => !(await listsFollower(sender, receiver)),
      { check: "FOL-09" },
    );
    ctx.assert("FOL-09", true, "the follower was removed after Undo(Follow)", {
      expected: "follower removed",
      observed: "removed",
    });
    // 4. The sender posts while the receiver no longer follows it.
    const after = await sender.target.driver.post(sender.account, {
      content: `after the unfollow ${token("after-undo")}`,
      visibility: "public",
    });
    // 5. Sentinel: the receiver follows again and waits for a newer post.
    await establishFollow(ctx, receiver, sender);
    await sentinel(ctx, sender, receiver);
    // 6. FOL-10: the post made while unfollowed never arrived.
    const leaked = await receiver.target.driver.receivedPost(receiver.account, after.uri);
    if (leaked) ctx.view("FOL-10", "post delivered after Undo", leaked);
    ctx.assert(
      "FOL-10",
      leaked === null,
      leaked ? "a post was delivered after Undo(Follow)" : "nothing delivered after Undo",
      {
        expected: `${after.uri} (posted while unfollowed) absent on ${who(receiver)}`,
        observed: leaked ? "present" : "absent",
      },
    );
  },
};

const undoById: Scenario = {
  id: "follow.undo-by-id",
  suite: "follow",
  title: "Undo naming the Follow by bare id removes the follower",
  shape: "pair",
  probeReceiverOnly: true,
  checks: ["FOL-09"],
  requires: { sender: ["follow"] },
  async run(ctx) {
    // 1. Roles: a probe actor (receiver) follows the target (sender).
    const sender = await party(ctx, ctx.sender, "followee");
    const receiver = await party(ctx, ctx.receiver, "follower");
    const probeActor = probeActorOf(ctx, receiver);
    await ctx.probe.follow(probeActor, sender.account.actorId);
    await precondition(
      ctx,
      `${who(sender)} lists the probe actor and accepted`,
      async () =>
        ctx.probe.followState(probeActor, sender.account.actorId) === "following" &&
        (await listsFollower(sender, receiver)),
      `the follow of ${who(sender)} could not be established (see FOL-02)`,
    );
    // 2. The probe sends Undo whose object is only the Follow's id.
    const undoActivity = await ctx.probe.unfollow(probeActor, sender.account.actorId, { byId: true });
    ctx.evidence("FOL-09", {
      kind: "payload",
      label: "Undo by id as sent",
      document: undoActivity,
      findings: [],
    });
    // 3. FOL-09: the sender no longer lists the probe actor.
    await ctx.waitFor(
      `${who(sender)} stops listing the probe actor after an id-only Undo`,
      async () => !(await listsFollower(sender, receiver)),
      { check: "FOL-09" },
    );
    ctx.assert("FOL-09", true, "the id-only Undo removed the follower", {
      expected: "follower removed",
      observed: "removed",
    });
  },
};

const duplicateFollow: Scenario = {
  id: "follow.duplicate-follow",
  suite: "follow",
  title: "A Follow delivered twice is harmless",
  shape: "pair",
  probeReceiverOnly: true,
  checks: ["FOL-11"],
  requires: { sender: ["follow", "post"] },
  async run(ctx) {
    // 1. Roles: a probe actor (receiver) follows the target (sender).
    const sender = await party(ctx, ctx.sender, "followee");
    const receiver = await party(ctx, ctx.receiver, "follower");
    const probeActor = probeActorOf(ctx, receiver);
    const follow = await ctx.probe.follow(probeActor, sender.account.actorId);
    await precondition(
      ctx,
      `the follow of ${who(sender)} is established`,
      async () =>
        ctx.probe.followState(probeActor, sender.account.actorId) === "following" &&
        (await listsFollower(sender, receiver)),
      `the follow of ${who(sender)} could not be established (see FOL-02)`,
    );
    // 2. The probe delivers the very same Follow again (same id).
    const replay = await ctx.probe.deliver(probeActor, await inboxOf(ctx, sender.account.actorId), follow);
    ctx.evidence("FOL-11", deliveryEvidence("the same Follow, delivered again", replay));
    // 3. Sentinel: the target posts; the probe receives it, so the replay has been handled.
    await sentinel(ctx, sender, receiver);
    // 4. FOL-11: not refused with an error, and the relation is still single and established.
    const followers = await sender.target.driver.followers(sender.account);
    const times = followers.filter((f) => f === probeActor.id).length;
    const state = ctx.probe.followState(probeActor, sender.account.actorId);
    const ok = replay.status < 400 && times === 1 && state === "following";
    ctx.assert(
      "FOL-11",
      ok,
      ok ? "the repeated Follow was harmless" : "the repeated Follow was refused or broke the relation",
      {
        expected: "2xx for the repeat; the follower listed exactly once; still following",
        observed: `HTTP ${replay.status}; listed ${times} time(s); probe state '${state}'`,
      },
    );
  },
};

const duplicateAccept: Scenario = {
  id: "follow.duplicate-accept",
  suite: "follow",
  title: "An Accept delivered twice is harmless",
  shape: "pair",
  probeSenderOnly: true,
  checks: ["FOL-11"],
  requires: { receiver: ["follow"] },
  async run(ctx) {
    // 1–2. Roles: a locked probe actor (sender) holding a Follow from a fresh target account (receiver).
    const { sender, probeActor, receiver, follow } = await heldFollowRequest(ctx);
    // 3. The probe accepts (its own bookkeeping), then delivers one more identical Accept twice.
    await ctx.probe.accept(probeActor, follow, { embed: true });
    await precondition(
      ctx,
      `${who(receiver)} sees the follow established`,
      async () => (await followStateOf(receiver, sender)) === "following",
      `the Accept did not complete the follow (see FOL-03)`,
    );
    const { "@context": _context, ...followWithoutContext } = follow;
    const accept = craftActivity(ctx, probeActor, "Accept", followWithoutContext, {
      to: [receiver.account.actorId],
      cc: [],
    });
    const inbox = await inboxOf(ctx, receiver.account.actorId);
    const first = await ctx.probe.deliver(probeActor, inbox, accept);
    const second = await ctx.probe.deliver(probeActor, inbox, accept);
    ctx.evidence("FOL-11", deliveryEvidence("Accept", first));
    ctx.evidence("FOL-11", deliveryEvidence("the same Accept again", second));
    // 4. Sentinel: the probe actor posts; the receiver holds it, so the repeats have been handled.
    await probeSentinel(ctx, probeActor, receiver);
    // 5. FOL-11: the repeat was not refused and the follow still stands.
    const state = await followStateOf(receiver, sender);
    const ok = first.status < 400 && second.status < 400 && state === "following";
    ctx.assert(
      "FOL-11",
      ok,
      ok ? "the repeated Accept was harmless" : "the repeated Accept was refused or broke the follow",
      {
        expected: "2xx for both deliveries; follow state still 'following'",
        observed: `HTTP ${first.status}, ${second.status}; follow state '${state}'`,
      },
    );
  },
};

/** The follow suite. */
export const scenarios: Scenario[] = [
  autoAccept,
  followForm,
  acceptForm,
  acceptShape(true),
  acceptShape(false),
  locked,
  reject,
  undo,
  undoById,
  duplicateFollow,
  duplicateAccept,
];
