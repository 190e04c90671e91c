/**
 * The schema stage: runs the ajv schemas of `schemas/` over AS2 nodes, WebFinger JRDs and NodeInfo
 * documents, and turns ajv errors into findings that say what was expected and what was found.
 * Validators are built once per process and reused: loaded from the disk cache of `ajv-cache.ts`
 * when an earlier process compiled them, else compiled.
 * @module
 */
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from "ajv";
import Ajv04Module from "ajv-draft-04";
import { cacheableCode, compileCached } from "./ajv-cache.ts";
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
import {
  isObject,
  type JsonObject,
  type JsonValue,
  jsonType,
  type NodeRef,
  pointerJoin,
  preview,
} from "./util.ts";

// ajv-draft-04 is CommonJS; under nodenext its default import is the module object.
const Ajv04 = Ajv04Module.default;

/**
 * A schema compiled for two uses: `check` answers valid/invalid as cheaply as possible, `full` lists
 * every error (run only on invalid values, and compiled on first use).
 */
export interface CompiledSchema {
  check: (value: unknown) => boolean;
  full: ValidateFunction;
}

type AnyAjv = Ajv | InstanceType<typeof Ajv04>;
const instances = new Map<string, AnyAjv>();
const compiled = new Map<SchemaObject, CompiledSchema>();
const fastBySubschema = new Map<SchemaObject, ValidateFunction>();

// How cached standalone code names FORMATS: functions from a .ts module that plain require cannot load.
const FORMATS_MODULE = "fedicheck:validate/formats";
const FORMATS_MODULES = { [FORMATS_MODULE]: FORMATS };

// Most documents are valid: the fast validators stop at the first error and skip error bookkeeping.
function instance(draft04: boolean, allErrors: boolean): AnyAjv {
  const key = `${draft04 ? "04" : "07"}:${allErrors}`;
  let ajv = instances.get(key);
  if (!ajv) {
    const options = { allErrors, strict: true, strictRequired: false, allowUnionTypes: true } as const;
    if (draft04) {
      ajv = new Ajv04({ ...options, code: cacheableCode() });
    } else {
      const created = new Ajv({ ...options, code: cacheableCode(FORMATS_MODULE) });
      for (const [name, test] of Object.entries(FORMATS)) created.addFormat(name, test);
      ajv = created;
    }
    instances.set(key, ajv);
  }
  return ajv;
}

/** Compiles `schema` with the instance for (draft04, allErrors), through the disk cache. */
function compileWith(draft04: boolean, allErrors: boolean, schema: SchemaObject): ValidateFunction {
  return compileCached(instance(draft04, allErrors), schema, {
    label: draft04 ? "draft-04" : "draft-07+FORMATS",
    modules: FORMATS_MODULES,
  });
}

function fastValidator(schema: SchemaObject): ValidateFunction {
  let validate = fastBySubschema.get(schema);
  if (!validate) {
    validate = compileWith(false, false, schema);
    fastBySubschema.set(schema, validate);
  }
  return validate;
}

/**
 * The fast check for a schema. A plain object schema (`type: "object"`, `properties`, `required` and
 * nothing else) is checked property by property over the keys the value actually has, so that a node
 * with ten keys does not pay for the forty properties AS2 Object defines; it accepts exactly what
 * the whole schema accepts.
 */
function fastCheck(schema: SchemaObject, draft04: boolean): (value: unknown) => boolean {
  const keys = Object.keys(schema);
  const plain =
    !draft04 &&
    schema.type === "object" &&
    keys.every((k) => k === "type" || k === "properties" || k === "required");
  if (!plain) return compileWith(draft04, false, schema);
  // Only values that are not objects need the whole schema: compiled when one comes.
  let compiledWhole: ValidateFunction | undefined;
  const whole = (value: unknown) => {
    compiledWhole ??= compileWith(draft04, false, schema);
    return compiledWhole(value);
  };
  const properties = (schema.properties ?? {}) as Record<string, SchemaObject>;
  const byKey = new Map<string, ValidateFunction>();
  for (const [name, sub] of Object.entries(properties)) byKey.set(name, fastValidator(sub));
  const required = (schema.required ?? []) as string[];
  return (value) => {
    if (!isObject(value)) return whole(value);
    for (const name of required) if (value[name] === undefined) return false;
    for (const key in value) {
      const validate = byKey.get(key);
      if (validate !== undefined && !validate(value[key])) return false;
    }
    return true;
  };
}

