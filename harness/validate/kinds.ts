/**
 * What kinds of document the validator knows, the AS2 type names that make each kind, and the
 * auto-detection that picks a kind from a document's shape.
 * @module
 */
import { isObject, type JsonObject, typesOf } from "./util.ts";

/** The kinds of document the validator checks. */
export type DocumentKind = "activity" | "object" | "actor" | "collection" | "webfinger" | "nodeinfo";

/** The category an AS2 node falls in by its type. */
export type NodeCategory = "activity" | "actor" | "collection" | "link" | "object";

/** AS2 activity types, plus extension activities seen in the wild. Question is handled as an object. */
export const ACTIVITY_TYPES: ReadonlySet<string> = new Set([
  "Activity",
  "IntransitiveActivity",
  "Accept",
  "Add",
  "Announce",
  "Arrive",
  "Block",
  "Create",
  "Delete",
  "Dislike",
  "Flag",
  "Follow",
  "Ignore",
  "Invite",
  "Join",
  "Leave",
  "Like",
  "Listen",
  "Move",
  "Offer",
  "Read",
  "Reject",
  "Remove",
  "TentativeAccept",
  "TentativeReject",
  "Travel",
  "Undo",
  "Update",
  "View",
  "EmojiReact",
  "QuoteRequest",
  "LikeRequest",
  "ReplyRequest",
  "AnnounceRequest",
  "FeatureRequest",
]);

/** AS2 actor types. */
export const ACTOR_TYPES: ReadonlySet<string> = new Set([
  "Application",
  "Group",
  "Organization",
  "Person",
  "Service",
]);

/** AS2 collection types. */
export const COLLECTION_TYPES: ReadonlySet<string> = new Set([
  "Collection",
  "OrderedCollection",
  "CollectionPage",
  "OrderedCollectionPage",
  "FeaturedCollection",
]);

/** AS2 link types (Hashtag is the common extension). */
export const LINK_TYPES: ReadonlySet<string> = new Set(["Link", "Mention", "Hashtag"]);

/** Activities whose delivery MUST carry an object (ActivityPub §6 and §7). */
export const OBJECT_REQUIRED: ReadonlySet<string> = new Set([
  "Create",
  "Update",
  "Delete",
  "Follow",
  "Add",
  "Remove",
  "Like",
  "Block",
  "Undo",
]);

/** Activities whose delivery MUST carry a target. */
export const TARGET_REQUIRED: ReadonlySet<string> = new Set(["Add", "Remove"]);

/** The category of a node with the given type names (the first type the validator knows decides). */
export function categoryOf(types: readonly string[]): NodeCategory {
  for (const t of types) {
    if (ACTIVITY_TYPES.has(t)) return "activity";
    if (ACTOR_TYPES.has(t)) return "actor";
    if (COLLECTION_TYPES.has(t)) return "collection";
    if (LINK_TYPES.has(t)) return "link";
  }
  return "object";
}

/** Picks a document's kind from its shape: JRD and NodeInfo by their fields, AS2 by `type`. */
export function detectKind(doc: JsonObject): DocumentKind {
  const types = typesOf(doc);
  if (types.length === 0 && doc["@context"] === undefined) {
    if (isObject(doc.software) || (typeof doc.version === "string" && Array.isArray(doc.protocols))) {
      return "nodeinfo";
    }
    if (typeof doc.subject === "string" || Array.isArray(doc.links) || Array.isArray(doc.aliases)) {
      return "webfinger";
    }
  }
  const category = categoryOf(types);
  return category === "link" ? "object" : category;
}
