/**
 * Small helpers shared by the validator's stages: JSON types, JSON pointers, value previews and
 * defensive accessors for the loosely shaped values AS2 allows (a string, an object or an array of either).
 * @module
 */

/** A JSON value as `JSON.parse` produces it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** True for a JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Appends one reference token to an RFC 6901 JSON pointer. */
export function pointerJoin(pointer: string, token: string | number): string {
  if (typeof token === "number" || (token.indexOf("~") < 0 && token.indexOf("/") < 0))
    return `${pointer}/${token}`;
  return `${pointer}/${token.replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

/** A short human-readable rendering of a value for messages ("found …"). */
export function preview(value: unknown, max = 60): string {
  let text: string;
  try {
    text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The JSON type name of a value, as messages say it ("string", "array", "null"…). */
export function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** The value as an array: arrays as is, null/undefined as empty, anything else wrapped. */
export function asArray(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === null ? [] : [value];
}

/** The IRI a reference names: the string itself, or an embedded object's `id`. */
export function idOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (isObject(value) && typeof value.id === "string") return value.id;
  return undefined;
}

/** Every IRI a possibly multi-valued reference names. */
export function idsOf(value: unknown): string[] {
  const ids: string[] = [];
  for (const item of asArray(value)) {
    const id = idOf(item);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/** The origin (scheme://host:port) of an http(s) URL, or undefined for anything else. */
export function httpOrigin(iri: string | undefined): string | undefined {
  if (iri === undefined) return undefined;
  // Fast path for the plain ASCII hosts ids use; anything unusual goes through the URL parser.
  const m = SIMPLE_ORIGIN.exec(iri);
  if (m) {
    const scheme = (m[1] as string).toLowerCase();
    const port = m[3];
    const defaultPort = scheme === "https" ? "443" : "80";
    return `${scheme}://${(m[2] as string).toLowerCase()}${port === undefined || port === defaultPort ? "" : `:${port}`}`;
  }
  if (!/^https?:\/\//i.test(iri)) return undefined;
  try {
    return new URL(iri).origin;
  } catch {
    return undefined;
  }
}

