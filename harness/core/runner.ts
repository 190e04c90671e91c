/**
 * The runner: executes planned cells in parallel (bounded), gives each scenario its context, turns
 * what the scenario recorded (or how it stopped) into verdicts, retries to detect flakes, and hands
 * finished cells to the caller as they complete so results are written incrementally.
 * @module
 */
import type { Account } from "../drivers/driver.ts";
import { UnsupportedError } from "../drivers/driver.ts";
import type { Probe } from "../peer/types.ts";
import type { HttpClient } from "../protocol/types.ts";
import type { Finding } from "../validate/findings.ts";
import type { ValidationContext } from "../validate/index.ts";
import { type BlameContext, blameStop, createActivityTracker, type PendingWork } from "./blame.ts";
import type {
  Blame,
  CellResult,
  CheckDefinition,
  Evidence,
  SupportOutcomes,
  Target,
  Verdict,
} from "./model.ts";
import type { PlannedCell } from "./plan.ts";
import { redactCellResult } from "./redact.ts";
import type { ScenarioContext, VerdictDetails } from "./scenario.ts";
import { PreconditionError, WaitTimeoutError } from "./scenario.ts";
import { CellClock } from "./timing.ts";
import { waitUntil } from "./wait.ts";

/** Validates one document; injected so core does not pin the validator's options. */
export type DocumentValidator = (document: unknown, context?: ValidationContext) => Promise<Finding[]>;

/** Options of {@link runCells}. */
export interface RunCellsOptions {
  cells: PlannedCell[];
  checks: CheckDefinition[];
  probe: Probe;
  http: HttpClient;
  validate: DocumentValidator;
  /** Cells run at once. Default 4. */
  concurrency?: number;
  /** Cells at once that involve the same target (servers rate-limit). Default 4. */
  perTargetConcurrency?: number;
  /**
   * Targets exempt from `perTargetConcurrency`. Default `["probe"]`: the harness's own peer has no
   * rate limit, and with many targets most cells involve it, so limiting it would serialise the run.
   */
  unlimitedTargets?: string[];
  /** Default budget of one `waitFor`, in ms. Default 10 000. */
  waitBudgetMs?: number;
  /** Re-run a cell with a failed or errored check up to this many times; a changed verdict is flaky. Default 0. */
  retries?: number;
  /** Prefix of the reproduce command, e.g. `npx fedicheck run --targets …`. Default `npx fedicheck run`. */
  reproduceCommand?: string;
  /** Called with each cell's results as soon as it finishes (in completion order). */
  onCellResults?: (results: CellResult[], cell: PlannedCell) => void | Promise<void>;
  /** Stops scheduling new cells and aborts running ones. */
  signal?: AbortSignal;
  /** Give every cell fresh accounts, even where scenarios ask for shared ones. Default false. */
  freshAccounts?: boolean;
}

/** What a run of cells produced. */
export interface RunCellsOutcome {
  results: CellResult[];
  /** Sum over cells of time spent waiting on targets, in ms. */
  waitingMs: number;
  /** Sum over cells of cell durations, in ms. */
  cellMs: number;
  /**
   * Sum over cells of time inside calls that go to a target (driver calls, the probe's deliveries
   * and fetches, HTTP requests), outside waits, in ms.
   */
  targetCallMs: number;
}

interface Recorded {
  verdict: Verdict;
  message: string;
  expected?: string;
  observed?: string;
  support?: SupportOutcomes;
}

const MAX_LOG_CHARS = 8_000;

/** Where a run's cells get their accounts: a sequence for unique names, and the shared ones. */
interface AccountSource {
  next: () => number;
  /** `targetId\nrole` → the account every cell asking for that role there shares. */
  shared: Map<string, Promise<Account>>;
  fresh: boolean;
}

