/**
 * The model shared by the runner, the suites and the reports: implementations, targets, checks,
 * verdicts, evidence, cell results and the run. Everything here is plain data that can be serialised
 * into the results file (see `harness/report/results-schema.json`), except {@link Target}, which holds
 * a live driver.
 * @module
 */
import type { Driver } from "../drivers/driver.ts";
import type { ContainerProfile } from "../runtime/container-profile.ts";
import type { Finding, InteropImpact, SpecLevel } from "../validate/findings.ts";

export type { Finding, InteropImpact, SpecLevel };

/**
 * The verdict of one check on one sender→receiver pair.
 * - `errored`: the check could not be decided; never a `failed` verdict against the target. Its
 *   {@link CellResult.blame} says whose fault it was (a hostile target breaking the harness's limits,
 *   the infrastructure, or the harness itself).
 * - `unsupported` means the implementation declares it lacks a capability the check needs.
 */
export type Verdict = "passed" | "failed" | "unsupported" | "inapplicable" | "skipped" | "errored";

/** All verdicts, in the order reports list them. */
export const VERDICTS: readonly Verdict[] = [
  "passed",
  "failed",
  "errored",
  "unsupported",
  "inapplicable",
  "skipped",
];

/** Things an implementation can or cannot do; checks that need a missing one are `unsupported`. */
export type Capability =
  | "follow"
  | "locked-accounts"
  | "reject-follow"
  | "post"
  | "raw-post"
  | "visibility-unlisted"
  | "visibility-followers"
  | "visibility-direct"
  | "content-warning"
  | "mentions"
  | "hashtags"
  | "replies"
  | "quotes"
  | "update"
  | "delete"
  | "like"
  | "announce"
  | "media-upload"
  | "polls"
  | "webfinger"
  | "nodeinfo"
  | "signature-cavage"
  | "signature-rfc9421"
  | "authorized-fetch"
  | "web-ui";

/** One requirement with a stable id. Ids are published: never renumber them. */
export interface CheckDefinition {
  /** Stable id, e.g. `FOL-03`. */
  id: string;
  /** Suite it belongs to, e.g. `follow`. */
  suite: string;
  title: string;
  /** The requirement, quoted or paraphrased. */
  requirement: string;
  /** Where the requirement comes from (AP §7.1, Mastodon docs, an issue link…). */
  source: string;
  level: SpecLevel;
  impact: InteropImpact;
  /** Capabilities of the sender/receiver that the check needs. */
  requires?: { sender?: Capability[]; receiver?: Capability[] };
}

/** A kind of server, described as data. */
export interface ImplementationProfile {
  /** e.g. `fedify-ref`, `mastodon`, `probe`. */
  id: string;
  name: string;
  version: string;
  /** Which driver talks to it. */
  driver: "probe" | "fedify-ref" | "mastodon-api" | "misskey-api" | "lemmy-api" | "peertube-api";
  /** How it boots: the runtimes that can start it. */
  runtimes: Array<"process" | "container" | "external">;
  capabilities: Capability[];
  /** Path of the expectations file, relative to the repository, if any. */
  expectations?: string;
  /** How it boots in containers (images, companions, env, TLS and trust, provisioning). */
  container?: ContainerProfile;
}

/** One running instance of an implementation. */
export interface TargetInfo {
  /** Unique within a run, e.g. `fedify-a`. */
  id: string;
  implementation: string;
  version: string;
  /** e.g. `https://a.test` or `http://127.0.0.1:40123`. */
  origin: string;
  runtime: "process" | "container" | "external";
  capabilities: Capability[];
}

/** A running target together with the driver that acts on it. */
export interface Target extends TargetInfo {
  driver: Driver;
  /** Recent log output of the target (process stderr, container logs), for evidence. */
  logs?: () => string;
  /**
   * CPU time (ms) the target's process has used so far, where the runtime can tell (process targets
   * on Linux); for the run's timing (issue 8).
   */
  cpuMs?: () => number | undefined;
}

/** An HTTP request or response as kept in evidence (secrets already redacted). */
export interface HttpMessage {
  method?: string;
  url?: string;
  status?: number;
  headers: Record<string, string>;
  /** Body as text (JSON pretty-printed when it parsed), truncated past 64 KiB. */
  body?: string;
}

/** What proves a verdict. */
export type Evidence =
  | {
      kind: "http";
      label: string;
      request: HttpMessage;
      response?: HttpMessage;
      /** Signature verification outcome, when the harness verified one. */
      signature?: { ok: boolean; scheme?: string; keyId?: string; reason?: string };
      at: string;
      durationMs?: number;
    }
  | { kind: "payload"; label: string; document: unknown; findings: Finding[] }
  | { kind: "view"; label: string; view: unknown }
  | { kind: "log"; label: string; text: string }
  | { kind: "note"; label: string; text: string }
  | { kind: "screenshot"; label: string; path: string };

/**
 * Whose fault an `errored` verdict is (see harness/core/blame.ts for the rules): `target` when the
 * target broke a limit the harness enforces (time, size, redirects, JSON, allow-list), `infrastructure`
 * when a connection, TLS, an interruption or a cell budget spent on nothing failed, `harness` for bugs.
 */
