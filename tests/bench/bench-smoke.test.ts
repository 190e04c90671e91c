/**
 * Issue 8: `npm run bench` in its quick form (FEDICHECK_BENCH_QUICK=1) runs end to end and writes a
 * JSON file with every figure. No thresholds: the machine running tests is shared, so the figures
 * are only checked for being there and being numbers.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type BenchReport, medianRun, runBench, scalingRatios } from "../../bench/index.ts";
import { BENCH_RUNS_PARENT, benchRun, type RunFigures, type ScalingPoint } from "../../bench/run.ts";
import { tempDir } from "../temp-dir.ts";

/** Every number a run's figures must carry. */
function expectRunFigures(f: RunFigures, label: string): void {
  for (const key of [
    "targets",
    "pairs",
    "cells",
    "checkResults",
    "wallMs",
    "startupMs",
    "cellsWallMs",
    "harnessCpuMs",
    "harnessShare",
    "waitingOnTargetsMs",
    "targetCpuMs",
    "cpuFloorMs",
  ] as const) {
    expect(Number.isFinite(f[key]), `${label}.${key} = ${String(f[key])}`).toBe(true);
  }
  for (const key of ["waitingMs", "targetCallMs", "harnessMs"] as const)
    expect(Number.isFinite(f.perCell[key]), `${label}.perCell.${key}`).toBe(true);
  expect(f.cells, `${label}: cells ran`).toBeGreaterThan(0);
  expect(f.wallMs).toBeGreaterThan(0);
  // Waiting on targets and the harness's work split the wall time.
  expect(f.waitingOnTargetsMs + Math.min(f.harnessCpuMs, f.wallMs)).toBe(f.wallMs);
  // The cores cannot have done more work than the wall time allows (a floor above it is miscounted).
  expect(f.cpuFloorMs, `${label}: CPU floor within the wall time`).toBeLessThanOrEqual(f.wallMs);
  expect(f.cpuFloorMs).toBeGreaterThan(0);
  expect(Object.values(f.verdicts).reduce((a, b) => a + (b ?? 0), 0)).toBe(f.checkResults);
}

/** The bench's folders of run reports now under reports/. */
async function benchReportFolders(): Promise<string[]> {
  return (await readdir(BENCH_RUNS_PARENT)).filter((name) => name.startsWith("bench-runs-"));
}

