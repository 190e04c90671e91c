/**
 * `npm run bench`: every performance figure of fedicheck side by side in one process run (issue 8),
 * so that load from other processes hits them alike:
 * 1. the full default run (probe + two fedify-ref processes, the default suites, as `fedicheck run`
 *    does it), first, so that nothing has warmed up its code: wall time split into waiting on
 *    targets and the harness's own work (its CPU time), and per-cell sums; then, warm, the same run
 *    again, without browser screenshots and without Allure output, three rounds in rotating order
 *    (medians), to show what each costs, each with the CPU a new file cost in its folder (dear right
 *    after many deletions on our disks, see `fileCreationCpuMs` in bench/run.ts);
 * 2. validator throughput, with the validator issue's ratios (bench/validate.ts);
 * 3. HTTP signatures per second, per scheme (bench/signatures.ts);
 * 4. the scaling series: the scaling subset with 2, 4, 8 and 16 fedify-ref targets, wall time and
 *    its ratio to n = 2 next to the pairs' ratio (which grows as n²). Screenshots are off there:
 *    the series measures the scheduling of federation work, not the browser.
 * Figures go to `reports/bench/<timestamp>.json` (`FEDICHECK_BENCH_OUT` moves the folder) so runs can
 * be compared, and a table is printed. `FEDICHECK_BENCH_QUICK=1` runs a reduced version for smoke
 * tests: shorter measurements, the discovery and follow suites instead of all, sizes 2 and 4.
 *
 * Every run's reports stay on disk until the bench ends: deleting a run's files right before the
 * next run made that run's files dear.
 *
 * Before measuring, the key cache (harness/protocol/key-pool.ts) is filled to what the runs need,
 * so the runs measure the steady state every run after the first has; the warm-up is reported.
 * @module
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunConfig } from "../harness/core/config.ts";
import { defaultKeyCacheFile, fillKeyCache } from "../harness/protocol/key-pool.ts";
import {
  benchRun,
  benchScaling,
  makeBenchReportsDir,
  type RunFigures,
  round,
  SCALING_CHECKS,
  type ScalingPoint,
} from "./run.ts";
import { benchSignatures } from "./signatures.ts";
import { benchValidate } from "./validate.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));

/** Everything one bench run measured (the JSON file's content). */
export interface BenchReport {
  schema: "fedicheck-bench/1";
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: {
    node: string;
    platform: string;
    cpus: number;
    loadAverageAtStart: number[];
  };
  keyCache: { file: string | null; keysWanted: number; generatedForWarmUp: number; warmUpMs: number };
  validator: Record<string, number>;
  signatures: Record<string, number>;
  /** The first default run in the process, as close as the bench gets to a fresh `fedicheck run`. */
  defaultRun: RunFigures & { suites: string };
  /**
   * The same run again, warm: the baseline of the two variants below. Each of the three is measured
   * once per round, in rotating order (see {@link VariantFigures}).
   */
  defaultRunWarm: VariantFigures;
  /** The same run with `screenshots: "off"`. */
  defaultRunWithoutScreenshots: VariantFigures;
  /** The same run with `allure: false` (no allure-results: ~800 files fewer). */
  defaultRunWithoutAllure: VariantFigures;
  scaling: {
    checks: string[];
    points: ScalingPoint[];
    /** Wall time at 8 targets over wall time at 2 (null when 8 was not measured). */
    wallRatio8to2: number | null;
    /** The same for the cell phase only (target start-up excluded). */
    cellsWallRatio8to2: number | null;
    /**
     * The least wallRatio8to2 this machine allows: 8 targets' start-up plus their CPU floor (see
     * RunFigures.cpuFloorMs), over the wall time at 2. Near wallRatio8to2, the series is CPU-bound:
     * scheduling cannot bring the ratio much under this figure on these cores, only more cores can.
     */
    cpuFloorRatio8to2: number | null;
  };
}

/**
 * One variant of the warm default run: the figures of its round with the median harness CPU, and
 * the harness CPU of every round. A process keeps getting faster over its first few runs (V8 keeps
 * optimising), so variants measured one after the other would credit the later ones with that;
 * rotating the order each round gives each variant every position once.
 */
export type VariantFigures = RunFigures & { suites: string; harnessCpuMsByRound: number[] };

/** Options of {@link runBench}. */
export interface RunBenchOptions {
  /** Reduced version (see the module doc). Default: `FEDICHECK_BENCH_QUICK=1`. */
  quick?: boolean;
  /** Folder of the JSON file. Default `FEDICHECK_BENCH_OUT` or `reports/bench`. */
  outDir?: string;
  /** Print progress and the table. Default true. */
  print?: boolean;
}

/** Runs the whole bench, writes the JSON file and returns its path and content. */
export async function runBench(
  options: RunBenchOptions = {},
): Promise<{ path: string; report: BenchReport }> {
  const reportsDir = await makeBenchReportsDir();
  try {
    return await measure(options, reportsDir);
  } finally {
    await rm(reportsDir, { recursive: true, force: true });
  }
}

