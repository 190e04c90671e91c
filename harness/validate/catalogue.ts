/**
 * The catalogue of every rule the validator can report: stable id → title, default severity, spec level,
 * interop impact, source and (where one exists) the check id of `reference/checks.md` it feeds.
 * Reports read it to show rule texts; the validator reads it to fill in findings.
 * @module
 */
import type { Finding, InteropImpact, Severity, SpecLevel } from "./findings.ts";

/** What the catalogue knows about one rule. */
export interface RuleInfo {
  /** One line saying what the rule requires. */
  title: string;
  /** Severity of a finding unless the finding says otherwise. */
  severity: Severity;
  level: SpecLevel;
  impact: InteropImpact;
  /** Where the requirement comes from. */
  source: string;
  /** The catalogue check id (checks.md) this rule contributes to, if any. */
  check?: string;
}

/** Every rule id the validator emits, with its description. Ids are stable once published. */
export const RULES = {
  "DOC-NOT-JSON": {
    title: "The document is a JSON value (no cycles, functions, bigints or other non-JSON values)",
    severity: "error",
    level: "MUST",
    impact: "PROBLEM",
    source: "RFC 8259",
  },
  "DOC-NOT-OBJECT": {
    title: "The document is a single JSON object",
    severity: "error",
    level: "MUST",
    impact: "PROBLEM",
    source: "AS2 Core §2; RFC 7033 §4.4; NodeInfo 2.x",
  },
  "DOC-TOO-DEEP": {
    title: "The document nests objects and arrays no deeper than the validator's limit",
    severity: "error",
    level: "IMPLIED",
    impact: "PROBLEM",
    source: "fedicheck (receivers cap nesting to resist resource exhaustion)",
  },
  "DOC-KIND": {
    title: "The document is of the kind the caller expected (activity, actor, collection…)",
    severity: "error",
    level: "IMPLIED",
    impact: "PROBLEM",
    source: "fedicheck",
  },
  "VALIDATOR-FAULT": {
    title: "The validator itself failed on this document (a harness fault, not the document's)",
    severity: "warning",
    level: "IMPLIED",
    impact: "UNAFFECTED",
    source: "fedicheck",
  },
  "AS-01": {
    title: "A document without the AS2 @context is read with the AS2 context",
    severity: "info",
    level: "MUST",
    impact: "UNAFFECTED",
    source: "AS2 Core §2.1",
    check: "AS-01",
  },
  "JSONLD-INVALID": {
    title: "The document is valid JSON-LD and expands",
    severity: "error",
    level: "MUST",
    impact: "DEGRADED",
    source: "AS2 Core §2.1; JSON-LD 1.1 §9",
    check: "AS-02",
  },
  "JSONLD-UNKNOWN-CONTEXT": {
    title: "Every remote @context is one the validator knows offline",
    severity: "warning",
    level: "IMPLIED",
    impact: "DEGRADED",
    source: "AS2 Core §2.1; checks.md (unknown or unreachable @context URLs)",
    check: "AS-02",
  },
  "JSONLD-UNDEFINED-TERM": {
    title: "Every property and type is defined by the document's @context",
    severity: "warning",
    level: "SHOULD",
    impact: "DEGRADED",
    source: "AS2 Core §5 (extensibility); JSON-LD 1.1 §4.1",
    check: "AS-02",
  },
  "AS-03": {
    title: "Dates are RFC 3339 date-times with upper-case T and Z",
    severity: "error",
    level: "MUST",
    impact: "DEGRADED",
    source: "AS2 Core §2.3",
    check: "AS-03",
  },
  "AS-04": {
    title: "Language-map keys are well-formed BCP 47 language tags",
    severity: "error",
    level: "MUST",
    impact: "DEGRADED",
    source: "AS2 Core §4.7; RFC 5646",
    check: "AS-04",
  },
  "AS-05": {
    title: "`name` carries no HTML markup; a Question has oneOf or anyOf, not both",
    severity: "error",
    level: "MUST",
    impact: "DEGRADED",
    source: "AS2 Vocabulary §4 (name, Question)",
    check: "AS-05",
  },
  "AS-06": {
    title: "Delivered documents carry no bto or bcc",
    severity: "error",
    level: "MUST",
    impact: "PROBLEM",
    source: "ActivityPub §6 (server MUST remove bto and bcc before delivery)",
    check: "AS-06",
  },
  "AS-07": {
    title:
      "Ids are on the actor's origin (activity id, object id of Create/Update/Delete/Undo, served origin)",
    severity: "error",
    level: "MUST",
    impact: "PROBLEM",
    source: "ActivityPub §3, §7.3; Mastodon's same-origin checks",
    check: "AS-07",
  },
  "AS-PUBLIC-SPELLING": {
    title: "The public collection is addressed as https://www.w3.org/ns/activitystreams#Public",
    severity: "info",
    level: "SHOULD",
    impact: "UNAFFECTED",
    source: "ActivityPub §5.6 (Public addressing; `as:Public` and `Public` are equivalent compact forms)",
    check: "PST-02",
  },
  "AS-CONTENT-MAP": {
    title: "content, summary and name agree with their language maps",
    severity: "warning",
    level: "SHOULD",
    impact: "DEGRADED",
    source: "AS2 Core §4.7; checks.md (contentMap must agree with content)",
    check: "PST-01",
  },
  "AS-TOMBSTONE": {
    title: "A Tombstone tells formerType and deleted",
    severity: "info",
    level: "MAY",
    impact: "UNAFFECTED",
    source: "AS2 Vocabulary (Tombstone, formerType, deleted); ActivityPub §6.4",
    check: "DEL-02",
  },
  "AS2-TYPE": {
    title: "Every top-level object states its type",
    severity: "warning",
    level: "IMPLIED",
    impact: "PROBLEM",
    source: "AS2 Core §4.1 (receivers dispatch on type)",
  },
  "AS2-SCHEMA": {
    title: "Properties have the value shapes AS2 defines (IRIs, strings, objects, arrays, dates)",
    severity: "error",
    level: "MUST",
    impact: "DEGRADED",
    source: "AS2 Vocabulary §4",
  },
  "AP-OBJECT-ID": {
    title: "A dereferenced object, and the object of a Create or Update, has an id",
    severity: "error",
    level: "MUST",
    impact: "PROBLEM",
    source: "ActivityPub §3.1",
  },
  "AP-ACTIVITY-ID": {
    title: "A delivered (non-transient) activity has an id",
    severity: "error",
    level: "MUST",
    impact: "PROBLEM",
    source: "ActivityPub §3.1, §6",
  },
  "AP-ACTIVITY-ACTOR": {
    title: "An activity names its actor",
    severity: "error",
    level: "IMPLIED",
    impact: "PROBLEM",
    source: "ActivityPub §6, §7 (actor is required to authorise and route the activity)",
  },
  "AP-ACTIVITY-OBJECT": {
    title: "Create, Update, Delete, Follow, Add, Remove, Like, Block and Undo carry an object",
    severity: "error",
    level: "MUST",
    impact: "PROBLEM",
    source: "ActivityPub §6.2–6.10, §7.2–7.10",
  },
  "AP-ACTIVITY-TARGET": {
    title: "Add and Remove carry a target",
    severity: "error",
    level: "MUST",
    impact: "PROBLEM",
    source: "ActivityPub §6.6, §7.8, §7.9",
  },
  "AP-ATTRIBUTION": {
    title: "The object of a Create or Update is attributed to the activity's actor",
    severity: "error",
    level: "IMPLIED",
    impact: "PROBLEM",
    source: "ActivityPub §6.2; Mastodon ignores a Create whose attributedTo differs from its actor",
    check: "PST-01",
  },
  "AP-UPDATE-UPDATED": {
    title: "An Update of a post carries the object's new `updated` date",
    severity: "warning",
    level: "IMPLIED",
    impact: "PROBLEM",
    source: "Mastodon ignores an Update whose object lacks a newer `updated`",
    check: "PST-09",
  },
  "AP-ACTOR-INBOX": {
    title: "An actor has an inbox given as an absolute http(s) URL",
    severity: "error",
    level: "MUST",
    impact: "PROBLEM",
    source: "ActivityPub §4.1",
    check: "DSC-ACT-02",
  },
  "AP-ACTOR-OUTBOX": {
    title: "An actor has an outbox given as an absolute http(s) URL",
    severity: "error",
    level: "MUST",
    impact: "DEGRADED",
    source: "ActivityPub §4.1",
    check: "DSC-ACT-02",
  },
  "AP-ACTOR-FOLLOWERS": {
    title: "An actor has followers and following collections",
    severity: "warning",
    level: "SHOULD",
    impact: "DEGRADED",
    source: "ActivityPub §4.1",
    check: "DSC-ACT-03",
  },
  "AP-ACTOR-USERNAME": {
    title: "An actor has a preferredUsername",
    severity: "warning",
    level: "MAY",
    impact: "PROBLEM",
    source: "ActivityPub §4.1; Mastodon and WebFinger reverse discovery need it",
    check: "DSC-WF-06",
  },
  "AP-ACTOR-KEY": {
    title: "An actor publishes publicKey {id, owner = actor id, publicKeyPem}",
    severity: "error",
    level: "IMPLIED",
    impact: "PROBLEM",
    source: "SocialCG report “ActivityPub and HTTP Signatures”; Mastodon security docs",
    check: "DSC-ACT-04",
  },
  "AP-CONTENT-TYPE": {
    title: "A delivery is posted as application/activity+json or AS2-profiled application/ld+json",
    severity: "error",
    level: "MUST",
    impact: "PROBLEM",
    source: "ActivityPub §7",
  },
  "SIG-DIGEST-FORM": {
    title: "The Digest header reads `SHA-256=<base64 of 32 bytes>` with the algorithm in upper case",
    severity: "error",
    level: "IMPLIED",
    impact: "PROBLEM",
    source: "RFC 3230; SocialCG report “ActivityPub and HTTP Signatures”; fedify #125",
    check: "SIG-01",
  },
  "SIG-CONTENT-DIGEST-FORM": {
    title: "The Content-Digest header is an RFC 9530 dictionary such as `sha-256=:<base64>:`",
    severity: "error",
    level: "MUST",
    impact: "PROBLEM",
    source: "RFC 9530 §2; RFC 8941",
    check: "SIG-06",
  },
  "SIG-DIGEST-MISMATCH": {
    title: "The Digest / Content-Digest value matches the body",
    severity: "error",
    level: "MUST",
    impact: "PROBLEM",
    source: "RFC 3230 §4.3.2; RFC 9530 §2",
    check: "SIG-03",
  },
  "SIG-DIGEST-MISSING": {
    title: "A delivery with a body carries Digest or Content-Digest",
    severity: "warning",
    level: "IMPLIED",
    impact: "PROBLEM",
    source: "Mastodon security docs (digest is required on signed POSTs)",
    check: "SIG-01",
  },
  "WF-SCHEMA": {
    title: "The WebFinger response is a JRD (RFC 7033 §4.4)",
    severity: "error",
    level: "MUST",
    impact: "PROBLEM",
    source: "RFC 7033 §4.4",
    check: "DSC-WF-01",
  },
  "WF-SUBJECT": {
    title: "The JRD names its subject",
    severity: "warning",
    level: "SHOULD",
    impact: "DEGRADED",
    source: "RFC 7033 §4.4.1",
    check: "DSC-WF-01",
  },
  "WF-SELF-LINK": {
    title: "The JRD has one rel=self link typed as AS2 with an absolute https href",
    severity: "error",
    level: "IMPLIED",
    impact: "PROBLEM",
    source: "SocialCG report “ActivityPub and WebFinger”",
    check: "DSC-WF-05",
  },
  "NI-SCHEMA": {
    title: "The NodeInfo document matches the NodeInfo 2.0 / 2.1 JSON schema",
    severity: "error",
    level: "MUST",
    impact: "DEGRADED",
    source: "NodeInfo 2.0 / 2.1 schema (JSON Schema draft-04)",
    check: "DSC-NI-02",
  },
  "NI-SCHEMA-MEMBER": {
    title:
      "A `$schema` member naming the NodeInfo schema is outside the schema (strict consumers may reject it)",
    severity: "info",
    level: "MAY",
    impact: "UNAFFECTED",
    source: "NodeInfo 2.0 / 2.1 schema: additionalProperties false",
    check: "DSC-NI-02",
  },
  "NI-VERSION": {
    title: "The NodeInfo version is 2.0 or 2.1",
    severity: "warning",
    level: "SHOULD",
    impact: "DEGRADED",
    source: "NodeInfo protocol",
    check: "DSC-NI-02",
  },
  "NI-PROTOCOLS": {
    title: "NodeInfo `protocols` lists activitypub",
    severity: "error",
    level: "IMPLIED",
    impact: "DEGRADED",
    source: "NodeInfo 2.1 schema (protocols); checks.md",
    check: "DSC-NI-02",
  },
} as const satisfies Record<string, RuleInfo>;

/** A rule id the validator can emit. */
export type RuleId = keyof typeof RULES;

/** Per-finding overrides of the catalogue's defaults. */
export interface FindingOverrides {
  severity?: Severity;
  level?: SpecLevel;
  impact?: InteropImpact;
  source?: string;
}

/** Builds a finding for `ruleId`, filling severity, level, impact and source from {@link RULES}. */
export function finding(
  ruleId: RuleId,
  pointer: string,
  message: string,
  overrides: FindingOverrides = {},
): Finding {
  const rule: RuleInfo = RULES[ruleId];
  return {
    ruleId,
    severity: overrides.severity ?? rule.severity,
    level: overrides.level ?? rule.level,
    impact: overrides.impact ?? rule.impact,
    pointer,
    message,
    source: overrides.source ?? rule.source,
  };
}