const SIMPLE_ORIGIN = /^(https?):\/\/([a-z0-9.-]+)(?::([0-9]{1,5}))?(?:[/?#]|$)/i;

/** The type names of a node (`type` or `@type`, string or array), in order. */
export function typesOf(node: JsonObject): string[] {
  const raw = node.type ?? node["@type"];
  const types: string[] = [];
  for (const t of asArray(raw)) if (typeof t === "string") types.push(t);
  return types;
}

/** One JSON object found in a document, with where it is. */
export interface NodeRef {
  node: JsonObject;
  pointer: string;
  /** The property that holds this node in its parent object (through arrays), "" at the top. */
  key: string;
  /** The node's type names (`type` or `@type`), empty when it has none. */
  types: string[];
}

const NO_TYPES: string[] = [];

/** Why a value cannot be validated as JSON. */
export interface ShapeProblem {
  rule: "DOC-NOT-JSON" | "DOC-TOO-DEEP";
  pointer: string;
  message: string;
}

/** Result of {@link scanDocument}. */
export interface ScanResult {
  /** Every object in the document (outside `@context` values), the top one first. */
  nodes: NodeRef[];
  /** Set when the value is not plain JSON or nests too deep; `nodes` is then incomplete. */
  problem?: ShapeProblem;
  /** True when object properties held `undefined` (the caller should validate a cleaned copy). */
  hasUndefined: boolean;
}

/** Deepest nesting the validator walks; deeper input is reported rather than risking the stack. */
export const MAX_DEPTH = 256;

/**
 * Walks a value once: checks that it is plain JSON (no cycles, no class instances, finite numbers)
 * and not nested deeper than {@link MAX_DEPTH}, and lists its objects with their JSON pointers.
 */
export function scanDocument(value: unknown): ScanResult {
  const state: ScanState = { nodes: [], path: [], pathPointers: [], problem: undefined, hasUndefined: false };
  try {
    visit(state, value, "", "", 0, false);
  } catch (error) {
    // Exotic objects (proxies, throwing getters) end up here.
    state.problem = {
      rule: "DOC-NOT-JSON",
      pointer: "",
      message: `expected a JSON value, reading it failed: ${errorText(error)}`,
    };
  }
  const { nodes, problem, hasUndefined } = state;
  return problem ? { nodes, problem, hasUndefined } : { nodes, hasUndefined };
}

interface ScanState {
  nodes: NodeRef[];
  // The objects and arrays on the current path; only searched for a cycle once the depth limit is hit.
  path: object[];
  pathPointers: string[];
  problem: ShapeProblem | undefined;
  hasUndefined: boolean;
}

// A module-level function, not a closure: it runs for every value of every document.
function visit(
  state: ScanState,
  v: unknown,
  pointer: string,
  key: string,
  depth: number,
  inContext: boolean,
): void {
  if (state.problem) return;
  if (v === null || typeof v === "string" || typeof v === "boolean") return;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) {
      state.problem = {
        rule: "DOC-NOT-JSON",
        pointer,
        message: `expected a finite number, found ${String(v)}`,
      };
    }
    return;
  }
  if (typeof v !== "object") {
    const what = v === undefined ? "undefined" : `a ${typeof v}`;
    state.problem = { rule: "DOC-NOT-JSON", pointer, message: `expected a JSON value, found ${what}` };
    return;
  }
  if (depth > MAX_DEPTH) {
    // A cycle always ends here, as endless depth: tell the two apart.
    const closing = cycleClosing(state.path, state.pathPointers);
    state.problem =
      closing !== undefined
        ? { rule: "DOC-NOT-JSON", pointer: closing, message: "expected a tree of JSON values, found a cycle" }
        : {
            rule: "DOC-TOO-DEEP",
            pointer,
            message: `expected at most ${MAX_DEPTH} levels of nesting, found more; the rest was not validated`,
          };
    return;
  }
  if (Array.isArray(v)) {
    state.path.push(v);
    state.pathPointers.push(pointer);
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      if (item === undefined) {
        state.problem = {
          rule: "DOC-NOT-JSON",
          pointer: pointerJoin(pointer, i),
          message: "expected a JSON value, found undefined",
        };
        break;
      }
      if (typeof item === "string" || typeof item === "boolean" || item === null) continue;
      visit(state, item, pointerJoin(pointer, i), key, depth + 1, inContext);
    }
    state.path.pop();
    state.pathPointers.pop();
    return;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
    state.problem = {
      rule: "DOC-NOT-JSON",
      pointer,
      message: `expected a plain JSON object, found an instance of ${typeof name === "string" ? name : "a class"}`,
    };
    return;
  }
  const obj = v as Record<string, unknown>;
  if (!inContext) {
    const node = obj as JsonObject;
    const types = node.type === undefined && node["@type"] === undefined ? NO_TYPES : typesOf(node);
    state.nodes.push({ node, pointer, key, types });
  }
  state.path.push(v);
  state.pathPointers.push(pointer);
  for (const k in obj) {
    if (!Object.hasOwn(obj, k)) continue;
    const child = obj[k];
    if (child === undefined) {
      state.hasUndefined = true;
      continue;
    }
    // Primitives need no pointer unless they are wrong, which is rare: build it only then.
    if (typeof child === "object" && child !== null) {
      visit(state, child, pointerJoin(pointer, k), k, depth + 1, inContext || k === "@context");
    } else if (
      typeof child === "number"
        ? !Number.isFinite(child)
        : typeof child !== "string" && typeof child !== "boolean" && child !== null
    ) {
      visit(state, child, pointerJoin(pointer, k), k, depth + 1, inContext);
    }
  }
  state.path.pop();
  state.pathPointers.pop();
}

/** Where a path first comes back to an object it already went through, if it does. */
function cycleClosing(path: readonly object[], pointers: readonly string[]): string | undefined {
  const seen = new Set<object>();
  for (let i = 0; i < path.length; i++) {
    if (seen.has(path[i] as object)) return pointers[i];
    seen.add(path[i] as object);
  }
  return undefined;
}

/** A one-line description of a thrown value. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n")[0] ?? error.name;
  return String(error);
}
