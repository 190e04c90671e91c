/**
 * Building blocks shared by the AS2 schemas: formats for IRIs and URLs, and lenient value shapes
 * (the wild sends a reference as an IRI string, an embedded object, or an array of either, and `null`
 * where a property is absent).
 * @module
 */
import type { SchemaObject } from "ajv";

/** Custom ajv formats: name → test. Registered on every ajv instance the validator builds. */
export const FORMATS: Record<string, (value: string) => boolean> = {
  /** An absolute IRI (any scheme: https, tag, urn, did…). */
  iri: (value) => ABSOLUTE_IRI.test(value),
  /** An absolute IRI, or the bare `Public` that AP accepts as a compact form of the public collection. */
  "iri-ref": (value) => value === "Public" || ABSOLUTE_IRI.test(value),
  /** An absolute http(s) URL. */
  "http-url": (value) => isHttpUrl(value),
};

const ABSOLUTE_IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$/;

/** True for an absolute http(s) URL with a host. */
export function isHttpUrl(value: string): boolean {
  if (!/^https?:\/\/[^\s/?#]/i.test(value) || /\s/.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** An absolute IRI string. */
export const iri: SchemaObject = { type: "string", format: "iri" };

/** A reference: IRI, embedded object, array of either, or null. */
export const ref: SchemaObject = {
  type: ["string", "object", "array", "null"],
  format: "iri-ref",
  items: { type: ["string", "object"], format: "iri-ref" },
};

/** A plain string or null. */
export const text: SchemaObject = { type: ["string", "null"] };

/** A language map (BCP 47 keys are checked by rule AS-04) or null. */
export const langMap: SchemaObject = {
  type: ["object", "null"],
  additionalProperties: { type: "string" },
};

/** A boolean or null. */
export const flag: SchemaObject = { type: ["boolean", "null"] };

/** A non-negative integer or null. */
export const count: SchemaObject = { type: ["integer", "null"], minimum: 0 };

/** A date string (its RFC 3339 form is checked by rule AS-03, which gives a better message) or null. */
export const date: SchemaObject = { type: ["string", "null"] };

/** `type`: one name or a non-empty list of names. */
export const typeNames: SchemaObject = {
  type: ["string", "array"],
  minLength: 1,
  minItems: 1,
  items: { type: "string", minLength: 1 },
};