describe("npm run bench (quick)", () => {
  it("writes every figure to reports/bench/<timestamp>.json", async () => {
    const outDir = await tempDir("fedicheck-bench-smoke-");
    const foldersBefore = await benchReportFolders();
    const { path, report } = await runBench({ quick: true, outDir, print: false });
    // The runs' reports, kept until the end, are gone with it.
    expect(await benchReportFolders()).toEqual(foldersBefore);
    expect(await readdir(outDir)).toEqual([path.slice(outDir.length + 1)]);
    expect(path).toMatch(/\d{8}T\d{6}\.json$/);
    const onDisk = JSON.parse(await readFile(path, "utf8")) as BenchReport;
    expect(onDisk).toEqual(report);

    expect(onDisk.schema).toBe("fedicheck-bench/1");
    expect(onDisk.quick).toBe(true);
    expect(onDisk.machine.cpus).toBeGreaterThan(0);
    // Validator throughput with the validator issue's ratios.
    for (const key of ["validatePerSec", "jsonldExpandPerSec", "jsonParsePerSec", "pipelineToExpandRatio"])
      expect(Number.isFinite(onDisk.validator[key]), `validator.${key}`).toBe(true);
    // Signatures per second, per scheme.
    for (const scheme of ["draft-cavage-12", "rfc9421"])
      for (const op of ["sign/s", "verify/s"])
        expect(onDisk.signatures[`${scheme} ${op}`], `${scheme} ${op}`).toBeGreaterThan(0);
    // The default run, without screenshots, and without Allure output (which writes no results there).
    expectRunFigures(onDisk.defaultRun, "defaultRun");
    expectRunFigures(onDisk.defaultRunWarm, "defaultRunWarm");
    expectRunFigures(onDisk.defaultRunWithoutScreenshots, "defaultRunWithoutScreenshots");
    expectRunFigures(onDisk.defaultRunWithoutAllure, "defaultRunWithoutAllure");
    expect(onDisk.defaultRunWithoutAllure.checkResults).toBe(onDisk.defaultRun.checkResults);
    // Kernel time is part of the harness's CPU, measured around the whole session.
    expect(onDisk.defaultRun.harnessKernelCpuMs).toBeGreaterThan(0);
    expect(onDisk.defaultRun.harnessKernelCpuMs).toBeLessThan(onDisk.defaultRun.harnessCpuMs + 1000);
    // The quick version measures each warm variant in one round.
    for (const variant of [
      onDisk.defaultRunWarm,
      onDisk.defaultRunWithoutScreenshots,
      onDisk.defaultRunWithoutAllure,
    ])
      expect(variant.harnessCpuMsByRound).toEqual([variant.harnessCpuMs]);
    // Each run gives the CPU a new file cost in its own folder.
    for (const run of [onDisk.defaultRun, onDisk.defaultRunWithoutAllure, ...onDisk.scaling.points])
      expect(run.fileCreationCpuMs, "fileCreationCpuMs").toBeGreaterThan(0);
    // The scaling series: the quick version measures 2 and 4 targets.
    expect(onDisk.scaling.points.map((p) => p.targets)).toEqual([2, 4]);
    for (const point of onDisk.scaling.points) {
      expectRunFigures(point, `scaling n=${point.targets}`);
      for (const key of ["wallRatio", "cellsWallRatio", "pairsRatio"] as const)
        expect(Number.isFinite(point[key]), `n=${point.targets} ${key}`).toBe(true);
    }
    expect(onDisk.scaling.points.map((p) => p.pairs)).toEqual([6, 20]);
    expect(onDisk.scaling.points[0]?.wallRatio).toBe(1);
    // Not measured in the quick version.
    expect(onDisk.scaling.wallRatio8to2).toBeNull();
    expect(onDisk.scaling.cpuFloorRatio8to2).toBeNull();
  }, 300_000);

  it("takes each warm variant's median round by harness CPU, keeping every round's figure", () => {
    const runs = [300, 100, 200].map((harnessCpuMs) => ({ harnessCpuMs, wallMs: 1000 }) as RunFigures);
    const median = medianRun(runs.map((r) => ({ ...r, suites: "all" })));
    expect(median.harnessCpuMs).toBe(200);
    expect(median.harnessCpuMsByRound).toEqual([300, 100, 200]);
  });

  it("sets 8 targets against 2: wall, cells, and the least ratio the CPU allows", () => {
    const point = (
      targets: number,
      wallMs: number,
      cellsWallMs: number,
      startupMs: number,
      cpuFloorMs: number,
    ) => ({ targets, wallMs, cellsWallMs, startupMs, cpuFloorMs }) as ScalingPoint;
    const points = [
      point(2, 1000, 800, 200, 600),
      point(4, 2500, 2000, 500, 1800),
      point(8, 9000, 8000, 1000, 7000),
    ];
    expect(scalingRatios(points)).toEqual({ wallRatio8to2: 9, cellsWallRatio8to2: 10, cpuFloorRatio8to2: 8 });
    expect(scalingRatios(points.slice(0, 2))).toEqual({
      wallRatio8to2: null,
      cellsWallRatio8to2: null,
      cpuFloorRatio8to2: null,
    });
  });

  it("leaves a run's reports in the folder it is given, for the caller to remove after measuring", async () => {
    const reportsDir = await tempDir("fedicheck-bench-reports-");
    const figures = await benchRun({ suites: ["discovery"], checks: ["DSC-WF-01"], reportsDir });
    expect(figures.cells).toBeGreaterThan(0);
    const [runFolder, ...others] = await readdir(reportsDir);
    expect(others).toEqual([]);
    const [runDir] = await readdir(join(reportsDir, runFolder!));
    expect(await readdir(join(reportsDir, runFolder!, runDir!))).toContain("results.json");
  }, 120_000);
});
