/**
 * The history of runs: a local store that keeps every run's results so the dashboard can show what
 * changed since the previous run, a pass-rate trend per implementation and how often each check wavers.
 *
 * Two backends behind one interface, chosen by the location:
 * - a `.sqlite`, `.sqlite3` or `.db` file: SQLite through better-sqlite3, with the full results JSON
 *   per run plus one row per cell, so questions across runs (flake rate per check) are one query;
 * - anything else: a directory of results files, `<dir>/<runId>.json`, readable and copyable by hand.
 *
 * Stores only ever hold complete, schema-valid results files; a run is added again under the same
 * run id replaces the earlier copy.
 * @module
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { CellResult, RunResults, TargetInfo, Verdict } from "../core/model.ts";
import { cellKey, countVerdicts, diffAgainst, type RunDiffAgainst, type VerdictCounts } from "./analysis.ts";
import { type FlakeStat, flakes, type Trend, trend } from "./html.ts";
import { ResultsFileError, readResults, validateResults } from "./results-schema.ts";
import { serializeResults, writeFileAtomic } from "./writer.ts";

/** Where `fedicheck run` and `fedicheck history` keep runs unless told otherwise. */
export const DEFAULT_HISTORY_LOCATION = "reports/history.sqlite";

/** Version of the store layout (SQLite tables, directory marker) this code reads and writes. */
export const HISTORY_FORMAT_VERSION = 1;

/** Name of the marker file of a directory store. */
export const DIRECTORY_MARKER = ".fedicheck-history.json";

/** One stored run, without its cells: what `fedicheck history list` prints. */
export interface RunSummary {
  runId: string;
  startedAt: string;
  finishedAt?: string;
  status: RunResults["status"];
  command: string;
  /** Number of cells. */
  cells: number;
  /** Cells per verdict (every verdict present). */
  counts: VerdictCounts;
  /** Cells marked flaky (changed verdict on retry). */
  flaky: number;
  targets: Array<Pick<TargetInfo, "id" | "implementation" | "version">>;
}

/** Options of {@link HistoryStore.prune}; a run goes when any given rule says so. */
export interface PruneOptions {
  /** Keep only the newest `keep` runs. Default: no limit. */
  keep?: number;
  /** Remove runs that started more than this many days before `now`. Default: no age limit. */
  olderThanDays?: number;
  /** The present, for age computations. Default: the current time. */
  now?: Date;
}

/**
 * How often a check's verdict changed between consecutive stored runs (flips) and on retry within a
 * run (the `flaky` mark). Only outcomes count as transitions: passed, failed and errored; a cell that
 * went unsupported, inapplicable or skipped did not run the check, so its verdict says nothing about
 * stability.
 */
export interface CheckFlakeRate {
  checkId: string;
  /** Title from the newest run holding the check ("" when unknown). */
  title: string;
  /** Runs that hold at least one cell of the check. */
  runs: number;
  /** Cells of the check over all runs. */
  cells: number;
  /** Cells marked flaky. */
  flaky: number;
  /** Pairs of consecutive outcomes of the same cell (same check, scenario, sender and receiver). */
  transitions: number;
  /** Of which the verdict differed. */
  flips: number;
  /** flips / transitions; 0 when there was no transition. */
  rate: number;
}

/** Options of {@link HistoryStore.flakeRates}. */
export interface FlakeRateOptions {
  /** Only the newest `last` runs. Default: every stored run. */
  last?: number;
}

/** A store of runs; see the module description for the two backends. */
export interface HistoryStore {
  /** The file or directory given to {@link openHistory}. */
  readonly location: string;
  readonly backend: "sqlite" | "directory";
  /** Stores a run (replacing a stored run with the same id) and returns its summary. */
  add(results: RunResults): Promise<RunSummary>;
  /** Every stored run, newest first (by start time, then run id). */
  list(): Promise<RunSummary[]>;
  /** The run with this id, or undefined. */
  get(runId: string): Promise<RunResults | undefined>;
  /**
   * The run stored just before `runId` (by start time). When `runId` is not stored — the run still in
   * progress — the newest stored run; undefined when there is none.
   */
  previous(runId: string): Promise<RunResults | undefined>;
  /** The newest `n` runs, oldest first (the order trends read). */
  recent(n: number): Promise<RunResults[]>;
  /** Removes runs by count and age; returns the summaries of the removed runs, newest first. */
  prune(options: PruneOptions): Promise<RunSummary[]>;
  /** Flake rate per check over the stored runs, worst first. */
  flakeRates(options?: FlakeRateOptions): Promise<CheckFlakeRate[]>;
  /** Releases the store (closes the database). Later calls throw. */
  close(): Promise<void>;
}

