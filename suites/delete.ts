/**
 * Delete: removal on followers' servers, Tombstones at the origin, a Delete that overtakes its
 * Create, forged Deletes from another origin, and stale copies purged when a refetch finds the
 * object gone.
 * @module
 */
import { PreconditionError, type Scenario, type ScenarioContext } from "../harness/core/scenario.ts";
import { UnsupportedError } from "../harness/drivers/driver.ts";
import type { HttpResponse } from "../harness/protocol/types.ts";
import {
  AS_CONTEXT,
  craftActivity,
  craftNote,
  deliveryEvidence,
  establishFollow,
  fetchAs2,
  fetchEvidence,
  followingPair,
  followStateOf,
  heldBy,
  idOf,
  inboxOf,
  jsonBody,
  party,
  postAndWait,
  precondition,
  probeActorOf,
  probeSentinel,
  sentinel,
  show,
  summarise,
  token,
  typeOf,
  waitGone,
  waitHeld,
  who,
} from "./steps.ts";

/** True for the answers a deleted object may get at its origin. */
function gone(response: HttpResponse): boolean {
  return response.status === 410 || response.status === 404;
}

const remove: Scenario = {
  id: "delete.remove",
  suite: "delete",
  title: "A deleted post disappears from followers' servers",
  shape: "pair",
  checks: ["DEL-01"],
  requires: { sender: ["post", "delete"], receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows the sender.
    const { sender, receiver } = await followingPair(ctx);
    // 2. The sender posts; wait until the receiver holds it.
    const { ref } = await postAndWait(ctx, sender, receiver, {
      content: `soon gone ${token("del")}`,
      visibility: "public",
    });
    // 3. The sender deletes it.
    await sender.target.driver.delete(sender.account, ref);
    // 4. DEL-01: the receiver's copy goes away.
    await ctx.waitFor(
      `${who(receiver)} no longer holds ${ref.uri}`,
      async () => (await heldBy(receiver, ref.uri)) === null,
      {
        check: "DEL-01",
      },
    );
    ctx.assert("DEL-01", true, "the copy was removed", {
      expected: "no copy after Delete",
      observed: "no copy",
    });
  },
};

const tombstone: Scenario = {
  id: "delete.tombstone",
  suite: "delete",
  title: "The origin answers 410 with a Tombstone (or 404) for a deleted post",
  shape: "single",
  checks: ["DEL-02"],
  requires: { receiver: ["post", "delete"] },
  async run(ctx) {
    // 1. Roles: the target alone; a fresh account posts a public note.
    const author = await party(ctx, ctx.receiver, "author");
    const ref = await author.target.driver.post(author.account, {
      content: `to be deleted ${token("tomb")}`,
      visibility: "public",
    });
    // 2. Before deletion the object is served.
    const before = await fetchAs2(ctx, ref.uri);
    ctx.evidence("DEL-02", fetchEvidence("object before deletion", ref.uri, {}, before));
    if (before.status !== 200) {
      throw new PreconditionError(
        `the object ${ref.uri} was not served before deletion (answered ${before.status})`,
      );
    }
    // 3. The author deletes it.
    await author.target.driver.delete(author.account, ref);
    // 4. DEL-02: the id answers 410 (with a Tombstone) or 404, never the object.
    let last: HttpResponse = before;
    await ctx.waitFor(
      `${ref.uri} answers 410 or 404`,
      async () => {
        last = await fetchAs2(ctx, ref.uri);
        return gone(last);
      },
      { check: "DEL-02" },
    );
    ctx.evidence("DEL-02", fetchEvidence("object after deletion", ref.uri, {}, last));
    const body = jsonBody(last);
    if (body) await ctx.validate("DEL-02", "Tombstone", body, { origin: new URL(ref.uri).origin });
    const isTombstone = typeOf(body) === "Tombstone";
    ctx.assert(
      "DEL-02",
      true,
      last.status === 410 ? `410${isTombstone ? " with a Tombstone" : " (body is not a Tombstone)"}` : "404",
      {
        expected: "410 with a Tombstone, or 404",
        observed: `${last.status} ${show(body ?? last.text(), 200)}`,
      },
    );
  },
};

