/**
 * Lenient JSON schema for AS2 actors, and the requirements ActivityPub and its signature profile put on
 * them (inbox and outbox as absolute URLs, followers/following, preferredUsername, publicKey).
 * @module
 */
import type { SchemaObject } from "ajv";
import { flag, iri, ref, text } from "./common.ts";
import { objectProperties } from "./objects.ts";

/**
 * An actor's collection endpoint: an absolute http(s) URL, or an embedded collection with such an id.
 * (`format` only applies to strings and `required`/`properties` only to objects, so one schema says both.)
 */
const endpoint: SchemaObject = {
  type: ["string", "object"],
  format: "http-url",
  required: ["id"],
  properties: { id: { type: "string", format: "http-url" } },
};

/** Any AS2 actor (Person, Service, Application, Group, Organization). */
export const actorSchema: SchemaObject = {
  type: "object",
  properties: {
    ...objectProperties,
    preferredUsername: text,
    followers: ref,
    following: ref,
    liked: ref,
    featured: ref,
    featuredTags: ref,
    streams: ref,
    alsoKnownAs: ref,
    movedTo: ref,
    manuallyApprovesFollowers: flag,
    discoverable: flag,
    indexable: flag,
    endpoints: {
      type: ["object", "string", "null"],
      properties: { sharedInbox: { type: "string", format: "http-url" } },
    },
  },
};

/** AP-ACTOR-INBOX: inbox present, an absolute http(s) URL. */
export const inboxRequired: SchemaObject = {
  type: "object",
  required: ["inbox"],
  properties: { inbox: endpoint },
};

/** AP-ACTOR-OUTBOX: outbox present, an absolute http(s) URL. */
export const outboxRequired: SchemaObject = {
  type: "object",
  required: ["outbox"],
  properties: { outbox: endpoint },
};

/** AP-ACTOR-FOLLOWERS: followers and following present (SHOULD). */
export const followersRecommended: SchemaObject = {
  type: "object",
  required: ["followers", "following"],
  properties: { followers: endpoint, following: endpoint },
};

/** AP-ACTOR-USERNAME: a non-empty preferredUsername. */
export const usernameRecommended: SchemaObject = {
  type: "object",
  required: ["preferredUsername"],
  properties: { preferredUsername: { type: "string", minLength: 1 } },
};

/** One publicKey entry: {id, owner, publicKeyPem} with a PEM-armoured public key. */
const publicKey: SchemaObject = {
  type: "object",
  required: ["id", "owner", "publicKeyPem"],
  properties: {
    id: iri,
    owner: iri,
    publicKeyPem: {
      type: "string",
      pattern: "^\\s*-----BEGIN (RSA )?PUBLIC KEY-----[\\s\\S]+-----END (RSA )?PUBLIC KEY-----\\s*$",
    },
  },
};

/** AP-ACTOR-KEY: publicKey, when present, is one key or a list of keys of the right shape. */
export const publicKeyShape: SchemaObject = {
  type: "object",
  properties: {
    // One key object, or an array of them: object keywords apply to the object, `items` to the array.
    publicKey: { ...publicKey, type: ["object", "array"], items: publicKey },
  },
};