/** A store that cannot be opened or read; the message says what was found and what to do. */
export class HistoryStoreError extends Error {
  constructor(
    message: string,
    /** The store's location. */
    readonly location: string,
  ) {
    super(message);
    this.name = "HistoryStoreError";
  }
}

/** True when `location` names a SQLite store (by extension). */
export function isSqliteLocation(location: string): boolean {
  return /\.(sqlite3?|db)$/i.test(location);
}

const SQLITE_MAGIC = "SQLite format 3\0";

/**
 * Opens (creating when absent) the store at `location`: a `.sqlite`/`.sqlite3`/`.db` file or an
 * existing regular SQLite file → SQLite; anything else → a directory of results files.
 * @throws {HistoryStoreError} when the location is unusable: a file that is not SQLite, a database or
 *   directory of another program or of a newer fedicheck, or better-sqlite3 missing.
 */
export async function openHistory(location: string = DEFAULT_HISTORY_LOCATION): Promise<HistoryStore> {
  const info = await stat(location).catch(() => undefined);
  if (info?.isFile()) {
    const head = await readFile(location).then((b) => b.subarray(0, SQLITE_MAGIC.length).toString("latin1"));
    if (head === SQLITE_MAGIC || (info.size === 0 && isSqliteLocation(location))) return openSqlite(location);
    throw new HistoryStoreError(
      `${location} is a file but not a SQLite database. Expected a history store: a .sqlite file written ` +
        "by fedicheck or a directory of results files. Pass another --store, or move the file away.",
      location,
    );
  }
  if (info === undefined && isSqliteLocation(location)) return openSqlite(location);
  return openDirectory(location);
}

/** Summary of one run (no I/O). */
export function summarize(results: RunResults): RunSummary {
  const summary: RunSummary = {
    runId: results.runId,
    startedAt: results.startedAt,
    status: results.status,
    command: results.command,
    cells: results.cells.length,
    counts: countVerdicts(results.cells),
    flaky: results.cells.filter((c) => c.flaky).length,
    targets: results.targets.map((t) => ({ id: t.id, implementation: t.implementation, version: t.version })),
  };
  if (results.finishedAt !== undefined) summary.finishedAt = results.finishedAt;
  return summary;
}

/** Newest first: by start time, then run id (ids of one start second are sortable too). */
function newestFirst(
  a: { startedAt: string; runId: string },
  b: { startedAt: string; runId: string },
): number {
  return b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId);
}

/**
 * The runs that {@link HistoryStore.prune} would remove from `newest` (a list, newest first, as
 * {@link HistoryStore.list} gives it); nothing is removed. `fedicheck history prune --dry-run` uses it.
 * @throws {TypeError} without a rule, or with a negative or fractional `keep`.
 */
export function runsToPrune(newest: RunSummary[], options: PruneOptions): RunSummary[] {
  const { keep, olderThanDays } = options;
  if (keep === undefined && olderThanDays === undefined) {
    throw new TypeError("prune needs keep or olderThanDays; refusing to guess which runs to remove");
  }
  if (keep !== undefined && (!Number.isInteger(keep) || keep < 0)) {
    throw new TypeError(`prune: keep must be a whole number ≥ 0, got ${keep}`);
  }
  if (olderThanDays !== undefined && !(olderThanDays >= 0)) {
    throw new TypeError(`prune: olderThanDays must be a number ≥ 0, got ${olderThanDays}`);
  }
  const cutoff =
    olderThanDays === undefined
      ? undefined
      : (options.now ?? new Date()).getTime() - olderThanDays * 86_400_000;
  return newest.filter(
    (run, index) =>
      (keep !== undefined && index >= keep) || (cutoff !== undefined && Date.parse(run.startedAt) < cutoff),
  );
}

/** Outcomes: the verdicts that say how the check went (see {@link CheckFlakeRate}). */
const OUTCOMES: ReadonlySet<Verdict> = new Set(["passed", "failed", "errored"]);

