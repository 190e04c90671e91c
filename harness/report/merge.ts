/**
 * Merges results files: the shards of one matrix run on several CI machines, or runs of different
 * suites that should read as one report.
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import type { CheckDefinition, RunResults, TargetInfo } from "../core/model.ts";
import { cellKey, pairLabel } from "./analysis.ts";

/** Results that cannot be merged; the message names the conflicting item and the inputs. */
export class MergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MergeError";
  }
}

function union<T extends { id: string }>(
  runs: readonly RunResults[],
  pick: (run: RunResults) => readonly T[],
  what: string,
  comparable: (item: T) => unknown = (item) => item,
): T[] {
  const byId = new Map<string, { item: T; from: string }>();
  for (const run of runs) {
    for (const item of pick(run)) {
      const known = byId.get(item.id);
      if (known === undefined) byId.set(item.id, { item, from: run.runId });
      else if (!isDeepStrictEqual(comparable(known.item), comparable(item))) {
        throw new MergeError(
          `${what} '${item.id}' differs between run ${known.from} and run ${run.runId}; ` +
            `merge only results made with the same ${what === "target" ? "targets" : "check catalogue"}.`,
        );
      }
    }
  }
  return [...byId.values()].map((v) => v.item);
}

/**
 * Merges runs into one:
 * - targets and checks: the union by id; the same id with different content is an error, except a
 *   target's origin, which differs between shards that each started their own targets (the first
 *   input's origin is kept);
 * - cells: concatenated in input order; two cells with the same check, scenario, sender and receiver
 *   are an error unless identical (then one is kept);
 * - status: `completed` only if every input is; `interrupted` if any is; else `running`;
 * - runId: kept when all inputs share it (shards of one run), else `merged-` + the ids joined by `+`;
 * - startedAt/finishedAt: the earliest start and the latest finish (none if any input is unfinished);
 * - timing: waiting, working, CPU and other per-run times added up (per target for target CPU), wall
 *   time from start to finish;
 * - shard: dropped (the result covers the union).
 * @throws {MergeError} on conflicts or an empty list.
 */
export function mergeResults(runs: readonly RunResults[]): RunResults {
  const [first] = runs;
  if (first === undefined) throw new MergeError("nothing to merge: expected at least one results file.");
  if (runs.length === 1) return structuredClone(first);

  const targets: TargetInfo[] = union(
    runs,
    (r) => r.targets,
    "target",
    ({ origin: _o, ...rest }) => rest,
  );
  const checks: CheckDefinition[] = union(runs, (r) => r.checks, "check");

  const seen = new Map<string, { cell: RunResults["cells"][number]; from: string }>();
  const cells: RunResults["cells"] = [];
  for (const run of runs) {
    for (const cell of run.cells) {
      const key = cellKey(cell);
      const known = seen.get(key);
      if (known === undefined) {
        seen.set(key, { cell, from: run.runId });
        cells.push(cell);
      } else if (!isDeepStrictEqual(known.cell, cell)) {
        throw new MergeError(
          `cell ${cell.checkId} (${cell.scenarioId}) on ${pairLabel(cell.sender, cell.receiver)} is in run ` +
            `${known.from} and run ${run.runId} with different results; shards must not overlap. ` +
            "Check the --shard options of the runs.",
        );
      }
    }
  }

  const ids = [...new Set(runs.map((r) => r.runId))];
  const statuses = runs.map((r) => r.status);
  const status: RunResults["status"] = statuses.every((s) => s === "completed")
    ? "completed"
    : statuses.includes("interrupted")
      ? "interrupted"
      : "running";
  const startedAt = runs.map((r) => r.startedAt).sort()[0]!;
  const finishes = runs.map((r) => r.finishedAt);
  const finishedAt = finishes.every((f) => f !== undefined)
    ? (finishes as string[]).sort().at(-1)
    : undefined;
  const commands = [...new Set(runs.map((r) => r.command))];

  const merged: RunResults = {
    schemaVersion: 1,
    runId: ids.length === 1 ? first.runId : `merged-${ids.join("+")}`,
    tool: first.tool,
    startedAt,
    status,
    command: commands.join(" ; "),
    targets,
    checks,
    cells: structuredClone(cells),
  };
  if (finishedAt !== undefined) merged.finishedAt = finishedAt;
  if (runs.every((r) => r.timing !== undefined)) {
    const sum = (pick: (t: NonNullable<RunResults["timing"]>) => number) =>
      runs.reduce((total, r) => total + pick(r.timing!), 0);
    merged.timing = {
      wallMs:
        finishedAt === undefined ? sum((t) => t.wallMs) : Date.parse(finishedAt) - Date.parse(startedAt),
      waitingMs: sum((t) => t.waitingMs),
      workingMs: sum((t) => t.workingMs),
    };
    // Issue 8's additive figures: added up when every input has them.
    for (const key of ["startupMs", "cellsWallMs", "targetCallMs", "harnessCpuMs"] as const) {
      if (runs.every((r) => r.timing?.[key] !== undefined)) merged.timing[key] = sum((t) => t[key] ?? 0);
    }
    const targetCpu: Record<string, number> = {};
    for (const run of runs) {
      for (const [id, ms] of Object.entries(run.timing?.targetCpuMs ?? {}))
        targetCpu[id] = (targetCpu[id] ?? 0) + ms;
    }
    if (Object.keys(targetCpu).length > 0) merged.timing.targetCpuMs = targetCpu;
  }
  return merged;
}
