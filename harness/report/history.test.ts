/**
 * The history store, run the same way on both backends (SQLite file and directory of results files):
 * storing and reading runs back, previous/recent/prune, the diff and trend between two stored runs
 * that differ in known cells, flake rates of a check that alternates, and the errors a damaged or
 * foreign store gives.
 */
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CellResult, RunResults, Verdict } from "../core/model.ts";
import { cellKey, countVerdicts, diffRuns, passRate } from "./analysis.ts";
import {
  analyzeHistory,
  DIRECTORY_MARKER,
  flakeRates,
  type HistoryStore,
  HistoryStoreError,
  historyContext,
  openHistory,
} from "./history.ts";
import { trend } from "./html.ts";
import { sampleResults } from "./sample.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedicheck-history-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;

/** A sample run with its own id and start time (days after 2025-01-15). */
function run(runId: string, day: number, seed = 3): RunResults {
  return sampleResults({
    seed,
    runId,
    startedAt: new Date(Date.parse("2025-01-15T10:00:00Z") + day * DAY).toISOString(),
  });
}

/** A copy of `base` as a later run in which the cells at `changes` got new verdicts. */
function laterRun(base: RunResults, runId: string, day: number, changes: Map<number, Verdict>): RunResults {
  const next = structuredClone(base);
  next.runId = runId;
  next.startedAt = new Date(Date.parse("2025-01-15T10:00:00Z") + day * DAY).toISOString();
  next.finishedAt = new Date(Date.parse(next.startedAt) + 60_000).toISOString();
  for (const [index, verdict] of changes) {
    const cell = next.cells[index]!;
    cell.verdict = verdict;
    delete cell.expectation;
    delete cell.flaky;
  }
  return next;
}

/** Indices of the first `n` cells with this verdict, no flaky mark, between non-probe targets. */
function pick(results: RunResults, verdict: Verdict, n: number): number[] {
  const found: number[] = [];
  results.cells.forEach((c, i) => {
    if (
      found.length < n &&
      c.verdict === verdict &&
      !c.flaky &&
      c.sender !== "probe" &&
      c.receiver !== "probe"
    ) {
      found.push(i);
    }
  });
  expect(found, `sample has ${n} ${verdict} cells between implementations`).toHaveLength(n);
  return found;
}

const backends = [
  { name: "SQLite", location: () => join(dir, "nested", "history.sqlite") },
  { name: "directory", location: () => join(dir, "history") },
] as const;

