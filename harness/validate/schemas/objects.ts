/**
 * Lenient JSON schemas for AS2 objects and links: Object's properties, the object types the Fediverse
 * sends (Note, Article, Page, Question, Image, Audio, Video, Document, Event, Tombstone) and Link,
 * Mention, Hashtag. They check value shapes only; requirements live in the rule schemas and rules.ts.
 * @module
 */
import type { SchemaObject } from "ajv";
import { count, date, flag, iri, langMap, ref, text, typeNames } from "./common.ts";

/** Properties every AS2 Object may carry, with the shapes the wild uses. */
export const objectProperties: Record<string, SchemaObject> = {
  id: iri,
  type: typeNames,
  attachment: ref,
  attributedTo: ref,
  audience: ref,
  bcc: ref,
  bto: ref,
  cc: ref,
  to: ref,
  context: ref,
  generator: ref,
  icon: ref,
  image: ref,
  inReplyTo: ref,
  location: ref,
  preview: ref,
  replies: ref,
  likes: ref,
  shares: ref,
  tag: ref,
  url: ref,
  content: text,
  contentMap: langMap,
  name: text,
  nameMap: langMap,
  summary: text,
  summaryMap: langMap,
  mediaType: text,
  duration: text,
  published: date,
  updated: date,
  startTime: date,
  endTime: date,
  sensitive: flag,
  source: {
    type: ["object", "null"],
    properties: { content: { type: "string" }, mediaType: { type: "string" } },
  },
};

/** Any AS2 object (also used for types the validator does not know). */
export const objectSchema: SchemaObject = { type: "object", properties: objectProperties };

/** Question: a poll with exclusive (oneOf) or inclusive (anyOf) options. */
export const questionSchema: SchemaObject = {
  type: "object",
  properties: {
    ...objectProperties,
    oneOf: { type: ["array", "object", "null"], items: { type: ["object", "string"] } },
    anyOf: { type: ["array", "object", "null"], items: { type: ["object", "string"] } },
    closed: { type: ["string", "boolean", "object", "null"] },
    votersCount: count,
  },
};

/** Tombstone: what is left of a deleted object. */
export const tombstoneSchema: SchemaObject = {
  type: "object",
  properties: {
    ...objectProperties,
    formerType: { type: ["string", "array", "null"], items: { type: "string" } },
    deleted: date,
  },
};

/** Image, Audio, Video and Document (attachments and top-level media). */
export const mediaSchema: SchemaObject = {
  type: "object",
  properties: {
    ...objectProperties,
    width: count,
    height: count,
    blurhash: text,
    focalPoint: {
      type: ["array", "null"],
      minItems: 2,
      maxItems: 2,
      items: { type: "number", minimum: -1, maximum: 1 },
    },
  },
};

/** Link: a reference with an href. */
export const linkSchema: SchemaObject = {
  type: "object",
  properties: {
    id: iri,
    type: typeNames,
    href: iri,
    rel: { type: ["string", "array", "null"], items: { type: "string" } },
    mediaType: text,
    name: text,
    nameMap: langMap,
    hreflang: text,
    height: count,
    width: count,
    preview: ref,
  },
};

/** Mention: a Link to an actor; without href it points nowhere. */
export const mentionSchema: SchemaObject = { ...linkSchema, required: ["href"] };

/** Hashtag: a Link to a tag page (href is optional in the wild; name carries the tag). */
export const hashtagSchema: SchemaObject = linkSchema;

/** The shape schema for each object or link type name. */
export const OBJECT_TYPE_SCHEMAS: Record<string, SchemaObject> = {
  Note: objectSchema,
  Article: objectSchema,
  Page: objectSchema,
  Event: objectSchema,
  Question: questionSchema,
  Tombstone: tombstoneSchema,
  Image: mediaSchema,
  Audio: mediaSchema,
  Video: mediaSchema,
  Document: mediaSchema,
  Link: linkSchema,
  Mention: mentionSchema,
  Hashtag: hashtagSchema,
};