/**
 * Flake rate per check over runs (any order; sorted by start time here), worst first, then by check
 * id. The same computation the SQLite backend does in SQL; both are tested to agree.
 */
export function flakeRates(runs: readonly RunResults[]): CheckFlakeRate[] {
  const ordered = [...runs].sort((a, b) => -newestFirst(a, b));
  const stats = new Map<string, CheckFlakeRate & { lastRun?: string }>();
  const last = new Map<string, Verdict>();
  for (const run of ordered) {
    const titles = new Map(run.checks.map((c) => [c.id, c.title]));
    for (const cell of run.cells) {
      let stat = stats.get(cell.checkId);
      if (stat === undefined) {
        stat = {
          checkId: cell.checkId,
          title: "",
          runs: 0,
          cells: 0,
          flaky: 0,
          transitions: 0,
          flips: 0,
          rate: 0,
        };
        stats.set(cell.checkId, stat);
      }
      if (stat.lastRun !== run.runId) {
        stat.runs++;
        stat.lastRun = run.runId;
        stat.title = titles.get(cell.checkId) ?? stat.title;
      }
      stat.cells++;
      if (cell.flaky) stat.flaky++;
      const key = cellKey(cell);
      const before = last.get(key);
      if (before !== undefined && OUTCOMES.has(before) && OUTCOMES.has(cell.verdict)) {
        stat.transitions++;
        if (before !== cell.verdict) stat.flips++;
      }
      last.set(key, cell.verdict);
    }
  }
  return sortRates(
    [...stats.values()].map(({ lastRun: _, ...s }) => ({
      ...s,
      rate: s.transitions === 0 ? 0 : s.flips / s.transitions,
    })),
  );
}

function sortRates(rates: CheckFlakeRate[]): CheckFlakeRate[] {
  return rates.sort((a, b) => b.rate - a.rate || b.flaky - a.flaky || a.checkId.localeCompare(b.checkId));
}

function assertValid(results: RunResults, location: string): void {
  const { ok, errors } = validateResults(results);
  if (!ok) {
    throw new HistoryStoreError(
      `run ${JSON.stringify(results.runId)} does not match the results schema, so ${location} did not store it:\n` +
        errors
          .slice(0, 5)
          .map((e) => `  ${e}`)
          .join("\n"),
      location,
    );
  }
}

function assertRunId(runId: string, location: string): void {
  // Run ids become file names in the directory backend: keep them to one safe path segment.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(runId)) {
    throw new HistoryStoreError(
      `run id ${JSON.stringify(runId)} cannot be stored in ${location}: expected letters, digits, '.', '_' and '-' only.`,
      location,
    );
  }
}

// ————————————————————————————————————————— directory backend —————————————————————————————————————————