const beforeCreate: Scenario = {
  id: "delete.before-create",
  suite: "delete",
  title: "A Delete that overtakes its Create suppresses it",
  shape: "pair",
  probeSenderOnly: true,
  checks: ["DEL-04"],
  requires: { receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows a probe actor (sender).
    const sender = await party(ctx, ctx.sender, "author");
    const receiver = await party(ctx, ctx.receiver, "reader");
    await establishFollow(ctx, receiver, sender);
    const actor = probeActorOf(ctx, sender);
    const inbox = await inboxOf(ctx, receiver.account.actorId);
    // 2. Control: an ordinary Create then Delete is applied (else the receiver ignores Deletes: DEL-01).
    const control = await ctx.probe.post(
      actor,
      { type: "Note", content: `<p>control ${token("ctl")}</p>` },
      {
        to: ["https://www.w3.org/ns/activitystreams#Public"],
        cc: [actor.followers],
      },
    );
    const controlId = String((control.object as { id?: unknown } | undefined)?.id);
    await waitHeld(ctx, receiver, controlId, { what: "the control note" });
    await ctx.probe.delete(actor, controlId);
    if (!(await waitGone(ctx, receiver, controlId, `${who(receiver)} removes the control note`))) {
      throw new PreconditionError(
        "the receiver ignores an ordinary Delete (see DEL-01), so order cannot be judged",
      );
    }
    // 3. The probe sends Delete for a note the receiver has never seen (gone at the probe too).
    const note = craftNote(ctx, actor, { content: `<p>deleted before it was created ${token("early")}</p>` });
    const noteId = String(note.id);
    ctx.probe.host({ "@context": AS_CONTEXT, ...note });
    ctx.probe.tombstone(noteId);
    const del = craftActivity(
      ctx,
      actor,
      "Delete",
      { id: noteId, type: "Tombstone" },
      { to: note.to, cc: note.cc },
    );
    ctx.evidence(
      "DEL-04",
      deliveryEvidence("Delete, sent first", await ctx.probe.deliver(actor, inbox, del)),
    );
    // 4. Then the Create arrives late.
    const create = craftActivity(ctx, actor, "Create", note);
    ctx.evidence(
      "DEL-04",
      deliveryEvidence("Create, sent after its Delete", await ctx.probe.deliver(actor, inbox, create)),
    );
    // 5. Sentinel.
    await probeSentinel(ctx, actor, receiver);
    // 6. DEL-04: the late Create did not bring the note in.
    const copy = await heldBy(receiver, noteId);
    if (copy) ctx.view("DEL-04", "note shown despite its earlier Delete", copy);
    ctx.assert(
      "DEL-04",
      copy === null,
      copy ? "the late Create was shown" : "the late Create was suppressed",
      {
        expected: `${noteId} absent (its Delete arrived first)`,
        observed: summarise(copy),
      },
    );
  },
};

/** Whether a role of the cell is the probe (used where the probe must be a third party). */
function involvesProbe(ctx: ScenarioContext): boolean {
  return ctx.sender.implementation === "probe" || ctx.receiver.implementation === "probe";
}

