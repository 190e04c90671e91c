/**
 * Runs suites against a set of targets the way `fedicheck run` does (probe + process targets), but
 * keeps the results in memory: the integration tests' one entry point to the whole harness.
 * @module
 */
import { resolveConfig, type TargetSpec } from "../../harness/core/config.ts";
import type { CellResult } from "../../harness/core/model.ts";
import { type PairSelection, planCells } from "../../harness/core/plan.ts";
import { runCells } from "../../harness/core/runner.ts";
import type { Scenario } from "../../harness/core/scenario.ts";
import { startTargets } from "../../harness/core/targets.ts";
import { validate } from "../../harness/validate/index.ts";
import { ALL_SCENARIOS, CHECKS, DEFAULT_SUITES } from "../../suites/index.ts";

/** Options of {@link runSuites}. */
export interface RunSuitesOptions {
  /** Targets besides the probe. */
  targets: TargetSpec[];
  /** Suites to run; default all. */
  suites?: string[];
  /** Scenarios to run; default those of `suites`. */
  scenarios?: readonly Scenario[];
  /** Pairs to run (ids; the probe is `probe`); default all. */
  pairs?: PairSelection;
  /** Cells at once. Default 4. */
  concurrency?: number;
  /** Budget of one wait, ms. Default 10 000. */
  waitBudgetMs?: number;
  /** Runtime of targets that name none. Default `process`. */
  runtime?: "process" | "container";
  /** Prefix of the run id (it labels containers). Default `test`. */
  runIdPrefix?: string;
}

/** What a run produced. */
export interface SuitesOutcome {
  cells: CellResult[];
  /** Scenario ids × pairs that were planned (`<scenario>@<sender>-><receiver>`). */
  planned: string[];
  /** Check ids of the planned cells. */
  plannedChecks: Set<string>;
  /** Origin of each target, by id (the probe included). */
  origins: Map<string, string>;
  wallMs: number;
}

/** Starts the probe and `targets`, runs the suites, stops everything, and returns every cell's result. */
export async function runSuites(options: RunSuitesOptions): Promise<SuitesOutcome> {
  const started = Date.now();
  const run = await startTargets(
    resolveConfig({
      targets: options.targets,
      runtime: options.runtime ?? "process",
      screenshots: "off",
      allure: false,
    }),
    { runId: `${options.runIdPrefix ?? "test"}-${Date.now()}` },
  );
  try {
    const scenarios = options.scenarios ?? ALL_SCENARIOS;
    const cells = planCells({
      scenarios: [...scenarios],
      targets: run.targets,
      ...(options.pairs ? { pairs: options.pairs } : {}),
      // Explicit scenarios run as given; otherwise the default suites (support tables only on request).
      ...(options.suites || !options.scenarios ? { suites: options.suites ?? [...DEFAULT_SUITES] } : {}),
    });
    const outcome = await runCells({
      cells,
      checks: CHECKS,
      probe: run.probe,
      http: run.http,
      validate: (document, context) => validate(document, context),
      concurrency: options.concurrency ?? 4,
      waitBudgetMs: options.waitBudgetMs ?? 10_000,
    });
    return {
      cells: outcome.results,
      planned: cells.map((c) => c.key),
      plannedChecks: new Set(cells.flatMap((c) => c.scenario.checks)),
      origins: new Map(run.targets.map((t) => [t.id, t.origin])),
      wallMs: Date.now() - started,
    };
  } finally {
    await run.stop();
  }
}

/** One line per cell, for failure messages: `verdict check scenario sender->receiver: message`. */
export function describeCells(cells: CellResult[]): string {
  return cells
    .map(
      (c) =>
        `${c.verdict.padEnd(8)} ${c.checkId.padEnd(9)} ${c.scenarioId} ${c.sender}->${c.receiver}: ${c.message}`,
    )
    .join("\n");
}