async function openDirectory(location: string): Promise<HistoryStore> {
  const info = await stat(location).catch(() => undefined);
  if (info !== undefined && !info.isDirectory()) {
    throw new HistoryStoreError(
      `${location} is neither a directory nor a SQLite file; pass another --store.`,
      location,
    );
  }
  await mkdir(location, { recursive: true });
  const marker = join(location, DIRECTORY_MARKER);
  const markerText = await readFile(marker, "utf8").catch(() => undefined);
  if (markerText === undefined) {
    await writeFile(
      marker,
      `${JSON.stringify({ format: HISTORY_FORMAT_VERSION, kind: "fedicheck-history" })}\n`,
    );
  } else {
    let format: unknown;
    try {
      format = (JSON.parse(markerText) as { format?: unknown }).format;
    } catch {
      format = undefined;
    }
    if (format !== HISTORY_FORMAT_VERSION) {
      throw new HistoryStoreError(
        typeof format === "number" && format > HISTORY_FORMAT_VERSION
          ? `${location} is a history store of format ${format}, written by a newer fedicheck; this one reads ` +
              `format ${HISTORY_FORMAT_VERSION}. Upgrade fedicheck, or pass another --store.`
          : `${marker} is damaged (expected {"format": ${HISTORY_FORMAT_VERSION}}). Delete it to let fedicheck ` +
              "recreate it; the results files beside it are kept.",
        location,
      );
    }
  }

  let closed = false;
  const open = () => {
    if (closed) throw new HistoryStoreError(`history store ${location} is closed`, location);
  };

  /** Reads one stored file, turning a bad file into an error that names it and says what to do. */
  const load = async (file: string): Promise<RunResults> => {
    try {
      return await readResults(join(location, file));
    } catch (error) {
      if (error instanceof ResultsFileError) {
        throw new HistoryStoreError(
          `history store ${location} holds an unusable file: ${error.message}\n` +
            `Move ${join(location, file)} out of the store (or fix it) and try again.`,
          location,
        );
      }
      throw error;
    }
  };

  const files = async () =>
    (await readdir(location)).filter(
      (f) => f.endsWith(".json") && f !== DIRECTORY_MARKER && !f.startsWith("."),
    );

  /** Every stored run with the file holding it; files are read in full (the price of plain files). */
  const all = async (): Promise<Array<{ file: string; results: RunResults }>> => {
    const entries = await Promise.all(
      (await files()).map(async (file) => ({ file, results: await load(file) })),
    );
    return entries.sort((a, b) => newestFirst(a.results, b.results));
  };

  const fileOf = async (runId: string): Promise<string | undefined> => {
    const direct = `${runId}.json`;
    if ((await stat(join(location, direct)).catch(() => undefined))?.isFile()) return direct;
    // Files copied in by hand may have any name: fall back to reading them.
    return (await all()).find((e) => e.results.runId === runId)?.file;
  };

  return {
    location,
    backend: "directory",
    async add(results) {
      open();
      assertRunId(results.runId, location);
      assertValid(results, location);
      const existing = await fileOf(results.runId);
      const file = `${results.runId}.json`;
      await writeFileAtomic(join(location, file), serializeResults(results));
      if (existing !== undefined && existing !== file) await rm(join(location, existing), { force: true });
      return summarize(results);
    },
    async list() {
      open();
      return (await all()).map((e) => summarize(e.results));
    },
    async get(runId) {
      open();
      const file = await fileOf(runId);
      return file === undefined ? undefined : load(file);
    },
    async previous(runId) {
      open();
      const runs = await all();
      const index = runs.findIndex((e) => e.results.runId === runId);
      return (index === -1 ? runs[0] : runs[index + 1])?.results;
    },
    async recent(n) {
      open();
      return (await all())
        .slice(0, Math.max(0, n))
        .reverse()
        .map((e) => e.results);
    },
    async prune(options) {
      open();
      const runs = await all();
      const gone = new Set(
        runsToPrune(
          runs.map((e) => summarize(e.results)),
          options,
        ).map((s) => s.runId),
      );
      const removed = runs.filter((e) => gone.has(e.results.runId));
      await Promise.all(removed.map((e) => rm(join(location, e.file), { force: true })));
      return removed.map((e) => summarize(e.results));
    },
    async flakeRates(options = {}) {
      open();
      const runs = (await all()).map((e) => e.results);
      return flakeRates(options.last === undefined ? runs : runs.slice(0, Math.max(0, options.last)));
    },
    async close() {
      closed = true;
    },
  };
}

// ——————————————————————————————————————————— SQLite backend ———————————————————————————————————————————

/** The tables; `fedicheck_schema` holds the one row that says which layout this file has. */
const SCHEMA = `
CREATE TABLE fedicheck_schema (version INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  status TEXT NOT NULL,
  command TEXT NOT NULL,
  cell_count INTEGER NOT NULL,
  flaky_count INTEGER NOT NULL,
  counts TEXT NOT NULL,
  targets TEXT NOT NULL,
  results TEXT NOT NULL,
  added_at TEXT NOT NULL
);
CREATE INDEX runs_started ON runs (started_at, run_id);
CREATE TABLE cells (
  run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  cell_key TEXT NOT NULL,
  check_id TEXT NOT NULL,
  title TEXT NOT NULL,
  scenario_id TEXT NOT NULL,
  suite TEXT NOT NULL,
  sender TEXT NOT NULL,
  receiver TEXT NOT NULL,
  sender_implementation TEXT,
  receiver_implementation TEXT,
  verdict TEXT NOT NULL,
  flaky INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (run_id, cell_key)
);
CREATE INDEX cells_check ON cells (check_id);
CREATE INDEX cells_key ON cells (cell_key);
`;

