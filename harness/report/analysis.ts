/**
 * What every renderer derives from a {@link RunResults} in the same way: verdict counts, the
 * checks × sender→receiver matrix, expectation status and the difference between two runs. Keeping it
 * here means the JUnit file, the Markdown summary and the dashboard never disagree on a number.
 * @module
 */
import type { CellResult, CheckDefinition, RunResults, Verdict } from "../core/model.ts";
import { VERDICTS } from "../core/model.ts";

/** Symbols per verdict, readable without colour (Markdown, terminals, tooltips). */
export const VERDICT_SYMBOLS: Readonly<Record<Verdict, string>> = {
  passed: "✅",
  failed: "❌",
  errored: "💥",
  unsupported: "⛔",
  inapplicable: "➖",
  skipped: "⏭",
};

/** Mark added to a verdict whose cell changed verdict on retry. */
export const FLAKY_SYMBOL = "⚠";
/** Mark added to a verdict that matches the implementation's expectations file. */
export const EXPECTED_SYMBOL = "📌";

/** Number of cells per verdict (every verdict present, zero when absent). */
export type VerdictCounts = Record<Verdict, number>;

/** Counts the cells per verdict. */
export function countVerdicts(cells: Iterable<CellResult>): VerdictCounts {
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as VerdictCounts;
  for (const cell of cells) counts[cell.verdict]++;
  return counts;
}

/**
 * Share of decided cells that passed: passed / (passed + failed), or undefined when none was decided.
 * Errored cells are left out on purpose: they are the harness's fault, never the target's.
 */
export function passRate(counts: VerdictCounts): number | undefined {
  const decided = counts.passed + counts.failed;
  return decided === 0 ? undefined : counts.passed / decided;
}

/** Identity of a cell across runs and shards: check, scenario, sender and receiver. */
export function cellKey(cell: Pick<CellResult, "checkId" | "scenarioId" | "sender" | "receiver">): string {
  return JSON.stringify([cell.checkId, cell.scenarioId, cell.sender, cell.receiver]);
}

/** True when the cell's verdict is the one its expectation predicted (a known state, not news). */
export function expectationMatched(cell: CellResult): boolean {
  return cell.expectation !== undefined && cell.expectation.verdict === cell.verdict;
}

/** A failure the expectations file already knows about. */
export function isKnownFailure(cell: CellResult): boolean {
  return cell.verdict === "failed" && expectationMatched(cell);
}

/** `sender→receiver`, or just the target for one-sided cells. */
export function pairLabel(sender: string, receiver: string): string {
  return sender === receiver ? sender : `${sender}→${receiver}`;
}

/** One column of the matrix. */
export interface MatrixPair {
  sender: string;
  receiver: string;
  /** {@link pairLabel} of the pair. */
  label: string;
}

/** One row of the matrix: a check and, per pair (same order as {@link Matrix.pairs}), its cells. */
export interface MatrixRow {
  check: CheckDefinition;
  /** Indices into `results.cells`; empty when the check did not run on that pair. */
  cells: number[][];
}

/** The rows of one suite, in catalogue order. */
export interface MatrixGroup {
  suite: string;
  rows: MatrixRow[];
}

/** The checks × sender→receiver matrix of a run. */
export interface Matrix {
  /** Ordered by receiver, then sender, each in the order of `results.targets`. */
  pairs: MatrixPair[];
  /** Suites in catalogue order; only checks with at least one cell. */
  groups: MatrixGroup[];
}

/** Order in which several results for one matrix cell are summarised: the first present wins. */
const SUMMARY_ORDER: readonly Verdict[] = [
  "failed",
  "errored",
  "passed",
  "skipped",
  "unsupported",
  "inapplicable",
];

/**
 * The verdict a matrix cell shows when several scenarios decided the same check on the same pair:
 * any failure wins, then errors, then passes. Returns the index (into `indices`) of the cell to show.
 */
export function summaryCell(cells: readonly CellResult[], indices: readonly number[]): number | undefined {
  let best: number | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const index of indices) {
    const cell = cells[index];
    if (cell === undefined) continue;
    const rank = SUMMARY_ORDER.indexOf(cell.verdict);
    if (rank < bestRank) {
      best = index;
      bestRank = rank;
    }
  }
  return best;
}

/** A stand-in definition for a cell whose check is missing from `results.checks`. */
function unknownCheck(cell: CellResult): CheckDefinition {
  return {
    id: cell.checkId,
    suite: cell.suite,
    title: "(check not in the run's catalogue)",
    requirement: "",
    source: "",
    level: "IMPLIED",
    impact: "UNAFFECTED",
  };
}

