/**
 * One run from start to finish: start the targets, plan the cells, run them while writing results
 * incrementally, apply expectations and the baseline, render the reports, and stop everything that
 * was started — on success, failure and interruption alike.
 * @module
 */
import { join } from "node:path";
import { probeKeyPool } from "../protocol/key-pool.ts";
import { ALLURE_DIRS, createAllureWriter } from "../report/allure.ts";
import { type HistoryStore, historyContext, openHistory } from "../report/history.ts";
import { writeReports } from "../report/index.ts";
import { readResults } from "../report/results-schema.ts";
import { createResultsWriter } from "../report/writer.ts";
import { validate } from "../validate/index.ts";
import { attachScreenshots, chromiumPath, createScreenshotter } from "./browser-evidence.ts";
import type { RunConfig } from "./config.ts";
import {
  applyExpectations,
  cellIdentity,
  type ExpectationsFile,
  isRegression,
  loadExpectations,
  type StaleExpectation,
} from "./expectations.ts";
import type { CellResult, CheckDefinition, RunResults, Verdict } from "./model.ts";
import { type PlannedCell, planCells } from "./plan.ts";
import { redactText } from "./redact.ts";
import { runCells } from "./runner.ts";
import type { Scenario } from "./scenario.ts";
import { startTargets } from "./targets.ts";
import { processCpuMs } from "./timing.ts";

/** Version written into results files. */
export const TOOL_VERSION = "0.1.0";

/** What a session reports while it runs (the CLI prints these). */
export type SessionEvent =
  | { type: "starting"; targets: string[] }
  | { type: "started"; targets: Array<{ id: string; origin: string; runtime: string }>; ms: number }
  | { type: "planned"; cells: number; checks: number }
  | { type: "cell"; cell: PlannedCell; results: CellResult[]; done: number; total: number }
  | { type: "warning"; message: string }
  | { type: "stopping" };

/** Options of {@link runSession}. */
export interface SessionOptions {
  config: RunConfig;
  scenarios: readonly Scenario[];
  checks: CheckDefinition[];
  /** The command line, kept in the results file. */
  command: string;
  /** Default: derived from the start time. */
  runId?: string;
  /** Interrupts the run (Ctrl-C): running cells are aborted, results are kept, targets stopped. */
  signal?: AbortSignal;
  onEvent?: (event: SessionEvent) => void;
}

/** What a session produced. */
export interface SessionOutcome {
  results: RunResults;
  runDir: string;
  /** Failed or errored cells that no expectation or baseline covers. */
  regressions: CellResult[];
  stale: StaleExpectation[];
  /** 0 as expected, 1 regressions, 130 interrupted. */
  exitCode: number;
}