/** {@link runBench}, every run writing its reports under `reportsDir`. */
async function measure(
  options: RunBenchOptions,
  reportsDir: string,
): Promise<{ path: string; report: BenchReport }> {
  const quick = options.quick ?? process.env.FEDICHECK_BENCH_QUICK === "1";
  const print = options.print ?? true;
  const log = (text: string) => {
    if (print) console.log(text);
  };
  const startedAt = new Date();
  const loadAverageAtStart = loadavg().map((l) => round(l, 2));
  const sizes = quick ? [2, 4] : [2, 4, 8, 16];
  const defaultSuites = quick ? ["discovery", "follow"] : undefined;

  // Keys for the default run (~350 actors) and the largest size (~70 per target and the probe's);
  // the quick version is a smoke test and measures whatever the cache holds.
  const keysWanted = quick ? 0 : 1400;
  const cacheFile = defaultKeyCacheFile();
  const warmStart = Date.now();
  const generated = cacheFile ? await fillKeyCache(cacheFile, keysWanted) : 0;
  const keyCache = {
    file: cacheFile ?? null,
    keysWanted,
    generatedForWarmUp: generated,
    warmUpMs: Date.now() - warmStart,
  };
  log(
    `key cache: ${cacheFile ?? "off"} (${generated} keys generated in ${keyCache.warmUpMs} ms for the warm-up)`,
  );

  log(`\n== default run (${defaultSuites ? defaultSuites.join(", ") : "every suite"}; probe + 2 fedify-ref)`);
  const suites = defaultSuites ? defaultSuites.join(",") : "all";
  const runDefault = async (label: string, config: Partial<RunConfig> = {}) => {
    const figures = {
      ...(await benchRun({ ...(defaultSuites ? { suites: defaultSuites } : {}), config, reportsDir })),
      suites,
    };
    log(`   ${label}: ${runLine(figures)}`);
    return figures;
  };
  const defaultRun = await runDefault("first run in this process");
  // The first session also pays for compiling the harness's code (V8's JIT, on threads of its own):
  // the variants are compared with each other, warm, not with the first run.
  const variants: Array<{
    label: string;
    config: Partial<RunConfig>;
    runs: Array<RunFigures & { suites: string }>;
  }> = [
    { label: "again (warm)", config: {}, runs: [] },
    { label: "without browser screenshots", config: { screenshots: "off" }, runs: [] },
    { label: "without Allure output", config: { allure: false }, runs: [] },
  ];
  const rounds = quick ? 1 : 3;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(i + r) % variants.length]!;
      variant.runs.push(await runDefault(`round ${r + 1}, ${variant.label}`, variant.config));
    }
  }
  const [defaultRunWarm, defaultRunWithoutScreenshots, defaultRunWithoutAllure] = variants.map((v) =>
    medianRun(v.runs),
  ) as [VariantFigures, VariantFigures, VariantFigures];

  // After the default runs: validating and signing would warm up the code the first run measures.
  log("\n== validator throughput");
  const validator = await benchValidate(quick ? { rounds: 3, passes: 2, print } : { print });
  log("\n== HTTP signatures");
  const signatures = await benchSignatures({ durationMs: quick ? 200 : 1000 });

  log(`\n== scaling: ${SCALING_CHECKS.join(", ")} on every pair, ${sizes.join(", ")} fedify-ref targets`);
  const points = await benchScaling({
    sizes,
    reportsDir,
    config: { screenshots: "off" },
    onPoint: (p) => log(`n=${p.targets}: ${runLine(p)}`),
  });
  const report: BenchReport = {
    schema: "fedicheck-bench/1",
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    quick,
    machine: {
      node: process.version,
      platform: process.platform,
      // The cores this process may use (a CPU affinity mask, e.g. taskset, lowers it).
      cpus: availableParallelism(),
      loadAverageAtStart,
    },
    keyCache,
    validator,
    signatures,
    defaultRun,
    defaultRunWarm,
    defaultRunWithoutScreenshots,
    defaultRunWithoutAllure,
    scaling: { checks: SCALING_CHECKS, points, ...scalingRatios(points) },
  };
  const outDir = resolve(options.outDir ?? process.env.FEDICHECK_BENCH_OUT ?? join(REPO, "reports", "bench"));
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, `${startedAt.toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}.json`);
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  if (print) printTable(report);
  log(`\nfigures written to ${path}`);
  return { path, report };
}

/** The 8-to-2 ratios of {@link BenchReport.scaling}; null when either size is missing. */
export function scalingRatios(
  points: readonly ScalingPoint[],
): Pick<BenchReport["scaling"], "wallRatio8to2" | "cellsWallRatio8to2" | "cpuFloorRatio8to2"> {
  const two = points.find((p) => p.targets === 2);
  const eight = points.find((p) => p.targets === 8);
  const ratio = (top: (p: ScalingPoint) => number, bottom = top) =>
    two && eight ? round(top(eight) / Math.max(1, bottom(two)), 2) : null;
  return {
    wallRatio8to2: ratio((p) => p.wallMs),
    cellsWallRatio8to2: ratio((p) => p.cellsWallMs),
    cpuFloorRatio8to2: ratio(
      (p) => p.startupMs + p.cpuFloorMs,
      (p) => p.wallMs,
    ),
  };
}

