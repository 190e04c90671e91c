/**
 * The schema stage: runs the ajv schemas of `schemas/` over AS2 nodes, WebFinger JRDs and NodeInfo
 * documents, and turns ajv errors into findings that say what was expected and what was found.
 * Validators are compiled once per process and reused.
 * @module
 */
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from "ajv";
import Ajv04Module from "ajv-draft-04";
import { finding, type RuleId } from "./catalogue.ts";
import type { Finding } from "./findings.ts";
import { categoryOf, type NodeCategory, OBJECT_REQUIRED, TARGET_REQUIRED } from "./kinds.ts";
import {
  activitySchema,
  actorRequired,
  idRequired,
  objectRequired,
  targetRequired,
} from "./schemas/activities.ts";
import {
  actorSchema,
  followersRecommended,
  inboxRequired,
  outboxRequired,
  publicKeyShape,
  usernameRecommended,
} from "./schemas/actors.ts";
import { collectionSchema } from "./schemas/collections.ts";
import { FORMATS } from "./schemas/common.ts";
import { nodeInfo20Schema, nodeInfo21Schema } from "./schemas/nodeinfo.ts";
import { linkSchema, OBJECT_TYPE_SCHEMAS, objectSchema } from "./schemas/objects.ts";
import { jrdSchema, subjectRecommended } from "./schemas/webfinger.ts";
import { isObject, type JsonObject, type JsonValue, jsonType, type NodeRef, pointerJoin, preview, typesOf } from "./util.ts";

// ajv-draft-04 is CommonJS; under nodenext its default import is the module object.
const Ajv04 = Ajv04Module.default;

let ajv07: Ajv | undefined;
let ajv04: InstanceType<typeof Ajv04> | undefined;
const compiled = new Map<SchemaObject, ValidateFunction>();

function addFormats(ajv: { addFormat(name: string, test: (value: string) => boolean): unknown }): void {
  for (const [name, test] of Object.entries(FORMATS)) ajv.addFormat(name, test);
}

/** The compiled validator for a schema (compiled on first use, then cached for the process). */
export function compile(schema: SchemaObject): ValidateFunction {
  let validate = compiled.get(schema);
  if (validate) return validate;
  if (schema.$schema === "http://json-schema.org/draft-04/schema#") {
    ajv04 ??= new Ajv04({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    validate = ajv04.compile(schema);
  } else {
    if (!ajv07) {
      ajv07 = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
      addFormats(ajv07);
    }
    validate = ajv07.compile(schema);
  }
  compiled.set(schema, validate);
  return validate;
}

/** Compiles every schema the validator uses, so that the first document is not slower than the rest. */
export function precompileSchemas(): void {
  for (const schema of [
    activitySchema,
    actorRequired,
    idRequired,
    objectRequired,
    targetRequired,
    actorSchema,
    followersRecommended,
    inboxRequired,
    outboxRequired,
    publicKeyShape,
    usernameRecommended,
    collectionSchema,
    linkSchema,
    objectSchema,
    ...Object.values(OBJECT_TYPE_SCHEMAS),
    jrdSchema,
    subjectRecommended,
    nodeInfo20Schema,
    nodeInfo21Schema,
  ]) {
    compile(schema);
  }
}

/** Runs one schema over a value and reports each violation under `ruleId`, pointers prefixed by `base`. */
export function runSchema(ruleId: RuleId, schema: SchemaObject, value: unknown, base = ""): Finding[] {
  const validate = compile(schema);
  if (validate(value)) return [];
  const findings: Finding[] = [];
  for (const error of validate.errors ?? []) {
    const described = describe(error, value);
    if (described) findings.push(finding(ruleId, base + described.pointer, described.message));
  }
  return findings;
}

/** The structural AS2 schema for a node of the given category and type. */
function structuralSchema(category: NodeCategory, type: string | undefined): SchemaObject {
  switch (category) {
    case "activity":
      return activitySchema;
    case "actor":
      return actorSchema;
    case "collection":
      return collectionSchema;
    case "link":
      return (type && OBJECT_TYPE_SCHEMAS[type]) || linkSchema;
    default:
      return (type && OBJECT_TYPE_SCHEMAS[type]) || objectSchema;
  }
}

/** Options of {@link checkAs2Schemas}. */
export interface As2SchemaOptions {
  /** The document was delivered to an inbox (non-transient activities then need ids). Default: false. */
  delivered?: boolean;
}

/**
 * Checks every typed node of an AS2 document against its shape schema, and the top-level node and
 * embedded `object`s against ActivityPub's requirements for their type.
 */
export function checkAs2Schemas(nodes: readonly NodeRef[], options: As2SchemaOptions = {}): Finding[] {
  const findings: Finding[] = [];
  for (const { node, pointer, key } of nodes) {
    const types = typesOf(node);
    const top = pointer === "";
    if (types.length === 0 && !top) continue;
    const category = categoryOf(types);
    const type = types.find((t) => OBJECT_TYPE_SCHEMAS[t] !== undefined) ?? types[0];
    findings.push(...runSchema("AS2-SCHEMA", structuralSchema(category, type), node, pointer));
    // Requirements apply to full documents: the top level and embedded `object`s, not to references
    // such as PeerTube's `attributedTo: [{type: "Person", id}]`.
    if (!top && key !== "object") continue;
    if (category === "activity") {
      findings.push(...runSchema("AP-ACTIVITY-ACTOR", actorRequired, node, pointer));
      if (types.some((t) => OBJECT_REQUIRED.has(t))) {
        findings.push(...runSchema("AP-ACTIVITY-OBJECT", objectRequired, node, pointer));
      }
      if (types.some((t) => TARGET_REQUIRED.has(t))) {
        findings.push(...runSchema("AP-ACTIVITY-TARGET", targetRequired, node, pointer));
      }
      if (options.delivered) findings.push(...runSchema("AP-ACTIVITY-ID", idRequired, node, pointer));
    } else if (category === "actor") {
      findings.push(...runSchema("AP-ACTOR-INBOX", inboxRequired, node, pointer));
      findings.push(...runSchema("AP-ACTOR-OUTBOX", outboxRequired, node, pointer));
      findings.push(...runSchema("AP-ACTOR-FOLLOWERS", followersRecommended, node, pointer));
      findings.push(...runSchema("AP-ACTOR-USERNAME", usernameRecommended, node, pointer));
      findings.push(...runSchema("AP-ACTOR-KEY", publicKeyShape, node, pointer));
    }
  }
  return findings;
}

/** Checks a WebFinger JRD against RFC 7033's shape. */
export function checkJrdSchema(doc: JsonObject): Finding[] {
  return [...runSchema("WF-SCHEMA", jrdSchema, doc), ...runSchema("WF-SUBJECT", subjectRecommended, doc)];
}

/** Checks a NodeInfo document against the 2.0 or 2.1 schema its `version` names. */
export function checkNodeInfoSchema(doc: JsonObject): Finding[] {
  const findings: Finding[] = [];
  const version = doc.version;
  let schema = nodeInfo21Schema;
  let subject: JsonObject = doc;
  if (version === "2.0") schema = nodeInfo20Schema;
  else if (version !== "2.1") {
    findings.push(
      finding(
        "NI-VERSION",
        "/version",
        `expected NodeInfo version "2.0" or "2.1", found ${preview(version)}; checked against the 2.1 schema`,
      ),
    );
    subject = { ...doc, version: "2.1" };
  }
  findings.push(...runSchema("NI-SCHEMA", schema, subject));
  const protocols = doc.protocols;
  if (Array.isArray(protocols) && !protocols.includes("activitypub")) {
    findings.push(
      finding("NI-PROTOCOLS", "/protocols", `expected protocols to include "activitypub", found ${preview(protocols)}`),
    );
  }
  return findings;
}

/** The value a JSON pointer (as ajv's instancePath writes it) designates, or undefined. */
function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === "") return root;
  let current: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isObject(current)) current = current[token];
    else return undefined;
  }
  return current;
}