export type Blame = "target" | "harness" | "infrastructure";

/**
 * What a receiver made of one input variant, in the support tables (issue 10): kept as sent,
 * transformed, the feature dropped (the post kept without it), the whole post dropped, or `errored`
 * when the harness could not tell (never the receiver's fault).
 */
export type OutcomeKind = "kept" | "transformed" | "feature-dropped" | "post-dropped" | "errored";

/** The outcome of one input variant on one sender→receiver pair (issue 10). */
export interface VariantOutcome {
  /** Stable variant id, `<group>.<variant>` (fixtures/inputs). */
  variant: string;
  title: string;
  /** Short descriptive outcome: `image`, `unknown`, `dropped attachment`, `post dropped`, `#test`… */
  value: string;
  kind: OutcomeKind;
  /** More words: the alt text chosen, the URL kept, the HTML as rewritten… */
  detail?: string;
  /** Catalogue check id of the requirement this variant exercises, if any… */
  check?: string;
  /** … and whether the outcome met it. */
  requirement?: "passed" | "failed";
  /** HTTP status the receiver answered to the delivery, when the probe sent it. */
  status?: number;
}

/**
 * The support-table outcomes of one cell of the support suite: one group of variants on one pair.
 * The cell's evidence holds, per variant, the document sent (label `sent <variant>`) and the
 * receiver's view (label `view <variant>`), so tables can link to both.
 */
export interface SupportOutcomes {
  /** Version of the input set (fixtures/inputs/manifest.json). */
  inputSet: string;
  /** Group id, e.g. `image_attachments`. */
  group: string;
  groupTitle: string;
  /** What is read back, in words. */
  read: string;
  variants: VariantOutcome[];
}

/** The result of one check on one pair: a cell of the matrix. */
export interface CellResult {
  checkId: string;
  scenarioId: string;
  suite: string;
  /** Target id of the sender (or the single target for one-sided checks). */
  sender: string;
  /** Target id of the receiver. */
  receiver: string;
  verdict: Verdict;
  /** Set when a retry changed the verdict. */
  flaky?: boolean;
  /** Whose fault an `errored` verdict is; set only on `errored` cells (additive, issue 7). */
  blame?: Blame;
  /** One line a person reads first. */
  message: string;
  expected?: string;
  observed?: string;
  evidence: Evidence[];
  startedAt: string;
  durationMs: number;
  /** Time spent waiting on targets (polls, inbox waits) within durationMs. */
  waitingMs: number;
  attempts: number;
  /** Expectation applied to this cell, when one matched. */
  expectation?: { verdict: Verdict; reason: string; link?: string };
  /** Shell command that reproduces just this cell. */
  reproduce: string;
  /** Support suite only (issue 10): what the receiver made of each variant of the group. */
  support?: SupportOutcomes;
}

/** A whole run, as written to `results.json`. */
export interface RunResults {
  /** Version of the results file format; bump on incompatible change. */
  schemaVersion: 1;
  runId: string;
  tool: { name: "fedicheck"; version: string };
  startedAt: string;
  finishedAt?: string;
  /** `running` while the file is written incrementally, `interrupted` after Ctrl-C or a crash. */
  status: "running" | "completed" | "interrupted";
  command: string;
  targets: TargetInfo[];
  checks: CheckDefinition[];
  cells: CellResult[];
  /** Shard this file covers, if the plan was split (`--shard i/n`). */
  shard?: { index: number; count: number };
  timing?: RunTiming;
}

/**
 * Where a run's time went, in ms (issue 8). The first three are always there; the rest are
 * additive and absent from older results. "Summed over cells" figures add up the cells' own
 * durations, so with cells running in parallel they can exceed the wall time.
 */
export interface RunTiming {
  /** From the start of the run to its results being final (targets started, cells, reports). */
  wallMs: number;
  /** Summed over cells: time inside waits for a condition (polls with backoff, probe inbox events). */
  waitingMs: number;
  /** Summed over cells: cell time outside waits (target calls included). */
  workingMs: number;
  /** Starting the targets and the probe (wall). */
  startupMs?: number;
  /** The cell phase (wall): from the first cell started to the last finished. */
  cellsWallMs?: number;
  /**
   * Summed over cells: time inside calls that go to a target (driver calls, the probe's deliveries
   * and fetches, the harness's HTTP requests), outside waits. `workingMs` minus this is the time
   * cells spent in harness code (validation, scenario logic, event-loop delays).
   */
  targetCallMs?: number;
  /**
   * CPU time (user + system, all threads) the harness process used during the run: its own work
   * (probe, validation, scheduling, reports). Its share of `wallMs` says whether the harness could be
   * the bottleneck.
   */
  harnessCpuMs?: number;
  /**
   * CPU time each target's process used from the moment all were up to the end of the cells, by
   * target id, where the runtime can tell (process targets on Linux).
   */
  targetCpuMs?: Record<string, number>;
}