/** Builds the checks × sender→receiver matrix of a run. */
export function buildMatrix(results: RunResults): Matrix {
  const targetOrder = new Map(results.targets.map((t, i) => [t.id, i]));
  const order = (id: string) => targetOrder.get(id) ?? Number.MAX_SAFE_INTEGER;
  const pairByKey = new Map<string, MatrixPair>();
  for (const cell of results.cells) {
    const key = JSON.stringify([cell.sender, cell.receiver]);
    if (!pairByKey.has(key)) {
      pairByKey.set(key, {
        sender: cell.sender,
        receiver: cell.receiver,
        label: pairLabel(cell.sender, cell.receiver),
      });
    }
  }
  const pairs = [...pairByKey.values()].sort(
    (a, b) =>
      order(a.receiver) - order(b.receiver) ||
      a.receiver.localeCompare(b.receiver) ||
      order(a.sender) - order(b.sender) ||
      a.sender.localeCompare(b.sender),
  );
  const pairIndex = new Map(pairs.map((p, i) => [JSON.stringify([p.sender, p.receiver]), i]));

  const checks = new Map(results.checks.map((c) => [c.id, c]));
  const rows = new Map<string, MatrixRow>();
  results.cells.forEach((cell, index) => {
    let row = rows.get(cell.checkId);
    if (row === undefined) {
      row = { check: checks.get(cell.checkId) ?? unknownCheck(cell), cells: pairs.map(() => []) };
      rows.set(cell.checkId, row);
    }
    row.cells[pairIndex.get(JSON.stringify([cell.sender, cell.receiver]))!]!.push(index);
  });

  const catalogueOrder = new Map(results.checks.map((c, i) => [c.id, i]));
  const suiteOrder = new Map<string, number>();
  for (const c of results.checks) if (!suiteOrder.has(c.suite)) suiteOrder.set(c.suite, suiteOrder.size);
  const groups = new Map<string, MatrixGroup>();
  const sorted = [...rows.values()].sort(
    (a, b) =>
      (suiteOrder.get(a.check.suite) ?? Number.MAX_SAFE_INTEGER) -
        (suiteOrder.get(b.check.suite) ?? Number.MAX_SAFE_INTEGER) ||
      a.check.suite.localeCompare(b.check.suite) ||
      (catalogueOrder.get(a.check.id) ?? Number.MAX_SAFE_INTEGER) -
        (catalogueOrder.get(b.check.id) ?? Number.MAX_SAFE_INTEGER) ||
      a.check.id.localeCompare(b.check.id),
  );
  for (const row of sorted) {
    let group = groups.get(row.check.suite);
    if (group === undefined) {
      group = { suite: row.check.suite, rows: [] };
      groups.set(row.check.suite, group);
    }
    group.rows.push(row);
  }
  return { pairs, groups: [...groups.values()] };
}

/** One cell whose verdict differs between two runs. */
export interface VerdictChange {
  checkId: string;
  scenarioId: string;
  sender: string;
  receiver: string;
  /** Verdict in the earlier run; undefined when the cell is new. */
  before?: Verdict;
  /** Verdict in the later run; undefined when the cell is gone. */
  after?: Verdict;
  /** Index of the cell in the later run's `cells`, when present there. */
  index?: number;
}

/** What changed between two runs, cell by cell. */
export interface RunDiff {
  /** Failed now, not failed before (including cells that are new and failed). */
  newFailures: VerdictChange[];
  /** Failed before, passed now. */
  fixes: VerdictChange[];
  /** Every other verdict change, new cells and vanished cells included. */
  changed: VerdictChange[];
}

/** A {@link RunDiff} with the run it was taken against, as reports show it. */
export type RunDiffAgainst = RunDiff & { against: { runId: string; startedAt: string } };

/** {@link diffRuns}, labelled with the earlier run. */
export function diffAgainst(previous: RunResults, current: RunResults): RunDiffAgainst {
  return {
    against: { runId: previous.runId, startedAt: previous.startedAt },
    ...diffRuns(previous, current),
  };
}

/** Compares two runs cell by cell (cells are matched by {@link cellKey}). */
export function diffRuns(previous: RunResults, current: RunResults): RunDiff {
  const before = new Map(previous.cells.map((c) => [cellKey(c), c]));
  const diff: RunDiff = { newFailures: [], fixes: [], changed: [] };
  const seen = new Set<string>();
  current.cells.forEach((cell, index) => {
    const key = cellKey(cell);
    seen.add(key);
    const old = before.get(key);
    if (old?.verdict === cell.verdict) return;
    const change: VerdictChange = {
      checkId: cell.checkId,
      scenarioId: cell.scenarioId,
      sender: cell.sender,
      receiver: cell.receiver,
      before: old?.verdict,
      after: cell.verdict,
      index,
    };
    if (cell.verdict === "failed") diff.newFailures.push(change);
    else if (old?.verdict === "failed" && cell.verdict === "passed") diff.fixes.push(change);
    else diff.changed.push(change);
  });
  for (const [key, old] of before) {
    if (seen.has(key)) continue;
    diff.changed.push({
      checkId: old.checkId,
      scenarioId: old.scenarioId,
      sender: old.sender,
      receiver: old.receiver,
      before: old.verdict,
    });
  }
  return diff;
}

/** Milliseconds as a short human duration: `850 ms`, `12.3 s`, `4 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${String(seconds).padStart(2, "0")} s`;
}