const wrongOrigin: Scenario = {
  id: "delete.wrong-origin",
  suite: "delete",
  title: "A Delete from another origin than the object's is ignored",
  shape: "pair",
  checks: ["DEL-05"],
  requires: { sender: ["post", "delete"], receiver: ["follow"] },
  async run(ctx) {
    // The forger is a probe actor: a third origin is needed, so neither role may be the probe.
    if (involvesProbe(ctx)) {
      ctx.record(
        "DEL-05",
        "inapplicable",
        "needs the probe as a third origin; run between two other targets",
      );
      return;
    }
    // 1. Roles: the receiver follows the sender; a probe actor M (another origin) is a stranger.
    const { sender, receiver } = await followingPair(ctx);
    const mallory = await ctx.probe.createActor(`mallory-${token("m").slice(-8)}`);
    // 2. The sender posts; wait until the receiver holds it.
    const { ref } = await postAndWait(ctx, sender, receiver, {
      content: `not yours ${token("own")}`,
      visibility: "public",
    });
    // 3. M sends a Delete of it to the receiver's inbox (properly signed as M).
    const forged = craftActivity(
      ctx,
      mallory,
      "Delete",
      { id: ref.uri, type: "Tombstone" },
      {
        to: ["https://www.w3.org/ns/activitystreams#Public"],
      },
    );
    const inbox = await inboxOf(ctx, receiver.account.actorId);
    ctx.evidence(
      "DEL-05",
      deliveryEvidence("Delete from another origin", await ctx.probe.deliver(mallory, inbox, forged)),
    );
    // 4. Sentinel from the sender.
    await sentinel(ctx, sender, receiver);
    // 5. DEL-05: the post is still held.
    const copy = await heldBy(receiver, ref.uri);
    ctx.assert(
      "DEL-05",
      copy !== null,
      copy ? "the foreign Delete was ignored" : "the foreign Delete removed the post",
      {
        expected: `${ref.uri} still held after a Delete from ${new URL(mallory.id).origin}`,
        observed: copy ? "held" : "removed",
      },
    );
    if (!copy) return;
    // 6. Control: the owner's own Delete must work, or ignoring the forged one proves nothing.
    await sender.target.driver.delete(sender.account, ref);
    if (!(await waitGone(ctx, receiver, ref.uri, `${who(receiver)} applies the owner's Delete`))) {
      ctx.record(
        "DEL-05",
        "skipped",
        "not decidable: the receiver ignores even the owner's Delete (see DEL-01)",
      );
    }
  },
};

const refetch: Scenario = {
  id: "delete.refetch",
  suite: "delete",
  title: "A copy fetched without following is purged when a refetch finds it gone",
  shape: "pair",
  checks: ["DEL-08"],
  requires: { sender: ["post", "delete"] },
  async run(ctx) {
    // 1. Roles: a sender account, and a receiver account that does not follow it.
    const sender = await party(ctx, ctx.sender, "author");
    const receiver = await party(ctx, ctx.receiver, "reader");
    // 2. The sender posts a public note.
    const ref = await sender.target.driver.post(sender.account, {
      content: `fetched, not followed ${token("fetch")}`,
      visibility: "public",
    });
    // 3. The receiver looks it up (fetching a copy).
    const first = await receiver.target.driver.lookupObject(receiver.account, ref.uri);
    if (!first) throw new PreconditionError(`${who(receiver)} could not look up ${ref.uri}`);
    ctx.view("DEL-08", "copy after the first lookup", first);
    // 4. The sender deletes it; the origin stops serving it (DEL-02's concern when it does not).
    await sender.target.driver.delete(sender.account, ref);
    let origin: HttpResponse | undefined;
    try {
      await ctx.waitFor(`${ref.uri} answers 410 or 404 at its origin`, async () => {
        origin = await fetchAs2(ctx, ref.uri);
        return gone(origin);
      });
    } catch {
      throw new PreconditionError(`the origin still serves ${ref.uri} after deletion (see DEL-02)`);
    }
    // 5–6. DEL-08: looking it up again finds nothing, and no stale copy is kept.
    await ctx.waitFor(
      `${who(receiver)} neither finds nor keeps ${ref.uri} after looking it up again`,
      async () =>
        (await receiver.target.driver.lookupObject(receiver.account, ref.uri)) === null &&
        (await heldBy(receiver, ref.uri)) === null,
      { check: "DEL-08" },
    );
    ctx.assert("DEL-08", true, "the stale copy was purged on refetch", {
      expected: "no copy after the refetch",
      observed: "no copy",
    });
  },
};

