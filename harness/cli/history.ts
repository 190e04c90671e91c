/**
 * `fedicheck history`: lists, adds and prunes the runs kept in the history store (SQLite file or
 * directory of results files, see harness/report/history.ts), and prints flake rates per check.
 * Exit codes: 0 done, 2 usage, input or store problem.
 * @module
 */
import { parseArgs } from "node:util";
import { passRate } from "../report/analysis.ts";
import {
  type CheckFlakeRate,
  DEFAULT_HISTORY_LOCATION,
  type HistoryStore,
  HistoryStoreError,
  openHistory,
  type RunSummary,
  runsToPrune,
} from "../report/history.ts";
import { parseOrUsage, UsageError } from "./main.ts";
import { loadInput } from "./report.ts";

const HELP = `usage: fedicheck history [list] [options]
       fedicheck history add <results.json|run-dir>… [options]
       fedicheck history prune (--keep N | --older-than DAYS) [--dry-run] [options]
       fedicheck history flakes [--last N] [--all] [options]

Runs are kept in a history store so reports can show the diff with the previous run, trends per
implementation and flake rates per check. A store is a SQLite file (.sqlite, .sqlite3, .db) or a
directory of results files (<dir>/<run-id>.json).

commands:
  list                 the stored runs, newest first (default)
  add <inputs>…        store results files or run directories (a run stored again is replaced)
  prune                remove runs beyond the newest N (--keep) or older than DAYS (--older-than);
                       with both, a run goes when either rule says so
  flakes               flake rate per check: verdict flips between consecutive runs over transitions

options:
  --store <path>       the history store (default ${DEFAULT_HISTORY_LOCATION})
  --json               print JSON instead of a table
  --keep <N>           prune: keep the newest N runs
  --older-than <DAYS>  prune: remove runs started more than DAYS days ago
  --dry-run            prune: only print what would be removed
  --last <N>           flakes: only the newest N runs
  --all                flakes: also list checks that never wavered
  -h, --help           show this help`;

const SUBCOMMANDS = ["list", "add", "prune", "flakes"] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      store: { type: "string" },
      json: { type: "boolean" },
      keep: { type: "string" },
      "older-than": { type: "string" },
      "dry-run": { type: "boolean" },
      last: { type: "string" },
      all: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** A whole number ≥ 0 from an option, or a usage error naming the option. */
function count(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n < 0) {
    throw new UsageError(`--${name} expects a whole number ≥ 0, got '${text}'`);
  }
  return n;
}

/** A number of days ≥ 0 (fractions allowed: 0.5 is twelve hours). */
function days(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`--older-than expects a number of days ≥ 0, got '${text}'`);
  }
  return n;
}

/** Lays rows out as aligned columns; the first row is the header. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, [...cell].length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - [...cell].length)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const percent = (rate: number | undefined) => (rate === undefined ? "–" : `${(rate * 100).toFixed(1)}%`);

/** `2025-01-15 10:00` (UTC) from an ISO time. */
const shortTime = (iso: string) => iso.replace("T", " ").slice(0, 16);

/** The run table of `history list` and `history prune`. */
export function runsTable(runs: RunSummary[]): string {
  const header = [
    "RUN",
    "STARTED (UTC)",
    "STATUS",
    "CELLS",
    "PASSED",
    "FAILED",
    "ERRORED",
    "NOT RUN",
    "PASS RATE",
    "FLAKY",
    "TARGETS",
  ];
  return table([
    header,
    ...runs.map((r) => [
      r.runId,
      shortTime(r.startedAt),
      r.status,
      String(r.cells),
      String(r.counts.passed),
      String(r.counts.failed),
      String(r.counts.errored),
      String(r.counts.unsupported + r.counts.inapplicable + r.counts.skipped),
      percent(passRate(r.counts)),
      String(r.flaky),
      r.targets
        .map((t) =>
          t.id === t.implementation ? `${t.id} ${t.version}` : `${t.id}=${t.implementation} ${t.version}`,
        )
        .join(", "),
    ]),
  ]);
}

/** The table of `history flakes`. */
export function flakesTable(rates: CheckFlakeRate[]): string {
  return table([
    ["CHECK", "FLIP RATE", "FLIPS", "TRANSITIONS", "RETRY FLAKES", "RUNS", "TITLE"],
    ...rates.map((r) => [
      r.checkId,
      percent(r.transitions === 0 ? undefined : r.rate),
      String(r.flips),
      String(r.transitions),
      String(r.flaky),
      String(r.runs),
      r.title,
    ]),
  ]);
}

