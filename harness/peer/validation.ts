/**
 * The one place the probe calls the validator, so every logged activity carries its findings.
 * @module
 */
import type { Finding } from "../validate/findings.ts";
import { validate } from "../validate/index.ts";

/** What the validator gets to know about a received document. */
export interface ReceivedContext {
  headers: Record<string, string>;
  /** Origin of the sender (the activity's actor), when known: ids must be on it. */
  origin?: string;
  body: string;
}

/** Validator findings on a document that arrived in an inbox; never throws (validate does not). */
export function findingsFor(document: unknown, context: ReceivedContext): Promise<Finding[]> {
  const { origin, ...rest } = context;
  return validate(document, { ...rest, delivered: true, ...(origin !== undefined && { origin }) });
}