/** The run with the median harness CPU (the upper one of an even count), with every run's figure. */
export function medianRun(runs: Array<RunFigures & { suites: string }>): VariantFigures {
  const sorted = [...runs].sort((a, b) => a.harnessCpuMs - b.harnessCpuMs);
  return { ...sorted[Math.floor(sorted.length / 2)]!, harnessCpuMsByRound: runs.map((r) => r.harnessCpuMs) };
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function runLine(f: RunFigures): string {
  return (
    `${f.cells} cells (${f.checkResults} check results) in ${s(f.wallMs)}: start ${s(f.startupMs)}, cells ${s(f.cellsWallMs)}; ` +
    `harness CPU ${s(f.harnessCpuMs)} (${(100 * f.harnessShare).toFixed(1)}% of wall, ${(100 * f.harnessShareOfCpu).toFixed(1)}% of the run's CPU` +
    `${f.harnessKernelCpuMs === undefined ? "" : `, ${s(f.harnessKernelCpuMs)} of it in the kernel`}` +
    `${f.fileCreationCpuMs === undefined ? "" : `; ${f.fileCreationCpuMs} ms per new file there`}), ` +
    `targets' CPU ${s(f.targetCpuMs)}, machine ${(100 * f.machineBusy).toFixed(0)}% busy`
  );
}

function printTable(report: BenchReport): void {
  const d = report.defaultRun;
  const pct = (share: number) => `${(100 * share).toFixed(1)}%`;
  const variants: Array<[string, RunFigures]> = [
    ["warm run (median of rounds)", report.defaultRunWarm],
    ["  without screenshots", report.defaultRunWithoutScreenshots],
    ["  without Allure output", report.defaultRunWithoutAllure],
  ];
  console.log("\n== summary");
  console.table([
    { measure: "validate() docs/s", value: report.validator.validatePerSec },
    { measure: "validate / jsonld.expand", value: report.validator.pipelineToExpandRatio },
    ...Object.entries(report.signatures).map(([measure, value]) => ({ measure, value })),
    { measure: "default run: wall", value: s(d.wallMs) },
    { measure: "  waiting on targets (wall − harness CPU)", value: s(d.waitingOnTargetsMs) },
    { measure: "  harness work (harness CPU)", value: s(d.harnessCpuMs) },
    { measure: "  harness share of wall", value: pct(d.harnessShare) },
    { measure: "  harness CPU in the kernel (sockets, files)", value: s(d.harnessKernelCpuMs ?? 0) },
    { measure: "  targets' CPU", value: s(d.targetCpuMs) },
    { measure: "  harness share of the run's CPU", value: pct(d.harnessShareOfCpu) },
    { measure: "  machine busy (all CPU / wall · cores)", value: `${(100 * d.machineBusy).toFixed(0)}%` },
    {
      measure: "  cells: waiting / target calls / harness (summed)",
      value: `${s(d.perCell.waitingMs)} / ${s(d.perCell.targetCallMs)} / ${s(d.perCell.harnessMs)}`,
    },
    ...variants.map(([measure, f]) => ({
      measure: `${measure}: wall, harness CPU (share of wall)`,
      value: `${s(f.wallMs)}, ${s(f.harnessCpuMs)} (${pct(f.harnessShare)})`,
    })),
    {
      measure: "CPU ms per new file in the run's folder: first / warm / no screenshots / no Allure",
      value: [d, ...variants.map(([, f]) => f)].map((f) => f.fileCreationCpuMs ?? "-").join(" / "),
    },
  ]);
  console.table(
    report.scaling.points.map((p) => ({
      targets: p.targets,
      pairs: p.pairs,
      "pairs ×": p.pairsRatio,
      cells: p.cells,
      wall: s(p.wallMs),
      "wall ×": p.wallRatio,
      "cells wall": s(p.cellsWallMs),
      "cells wall ×": p.cellsWallRatio,
      "CPU floor": s(p.cpuFloorMs),
      "harness %": (100 * p.harnessShare).toFixed(1),
      "busy %": (100 * p.machineBusy).toFixed(0),
      failed: (p.verdicts.failed ?? 0) + (p.verdicts.errored ?? 0),
    })),
  );
  if (report.scaling.wallRatio8to2 !== null) {
    console.log(
      `8 vs 2 targets: wall ×${report.scaling.wallRatio8to2} (cells only ×${report.scaling.cellsWallRatio8to2}) for ×16 the pairs among fedify-ref targets; ` +
        `on ${report.machine.cpus} cores the CPU alone allows no better than about ×${report.scaling.cpuFloorRatio8to2} (8 targets' start-up plus their CPU spread over every core)`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  await runBench();
}