const goneActor: Scenario = {
  id: "delete.gone-actor",
  suite: "delete",
  title: "An actor's Delete is accepted though its key answers 410",
  shape: "pair",
  probeSenderOnly: true,
  checks: ["DEL-06"],
  requires: { receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: probe actor A is locked, so the receiver's follow stays pending: the receiver has a
    //    relation to forget, and has never verified (nor cached) a signature of A's.
    const sender = await party(ctx, ctx.sender, "author");
    const receiver = await party(ctx, ctx.receiver, "reader");
    const actor = probeActorOf(ctx, sender);
    ctx.probe.setLocked(actor, true);
    await receiver.target.driver.follow(receiver.account, actor.id);
    await precondition(
      ctx,
      `${who(receiver)} has a pending follow of ${actor.handle}`,
      async () =>
        ctx.probe.followRequests(actor).length > 0 && (await followStateOf(receiver, sender)) === "pending",
      `${who(receiver)} did not keep a pending follow of a locked actor (see FOL-07)`,
    );
    // 2. A is deleted: its document, and so its key, answer 410 Gone from now on.
    const del = ctx.probe.deleteActor(actor);
    // 3. A's Delete of itself, signed with the gone key, reaches the receiver.
    const inbox = await inboxOf(ctx, receiver.account.actorId);
    const result = await ctx.probe.deliver(actor, inbox, del);
    ctx.evidence("DEL-06", deliveryEvidence("Delete of the actor, its key gone (410)", result));
    // 4. DEL-06: the receiver forgets A: the pending follow goes away.
    await ctx.waitFor(
      `${who(receiver)} no longer has a follow of the deleted ${actor.id}`,
      async () => (await followStateOf(receiver, sender)) === "none",
      { check: "DEL-06" },
    );
    ctx.assert("DEL-06", true, `the Delete was accepted (HTTP ${result.status}); the follow is gone`, {
      expected: "the pending follow of the deleted actor dropped",
      observed: `HTTP ${result.status}; follow state none`,
    });
  },
};

const boosted: Scenario = {
  id: "delete.boosted",
  suite: "delete",
  title: "A post that came through a boost goes away when its author deletes it",
  shape: "pair",
  checks: ["DEL-03"],
  requires: { sender: ["post", "delete"], receiver: ["follow"] },
  async run(ctx) {
    // The booster is a probe actor: a third origin is needed, so neither role may be the probe.
    if (involvesProbe(ctx)) {
      ctx.record(
        "DEL-03",
        "inapplicable",
        "needs the probe as a third origin (the booster); run between two other targets",
      );
      return;
    }
    // 1. Roles: author A on the sender, reader R on the receiver, booster B a probe actor. R follows
    //    B only, never A.
    const sender = await party(ctx, ctx.sender, "author");
    const receiver = await party(ctx, ctx.receiver, "reader");
    const booster = await ctx.probe.createActor(`booster-${token("b").slice(-8)}`);
    await receiver.target.driver.follow(receiver.account, booster.id);
    await precondition(
      ctx,
      `${who(receiver)} follows the booster ${booster.handle}`,
      async () =>
        (await receiver.target.driver.followState(receiver.account, booster.id)) === "following" &&
        ctx.probe.followers(booster).includes(receiver.account.actorId),
      `${who(receiver)} could not follow the probe actor ${booster.handle} (see FOL-01)`,
    );
    // 2. A posts publicly; B boosts it (to its followers, cc A as servers do); R takes it in.
    const ref = await sender.target.driver.post(sender.account, {
      content: `boosted, then deleted ${token("hop")}`,
      visibility: "public",
    });
    await ctx.probe.announce(booster, ref.uri);
    await waitHeld(ctx, receiver, ref.uri, { what: `the post boosted by ${booster.handle}` });
    // 3. A deletes it.
    await sender.target.driver.delete(sender.account, ref);
    // 4. The Delete's way to R: A's server sends it to the booster, whose server forwards it to
    //    its followers (mastodon #889); or A's server reached R itself.
    const deleteAtBooster = () =>
      ctx.probe.inbox
        .query(
          (e) =>
            e.method === "POST" &&
            e.status < 300 &&
            typeOf(e.activity) === "Delete" &&
            idOf(e.activity?.object) === ref.uri &&
            idOf(e.activity?.actor) === sender.account.actorId,
        )
        .at(0);
    const route = await ctx.waitFor(
      `${who(sender)} sends its Delete of ${ref.uri} to the booster ${booster.handle}, or ${who(receiver)} drops its copy`,
      async () => ((await heldBy(receiver, ref.uri)) === null ? "direct" : deleteAtBooster()),
      { check: "DEL-03" },
    );
    if (route !== "direct" && route.activity) {
      // The booster's server forwards the author's Delete as it came, signed as the booster.
      const inbox = await inboxOf(ctx, receiver.account.actorId);
      ctx.evidence(
        "DEL-03",
        deliveryEvidence(
          "the author's Delete, forwarded by the booster",
          await ctx.probe.deliver(booster, inbox, route.activity),
        ),
      );
    }
    // 5. DEL-03: R's copy goes away, though nobody there follows A.
    await ctx.waitFor(
      `${who(receiver)} no longer holds ${ref.uri}, boosted to it by ${booster.handle}`,
      async () => (await heldBy(receiver, ref.uri)) === null,
      { check: "DEL-03" },
    );
    ctx.assert(
      "DEL-03",
      true,
      route === "direct"
        ? "the author's server reached the receiver itself"
        : "the forwarded Delete was applied",
      {
        expected: "no copy of the boosted post after its author's Delete",
        observed: "no copy",
      },
    );
  },
};