/** Runs every cell and returns all results (also streamed through `onCellResults`). */
export async function runCells(options: RunCellsOptions): Promise<RunCellsOutcome> {
  const checkIndex = new Map(options.checks.map((c) => [c.id, c]));
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const perTarget = Math.max(1, options.perTargetConcurrency ?? 4);
  const unlimited = new Set(options.unlimitedTargets ?? ["probe"]);
  const busy = new Map<string, number>();
  const pending = [...options.cells];
  const results: CellResult[] = [];
  let waitingMs = 0;
  let cellMs = 0;
  let targetCallMs = 0;
  let accountSeq = 0;
  const accounts: AccountSource = {
    next: () => ++accountSeq,
    shared: new Map(),
    fresh: options.freshAccounts ?? false,
  };

  const involved = (cell: PlannedCell) =>
    [...new Set([cell.sender.id, cell.receiver.id])].filter((id) => !unlimited.has(id));
  const fits = (cell: PlannedCell) => involved(cell).every((id) => (busy.get(id) ?? 0) < perTarget);

  const runOne = async (cell: PlannedCell) => {
    let attempt = await executeCell(cell, options, checkIndex, accounts);
    const attempts = [attempt];
    const retries = options.retries ?? 0;
    while (
      attempts.length <= retries &&
      attempt.results.some((r) => r.verdict === "failed" || r.verdict === "errored")
    ) {
      if (options.signal?.aborted) break;
      attempt = await executeCell(cell, options, checkIndex, accounts);
      attempts.push(attempt);
    }
    for (const result of attempt.results) {
      result.attempts = attempts.length;
      const seen = new Set(attempts.map((a) => a.results.find((r) => r.checkId === result.checkId)?.verdict));
      if (seen.size > 1) result.flaky = true;
    }
    for (const a of attempts) {
      waitingMs += a.waitingMs;
      cellMs += a.durationMs;
      targetCallMs += a.targetMs;
    }
    results.push(...attempt.results);
    // Handing the results on (writing them, screenshots, reports) does not hold the cell's slot:
    // the next cell starts meanwhile (issue 8). A failure there still stops the run.
    const delivered = Promise.resolve()
      .then(() => options.onCellResults?.(attempt.results, cell))
      .catch((error: unknown) => {
        deliveryFailure ??= { error };
        fail(error);
      });
    deliveries.add(delivered);
    void delivered.finally(() => deliveries.delete(delivered));
  };
  const deliveries = new Set<Promise<unknown>>();
  let deliveryFailure: { error: unknown } | undefined;
  let fail: (error: unknown) => void = () => {};

  // A small scheduler: start any pending cell whose targets have room, up to `concurrency`.
  await new Promise<void>((resolve, reject) => {
    fail = reject;
    let running = 0;
    const pump = () => {
      if (options.signal?.aborted) pending.length = 0;
      if (pending.length === 0 && running === 0) return resolve();
      while (running < concurrency) {
        const index = pending.findIndex(fits);
        if (index < 0) break;
        const [cell] = pending.splice(index, 1);
        if (!cell) break;
        running++;
        for (const id of involved(cell)) busy.set(id, (busy.get(id) ?? 0) + 1);
        runOne(cell)
          .then(() => {
            running--;
            for (const id of involved(cell)) busy.set(id, (busy.get(id) ?? 1) - 1);
            pump();
          })
          .catch(reject);
      }
    };
    pump();
  });
  // Every cell's results are handed on before the run's are (the caller then stops the targets).
  while (deliveries.size > 0) await Promise.all([...deliveries]);
  if (deliveryFailure) throw deliveryFailure.error;
  return { results, waitingMs, cellMs, targetCallMs };
}

