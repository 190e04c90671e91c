/**
 * Small readers for loosely shaped AS2 JSON, shared by the probe, the drivers, the suites and replay:
 * a property may be an IRI, an object, a Link, or an array of any of these.
 * @module
 */

/** A JSON object as parsed from an AS2 document. */
export type Json = Record<string, unknown>;

/** The three spellings of the Public collection met in the wild. */
export const PUBLIC_ADDRESSES: ReadonlySet<string> = new Set([
  "https://www.w3.org/ns/activitystreams#Public",
  "as:Public",
  "Public",
]);

/** True for a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value as an array (absent → empty). */
export function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** The id of a reference: the string itself, an embedded object's `id`, or a Link's `href`. */
export function idOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (isObject(value)) {
    if (typeof value.id === "string") return value.id;
    if (typeof value.href === "string") return value.href;
  }
  return undefined;
}

/** Ids of every reference in a property. */
export function idsOf(value: unknown): string[] {
  return asArray(value)
    .map(idOf)
    .filter((id): id is string => id !== undefined);
}

/** Every `type` of an object (types may be arrays). */
export function typesOf(value: unknown): string[] {
  return isObject(value) ? asArray(value.type).filter((t): t is string => typeof t === "string") : [];
}

/** The first `type` of an object. */
export function typeOf(value: unknown): string | undefined {
  return typesOf(value)[0];
}

/** The origin of a URL, or undefined when it does not parse. */
export function originOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * How deeply a JSON value nests arrays and objects (a scalar is 0), without recursion, so documents
 * thousands of levels deep (SEC-04) are measured safely. Stops counting once past `limit` (default: no
 * limit), returning a depth above it. fedify-ref has its own copy: the reference server imports nothing
 * from the harness (fixtures/fedify-ref/as2.ts says why).
 */
export function jsonDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== "object" || current === null) continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Object.values(current)) stack.push([child, level]);
  }
  return deepest;
}