/** Flake rates in SQL: LAG over each cell's verdicts by run start; see {@link CheckFlakeRate}. */
const FLAKE_SQL = `
WITH chosen AS (
  SELECT run_id, started_at FROM runs ORDER BY started_at DESC, run_id DESC LIMIT ?
), ordered AS (
  SELECT c.check_id, c.title, c.run_id, c.verdict, c.flaky, r.started_at,
    LAG(c.verdict) OVER (PARTITION BY c.cell_key ORDER BY r.started_at, r.run_id) AS before
  FROM cells c JOIN chosen r ON r.run_id = c.run_id
)
SELECT check_id AS checkId,
  (SELECT o2.title FROM ordered o2 WHERE o2.check_id = o.check_id
     ORDER BY o2.started_at DESC, o2.run_id DESC LIMIT 1) AS title,
  COUNT(DISTINCT run_id) AS runs,
  COUNT(*) AS cells,
  SUM(flaky) AS flaky,
  SUM(before IN ('passed','failed','errored') AND verdict IN ('passed','failed','errored')) AS transitions,
  SUM(before IN ('passed','failed','errored') AND verdict IN ('passed','failed','errored') AND before <> verdict) AS flips
FROM ordered o GROUP BY check_id
`;

interface RunRow {
  run_id: string;
  started_at: string;
  finished_at: string | null;
  status: RunResults["status"];
  command: string;
  cell_count: number;
  flaky_count: number;
  counts: string;
  targets: string;
}

function summaryOf(row: RunRow): RunSummary {
  const summary: RunSummary = {
    runId: row.run_id,
    startedAt: row.started_at,
    status: row.status,
    command: row.command,
    cells: row.cell_count,
    counts: JSON.parse(row.counts) as VerdictCounts,
    flaky: row.flaky_count,
    targets: JSON.parse(row.targets) as RunSummary["targets"],
  };
  if (row.finished_at !== null) summary.finishedAt = row.finished_at;
  return summary;
}

type SqliteDatabase = import("better-sqlite3").Database;

async function loadSqlite(location: string): Promise<typeof import("better-sqlite3")> {
  try {
    return (await import("better-sqlite3")).default;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new HistoryStoreError(
      `cannot open ${location}: better-sqlite3 is not usable here (${reason}). Run \`npm install\` (it ` +
        "compiles the module), or keep the history in a directory instead: --store reports/history",
      location,
    );
  }
}

