/**
 * Small readers for loosely shaped AS2 JSON: a property may be an IRI, an object, or an array of either.
 * @module
 */

/** A JSON object as parsed from an AS2 document. */
export type Json = Record<string, unknown>;

/** True for a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value as an array (absent → empty). */
export function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** The id of a reference: the string itself, or an embedded object's `id`. */
export function idOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (isObject(value) && typeof value.id === "string") return value.id;
  return undefined;
}

/** Ids of every reference in a property (IRIs and embedded objects with ids). */
export function idsOf(value: unknown): string[] {
  return asArray(value)
    .map(idOf)
    .filter((id): id is string => id !== undefined);
}

/** The first `type` of an object (types may be arrays). */
export function typeOf(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const first = asArray(value.type)[0];
  return typeof first === "string" ? first : undefined;
}

/** The origin of a URL, or undefined when it does not parse. */
export function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