const webfingerGone: Scenario = {
  id: "delete.webfinger-gone",
  suite: "delete",
  title: "WebFinger stops resolving a deleted account",
  shape: "single",
  checks: ["DEL-07"],
  requires: { receiver: ["webfinger"] },
  async run(ctx) {
    // 1. Roles: the target alone; a fresh account that it resolves before deletion.
    const leaving = await party(ctx, ctx.receiver, "leaving");
    const { driver } = leaving.target;
    if (driver.deleteActor === undefined) throw new UnsupportedError(driver.implementation, "deleteActor");
    const resource = `acct:${leaving.account.handle}`;
    const url = `${leaving.target.origin}/.well-known/webfinger?resource=${encodeURIComponent(resource)}`;
    const finger = () => ctx.probe.fetch(url, { accept: "application/jrd+json" });
    const before = await finger();
    ctx.evidence("DEL-07", fetchEvidence("WebFinger before deletion", url, {}, before));
    if (before.status !== 200) {
      throw new PreconditionError(`${resource} did not resolve before deletion (see DSC-WF-01)`);
    }
    // 2. The account is deleted.
    await driver.deleteActor(leaving.account);
    // 3. DEL-07: the acct: resource answers 404 or 410 …
    let last: HttpResponse = before;
    await ctx.waitFor(
      `WebFinger for the deleted ${resource} answers 404 or 410`,
      async () => {
        last = await finger();
        return gone(last);
      },
      { check: "DEL-07" },
    );
    ctx.evidence("DEL-07", fetchEvidence("WebFinger after deletion", url, {}, last));
    // 4. … and the actor id answers 410/404, or serves a Tombstone.
    const actorId = leaving.account.actorId;
    let actor: HttpResponse = last;
    await ctx.waitFor(
      `the deleted actor ${actorId} answers 410 or 404, or a Tombstone`,
      async () => {
        actor = await fetchAs2(ctx, actorId);
        return gone(actor) || typeOf(jsonBody(actor)) === "Tombstone";
      },
      { check: "DEL-07" },
    );
    ctx.evidence("DEL-07", fetchEvidence("actor after deletion", actorId, {}, actor));
    ctx.assert("DEL-07", true, `WebFinger answers ${last.status}, the actor ${actor.status}`, {
      expected: "WebFinger 404 or 410; actor 410/404 or a Tombstone",
      observed: `WebFinger ${last.status}; actor ${actor.status} ${show(jsonBody(actor) ?? actor.text(), 200)}`,
    });
  },
};

/** The delete suite. */
export const scenarios: Scenario[] = [
  remove,
  tombstone,
  boosted,
  beforeCreate,
  wrongOrigin,
  goneActor,
  webfingerGone,
  refetch,
];