/** Executes one cell once. Never throws: every outcome becomes verdicts. */
async function executeCell(
  cell: PlannedCell,
  options: RunCellsOptions,
  checkIndex: Map<string, CheckDefinition>,
  accounts: AccountSource,
): Promise<{ results: CellResult[]; waitingMs: number; durationMs: number; targetMs: number }> {
  const { scenario, sender, receiver } = cell;
  const startedAt = new Date();
  const recorded = new Map<string, Recorded>();
  const evidenceOf = new Map<string, Evidence[]>();
  const shared: Evidence[] = [];
  // Splits the cell's time into waiting, calls into targets and the rest (harness/core/timing.ts).
  const clock = new CellClock();
  let waitingMs = 0;
  // Issue 7: what the cell is waiting on, so a cell out of time can say whom it waited for.
  const tracker = createActivityTracker();

  const finish = (defaultVerdict: Verdict, defaultMessage: string, blame?: Blame) => {
    const durationMs = Date.now() - startedAt.getTime();
    waitingMs = Math.round(clock.waitingMs);
    const targetMs = Math.round(clock.targetMs);
    const results = scenario.checks.map((checkId): CellResult => {
      const rec = recorded.get(checkId);
      const verdict = rec?.verdict ?? defaultVerdict;
      const evidence = [...(evidenceOf.get(checkId) ?? []), ...shared];
      if (verdict === "failed" || verdict === "errored") evidence.push(...targetLogs([sender, receiver]));
      return {
        checkId,
        scenarioId: scenario.id,
        suite: scenario.suite,
        sender: sender.id,
        receiver: receiver.id,
        verdict,
        // Issue 7: checks left undecided by an errored stop carry the blame of what stopped them.
        ...(rec === undefined && verdict === "errored" && blame !== undefined ? { blame } : {}),
        message: rec?.message ?? defaultMessage,
        ...(rec?.expected !== undefined ? { expected: rec.expected } : {}),
        ...(rec?.observed !== undefined ? { observed: rec.observed } : {}),
        evidence,
        startedAt: startedAt.toISOString(),
        durationMs,
        waitingMs,
        attempts: 1,
        reproduce: reproduceCommand(options.reproduceCommand, checkId, cell),
        // Issue 10: the support suite's per-variant outcomes travel on the cell.
        ...(rec?.support !== undefined ? { support: rec.support } : {}),
      };
    });
    // Issue 7: no secret leaves the runner (tokens, keys, cookies in evidence, messages, logs), and
    // evidence is made safe to serialise (depth-capped, acyclic) whatever a hostile target sent.
    return { results: results.map((r) => redactCellResult(r)), waitingMs, durationMs, targetMs };
  };

  if (cell.missing.length > 0) {
    const what = cell.missing.map(
      (m) => `${m.role} ${m.role === "sender" ? sender.id : receiver.id} lacks '${m.capability}'`,
    );
    return finish("unsupported", `not run: ${what.join("; ")}`);
  }

  const timeoutMs = scenario.timeoutMs ?? 30_000;
  const controller = new AbortController();
  const onRunAbort = () => controller.abort(new Error("the run was interrupted"));
  options.signal?.addEventListener("abort", onRunAbort, { once: true });
  // Issue 7: what was pending is read before the abort settles (and so clears) it.
  let pendingAtTimeout: PendingWork[] | undefined;
  const timer = setTimeout(() => {
    pendingAtTimeout = tracker.pending();
    controller.abort(new CellTimeoutError(timeoutMs));
  }, timeoutMs);

  const record = (checkId: string, verdict: Verdict, message: string, details: VerdictDetails = {}) => {
    if (!scenario.checks.includes(checkId)) {
      throw new Error(`scenario ${scenario.id} recorded check ${checkId}, which it does not declare`);
    }
    recorded.set(checkId, {
      verdict,
      message,
      ...(details.expected !== undefined ? { expected: details.expected } : {}),
      ...(details.observed !== undefined ? { observed: details.observed } : {}),
      ...(details.support !== undefined ? { support: details.support } : {}),
    });
    for (const item of details.evidence ?? []) attach(checkId, item);
  };
  function attach(checkId: string | undefined, item: Evidence): void {
    if (checkId === undefined) shared.push(item);
    else evidenceOf.set(checkId, [...(evidenceOf.get(checkId) ?? []), item]);
  }

  // Calls that go to targets are timed as such (the probe's included: its deliveries and fetches
  // wait on the target answering); what is left of the cell outside waits is the harness's own.
  const ctx: ScenarioContext = {
    scenario,
    sender: clock.timed(sender),
    receiver: clock.timed(receiver),
    probe: clock.timedCalls(options.probe),
    // Issue 7: tracked (for blame on a cell timeout) and aborted with the cell.
    http: clock.timedCalls(tracker.http(options.http, controller.signal)),
    signal: controller.signal,
    account: (target: Target, name: string): Promise<Account> =>
      target.driver.provisionAccount(`${name}${accounts.next()}`),
    sharedAccount: (target: Target, role: string): Promise<Account> => {
      if (accounts.fresh) return target.driver.provisionAccount(`${role}${accounts.next()}`);
      const key = `${target.id}\n${role}`;
      let account = accounts.shared.get(key);
      if (account === undefined) {
        account = target.driver.provisionAccount(`${role}${accounts.next()}`);
        accounts.shared.set(key, account);
        // A failed provisioning is not kept: the next cell asking tries again.
        account.catch(() => accounts.shared.delete(key));
      }
      return account;
    },
    probeActor: (account: Account) => options.probe.actor(account.username),
    waitFor: async (description, condition, waitOptions = {}) => {
      try {
        return await clock.waiting(() =>
          tracker.track({ description: `waiting for: ${description}` }, () =>
            waitUntil(description, condition, {
              timeoutMs: waitOptions.timeoutMs ?? options.waitBudgetMs ?? 10_000,
              wakeOn: (listener) => options.probe.inbox.subscribe(listener),
              signal: controller.signal,
            }),
          ),
        );
      } catch (error) {
        if (error instanceof WaitTimeoutError && waitOptions.check) {
          record(
            waitOptions.check,
            "failed",
            `never happened: ${description} (waited ${error.timeoutMs} ms)`,
            {
              expected: description,
              observed: `not within ${error.timeoutMs} ms${error.lastValue === undefined ? "" : `; last value: ${JSON.stringify(error.lastValue)}`}`,
            },
          );
        }
        throw error;
      }
    },
    assert: (checkId, ok, message, details) => {
      record(checkId, ok ? "passed" : "failed", message, details);
      return ok;
    },
    record,
    evidence: attach,
    validate: async (checkId, label, document, context) => {
      const findings = await options.validate(document, context);
      attach(checkId, { kind: "payload", label, document, findings });
      return findings;
    },
    view: (checkId, label, view) => attach(checkId, { kind: "view", label, view }),
    verdictOf: (checkId) => recorded.get(checkId)?.verdict,
    check: (checkId) => {
      const def = checkIndex.get(checkId);
      if (!def) throw new Error(`check ${checkId} is not in the catalogue`);
      return def;
    },
  };

  try {
    await Promise.race([
      scenario.run(ctx),
      new Promise<never>((_, reject) => {
        controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
      }),
    ]);
    return finish("skipped", `scenario ${scenario.id} ended without deciding this check`);
  } catch (error) {
    const { verdict, message, blame } = classifyStop(error, recorded, {
      targets: [sender, receiver],
      probeOrigin: options.probe.origin,
      pending: pendingAtTimeout ?? tracker.pending(),
      interrupted: options.signal?.aborted === true,
    });
    return finish(verdict, message, blame);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onRunAbort);
  }
}

