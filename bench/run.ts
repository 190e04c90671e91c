/**
 * Benchmarks of whole runs (issue 8): the default run's wall time split into waiting on targets and
 * the harness's own work, and how wall time grows with the number of fedify-ref targets (process
 * runtime) while the pairs grow as n². Each figure comes from a real {@link runSession}, so it
 * measures what `fedicheck run` does. Run one directly: `node bin/run-ts.js bench/run.ts`.
 * @module
 */
import { existsSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type RunConfig, resolveConfig } from "../harness/core/config.ts";
import type { RunResults, Verdict } from "../harness/core/model.ts";
import { runSession } from "../harness/core/session.ts";
import { createKeyPool, defaultKeyCacheFile, useProbeKeyPool } from "../harness/protocol/key-pool.ts";
import { ALLURE_DIRS } from "../harness/report/allure.ts";
import { REPO_ROOT } from "../harness/runtime/repo.ts";
import { CHECKS } from "../suites/catalogue.ts";
import { ALL_SCENARIOS, DEFAULT_SUITES } from "../suites/index.ts";

/** Where one run's time went (all ms unless named otherwise). */
export interface RunFigures {
  /** Non-probe targets. */
  targets: number;
  /** Ordered sender→receiver pairs among all targets, the probe included: (n + 1) · n. */
  pairs: number;
  cells: number;
  checkResults: number;
  verdicts: Partial<Record<Verdict, number>>;
  /** The whole run: start targets, run the cells, write the results. */
  wallMs: number;
  startupMs: number;
  cellsWallMs: number;
  /** CPU time of the harness process: its own work. */
  harnessCpuMs: number;
  /** harnessCpuMs / wallMs: under 0.2 means the harness is never the bottleneck. */
  harnessShare: number;
  /** wallMs − harnessCpuMs: the time the harness was not working, i.e. waiting on targets. */
  waitingOnTargetsMs: number;
  /** Summed over cells: in waits (polls, inbox events), in calls to targets, and the rest (harness code). */
  perCell: { waitingMs: number; targetCallMs: number; harnessMs: number };
  /** CPU time of the target processes during the cells, summed. */
  targetCpuMs: number;
  /** harnessCpuMs / (harnessCpuMs + targetCpuMs): the harness's part of all the CPU the run used. */
  harnessShareOfCpu: number;
  /**
   * (harnessCpuMs + targetCpuMs) / (wallMs · cores): how busy the machine was. Near 1 the run is
   * CPU-bound (more cores, not more parallelism, would shorten it); well below 1 it waits on latency.
   */
  machineBusy: number;
  /**
   * (harnessCpuMs + targetCpuMs) / cores: the least time the run's work takes on this machine even
   * if nothing ever waited. When cellsWallMs is close to it, only more cores shorten the run.
   */
  cpuFloorMs: number;
  /**
   * The harness's system (kernel) CPU time, measured around the whole session: sockets and file
   * creation (see {@link fileCreationCpuMs}). Set by {@link benchRun}.
   */
  harnessKernelCpuMs?: number;
  /**
   * CPU ms to create one small file in the folder this run wrote its Allure results to (or its run
   * folder, without Allure output), measured right after the run: about what each of its files cost.
   * Set by {@link benchRun}.
   */
  fileCreationCpuMs?: number;
}

/** Options of {@link benchRun}. */
export interface BenchRunOptions {
  /** Number of fedify-ref process targets. Default 2 (the default run). */
  targets?: number;
  /** Suites to run. Default: those `fedicheck run` runs (every suite but the support tables). */
  suites?: string[];
  /** Check ids or globs (scenarios deciding them). Default: all. */
  checks?: string[];
  /** Overrides of the run configuration (concurrency…). Default none. */
  config?: Partial<RunConfig>;
  /**
   * A folder to write the run's reports in (a folder of its own inside), left for the caller to
   * remove once it has measured everything: deleting a run's ~800 files right before the next run
   * makes that run's files dear (see {@link fileCreationCpuMs}). Default: a new folder under
   * {@link BENCH_RUNS_PARENT}, removed after the run.
   */
  reportsDir?: string;
}