/** The compiled validators for a schema (compiled on first use, then cached for the process). */
export function compile(schema: SchemaObject): CompiledSchema {
  const validators = compiled.get(schema);
  if (validators) return validators;
  const draft04 = schema.$schema === "http://json-schema.org/draft-04/schema#";
  // Compiling costs more than most runs spend validating; `full` is needed only once a value fails.
  let full: ValidateFunction | undefined;
  const made: CompiledSchema = {
    check: fastCheck(schema, draft04),
    get full() {
      full ??= compileWith(draft04, true, schema);
      return full;
    },
  };
  compiled.set(schema, made);
  return made;
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
  const findings: Finding[] = [];
  collectSchema(findings, ruleId, schema, value, base);
  return findings;
}

// The hot path: valid nodes allocate nothing.
function collectSchema(
  out: Finding[],
  ruleId: RuleId,
  schema: SchemaObject,
  value: unknown,
  base: string,
): void {
  const validators = compiled.get(schema) ?? compile(schema);
  if (validators.check(value)) return;
  const full = validators.full;
  full(value);
  for (const error of full.errors ?? []) {
    const described = describe(error, value);
    if (described) out.push(finding(ruleId, base + described.pointer, described.message));
  }
}

/**
 * The schema of an object type, if it has one. Own properties only: a document typed `valueOf` or
 * `constructor` must not reach Object.prototype (found by fuzzing, issue 7).
 */
function typeSchema(type: string | undefined): SchemaObject | undefined {
  return type !== undefined && Object.hasOwn(OBJECT_TYPE_SCHEMAS, type)
    ? OBJECT_TYPE_SCHEMAS[type]
    : undefined;
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
      return typeSchema(type) ?? linkSchema;
    default:
      return typeSchema(type) ?? objectSchema;
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
  const out: Finding[] = [];
  for (const { node, pointer, key, types } of nodes) {
    const top = pointer === "";
    if (types.length === 0 && !top) continue;
    const category = categoryOf(types);
    let type = types[0];
    for (const t of types) {
      if (typeSchema(t) !== undefined) {
        type = t;
        break;
      }
    }
    collectSchema(out, "AS2-SCHEMA", structuralSchema(category, type), node, pointer);
    // Requirements apply to full documents: the top level and embedded `object`s, not to references
    // such as PeerTube's `attributedTo: [{type: "Person", id}]`.
    if (!top && key !== "object") continue;
    if (category === "activity") {
      collectSchema(out, "AP-ACTIVITY-ACTOR", actorRequired, node, pointer);
      if (types.some((t) => OBJECT_REQUIRED.has(t))) {
        collectSchema(out, "AP-ACTIVITY-OBJECT", objectRequired, node, pointer);
      }
      if (types.some((t) => TARGET_REQUIRED.has(t))) {
        collectSchema(out, "AP-ACTIVITY-TARGET", targetRequired, node, pointer);
      }
      if (options.delivered) collectSchema(out, "AP-ACTIVITY-ID", idRequired, node, pointer);
    } else if (category === "actor") {
      collectSchema(out, "AP-ACTOR-INBOX", inboxRequired, node, pointer);
      collectSchema(out, "AP-ACTOR-OUTBOX", outboxRequired, node, pointer);
      collectSchema(out, "AP-ACTOR-FOLLOWERS", followersRecommended, node, pointer);
      collectSchema(out, "AP-ACTOR-USERNAME", usernameRecommended, node, pointer);
      collectSchema(out, "AP-ACTOR-KEY", publicKeyShape, node, pointer);
    }
  }
  return out;
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
  // `$schema` naming the NodeInfo schema only identifies the document (Fedify writes it): noted, not
  // an error, although the schema's additionalProperties: false does not list it.
  const declared = typeof doc.$schema === "string" ? doc.$schema.replace(/#$/, "") : undefined;
  if (declared && /^https?:\/\/nodeinfo\.diaspora\.software\/ns\/schema\/2\.[01]$/.test(declared)) {
    const { $schema: _, ...rest } = subject;
    subject = rest;
    findings.push(
      finding(
        "NI-SCHEMA-MEMBER",
        "/$schema",
        `found $schema ${preview(doc.$schema)}, which the NodeInfo schema does not define`,
      ),
    );
  }
  findings.push(...runSchema("NI-SCHEMA", schema, subject));
  const protocols = doc.protocols;
  if (Array.isArray(protocols) && !protocols.includes("activitypub")) {
    findings.push(
      finding(
        "NI-PROTOCOLS",
        "/protocols",
        `expected protocols to include "activitypub", found ${preview(protocols)}`,
      ),
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
      return {
        pointer,
        message: `expected a value that ${error.message ?? "matches the schema"}, found ${found}`,
      };
  }
}