/** A fresh, sortable run id such as `20261128-090124-k3x`. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${Math.random().toString(36).slice(2, 5)}`;
}

/** Runs one session; throws only when the targets cannot start (the CLI's exit code 3). */
export async function runSession(options: SessionOptions): Promise<SessionOutcome> {
  const { config } = options;
  const startedAt = new Date();
  const cpuAtStart = processCpuMs();
  const runId = options.runId ?? newRunId(startedAt);
  const runDir = join(config.outDir, runId);
  const expectations: ExpectationsFile[] = await Promise.all(config.expectations.map(loadExpectations));
  const baseline = config.baseline ? await loadBaseline(config.baseline) : undefined;

  options.onEvent?.({ type: "starting", targets: config.targets.map((t) => t.id) });
  const t0 = Date.now();
  const run = await startTargets(config, { runId, signal: options.signal });
  const startupMs = Date.now() - t0;
  const targetCpuAtStart = new Map(run.targets.map((t) => [t.id, t.cpuMs?.()]));
  let shooter: ReturnType<typeof createScreenshotter> | undefined;
  try {
    options.onEvent?.({
      type: "started",
      targets: run.targets.map((t) => ({ id: t.id, origin: t.origin, runtime: t.runtime })),
      ms: startupMs,
    });
    const cells = planCells({
      scenarios: options.scenarios,
      targets: run.targets,
      pairs: config.pairs,
      ...(config.checks ? { checks: config.checks } : {}),
      ...(config.suites ? { suites: config.suites } : {}),
      ...(config.shard ? { shard: config.shard } : {}),
    });
    const usedChecks = new Set(cells.flatMap((c) => c.scenario.checks));
    options.onEvent?.({ type: "planned", cells: cells.length, checks: usedChecks.size });
    // Cells with the probe create its actors: have their keys ready (or read from the key cache)
    // before the cells ask, instead of generating them on a cell's critical path.
    probeKeyPool().prefill(
      Math.min(64, cells.filter((c) => c.sender.id === "probe" || c.receiver.id === "probe").length),
    );

    const header = {
      schemaVersion: 1 as const,
      runId,
      tool: { name: "fedicheck" as const, version: TOOL_VERSION },
      startedAt: startedAt.toISOString(),
      // Issue 7: a command line may carry a token (`--target …,token=…`).
      command: redactText(options.command),
      targets: run.targets.map(({ driver: _d, logs: _l, cpuMs: _c, ...info }) => info),
      checks: options.checks.filter((c) => usedChecks.has(c.id)),
      ...(config.shard ? { shard: config.shard } : {}),
    };
    const writer = createResultsWriter(runDir, header);
    const allure = config.allure
      ? createAllureWriter(join(runDir, ALLURE_DIRS.results), { baseDir: runDir })
      : undefined;
    shooter =
      config.screenshots !== "off" && chromiumPath().present
        ? createScreenshotter({
            outDir: join(runDir, "screenshots"),
            allowOrigins: run.targets.map((t) => t.origin),
            ...(run.ca ? { ca: run.ca } : {}),
            ...(run.hostMap ? { hostMap: run.hostMap } : {}),
          })
        : undefined;

    let done = 0;
    const cellsStarted = Date.now();
    const outcome = await runCells({
      cells,
      checks: options.checks,
      probe: run.probe,
      http: run.http,
      validate: (document, context) => validate(document, context),
      concurrency: config.concurrency,
      ...(config.perTargetConcurrency ? { perTargetConcurrency: config.perTargetConcurrency } : {}),
      retries: config.retries,
      ...(config.freshAccounts ? { freshAccounts: true } : {}),
      waitBudgetMs: config.waitBudgetMs,
      reproduceCommand: reproduceBase(config),
      ...(options.signal ? { signal: options.signal } : {}),
      onCellResults: async (results, cell) => {
        applyExpectations(results, run.targets, expectations);
        const worthShooting =
          config.screenshots === "all"
            ? results
            : results.filter((r) => r.verdict === "failed" || r.verdict === "errored");
        if (shooter && worthShooting.length > 0) await attachScreenshots(shooter, worthShooting, runDir);
        await writer.add(results);
        await allure?.add(results, header);
        options.onEvent?.({ type: "cell", cell, results, done: ++done, total: cells.length });
      },
    });

    const cellsWallMs = Date.now() - cellsStarted;
    const interrupted = options.signal?.aborted ?? false;
    const targetCpuMs: Record<string, number> = {};
    for (const target of run.targets) {
      const before = targetCpuAtStart.get(target.id);
      const now = target.cpuMs?.();
      if (before !== undefined && now !== undefined) targetCpuMs[target.id] = now - before;
    }
    const wallMs = Date.now() - startedAt.getTime();
    const results = await writer.finish(interrupted ? "interrupted" : "completed", {
      finishedAt: new Date().toISOString(),
      timing: {
        wallMs,
        waitingMs: outcome.waitingMs,
        workingMs: Math.max(0, outcome.cellMs - outcome.waitingMs),
        startupMs,
        cellsWallMs,
        targetCallMs: outcome.targetCallMs,
        harnessCpuMs: Math.round(processCpuMs() - cpuAtStart),
        ...(Object.keys(targetCpuMs).length > 0 ? { targetCpuMs } : {}),
      },
    });
    const stale = applyExpectations(results.cells, results.targets, expectations);
    await allure?.finish(results);
    const store = await openStore(config, (message) => options.onEvent?.({ type: "warning", message }));
    const context = store ? await historyContext(store, results) : undefined;
    const previous = baseline ?? context?.previous;
    await writeReports(runDir, results, {
      json: false,
      ...(previous ? { baseline: previous } : {}),
      ...(context?.history ? { history: context.history } : {}),
    });
    // Interrupted runs and shards would show their missing cells as changes in later diffs.
    if (store && results.status === "completed" && !config.shard) await store.add(results);
    await store?.close();
    const regressions = results.cells.filter((cell) => isRegression(cell, baselineVerdicts(baseline)));
    return {
      results,
      runDir,
      regressions,
      stale,
      exitCode: interrupted ? 130 : regressions.length > 0 ? 1 : 0,
    };
  } finally {
    options.onEvent?.({ type: "stopping" });
    await shooter?.close();
    await run.stop();
  }
}

/** Opens the history store; a broken store is a warning, never a failed run. */
async function openStore(
  config: RunConfig,
  warn: (message: string) => void,
): Promise<HistoryStore | undefined> {
  if (config.history === false) return undefined;
  const location = config.history ?? join(config.outDir, "history.sqlite");
  try {
    return await openHistory(location);
  } catch (error) {
    warn(`history store ${location} not used: ${(error as Error).message}`);
    return undefined;
  }
}

async function loadBaseline(path: string): Promise<RunResults> {
  return readResults(path);
}

function baselineVerdicts(baseline: RunResults | undefined): Map<string, Verdict> | undefined {
  return baseline ? new Map(baseline.cells.map((c) => [cellIdentity(c), c.verdict])) : undefined;
}

/** The part of the reproduce command that recreates this run's targets. */
function reproduceBase(config: RunConfig): string {
  const parts = ["npx fedicheck run"];
  const isDefault =
    config.targets.length === 2 &&
    config.targets.every(
      (t) => t.implementation === "fedify-ref" && !t.defects?.length && t.runtime !== "external",
    );
  if (!isDefault) {
    for (const t of config.targets) {
      const options = [
        t.runtime ? `runtime=${t.runtime}` : "",
        t.origin ? `origin=${t.origin}` : "",
        t.defects?.length ? `defects=${t.defects.join("+")}` : "",
      ].filter(Boolean);
      parts.push(`--target ${[`${t.id}=${t.implementation}`, ...options].join(",")}`);
    }
  }
  if (config.tls) parts.push("--tls");
  return parts.join(" ");
}
