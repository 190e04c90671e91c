/**
 * Every suite, by name, and all their scenarios in one list: what the runner plans from.
 * @module
 */
import type { Scenario } from "../harness/core/scenario.ts";
import { scenarios as captures } from "./captures.ts";
import { scenarios as collections } from "./collections.ts";
import { scenarios as deleteScenarios } from "./delete.ts";
import { scenarios as discovery } from "./discovery.ts";
import { scenarios as follow } from "./follow.ts";
import { scenarios as mediaFallback } from "./media-fallback.ts";
import { scenarios as post } from "./post.ts";
import { scenarios as security } from "./security.ts";
import { scenarios as signatures } from "./signatures.ts";
import { scenarios as support } from "./support.ts";

export { CHECKS, checkById } from "./catalogue.ts";

/** Suite name → its scenarios, in the order a run lists them. */
export const SUITES: Readonly<Record<string, readonly Scenario[]>> = {
  discovery,
  follow,
  post,
  "media-fallback": mediaFallback,
  delete: deleteScenarios,
  signatures,
  security,
  collections,
  // Recorded real-world flows replayed by the probe; they decide checks of the other suites.
  captures,
  // Hundreds of input variants per receiver: descriptive support tables, run with --suites support.
  support,
};

/** Suites a run covers when none are named: all but the long descriptive `support` tables. */
export const DEFAULT_SUITES: readonly string[] = Object.keys(SUITES).filter((s) => s !== "support");

/** Every scenario of every suite. */
export const ALL_SCENARIOS: readonly Scenario[] = Object.values(SUITES).flat();
