/**
 * The reports of a run, written side by side in one directory: `results.json` (the data every other
 * report is made from), `junit.xml` for CI, `summary.md` for pull requests and `index.html`, the
 * dashboard. `report` reads only results files, so any stored run can be re-rendered and runs from
 * several machines merged first.
 * @module
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { RunResults } from "../core/model.ts";
import { renderDashboard } from "./html.ts";
import { renderJUnit } from "./junit.ts";
import { renderMarkdown } from "./markdown.ts";
import { type SupportReportPaths, writeSupportReports } from "./support-tables.ts";
import { RESULTS_FILE, serializeResults, writeFileAtomic } from "./writer.ts";

export { mergeResults } from "./merge.ts";
export { readResults, validateResults } from "./results-schema.ts";
export { createResultsWriter } from "./writer.ts";
export { renderDashboard, renderJUnit, renderMarkdown };

/** Options of {@link writeReports}. */
export interface WriteReportsOptions {
  /** A run to compare with (the summary's baseline section, the dashboard's diff panel). Default none. */
  baseline?: RunResults;
  /** Earlier runs for the dashboard's trends. Default none. */
  history?: RunResults[];
  /**
   * Also (re)write `results.json`. Default true; the runner, whose writer already keeps it, passes
   * false so a report never races the writer.
   */
  json?: boolean;
}

/** Paths of the files {@link writeReports} wrote. */
export interface WrittenReports {
  results?: string;
  junit: string;
  summary: string;
  dashboard: string;
  /** support.html, support.json and support.md, when the run has support cells (issue 10). */
  support?: SupportReportPaths;
}

/** File names inside a report directory. */
export const REPORT_FILES = {
  junit: "junit.xml",
  summary: "summary.md",
  dashboard: "index.html",
} as const;

/**
 * Writes every report of `results` into `runDir` (created if needed). Each file is replaced
 * atomically, so a dashboard open in a browser or a CI step reading the summary never sees half a file.
 */
export async function writeReports(
  runDir: string,
  results: RunResults,
  options: WriteReportsOptions = {},
): Promise<WrittenReports> {
  await mkdir(runDir, { recursive: true });
  const written: WrittenReports = {
    junit: join(runDir, REPORT_FILES.junit),
    summary: join(runDir, REPORT_FILES.summary),
    dashboard: join(runDir, REPORT_FILES.dashboard),
  };
  const jobs: Array<Promise<void>> = [
    writeFileAtomic(written.junit, renderJUnit(results)),
    writeFileAtomic(written.summary, renderMarkdown(results, { baseline: options.baseline })),
    writeFileAtomic(
      written.dashboard,
      renderDashboard(results, { previous: options.baseline, history: options.history }),
    ),
  ];
  if (options.json ?? true) {
    written.results = join(runDir, RESULTS_FILE);
    jobs.push(writeFileAtomic(written.results, serializeResults(results)));
  }
  await Promise.all(jobs);
  // Issue 10: the support tables, when the run has support-suite cells.
  const support = await writeSupportReports(
    runDir,
    results,
    options.baseline ? { previous: options.baseline } : {},
  );
  if (support !== undefined) written.support = support;
  return written;
}
