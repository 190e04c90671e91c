/**
 * What the probe remembers: hosted objects and Tombstones, outboxes, follow relations both ways, and
 * the objects it received. Plain data with small methods; no I/O.
 * @module
 */
import type { Json } from "../protocol/as2.ts";

/** A follow this probe's actor sent, and where it stands. */
export interface OutgoingFollow {
  state: "pending" | "following" | "rejected";
  follow: Json;
}

/** A hosted object, or the Tombstone that replaced it. */
export type Hosted = { kind: "object"; document: Json } | { kind: "tombstone"; document: Json };

/** The probe's mutable state. */
export class ProbeState {
  /** Everything served at its id: objects, activities, key documents, Tombstones. */
  readonly hosted = new Map<string, Hosted>();
  /** Activities per actor name, oldest first (served newest first). */
  readonly outboxes = new Map<string, Json[]>();
  /** Who each activity or object was addressed to, bto/bcc included (for Update/Delete/Undo audiences). */
  readonly audiences = new Map<string, string[]>();
  /** Follows sent, keyed by {@link followKey}. */
  readonly outgoing = new Map<string, OutgoingFollow>();
  /** Accepted followers per actor name: follower actor id → the Follow activity. */
  readonly followers = new Map<string, Map<string, Json>>();
  /** Follow requests waiting on a locked actor, per actor name: follower actor id → Follow. */
  readonly requests = new Map<string, Map<string, Json>>();
  /** Objects received in Create/Update, by id (latest version). */
  readonly received = new Map<string, Json>();
  /** Ids of objects a Delete was received for, in order of arrival. */
  readonly deleted = new Set<string>();
  /** Names of this probe's actors that were deleted: their documents answer 410 (DEL-06). */
  readonly deletedActors = new Set<string>();

  /** The map's entry for `name`, created empty on first use. */
  static bucket<V>(map: Map<string, Map<string, V>>, name: string): Map<string, V> {
    let bucket = map.get(name);
    if (!bucket) {
      bucket = new Map();
      map.set(name, bucket);
    }
    return bucket;
  }

  /** Appends an activity to an actor's outbox. */
  addToOutbox(name: string, activity: Json): void {
    const list = this.outboxes.get(name) ?? [];
    list.push(activity);
    this.outboxes.set(name, list);
  }

  /** The outgoing follow whose Follow activity has this id, with its key. */
  outgoingByFollowId(followId: string): [string, OutgoingFollow] | undefined {
    for (const entry of this.outgoing) {
      if (entry[1].follow.id === followId) return entry;
    }
    return undefined;
  }
}

/** Key of an outgoing follow: the probe actor's name and the followed actor id. */
export function followKey(actorName: string, targetActorId: string): string {
  return `${actorName}\n${targetActorId}`;
}
