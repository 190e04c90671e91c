/**
 * What a replay needs to know before touching the network: who received the captured traffic (the
 * receiver's origin and actors, declared in the header or inferred), which origins sent it (every
 * origin the capture holds a copy of something from), and which actors sent it.
 * @module
 */

import { asArray, idOf, idsOf, isObject, typeOf } from "../protocol/as2.ts";
import { type Capture, type CaptureActor, deliveriesOf, documentsOf, type Json } from "./capture.ts";
import { originOf } from "./rewrite.ts";

/** AS2 actor types. */
export const ACTOR_TYPES: ReadonlySet<string> = new Set([
  "Person",
  "Service",
  "Application",
  "Group",
  "Organization",
]);

/** A URL without its fragment. */
export function withoutFragment(url: string): string {
  const hash = url.indexOf("#");
  return hash < 0 ? url : url.slice(0, hash);
}

/** The plan of a replay, derived from the capture alone. */
export interface ReplayPlan {
  /** Origin of the receiving server, when the capture says or shows it. */
  receiverOrigin?: string;
  /** The receiving actors (declared, else inferred), each mapped to an account on the target. */
  receiverActors: CaptureActor[];
  /** Origins whose URLs move under the probe, in order of first appearance. */
  senderOrigins: string[];
  /** Actor ids of the senders (activity actors, captured actor documents), in order of appearance. */
  senderActors: string[];
}

/** Embedded objects of an activity with an id, outermost first (activity, object, object's object…). */
export function embeddedChain(activity: Json, depth = 4): Json[] {
  const out: Json[] = [];
  let current: unknown = activity;
  for (let i = 0; i < depth && isObject(current); i++) {
    out.push(current);
    current = current.object;
  }
  return out;
}

function inferReceiverOrigin(capture: Capture): string | undefined {
  const declared = capture.header.receiver?.origin;
  if (declared) return originOf(declared) ?? declared;
  for (const delivery of deliveriesOf(capture)) {
    const fromUrl = originOf(delivery.url);
    if (fromUrl) return fromUrl;
  }
  // Without inbox URLs: the object of a Follow, or the actor of an answered Follow, is the receiver's.
  for (const delivery of deliveriesOf(capture)) {
    const activity = delivery.activity;
    if (!activity) continue;
    const type = typeOf(activity);
    if (type === "Follow" && typeof activity.object === "string") return originOf(activity.object);
    if ((type === "Accept" || type === "Reject") && isObject(activity.object)) {
      const follower = idOf(activity.object.actor);
      if (follower) return originOf(follower);
    }
  }
  return undefined;
}

/** A usable account name from the last path segment of an actor id. */
function nameFromId(id: string): string {
  const segments = new URL(id).pathname.split("/").filter(Boolean);
  const last = (segments.at(-1) ?? "user").replace(/^@/, "");
  const cleaned = last.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 30);
  return cleaned === "" ? "user" : cleaned;
}

/**
 * The receiving actors: those the header declares, plus any actor on the receiver's origin the traffic
 * addresses (recipient names in inbox paths, Follow objects, answered Follows' actors, to/cc/audience,
 * Mention tags). Inferred actors are named after their id's last path segment.
 */
export function receiverActorsOf(capture: Capture, receiverOrigin: string | undefined): CaptureActor[] {
  const actors = new Map<string, CaptureActor>();
  for (const actor of capture.header.receiver?.actors ?? []) actors.set(actor.id, actor);
  if (!receiverOrigin) return [...actors.values()];
  const names = new Set([...actors.values()].map((a) => a.name));
  const add = (id: string | undefined) => {
    if (!id || originOf(id) !== receiverOrigin || actors.has(id)) return;
    // Collections and inboxes of known actors are not actors.
    for (const known of actors.keys()) if (id.startsWith(`${known}/`) || id.startsWith(`${known}#`)) return;
    let name = nameFromId(id);
    for (let n = 2; names.has(name); n++) name = `${nameFromId(id)}${n}`;
    names.add(name);
    actors.set(id, { name, id });
  };
  for (const delivery of deliveriesOf(capture)) {
    if (delivery.recipient && delivery.recipient !== "shared" && delivery.url) {
      // The probe's inbox paths are /users/<name>/inbox: that names the actor.
      const match = /^(.*\/users\/[^/]+)\/inbox$/.exec(delivery.url);
      if (match?.[1]) add(match[1]);
    }
  }
  for (const delivery of deliveriesOf(capture)) {
    const activity = delivery.activity;
    if (!activity) continue;
    const type = typeOf(activity);
    if (type === "Follow") add(idOf(activity.object));
    if ((type === "Accept" || type === "Reject") && isObject(activity.object))
      add(idOf(activity.object.actor));
    for (const object of embeddedChain(activity)) {
      for (const field of ["to", "cc", "bto", "bcc", "audience"])
        for (const id of idsOf(object[field])) add(id);
      for (const tag of asArray(object.tag)) {
        if (isObject(tag) && typeOf(tag) === "Mention") add(idOf(tag.href));
      }
    }
  }
  // Ids that are collections (followers) of inferred actors were added before their actor was seen.
  for (const id of [...actors.keys()]) {
    for (const other of actors.keys()) {
      if (other !== id && id.startsWith(`${other}/`)) actors.delete(id);
    }
  }
  return [...actors.values()];
}

/** Builds the plan of a replay of `capture`. */
export function planReplay(capture: Capture): ReplayPlan {
  const receiverOrigin = inferReceiverOrigin(capture);
  const origins: string[] = [];
  const senderActors: string[] = [];
  const addOrigin = (url: unknown) => {
    const origin = originOf(url);
    if (origin && origin !== receiverOrigin && !origins.includes(origin)) origins.push(origin);
  };
  const addActor = (id: string | undefined) => {
    if (id && originOf(id) !== receiverOrigin && !senderActors.includes(id)) senderActors.push(id);
  };
  for (const event of capture.events) {
    if (event.kind === "delivery") {
      const activity = event.activity;
      if (!activity) continue;
      const actor = idOf(activity.actor);
      addOrigin(actor);
      addActor(actor);
      for (const object of embeddedChain(activity)) {
        addOrigin(object.id);
        for (const author of idsOf(object.attributedTo)) addOrigin(author);
      }
    } else {
      if ((event.status ?? 200) !== 200) continue;
      addOrigin(event.url);
      const document = event.document;
      if (document) {
        addOrigin(document.id);
        if (ACTOR_TYPES.has(typeOf(document) ?? "")) addActor(idOf(document));
      }
    }
  }
  return {
    ...(receiverOrigin ? { receiverOrigin } : {}),
    receiverActors: receiverActorsOf(capture, receiverOrigin),
    senderOrigins: origins,
    senderActors,
  };
}

/** The last captured 200 document whose id (or URL without fragment) is `id`. */
export function capturedDocument(capture: Capture, id: string): Json | undefined {
  let found: Json | undefined;
  for (const event of documentsOf(capture)) {
    if ((event.status ?? 200) !== 200 || !event.document) continue;
    if (idOf(event.document) === id || withoutFragment(event.url) === id) found = event.document;
  }
  return found;
}