const FORMAT_TEXT: Record<string, string> = {
  iri: "an absolute IRI",
  "iri-ref": "an absolute IRI",
  "http-url": "an absolute http(s) URL",
};

/** Turns one ajv error into a pointer and an "expected …, found …" message (undefined to skip it). */
function describe(error: ErrorObject, root: unknown): { pointer: string; message: string } | undefined {
  const pointer = error.instancePath;
  const value = valueAt(root, pointer) as JsonValue | undefined;
  const found = value === undefined ? "nothing" : `${jsonType(value)} ${preview(value)}`;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "if":
      return undefined; // the failing `then` branch is reported on its own
    case "required":
      return {
        pointer: pointerJoin(pointer, String(params.missingProperty)),
        message: `expected property "${String(params.missingProperty)}", found none`,
      };
    case "additionalProperties":
      return {
        pointer: pointerJoin(pointer, String(params.additionalProperty)),
        message: `expected no property "${String(params.additionalProperty)}" (the schema allows no others), found one`,
      };
    case "type": {
      const types = Array.isArray(params.type) ? params.type.join(" or ") : String(params.type);
      return { pointer, message: `expected ${types}, found ${found}` };
    }
    case "format": {
      const what = FORMAT_TEXT[String(params.format)] ?? `a ${String(params.format)}`;
      return { pointer, message: `expected ${what}, found ${found}` };
    }
    case "pattern":
      return { pointer, message: `expected a string matching ${String(params.pattern)}, found ${found}` };
    case "enum": {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.map((v) => preview(v)) : [];
      const list = allowed.length > 8 ? `${allowed.slice(0, 8).join(", ")}, …` : allowed.join(", ");
      return { pointer, message: `expected one of ${list}, found ${found}` };
    }
    case "not":
      return { pointer, message: `expected a value, found ${found}` };
    case "minimum":
      return { pointer, message: `expected a number ≥ ${String(params.limit)}, found ${found}` };
    case "maximum":
      return { pointer, message: `expected a number ≤ ${String(params.limit)}, found ${found}` };
    case "minItems":
      return { pointer, message: `expected at least ${String(params.limit)} item(s), found ${found}` };
    case "maxItems":
      return { pointer, message: `expected at most ${String(params.limit)} item(s), found ${found}` };
    case "minLength":
      return { pointer, message: `expected a non-empty string, found ${found}` };
    default:
      return { pointer, message: `expected a value that ${error.message ?? "matches the schema"}, found ${found}` };
  }
}
