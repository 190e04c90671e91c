/**
 * Lenient JSON schemas for AS2 collections and collection pages.
 * @module
 */
import type { SchemaObject } from "ajv";
import { count, ref } from "./common.ts";
import { objectProperties } from "./objects.ts";

/** Collection, OrderedCollection and their pages. */
export const collectionSchema: SchemaObject = {
  type: "object",
  properties: {
    ...objectProperties,
    totalItems: count,
    items: ref,
    orderedItems: ref,
    first: ref,
    last: ref,
    current: ref,
    partOf: ref,
    next: ref,
    prev: ref,
    startIndex: count,
  },
};