/** Summarises a finished run's results into {@link RunFigures}. */
export function figuresOf(results: RunResults, targets: number): RunFigures {
  const timing = results.timing;
  if (!timing) throw new Error(`run ${results.runId} has no timing`);
  const verdicts: Partial<Record<Verdict, number>> = {};
  for (const cell of results.cells) verdicts[cell.verdict] = (verdicts[cell.verdict] ?? 0) + 1;
  const cells = new Set(results.cells.map((c) => `${c.scenarioId}@${c.sender}->${c.receiver}`)).size;
  const harnessCpuMs = timing.harnessCpuMs ?? 0;
  const targetCallMs = timing.targetCallMs ?? 0;
  const targetCpuMs = Object.values(timing.targetCpuMs ?? {}).reduce((sum, ms) => sum + ms, 0);
  return {
    targets,
    pairs: (targets + 1) * targets,
    cells,
    checkResults: results.cells.length,
    verdicts,
    wallMs: timing.wallMs,
    startupMs: timing.startupMs ?? 0,
    cellsWallMs: timing.cellsWallMs ?? 0,
    harnessCpuMs,
    harnessShare: round(harnessCpuMs / Math.max(1, timing.wallMs), 3),
    waitingOnTargetsMs: Math.max(0, timing.wallMs - harnessCpuMs),
    perCell: {
      waitingMs: timing.waitingMs,
      targetCallMs,
      harnessMs: Math.max(0, timing.workingMs - targetCallMs),
    },
    targetCpuMs,
    harnessShareOfCpu: round(harnessCpuMs / Math.max(1, harnessCpuMs + targetCpuMs), 3),
    machineBusy: round((harnessCpuMs + targetCpuMs) / Math.max(1, timing.wallMs * availableParallelism()), 2),
    cpuFloorMs: Math.round((harnessCpuMs + targetCpuMs) / availableParallelism()),
  };
}

/** Where the bench's runs write their reports: under `reports/`, as `fedicheck run` does. */
export const BENCH_RUNS_PARENT = join(REPO_ROOT, "reports");

/** Runs one session as `fedicheck run` would (reports in a folder of their own) and returns its figures. */
export async function benchRun(options: BenchRunOptions = {}): Promise<RunFigures> {
  const n = options.targets ?? 2;
  const own = options.reportsDir === undefined;
  const reportsDir = options.reportsDir ?? (await makeBenchReportsDir());
  // A fresh pool reads the key cache from its start, as a new `fedicheck run` process would; the
  // process-wide pool would hand out every key once and leave later runs of the bench without.
  const previousPool = useProbeKeyPool(createKeyPool({ cacheFile: defaultKeyCacheFile() }));
  try {
    const config = resolveConfig({
      targets: Array.from({ length: n }, (_, i) => ({ id: targetId(i), implementation: "fedify-ref" })),
      outDir: await mkdtemp(join(reportsDir, "run-")),
      // As `fedicheck run`: the default suites unless told otherwise.
      suites: options.suites ?? [...DEFAULT_SUITES],
      ...(options.checks ? { checks: options.checks } : {}),
      ...options.config,
    });
    const cpuBefore = process.cpuUsage();
    const outcome = await runSession({
      config,
      scenarios: ALL_SCENARIOS,
      checks: CHECKS,
      command: `bench: ${n} fedify-ref targets`,
    });
    const kernelMs = Math.round(process.cpuUsage(cpuBefore).system / 1000);
    const allureDir = join(outcome.runDir, ALLURE_DIRS.results);
    return {
      ...figuresOf(outcome.results, n),
      harnessKernelCpuMs: kernelMs,
      fileCreationCpuMs: fileCreationCpuMs(existsSync(allureDir) ? allureDir : outcome.runDir),
    };
  } finally {
    useProbeKeyPool(previousPool);
    if (own) await rm(reportsDir, { recursive: true, force: true });
  }
}