async function openSqlite(location: string): Promise<HistoryStore> {
  const Database = await loadSqlite(location);
  await mkdir(dirname(location), { recursive: true });
  let db: SqliteDatabase;
  try {
    db = new Database(location, { timeout: 5_000 });
  } catch (error) {
    throw new HistoryStoreError(`cannot open ${location}: ${(error as Error).message}`, location);
  }
  try {
    prepareSchema(db, location);
  } catch (error) {
    db.close();
    throw error;
  }

  const statements = {
    insertRun: db.prepare(
      `INSERT INTO runs (run_id, started_at, finished_at, status, command, cell_count, flaky_count, counts, targets, results, added_at)
       VALUES (@run_id, @started_at, @finished_at, @status, @command, @cell_count, @flaky_count, @counts, @targets, @results, @added_at)`,
    ),
    deleteRun: db.prepare("DELETE FROM runs WHERE run_id = ?"),
    insertCell: db.prepare(
      `INSERT INTO cells (run_id, cell_key, check_id, title, scenario_id, suite, sender, receiver,
         sender_implementation, receiver_implementation, verdict, flaky, duration_ms)
       VALUES (@run_id, @cell_key, @check_id, @title, @scenario_id, @suite, @sender, @receiver,
         @sender_implementation, @receiver_implementation, @verdict, @flaky, @duration_ms)`,
    ),
    list: db.prepare<[], RunRow>(
      `SELECT run_id, started_at, finished_at, status, command, cell_count, flaky_count, counts, targets
       FROM runs ORDER BY started_at DESC, run_id DESC`,
    ),
    get: db.prepare<[string], { results: string }>("SELECT results FROM runs WHERE run_id = ?"),
    startedAt: db.prepare<[string], { started_at: string }>("SELECT started_at FROM runs WHERE run_id = ?"),
    before: db.prepare<[string, string, string], { results: string }>(
      `SELECT results FROM runs WHERE started_at < ? OR (started_at = ? AND run_id < ?)
       ORDER BY started_at DESC, run_id DESC LIMIT 1`,
    ),
    newest: db.prepare<[number], { results: string }>(
      "SELECT results FROM runs ORDER BY started_at DESC, run_id DESC LIMIT ?",
    ),
    flakes: db.prepare<[number], CheckFlakeRate>(FLAKE_SQL),
  };

  const addTx = db.transaction((results: RunResults) => {
    statements.deleteRun.run(results.runId);
    const summary = summarize(results);
    statements.insertRun.run({
      run_id: results.runId,
      started_at: results.startedAt,
      finished_at: results.finishedAt ?? null,
      status: results.status,
      command: results.command,
      cell_count: summary.cells,
      flaky_count: summary.flaky,
      counts: JSON.stringify(summary.counts),
      targets: JSON.stringify(summary.targets),
      results: JSON.stringify(results),
      added_at: new Date().toISOString(),
    });
    const implOf = new Map(results.targets.map((t) => [t.id, t.implementation]));
    const titles = new Map(results.checks.map((c) => [c.id, c.title]));
    for (const cell of results.cells) statements.insertCell.run(cellRow(results.runId, cell, implOf, titles));
    return summary;
  });

  const parse = (row: { results: string } | undefined): RunResults | undefined =>
    row === undefined ? undefined : (JSON.parse(row.results) as RunResults);

  let closed = false;
  /** Runs a query, turning SQLite's errors into ones that name the store. */
  const use = <T>(what: string, fn: () => T): T => {
    if (closed) throw new HistoryStoreError(`history store ${location} is closed`, location);
    try {
      return fn();
    } catch (error) {
      if (error instanceof HistoryStoreError || error instanceof TypeError) throw error;
      throw new HistoryStoreError(`${what} in ${location} failed: ${(error as Error).message}`, location);
    }
  };

  return {
    location,
    backend: "sqlite",
    async add(results) {
      assertRunId(results.runId, location);
      assertValid(results, location);
      return use(`storing run ${results.runId}`, () => addTx(results));
    },
    async list() {
      return use("listing runs", () => statements.list.all().map(summaryOf));
    },
    async get(runId) {
      return use(`reading run ${runId}`, () => parse(statements.get.get(runId)));
    },
    async previous(runId) {
      return use(`finding the run before ${runId}`, () => {
        const own = statements.startedAt.get(runId);
        if (own === undefined) return parse(statements.newest.get(1));
        return parse(statements.before.get(own.started_at, own.started_at, runId));
      });
    },
    async recent(n) {
      return use("reading recent runs", () =>
        statements.newest
          .all(Math.max(0, Math.floor(n)))
          .reverse()
          .map((row) => JSON.parse(row.results) as RunResults),
      );
    },
    async prune(options) {
      return use("pruning runs", () => {
        const removed = runsToPrune(statements.list.all().map(summaryOf), options);
        db.transaction(() => {
          for (const run of removed) statements.deleteRun.run(run.runId);
        })();
        return removed;
      });
    },
    async flakeRates(options = {}) {
      // LIMIT -1 is SQLite for "no limit".
      const limit = options.last === undefined ? -1 : Math.max(0, Math.floor(options.last));
      return use("computing flake rates", () =>
        sortRates(
          statements.flakes.all(limit).map((r) => ({
            ...r,
            title: r.title ?? "",
            flaky: Number(r.flaky),
            transitions: Number(r.transitions),
            flips: Number(r.flips),
            rate: Number(r.transitions) === 0 ? 0 : Number(r.flips) / Number(r.transitions),
          })),
        ),
      );
    },
    async close() {
      if (!closed) db.close();
      closed = true;
    },
  };
}

function cellRow(
  runId: string,
  cell: CellResult,
  implOf: Map<string, string>,
  titles: Map<string, string>,
): Record<string, string | number | null> {
  return {
    run_id: runId,
    cell_key: cellKey(cell),
    check_id: cell.checkId,
    title: titles.get(cell.checkId) ?? "",
    scenario_id: cell.scenarioId,
    suite: cell.suite,
    sender: cell.sender,
    receiver: cell.receiver,
    sender_implementation: implOf.get(cell.sender) ?? null,
    receiver_implementation: implOf.get(cell.receiver) ?? null,
    verdict: cell.verdict,
    flaky: cell.flaky ? 1 : 0,
    duration_ms: Math.round(cell.durationMs),
  };
}