async function open(location: string): Promise<HistoryStore> {
  try {
    return await openHistory(location);
  } catch (error) {
    if (error instanceof HistoryStoreError) throw new UsageError(error.message);
    throw error;
  }
}

/** Runs `fedicheck history`; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseOrUsage("history", () => parse(argv));
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [first, ...rest] = positionals;
  const subcommand = (first ?? "list") as Subcommand;
  if (!SUBCOMMANDS.includes(subcommand)) {
    throw new UsageError(
      `unknown history command '${first}'. Expected one of: ${SUBCOMMANDS.join(", ")}; see fedicheck history --help`,
    );
  }
  if (subcommand !== "add" && rest.length > 0) {
    throw new UsageError(`history ${subcommand} takes no arguments, found '${rest.join(" ")}'`);
  }
  const keep = count("keep", values.keep);
  const olderThanDays = days(values["older-than"]);
  const last = count("last", values.last);
  if (subcommand !== "prune" && (keep !== undefined || olderThanDays !== undefined || values["dry-run"])) {
    throw new UsageError("--keep, --older-than and --dry-run belong to 'fedicheck history prune'");
  }
  if (subcommand === "prune" && keep === undefined && olderThanDays === undefined) {
    throw new UsageError("history prune needs --keep N or --older-than DAYS (or both); nothing was removed");
  }
  if (subcommand !== "flakes" && (last !== undefined || values.all)) {
    throw new UsageError("--last and --all belong to 'fedicheck history flakes'");
  }
  if (subcommand === "add" && rest.length === 0) {
    throw new UsageError("history add expects results.json files or run directories");
  }

  const location = values.store ?? DEFAULT_HISTORY_LOCATION;
  // Read every input before opening the store, so a bad file stores nothing.
  const inputs = subcommand === "add" ? await Promise.all(rest.map(loadInput)) : [];
  const store = await open(location);
  try {
    switch (subcommand) {
      case "list": {
        const runs = await store.list();
        if (values.json) console.log(JSON.stringify(runs, null, 2));
        else if (runs.length === 0)
          console.log(`no runs in ${location} (fedicheck run adds each run; or: fedicheck history add)`);
        else
          console.log(
            `${runsTable(runs)}\n\n${runs.length} run${runs.length === 1 ? "" : "s"} in ${location}`,
          );
        return 0;
      }
      case "add": {
        const added: RunSummary[] = [];
        for (const results of inputs) added.push(await store.add(results));
        if (values.json) console.log(JSON.stringify(added, null, 2));
        else
          console.log(
            `${runsTable(added)}\n\nstored ${added.length} run${added.length === 1 ? "" : "s"} in ${location}`,
          );
        return 0;
      }
      case "prune": {
        const rules = {
          ...(keep === undefined ? {} : { keep }),
          ...(olderThanDays === undefined ? {} : { olderThanDays }),
        };
        let removed: RunSummary[];
        if (values["dry-run"]) {
          removed = runsToPrune(await store.list(), rules);
        } else {
          removed = await store.prune(rules);
        }
        const verb = values["dry-run"] ? "would remove" : "removed";
        if (values.json)
          console.log(JSON.stringify({ dryRun: values["dry-run"] ?? false, removed }, null, 2));
        else if (removed.length === 0) console.log(`nothing to prune in ${location}`);
        else
          console.log(
            `${runsTable(removed)}\n\n${verb} ${removed.length} run${removed.length === 1 ? "" : "s"} from ${location}`,
          );
        return 0;
      }
      case "flakes": {
        const all = await store.flakeRates(last === undefined ? {} : { last });
        const rates = values.all ? all : all.filter((r) => r.flips > 0 || r.flaky > 0);
        if (values.json) console.log(JSON.stringify(rates, null, 2));
        else if (all.length === 0) console.log(`no runs in ${location}`);
        else if (rates.length === 0)
          console.log(`no check wavered over the stored runs (${all.length} checks)`);
        else console.log(flakesTable(rates));
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof HistoryStoreError) throw new UsageError(error.message);
    throw error;
  } finally {
    await store.close();
  }
}
