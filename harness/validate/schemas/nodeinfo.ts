/**
 * The NodeInfo 2.0 and 2.1 document schemas (JSON Schema draft-04, as the NodeInfo project publishes
 * them), written from the published schema's constraints.
 * @module
 */
import type { SchemaObject } from "ajv";

/** Protocols NodeInfo 2.x lets a server list. */
export const NODEINFO_PROTOCOLS = [
  "activitypub",
  "buddycloud",
  "dfrn",
  "diaspora",
  "libertree",
  "ostatus",
  "pumpio",
  "tent",
  "xmpp",
  "zot",
];

const INBOUND = ["atom1.0", "gnusocial", "imap", "pnut", "pop3", "pumpio", "rss2.0", "twitter"];

const OUTBOUND = [
  "atom1.0",
  "blogger",
  "buddycloud",
  "diaspora",
  "dreamwidth",
  "drupal",
  "facebook",
  "friendica",
  "gnusocial",
  "google",
  "insanejournal",
  "libertree",
  "linkedin",
  "livejournal",
  "mediagoblin",
  "myspace",
  "pinterest",
  "pnut",
  "posterous",
  "pumpio",
  "redmatrix",
  "rss2.0",
  "smtp",
  "tent",
  "tumblr",
  "twitter",
  "wordpress",
  "xmpp",
];

const nonNegative: SchemaObject = { type: "integer", minimum: 0 };

function nodeInfoSchema(version: "2.0" | "2.1"): SchemaObject {
  const software: SchemaObject = {
    type: "object",
    additionalProperties: false,
    required: ["name", "version"],
    properties: {
      name: { type: "string", pattern: "^[a-z0-9-]+$" },
      version: { type: "string" },
      ...(version === "2.1" ? { repository: { type: "string" }, homepage: { type: "string" } } : {}),
    },
  };
  return {
    $schema: "http://json-schema.org/draft-04/schema#",
    id: `http://nodeinfo.diaspora.software/ns/schema/${version}#`,
    type: "object",
    additionalProperties: false,
    required: ["version", "software", "protocols", "services", "openRegistrations", "usage", "metadata"],
    properties: {
      version: { enum: [version] },
      software,
      protocols: { type: "array", minItems: 1, items: { enum: NODEINFO_PROTOCOLS } },
      services: {
        type: "object",
        additionalProperties: false,
        required: ["inbound", "outbound"],
        properties: {
          inbound: { type: "array", minItems: 0, items: { enum: INBOUND } },
          outbound: { type: "array", minItems: 0, items: { enum: OUTBOUND } },
        },
      },
      openRegistrations: { type: "boolean" },
      usage: {
        type: "object",
        additionalProperties: false,
        required: ["users"],
        properties: {
          users: {
            type: "object",
            additionalProperties: false,
            properties: { total: nonNegative, activeHalfyear: nonNegative, activeMonth: nonNegative },
          },
          localPosts: nonNegative,
          localComments: nonNegative,
        },
      },
      metadata: { type: "object" },
    },
  };
}

/** The NodeInfo 2.0 schema. */
export const nodeInfo20Schema: SchemaObject = nodeInfoSchema("2.0");

/** The NodeInfo 2.1 schema (adds software.repository and software.homepage). */
export const nodeInfo21Schema: SchemaObject = nodeInfoSchema("2.1");