/** Creates the tables in an empty database, or checks that an existing one is ours and of our version. */
function prepareSchema(db: SqliteDatabase, location: string): void {
  const hint =
    "It may be damaged or belong to another program: move it away (fedicheck then starts a new history; " +
    "runs are also kept as reports/<run-id>/results.json and can be re-added with `fedicheck history add`).";
  let tables: string[];
  try {
    db.pragma("foreign_keys = ON");
    tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((r) => r.name);
  } catch (error) {
    throw new HistoryStoreError(
      `${location} is not a readable SQLite database (${(error as Error).message}). ${hint}`,
      location,
    );
  }
  if (tables.length === 0) {
    db.exec("BEGIN");
    db.exec(SCHEMA);
    db.prepare("INSERT INTO fedicheck_schema (version, created_at) VALUES (?, ?)").run(
      HISTORY_FORMAT_VERSION,
      new Date().toISOString(),
    );
    db.exec("COMMIT");
    // WAL lets a dashboard read while a run writes; set after the schema so a failed create leaves no -wal file.
    db.pragma("journal_mode = WAL");
    return;
  }
  if (!tables.includes("fedicheck_schema")) {
    throw new HistoryStoreError(
      `${location} is a SQLite database but not a fedicheck history store (no fedicheck_schema table; ` +
        `found ${tables.slice(0, 5).join(", ")}). ${hint}`,
      location,
    );
  }
  const row = db
    .prepare<[], { version: number }>("SELECT MAX(version) AS version FROM fedicheck_schema")
    .get();
  const version = row?.version;
  if (version !== HISTORY_FORMAT_VERSION) {
    throw new HistoryStoreError(
      typeof version === "number" && version > HISTORY_FORMAT_VERSION
        ? `${location} is a history store of format ${version}, written by a newer fedicheck; this one reads ` +
            `format ${HISTORY_FORMAT_VERSION}. Upgrade fedicheck, or pass another --store.`
        : `${location} has history format ${JSON.stringify(version ?? null)}; this fedicheck reads format ` +
            `${HISTORY_FORMAT_VERSION}. ${hint}`,
      location,
    );
  }
}

// ——————————————————————————————————————— what reports take from it ———————————————————————————————————————

/** What the dashboard and summary need from the history for one run. */
export interface HistoryContext {
  /** The run stored before the current one, to diff against. */
  previous?: RunResults;
  /** The newest stored runs (the current one excluded), oldest first, for trends and flake rates. */
  history: RunResults[];
}

/**
 * The previous run and the recent history of `current` (which may or may not be stored yet), ready
 * for `writeReports(runDir, results, { ...context })`. `depth` is how many earlier runs feed the
 * trends; default 20.
 */
export async function historyContext(
  store: HistoryStore,
  current: RunResults,
  depth = 20,
): Promise<HistoryContext> {
  const previous = await store.previous(current.runId);
  const history = (await store.recent(depth + 1))
    .filter((r) => r.runId !== current.runId && r.startedAt <= current.startedAt)
    .slice(-depth);
  return previous === undefined ? { history } : { previous, history };
}

/** Diff, trend and flakes of `current` against the stored runs before it: what the dashboard shows. */
export interface HistoryAnalysis {
  /** Undefined when no earlier run is stored. */
  diff?: RunDiffAgainst;
  /** Pass rate per implementation over the earlier runs and `current`, oldest first. */
  trend: Trend;
  /** Checks that were flaky or flipped, as the dashboard lists them. */
  flakes: FlakeStat[];
  /** Flake rate per check (flips between runs over transitions). */
  flakeRates: CheckFlakeRate[];
}

/** Computes {@link HistoryAnalysis} for `current` from the store (`depth` earlier runs, default 20). */
export async function analyzeHistory(
  store: HistoryStore,
  current: RunResults,
  depth = 20,
): Promise<HistoryAnalysis> {
  const { previous, history } = await historyContext(store, current, depth);
  const runs = [...history, current];
  const analysis: HistoryAnalysis = {
    trend: trend(runs),
    flakes: flakes(runs),
    flakeRates: flakeRates(runs),
  };
  if (previous !== undefined) analysis.diff = diffAgainst(previous, current);
  return analysis;
}
