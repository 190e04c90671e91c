/**
 * What a scenario is and what it may use while it runs. A scenario is a numbered story across roles
 * (Complement's tests are the model): declare the roles, act through drivers and the probe, wait for a
 * named condition, then assert with a check id. Absence is proven with a sentinel.
 * @module
 */
import type { Account, PostView } from "../drivers/driver.ts";
import type { Probe, ProbeActor } from "../peer/types.ts";
import type { HttpClient } from "../protocol/types.ts";
import type { Finding } from "../validate/findings.ts";
import type { ValidationContext } from "../validate/index.ts";
import type { Capability, CheckDefinition, Evidence, SupportOutcomes, Target, Verdict } from "./model.ts";

/**
 * Which cells a scenario runs in.
 * - `pair`: once per ordered (sender, receiver) pair of different targets, probe included.
 * - `single`: once per target, judged alone (the probe acts as the client); `receiver` is the target.
 */
export type ScenarioShape = "pair" | "single";

/** A story that decides one or more checks. */
export interface Scenario {
  /** Stable id, `<suite>.<name>`, e.g. `follow.accept-embedded`. */
  id: string;
  suite: string;
  title: string;
  shape: ScenarioShape;
  /** Every check id the scenario decides; each must end with a verdict (unset ones become skipped). */
  checks: string[];
  /**
   * Only run when the sender (for `single`: none) is the probe. Used for crafted payloads and
   * misbehaviour, which only the probe can send. Default false.
   */
  probeSenderOnly?: boolean;
  /** Only run when the receiver is the probe (e.g. inspecting what a target sends). Default false. */
  probeReceiverOnly?: boolean;
  /** Capabilities the roles need; when missing, every check of the scenario is `unsupported`. */
  requires?: { sender?: Capability[]; receiver?: Capability[] };
  /** Per-cell time budget in ms. Default 30 000. */
  timeoutMs?: number;
  run(ctx: ScenarioContext): Promise<void>;
}

/** Details attached to a recorded verdict. */
export interface VerdictDetails {
  expected?: string;
  observed?: string;
  evidence?: Evidence[];
  /** Support suite (issue 10): per-variant outcomes, kept on the cell for the support tables. */
  support?: SupportOutcomes;
}

/** Options of {@link ScenarioContext.waitFor}. */
export interface WaitOptions {
  /** Give up after this many ms. Default: the run's wait budget (10 000 for process targets). */
  timeoutMs?: number;
  /**
   * The check that fails when the condition is never met. Without it a timeout is a failed
   * precondition: the scenario's undecided checks become `skipped`.
   */
  check?: string;
}

/**
 * How undecided checks end when a scenario stops early: after WaitTimeoutError or PreconditionError
 * they are `skipped` (naming the reason), after UnsupportedError `unsupported`, after any other error
 * `errored`. A scenario that returns without deciding a check leaves it `skipped` (a suite bug).
 *
 * Everything a running scenario may use. Verdict methods never throw; `waitFor` throws a
 * {@link WaitTimeoutError} so a story stops at the first unmet condition.
 */
export interface ScenarioContext {
  readonly scenario: Scenario;
  readonly sender: Target;
  readonly receiver: Target;
  /** The harness's probe (also present as a target when the plan includes it). */
  readonly probe: Probe;
  /** The harness's HTTP client (allow-listed to the run's hosts). */
  readonly http: HttpClient;
  /** Aborted when the cell's budget runs out or the run is interrupted. */
  readonly signal: AbortSignal;

  /** A fresh account on a target, unique to this cell (`name` is a hint). */
  account(target: Target, name: string): Promise<Account>;
  /**
   * An account on a target that every cell of the run asking for the same `role` there shares:
   * only for scenarios that read what the account publishes (its actor document, WebFinger) and
   * change nothing, so isolation allows it. A fresh one per cell when the run says `freshAccounts`.
   */
  sharedAccount(target: Target, role: string): Promise<Account>;
  /** The probe actor behind an account on the probe target. */
  probeActor(account: Account): ProbeActor;

  /**
   * Poll `condition` with backoff (and on every probe inbox event) until it returns something other
   * than undefined, null or false; returns that value. Throws WaitTimeoutError naming `condition`.
   * Time spent here counts as waiting in the run's timing.
   */
  waitFor<T>(
    description: string,
    condition: () => Promise<T | undefined | null | false>,
    options?: WaitOptions,
  ): Promise<T>;

  /** Record `passed` if `ok`, else `failed`, for a check. Returns `ok`. */
  assert(checkId: string, ok: boolean, message: string, details?: VerdictDetails): boolean;
  /** Record any verdict for a check (e.g. `inapplicable`). Later calls for the same id overwrite. */
  record(checkId: string, verdict: Verdict, message: string, details?: VerdictDetails): void;
  /** Attach evidence to a check (or to every check of the cell when checkId is undefined). */
  evidence(checkId: string | undefined, item: Evidence): void;
  /**
   * Run the validator on a document, attach it with its findings as evidence of `checkId` (or of all
   * checks), and return the findings.
   */
  validate(
    checkId: string | undefined,
    label: string,
    document: unknown,
    context?: ValidationContext,
  ): Promise<Finding[]>;
  /** Convenience: attach a driver view as evidence. */
  view(checkId: string | undefined, label: string, view: PostView | unknown): void;
  /** Verdict recorded so far for a check, if any. */
  verdictOf(checkId: string): Verdict | undefined;
  /** The check's definition from the catalogue. */
  check(checkId: string): CheckDefinition;
}

/** Thrown by `waitFor` when a condition is not met within its budget. */
export class WaitTimeoutError extends Error {
  constructor(
    readonly description: string,
    readonly timeoutMs: number,
    readonly lastValue?: unknown,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for: ${description}`);
    this.name = "WaitTimeoutError";
  }
}

/**
 * Thrown by a scenario when a precondition (not itself a check of the scenario) cannot be set up,
 * e.g. the follow a post scenario needs. Checks not yet decided become `skipped` with this reason.
 */
export class PreconditionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PreconditionError";
  }
}