describe.each(backends)("history store ($name)", ({ name, location }) => {
  let store: HistoryStore;
  beforeEach(async () => {
    store = await openHistory(location());
  });
  afterEach(async () => {
    await store.close();
  });

  it("picks the backend from the location", () => {
    expect(store.backend).toBe(name === "SQLite" ? "sqlite" : "directory");
  });

  it("stores a run and gives it back unchanged, with a summary", async () => {
    const a = run("run-a", 0);
    const summary = await store.add(a);
    expect(summary).toMatchObject({
      runId: "run-a",
      startedAt: a.startedAt,
      status: "completed",
      cells: a.cells.length,
    });
    expect(summary.counts).toEqual(countVerdicts(a.cells));
    expect(summary.targets.map((t) => `${t.id}=${t.implementation}@${t.version}`)).toEqual(
      a.targets.map((t) => `${t.id}=${t.implementation}@${t.version}`),
    );
    expect(await store.get("run-a")).toEqual(a);
    expect(await store.get("nope")).toBeUndefined();
  });

  it("lists newest first, survives reopening and replaces a run added again", async () => {
    await store.add(run("run-b", 1));
    await store.add(run("run-a", 0));
    await store.add(run("run-c", 2));
    const again = run("run-b", 1);
    again.status = "interrupted";
    await store.add(again);
    await store.close();
    store = await openHistory(location());
    const list = await store.list();
    expect(list.map((r) => r.runId)).toEqual(["run-c", "run-b", "run-a"]);
    expect(list[1]!.status).toBe("interrupted");
  });

  it("finds the previous run and the recent ones", async () => {
    for (const [id, day] of [
      ["run-a", 0],
      ["run-b", 1],
      ["run-c", 2],
    ] as const)
      await store.add(run(id, day));
    expect((await store.previous("run-c"))?.runId).toBe("run-b");
    expect((await store.previous("run-b"))?.runId).toBe("run-a");
    expect(await store.previous("run-a")).toBeUndefined();
    // A run not stored yet (the one in progress) compares with the newest stored run.
    expect((await store.previous("run-in-progress"))?.runId).toBe("run-c");
    expect((await store.recent(2)).map((r) => r.runId)).toEqual(["run-b", "run-c"]);
    expect(await store.recent(0)).toEqual([]);
  });

  it("prunes by count and by age, and refuses to prune without a rule", async () => {
    for (const [id, day] of [
      ["run-a", 0],
      ["run-b", 10],
      ["run-c", 20],
      ["run-d", 30],
    ] as const) {
      await store.add(run(id, day));
    }
    const now = new Date(Date.parse("2025-01-15T10:00:00Z") + 31 * DAY);
    expect((await store.prune({ olderThanDays: 15, now })).map((r) => r.runId)).toEqual(["run-b", "run-a"]);
    expect((await store.prune({ keep: 1 })).map((r) => r.runId)).toEqual(["run-c"]);
    expect((await store.list()).map((r) => r.runId)).toEqual(["run-d"]);
    await expect(store.prune({})).rejects.toThrow(/keep or olderThanDays/);
    await expect(store.prune({ keep: -1 })).rejects.toThrow(/whole number/);
  });

  it("refuses results that do not match the schema or have an unsafe run id", async () => {
    const broken = run("run-x", 0) as unknown as Record<string, unknown>;
    delete broken.targets;
    await expect(store.add(broken as unknown as RunResults)).rejects.toThrow(
      /does not match the results schema/,
    );
    await expect(store.add(run("../escape", 0))).rejects.toThrow(/cannot be stored/);
    expect(await store.list()).toEqual([]);
  });

  it("diffs two stored runs that differ in known cells, and trends their pass rates", async () => {
    const a = run("run-a", 0);
    const [p1, p2] = pick(a, "passed", 2);
    const [f1] = pick(a, "failed", 1);
    const b = laterRun(
      a,
      "run-b",
      1,
      new Map([
        [p1!, "failed"],
        [p2!, "failed"],
        [f1!, "passed"],
      ]),
    );
    await store.add(a);
    await store.add(b);

    const previous = await store.previous("run-b");
    expect(previous?.runId).toBe("run-a");
    const diff = diffRuns(previous!, b);
    const keys = (changes: Array<Pick<CellResult, "checkId" | "scenarioId" | "sender" | "receiver">>) =>
      changes.map(cellKey).sort();
    expect(keys(diff.newFailures)).toEqual(keys([a.cells[p1!]!, a.cells[p2!]!]));
    expect(keys(diff.fixes)).toEqual(keys([a.cells[f1!]!]));
    expect(diff.changed).toEqual([]);

    const analysis = await analyzeHistory(store, b);
    expect(analysis.diff?.against.runId).toBe("run-a");
    expect(keys(analysis.diff!.newFailures)).toEqual(keys(diff.newFailures));
    expect(analysis.trend.runs.map((r) => r.runId)).toEqual(["run-a", "run-b"]);
    const rateOf = (results: RunResults, implementation: string) => {
      const impl = new Map(results.targets.map((t) => [t.id, t.implementation]));
      const cells = results.cells.filter(
        (c) => impl.get(c.sender) === implementation || impl.get(c.receiver) === implementation,
      );
      return passRate(countVerdicts(cells)) ?? null;
    };
    for (const implementation of ["fedify-ref", "mastodon"]) {
      const series = analysis.trend.series.find((s) => s.implementation === implementation);
      expect(series?.rates).toEqual([rateOf(a, implementation), rateOf(b, implementation)]);
    }
    // Two failures more and one fewer between the implementations: both rates drop.
    const fedify = analysis.trend.series.find((s) => s.implementation === "fedify-ref")!;
    expect(fedify.rates[1]!).toBeLessThan(fedify.rates[0]!);
    expect(trend([a, b])).toEqual(analysis.trend);
  });

  it("gives the expected flake rate to a check that alternates across 3 runs", async () => {
    const a = run("run-a", 0);
    // Two cells of one check: one alternates passed → failed → passed, the other stays passed.
    const checkId = a.cells[pick(a, "passed", 1)[0]!]!.checkId;
    const cells = a.cells.map((c, i) => ({ c, i })).filter(({ c }) => c.checkId === checkId);
    expect(cells.length).toBeGreaterThanOrEqual(2);
    for (const { c } of cells) {
      c.verdict = "passed";
      delete c.flaky;
      delete c.expectation;
    }
    const flipper = cells[0]!.i;
    const b = laterRun(a, "run-b", 1, new Map([[flipper, "failed"]]));
    const c = laterRun(a, "run-c", 2, new Map([[flipper, "passed"]]));
    b.cells[cells[1]!.i]!.flaky = true; // one retry flake in run b
    for (const r of [c, a, b]) await store.add(r);

    const rates = await store.flakeRates();
    const stat = rates.find((r) => r.checkId === checkId)!;
    // Each of the check's cells has 2 transitions over 3 runs; only the flipper changed, twice.
    expect(stat).toMatchObject({
      runs: 3,
      cells: 3 * cells.length,
      flaky: 1,
      transitions: 2 * cells.length,
      flips: 2,
      rate: 2 / (2 * cells.length),
    });
    expect(rates[0]!.rate).toBeGreaterThanOrEqual(stat.rate);
    // The backend agrees with the pure computation over the same runs.
    expect(rates).toEqual(flakeRates([a, b, c]));
    // Over the newest two runs the check flipped once in its transitions.
    const last2 = (await store.flakeRates({ last: 2 })).find((r) => r.checkId === checkId)!;
    expect(last2).toMatchObject({ runs: 2, transitions: cells.length, flips: 1 });
  });

  it("gives reports the previous run and the history before the current one", async () => {
    for (const [id, day] of [
      ["run-a", 0],
      ["run-b", 1],
    ] as const)
      await store.add(run(id, day));
    const current = run("run-c", 2);
    const before = await historyContext(store, current);
    expect(before.previous?.runId).toBe("run-b");
    expect(before.history.map((r) => r.runId)).toEqual(["run-a", "run-b"]);
    await store.add(current);
    const after = await historyContext(store, current, 1);
    expect(after.previous?.runId).toBe("run-b");
    expect(after.history.map((r) => r.runId)).toEqual(["run-b"]);
  });
});