/** A new, empty folder under {@link BENCH_RUNS_PARENT} for runs' reports ({@link BenchRunOptions.reportsDir}). */
export async function makeBenchReportsDir(): Promise<string> {
  await mkdir(BENCH_RUNS_PARENT, { recursive: true });
  return mkdtemp(join(BENCH_RUNS_PARENT, "bench-runs-"));
}

/** `fedify-a` … `fedify-z`, then `fedify-27` and on. */
function targetId(i: number): string {
  return i < 26 ? `fedify-${String.fromCharCode(97 + i)}` : `fedify-${i + 1}`;
}

/** One point of the scaling series. */
export interface ScalingPoint extends RunFigures {
  /** wallMs / wallMs at the smallest n. */
  wallRatio: number;
  /** cellsWallMs / cellsWallMs at the smallest n. */
  cellsWallRatio: number;
  /** pairs / pairs at the smallest n. */
  pairsRatio: number;
}

/** Options of {@link benchScaling}. */
export interface BenchScalingOptions {
  /** Numbers of fedify-ref targets, smallest first. Default [2, 4, 8, 16]. */
  sizes?: number[];
  /** The checks whose scenarios run at every size. Default {@link SCALING_CHECKS}. */
  checks?: string[];
  config?: Partial<RunConfig>;
  /** See {@link BenchRunOptions.reportsDir}. Default: a folder per size, removed after it. */
  reportsDir?: string;
  /** Called after each size (progress). */
  onPoint?: (point: ScalingPoint) => void;
}

/**
 * The scaling subset: follow with its Accept (FOL-02, follow.auto-accept) and a post delivered to a
 * follower (PST-02, post.visibility), both on every ordered pair. Two round trips that every
 * implementation pair does, cheap enough that 16 targets (272 pairs) finish in minutes.
 */
export const SCALING_CHECKS = ["FOL-02", "PST-02"];

/** Runs the scaling subset with growing numbers of targets; ratios are against the smallest size. */
export async function benchScaling(options: BenchScalingOptions = {}): Promise<ScalingPoint[]> {
  const sizes = options.sizes ?? [2, 4, 8, 16];
  const points: ScalingPoint[] = [];
  for (const n of sizes) {
    const figures = await benchRun({
      targets: n,
      checks: options.checks ?? SCALING_CHECKS,
      ...(options.config ? { config: options.config } : {}),
      ...(options.reportsDir ? { reportsDir: options.reportsDir } : {}),
    });
    const base = points[0] ?? figures;
    const point: ScalingPoint = {
      ...figures,
      wallRatio: round(figures.wallMs / Math.max(1, base.wallMs), 2),
      cellsWallRatio: round(figures.cellsWallMs / Math.max(1, base.cellsWallMs), 2),
      pairsRatio: round(figures.pairs / Math.max(1, base.pairs), 2),
    };
    points.push(point);
    options.onPoint?.(point);
  }
  return points;
}

/**
 * CPU time (ms) this process spends creating one small file in `dir`, averaged over `count` files,
 * which it leaves there (removing them would make the next files made nearby dearer).
 *
 * Our machines' disk is ext4 without a journal. There, the kernel will not reuse an inode freed in
 * the last minute (six while its inode-table block is not yet written back) and checks each such
 * free inode it meets, so a new file costs ~0.02 ms of CPU normally and 0.2–0.9 ms when thousands of
 * files were just deleted nearby, growing with their number. The bench used to delete each run's
 * ~800 report files as soon as it ended, which made every next run's Allure output up to 0.7 s
 * dearer; it now keeps them until it has measured everything, and gives this figure for each run.
 */
export function fileCreationCpuMs(dir: string, count = 100): number {
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `.fedicheck-bench-${process.pid}-${i}.json`), "{}");
  const used = process.cpuUsage(before);
  return round((used.user + used.system) / 1000 / count, 3);
}

/** `value` rounded to `digits` decimals. */
export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchRun(), null, 2));
}