/** Raised when a cell exceeds its scenario's budget. */
export class CellTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the cell exceeded its budget of ${timeoutMs} ms`);
    this.name = "CellTimeoutError";
  }
}

/**
 * How undecided checks end when the scenario stopped with `error` (see ScenarioContext's doc); an
 * `errored` outcome also says whose fault it is (harness/core/blame.ts).
 */
function classifyStop(
  error: unknown,
  recorded: Map<string, Recorded>,
  context: BlameContext,
): { verdict: Verdict; message: string; blame?: Blame } {
  const failedEarlier = [...recorded.entries()].find(([, r]) => r.verdict === "failed")?.[0];
  if (error instanceof WaitTimeoutError) {
    return {
      verdict: "skipped",
      message: `not reached: ${failedEarlier ? `${failedEarlier} failed` : `precondition unmet`} (${error.message})`,
    };
  }
  if (error instanceof PreconditionError)
    return { verdict: "skipped", message: `not reached: ${error.message}` };
  if (error instanceof UnsupportedError) return { verdict: "unsupported", message: error.message };
  // Issue 7: every other stop is errored, blamed on the target, the infrastructure or the harness.
  const { blame, message } = blameStop(error, context);
  return { verdict: "errored", message, blame };
}

function targetLogs(targets: Target[]): Evidence[] {
  const seen = new Set<string>();
  const out: Evidence[] = [];
  for (const target of targets) {
    if (seen.has(target.id) || !target.logs) continue;
    seen.add(target.id);
    const text = target.logs();
    if (text) out.push({ kind: "log", label: `${target.id} log (tail)`, text: text.slice(-MAX_LOG_CHARS) });
  }
  return out;
}

/** The command that runs just this check on this pair; its suite is named, as it may not run by default. */
function reproduceCommand(base: string | undefined, checkId: string, cell: PlannedCell): string {
  return `${base ?? "npx fedicheck run"} --suites ${cell.scenario.suite} --checks ${checkId} --pairs '${cell.sender.id}->${cell.receiver.id}'`;
}
