/**
 * `fedicheck merge <results.json|run-dir>… --out <dir>`: merges the results of several runs (the
 * shards of one matrix run on several CI machines, or runs of different suites) into one results.json,
 * optionally with its reports.
 * @module
 */
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { writeReports } from "../report/index.ts";
import { RESULTS_FILE, serializeResults, writeFileAtomic } from "../report/writer.ts";
import { parseOrUsage, UsageError } from "./main.ts";
import { countsLine, loadAndMerge } from "./report.ts";

const HELP = `usage: fedicheck merge <results.json|run-dir>… --out <dir> [--reports]

Merges results files into <dir>/results.json: targets and checks are united (the same id must mean
the same thing; a target's origin may differ, as each shard starts its own), cells are concatenated
(a cell found twice with different results is an error: shards must not overlap), and the status is
"completed" only if every input completed.

options:
  --out <dir>     directory of the merged results.json (required)
  --reports       also write junit.xml, summary.md and index.html there
  -h, --help      show this help

exit codes: 0 merged, 2 usage or input problem (conflicting cells included).`;

/** Runs `fedicheck merge`; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseOrUsage("merge", () => parse(argv));
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length === 0)
    throw new UsageError("expected results files to merge; see fedicheck merge --help");
  if (values.out === undefined) throw new UsageError("say where the merged results go with --out <dir>");
  const merged = await loadAndMerge(positionals);
  const outDir = resolve(values.out);
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, RESULTS_FILE);
  if (values.reports) await writeReports(outDir, merged);
  else await writeFileAtomic(path, serializeResults(merged));
  console.log(`fedicheck merge: ${positionals.length} inputs → ${merged.runId}: ${countsLine(merged)}`);
  console.log(`  wrote ${path}${values.reports ? " and its reports" : ""}`);
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: "string" },
      reports: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}