describe("history store errors", () => {
  it("rejects a file that is not SQLite, saying what to do", async () => {
    const file = join(dir, "history.sqlite");
    await writeFile(file, "this is not a database, just some text that is long enough");
    const error = await openHistory(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HistoryStoreError);
    expect((error as Error).message).toMatch(/not a SQLite database.*--store/s);
  });

  it("rejects a SQLite database of another program", async () => {
    const file = join(dir, "other.db");
    const db = new Database(file);
    db.exec("CREATE TABLE users (id INTEGER)");
    db.close();
    await expect(openHistory(file)).rejects.toThrow(/not a fedicheck history store.*move it away/s);
  });

  it("rejects a SQLite store of a newer format", async () => {
    const file = join(dir, "history.sqlite");
    (await openHistory(file)).close();
    const db = new Database(file);
    db.prepare("UPDATE fedicheck_schema SET version = 99").run();
    db.close();
    await expect(openHistory(file)).rejects.toThrow(/format 99, written by a newer fedicheck.*Upgrade/s);
  });

  it("rejects a damaged SQLite file", async () => {
    const file = join(dir, "history.sqlite");
    const store = await openHistory(file);
    await store.add(run("run-a", 0));
    await store.close();
    // Keep the header, destroy the pages after it.
    const { readFile } = await import("node:fs/promises");
    const bytes = await readFile(file);
    bytes.fill(0xab, 100);
    await writeFile(file, bytes);
    await rm(`${file}-wal`, { force: true });
    await rm(`${file}-shm`, { force: true });
    const error = await openHistory(file)
      .then(async (s) => {
        try {
          return await s.list();
        } finally {
          await s.close();
        }
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HistoryStoreError);
    expect((error as Error).message).toMatch(/history\.sqlite/);
  });

  it("names the bad file in a directory store", async () => {
    const location = join(dir, "runs");
    const store = await openHistory(location);
    await store.add(run("run-a", 0));
    await writeFile(join(location, "junk.json"), "{ not json");
    await expect(store.list()).rejects.toThrow(/junk\.json.*Move .*junk\.json out of the store/s);
  });

  it("rejects a directory store of a newer format", async () => {
    const location = join(dir, "runs");
    (await openHistory(location)).close();
    await writeFile(join(location, DIRECTORY_MARKER), JSON.stringify({ format: 2 }));
    await expect(openHistory(location)).rejects.toThrow(/format 2, written by a newer fedicheck/);
  });

  it("reads results files copied into a directory by hand, whatever their names", async () => {
    const location = join(dir, "copied");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(location);
    const a = run("run-a", 0);
    await writeFile(join(location, "results.json"), JSON.stringify(a));
    const store = await openHistory(location);
    expect((await store.list()).map((r) => r.runId)).toEqual(["run-a"]);
    expect((await store.get("run-a"))?.runId).toBe("run-a");
    // Adding it again moves it to <runId>.json rather than keeping two copies.
    await store.add(a);
    expect((await readdir(location)).filter((f) => f.endsWith(".json") && !f.startsWith(".")).sort()).toEqual(
      ["run-a.json"],
    );
  });
});
