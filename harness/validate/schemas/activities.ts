/**
 * Lenient JSON schema for AS2 activities, and the requirements ActivityPub puts on them
 * (each requirement is its own small schema so that a failure maps to one rule id).
 * @module
 */
import type { SchemaObject } from "ajv";
import { ref } from "./common.ts";
import { objectProperties } from "./objects.ts";

/** Any AS2 activity: an Object with actor, object, target, result, origin and instrument. */
export const activitySchema: SchemaObject = {
  type: "object",
  properties: {
    ...objectProperties,
    actor: ref,
    object: ref,
    target: ref,
    result: ref,
    origin: ref,
    instrument: ref,
  },
};

/** AP-ACTIVITY-OBJECT: `object` is present and not null. */
export const objectRequired: SchemaObject = {
  type: "object",
  required: ["object"],
  properties: { object: { not: { type: "null" } } },
};

/** AP-ACTIVITY-TARGET: `target` is present and not null. */
export const targetRequired: SchemaObject = {
  type: "object",
  required: ["target"],
  properties: { target: { not: { type: "null" } } },
};

/** AP-ACTIVITY-ACTOR: `actor` is present and not null. */
export const actorRequired: SchemaObject = {
  type: "object",
  required: ["actor"],
  properties: { actor: { not: { type: "null" } } },
};

/** AP-ACTIVITY-ID / AP-OBJECT-ID: `id` is present. */
export const idRequired: SchemaObject = { type: "object", required: ["id"] };
