/**
 * What the probe does with an activity that passed (or, with `requireSignatures: false`, skipped)
 * verification: follow bookkeeping and storing received objects. Like a careful receiver, it ignores
 * Update/Delete from anyone but the object's owner and a Create for an id it already saw deleted.
 * @module
 */
import { idOf, idsOf, isObject, type Json, originOf, typeOf } from "../protocol/as2.ts";
import { ProbeState } from "./state.ts";

/** What {@link applyActivity} needs from the probe. */
export interface InboxContext {
  state: ProbeState;
  /** Accept follows automatically (unless the followed actor is locked). */
  autoAccept: boolean;
  /** The local actor with this id, if any. */
  localActor(id: string): { name: string; locked: boolean } | undefined;
  /** Sends Accept for a Follow to its sender, in the background. */
  sendAccept(actorName: string, follow: Json): void;
}

/** What applying an activity did, in a few words (for tests and debugging). */
export type InboxEffect =
  | "follower-added"
  | "follow-request-held"
  | "follow-accepted"
  | "follow-rejected"
  | "follower-removed"
  | "object-stored"
  | "object-deleted"
  | "ignored";

/** Applies one incoming activity to the probe's state. */
export function applyActivity(ctx: InboxContext, activity: Json): InboxEffect {
  const actorId = idOf(activity.actor);
  if (!actorId) return "ignored";
  switch (typeOf(activity)) {
    case "Follow":
      return onFollow(ctx, activity, actorId);
    case "Accept":
      return onAnswer(ctx.state, activity, actorId, "following");
    case "Reject":
      return onAnswer(ctx.state, activity, actorId, "rejected");
    case "Undo":
      return onUndo(ctx, activity, actorId);
    case "Create":
      return onCreateOrUpdate(ctx.state, activity, actorId);
    case "Update":
      return onCreateOrUpdate(ctx.state, activity, actorId);
    case "Delete":
      return onDelete(ctx.state, activity, actorId);
    default:
      return "ignored";
  }
}

function onFollow(ctx: InboxContext, follow: Json, followerId: string): InboxEffect {
  const targetId = idOf(follow.object);
  const target = targetId ? ctx.localActor(targetId) : undefined;
  if (!target) return "ignored";
  const { state } = ctx;
  if (target.locked || !ctx.autoAccept) {
    // A repeated request to an actor already followed is answered again rather than held.
    if (!state.followers.get(target.name)?.has(followerId)) {
      ProbeState.bucket(state.requests, target.name).set(followerId, follow);
      return "follow-request-held";
    }
  }
  ProbeState.bucket(state.followers, target.name).set(followerId, follow);
  state.requests.get(target.name)?.delete(followerId);
  ctx.sendAccept(target.name, follow);
  return "follower-added";
}

/**
 * Accept/Reject: matched by the id of the Follow it answers (given as the object, or as the embedded
 * Follow's id). An answer with no object completes nothing; it must come from the followed actor.
 */
function onAnswer(
  state: ProbeState,
  answer: Json,
  answererId: string,
  outcome: "following" | "rejected",
): InboxEffect {
  const object = answer.object;
  const followId = idOf(object);
  let match = followId ? state.outgoingByFollowId(followId) : undefined;
  if (!match && isObject(object) && followId === undefined && typeOf(object) === "Follow") {
    // An embedded Follow without id: fall back to its actor and object.
    const key = [...state.outgoing.keys()].find((k) => {
      const follow = state.outgoing.get(k)!.follow;
      return follow.actor === idOf(object.actor) && follow.object === idOf(object.object);
    });
    if (key) match = [key, state.outgoing.get(key)!];
  }
  if (!match) return "ignored";
  const [, outgoing] = match;
  if (idOf(outgoing.follow.object) !== answererId) return "ignored";
  outgoing.state = outcome;
  return outcome === "following" ? "follow-accepted" : "follow-rejected";
}

function onUndo(ctx: InboxContext, undo: Json, actorId: string): InboxEffect {
  const inner = undo.object;
  const innerId = idOf(inner);
  const { state } = ctx;
  for (const map of [state.followers, state.requests]) {
    for (const followers of map.values()) {
      const follow = followers.get(actorId);
      if (!follow) continue;
      const sameId = innerId !== undefined && follow.id === innerId;
      const sameShape =
        isObject(inner) && typeOf(inner) === "Follow" && idOf(inner.object) === idOf(follow.object);
      if (sameId || sameShape) {
        followers.delete(actorId);
        return "follower-removed";
      }
    }
  }
  return "ignored";
}

/** Whether `actorId` may create or change this object: it is the author, or (no author given) same origin. */
function owns(actorId: string, object: Json, previous: Json | undefined): boolean {
  const authors = [...idsOf(object.attributedTo), ...idsOf(previous?.attributedTo)];
  if (authors.length > 0) return authors.every((a) => a === actorId);
  const id = idOf(object);
  return id === actorId || (id !== undefined && originOf(id) === originOf(actorId));
}

// An Update of something never received is stored too: the copy it carries is the latest version.
function onCreateOrUpdate(state: ProbeState, activity: Json, actorId: string): InboxEffect {
  const object = activity.object;
  if (!isObject(object)) return "ignored";
  const id = idOf(object);
  if (!id || state.deleted.has(id)) return "ignored";
  const previous = state.received.get(id);
  if (!owns(actorId, object, previous)) return "ignored";
  state.received.delete(id); // re-insert so Map order follows the latest arrival
  state.received.set(id, object);
  return "object-stored";
}

function onDelete(state: ProbeState, activity: Json, actorId: string): InboxEffect {
  const id = idOf(activity.object);
  if (!id) return "ignored";
  const previous = state.received.get(id);
  // A Tombstone sent as the object has no attributedTo: judge by the stored copy, else by origin.
  const allowed = owns(actorId, previous ?? { id }, undefined);
  if (!allowed) return "ignored";
  state.received.delete(id);
  state.deleted.add(id);
  return "object-deleted";
}
