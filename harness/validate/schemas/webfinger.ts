/**
 * JSON schema for a WebFinger JSON Resource Descriptor (RFC 7033 §4.4). Link relations and the AS2
 * self link are checked by rules, which give better messages.
 * @module
 */
import type { SchemaObject } from "ajv";

const stringMap: SchemaObject = { type: "object", additionalProperties: { type: ["string", "null"] } };

/** A JRD: subject, aliases, properties and links. Unknown members are allowed (RFC 7033 §4.4). */
export const jrdSchema: SchemaObject = {
  type: "object",
  properties: {
    subject: { type: "string", format: "iri" },
    aliases: { type: "array", items: { type: "string", format: "iri" } },
    properties: { type: "object", additionalProperties: { type: ["string", "null"] } },
    links: {
      type: "array",
      items: {
        type: "object",
        required: ["rel"],
        properties: {
          rel: { type: "string", minLength: 1 },
          type: { type: "string" },
          href: { type: "string", format: "iri" },
          template: { type: "string" },
          titles: { type: "object", additionalProperties: { type: "string" } },
          properties: stringMap,
        },
      },
    },
  },
};

/** WF-SUBJECT: the JRD names its subject. */
export const subjectRecommended: SchemaObject = { type: "object", required: ["subject"] };
