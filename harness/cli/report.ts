/**
 * `fedicheck report <run-dir|results.json>…`: renders the reports of stored runs (junit.xml,
 * summary.md, index.html) from their results files alone, so any run can be re-rendered later and the
 * shards of a matrix run on several machines can be reported as one.
 * @module
 */
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { RunResults } from "../core/model.ts";
import { AllureError, writeAllureSite } from "../report/allure.ts";
import { countVerdicts } from "../report/analysis.ts";
import { DIRECTORY_MARKER, isSqliteLocation, openHistory } from "../report/history.ts";
import { writeReports } from "../report/index.ts";
import { MergeError, mergeResults } from "../report/merge.ts";
import { ResultsFileError, readResults } from "../report/results-schema.ts";
import { parseOrUsage, UsageError } from "./main.ts";

const HELP = `usage: fedicheck report <run-dir|results.json>… [options]

Renders the reports of stored runs: junit.xml (CI), summary.md (pull requests) and index.html
(the dashboard, one self-contained file). Several inputs are merged first: the shards of one run,
or runs of different suites over the same targets.

options:
  --out <dir>          where to write (default: the input's run directory; required with several inputs)
  --previous <file>    a results.json or run directory to compare with: new failures, fixes
                       (--baseline is the same)
  --history <file>     an earlier run for the dashboard's trends (repeatable), or a history store
                       (.sqlite file or directory, see fedicheck history): its last 20 runs
  --allure             also generate the Allure site (allure-report/) with allure-commandline (needs Java)
  -h, --help           show this help

exit codes: 0 reports written, 2 usage or input problem, 3 the Allure site could not be generated.`;

/** Reads a results file, turning its problems into usage errors (exit 2, one clear line). */
export async function loadInput(path: string): Promise<RunResults> {
  try {
    return await readResults(path);
  } catch (error) {
    if (error instanceof ResultsFileError) throw new UsageError(error.message);
    throw error;
  }
}

/** Reads and merges inputs; a single input is returned as is. */
export async function loadAndMerge(paths: readonly string[]): Promise<RunResults> {
  const runs = await Promise.all(paths.map(loadInput));
  try {
    return mergeResults(runs);
  } catch (error) {
    if (error instanceof MergeError)
      throw new UsageError(`cannot merge ${paths.join(", ")}: ${error.message}`);
    throw error;
  }
}

/** The run directory of an input: the directory itself, or the folder of a results.json. */
export async function runDirOf(path: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  return info?.isDirectory() ? resolve(path) : dirname(resolve(path));
}

/** One line of counts, e.g. `180 cells: 145 passed, 27 failed, 2 errored…`. */
export function countsLine(results: RunResults): string {
  const counts = countVerdicts(results.cells);
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([verdict, n]) => `${n} ${verdict}`);
  return `${results.cells.length} cells${parts.length ? `: ${parts.join(", ")}` : ""}`;
}

/** Runs `fedicheck report`; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseOrUsage("report", () => parse(argv));
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError("expected at least one run directory or results.json; see fedicheck report --help");
  }
  if (positionals.length > 1 && values.out === undefined) {
    throw new UsageError("several inputs are merged into one report: say where it goes with --out <dir>");
  }
  if (values.previous !== undefined && values.baseline !== undefined) {
    throw new UsageError("--previous and --baseline are the same option: give one");
  }
  const results = await loadAndMerge(positionals);
  const comparedWith = values.previous ?? values.baseline;
  const baseline = comparedWith === undefined ? undefined : await loadInput(comparedWith);
  const history = (await Promise.all((values.history ?? []).map(loadHistoryInput))).flat();

  const inputDir = await runDirOf(positionals[0]!);
  const outDir = values.out === undefined ? inputDir : resolve(values.out);
  // Rewriting the input's own results.json could race a run still writing it: only write a new one
  // when it differs (a merge) or goes elsewhere.
  const json = positionals.length > 1 || outDir !== inputDir;
  const written = await writeReports(outDir, results, {
    ...(baseline ? { baseline } : {}),
    ...(history.length ? { history } : {}),
    json,
  });
  const status = results.status === "completed" ? "" : ` (run ${results.status}: partial results)`;
  console.log(`fedicheck report: ${results.runId}: ${countsLine(results)}${status}`);
  for (const path of [written.results, written.junit, written.summary, written.dashboard]) {
    if (path !== undefined) console.log(`  wrote ${path}`);
  }
  if (values.allure) {
    try {
      const { siteDir, summary } = await writeAllureSite(outDir, results);
      console.log(`  wrote ${siteDir} (Allure: ${summary.total} tests)`);
    } catch (error) {
      if (!(error instanceof AllureError)) throw error;
      console.error(`fedicheck report: ${error.message}`);
      return 3;
    }
  }
  return 0;
}

/** A history input: a results file or run directory, or a history store (its most recent runs). */
async function loadHistoryInput(path: string): Promise<RunResults[]> {
  const info = await stat(path).catch(() => undefined);
  const isStore = isSqliteLocation(path) || (info?.isDirectory() && existsSync(join(path, DIRECTORY_MARKER)));
  if (!isStore) return [await loadInput(path)];
  const store = await openHistory(path);
  try {
    return await store.recent(20);
  } finally {
    await store.close();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: "string" },
      previous: { type: "string" },
      baseline: { type: "string" },
      history: { type: "string", multiple: true },
      allure: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}
