/**
 * The vocabulary every verdict and finding is graded in, and the finding type the validator returns.
 * It lives in the lowest layer so that protocol, peer, core and report can all share it.
 * @module
 */

/** How strongly a specification asks for something (FediTest's first axis). */
export type SpecLevel = "MUST" | "SHOULD" | "MAY" | "IMPLIED";

/**
 * What breaks for users when the requirement is not met (FediTest's second axis):
 * PROBLEM = content lost or wrong, DEGRADED = works worse, UNAFFECTED = cosmetic.
 */
export type InteropImpact = "PROBLEM" | "DEGRADED" | "UNAFFECTED";

/** How serious a validator finding is. Only `error` makes `fedicheck validate` exit 1. */
export type Severity = "error" | "warning" | "info";

/** One problem (or remark) the validator found in a document. */
export interface Finding {
  /** Stable rule id, e.g. `AS-03` or `AS-SCHEMA-NOTE`. */
  ruleId: string;
  severity: Severity;
  level: SpecLevel;
  impact: InteropImpact;
  /** RFC 6901 JSON pointer into the document ("" for the whole document, `/headers/digest` for headers). */
  pointer: string;
  /** Says what was expected and what was found. */
  message: string;
  /** Where the rule comes from, e.g. "AS2 Core §4.1" or a URL. */
  source: string;
}
