/**
 * `fedicheck history` end to end through the CLI entry: add results files, list them as a table and
 * as JSON, flake rates, prune (dry run and for real), and the errors of bad input.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RunResults } from "../core/model.ts";
import type { RunSummary } from "../report/history.ts";
import { sampleResults } from "../report/sample.ts";
import { createResultsWriter } from "../report/writer.ts";
import { main } from "./main.ts";

let dir: string;
let out: string[];
let err: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedicheck-history-cli-"));
  out = [];
  err = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void out.push(args.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void err.push(args.join(" ")));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** Writes a run directory the way a run does and returns its path. */
async function runDir(results: RunResults): Promise<string> {
  const path = join(dir, "runs", results.runId);
  const { cells, status: _s, ...header } = results;
  const writer = createResultsWriter(path, header);
  await writer.add(cells);
  await writer.finish("completed", { finishedAt: results.finishedAt ?? results.startedAt });
  return path;
}

const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();

describe.each(["history.sqlite", "history-dir"])("fedicheck history with --store %s", (name) => {
  it("adds runs, lists them, shows flake rates and prunes", async () => {
    const store = join(dir, name);
    const old = sampleResults({ seed: 1, runId: "run-old", startedAt: day(40) });
    const mid = sampleResults({ seed: 2, runId: "run-mid", startedAt: day(5) });
    const newest = sampleResults({ seed: 3, runId: "run-new", startedAt: day(1) });
    const dirs = await Promise.all([old, mid, newest].map(runDir));

    expect(await main(["history", "add", ...dirs, "--store", store])).toBe(0);
    expect(out.join("\n")).toMatch(/stored 3 runs in/);

    out = [];
    expect(await main(["history", "--store", store])).toBe(0);
    const text = out.join("\n");
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^RUN\s+STARTED \(UTC\)\s+STATUS\s+CELLS\s+PASSED\s+FAILED/);
    expect(lines.slice(1, 4).map((l) => l.split(/\s+/)[0])).toEqual(["run-new", "run-mid", "run-old"]);
    expect(lines[1]).toContain(`${newest.cells.length}`);
    expect(lines[1]).toContain("fedify-ref 4.1.3");
    expect(text).toMatch(/3 runs in/);

    out = [];
    expect(await main(["history", "list", "--json", "--store", store])).toBe(0);
    const listed = JSON.parse(out.join("\n")) as RunSummary[];
    expect(listed.map((r) => [r.runId, r.counts.failed])).toEqual(
      [newest, mid, old].map((r) => [r.runId, r.cells.filter((c) => c.verdict === "failed").length]),
    );

    out = [];
    expect(await main(["history", "flakes", "--all", "--store", store])).toBe(0);
    expect(out.join("\n")).toMatch(/^CHECK\s+FLIP RATE\s+FLIPS\s+TRANSITIONS/);

    out = [];
    expect(await main(["history", "prune", "--older-than", "30", "--dry-run", "--store", store])).toBe(0);
    expect(out.join("\n")).toMatch(/run-old[\s\S]*would remove 1 run from/);
    out = [];
    expect(await main(["history", "prune", "--keep", "1", "--store", store])).toBe(0);
    expect(out.join("\n")).toMatch(/removed 2 runs from/);
    out = [];
    expect(await main(["history", "list", "--json", "--store", store])).toBe(0);
    expect((JSON.parse(out.join("\n")) as RunSummary[]).map((r) => r.runId)).toEqual(["run-new"]);
  });
});

describe("fedicheck history errors", () => {
  it("says prune needs a rule, and removes nothing", async () => {
    expect(await main(["history", "prune", "--store", join(dir, "h.sqlite")])).toBe(2);
    expect(err.join("\n")).toMatch(/needs --keep N or --older-than DAYS/);
  });

  it("rejects bad numbers, unknown subcommands and misplaced options", async () => {
    expect(await main(["history", "prune", "--keep", "two", "--store", join(dir, "h.sqlite")])).toBe(2);
    expect(await main(["history", "show", "--store", join(dir, "h.sqlite")])).toBe(2);
    expect(await main(["history", "list", "--keep", "3", "--store", join(dir, "h.sqlite")])).toBe(2);
    expect(err.join("\n")).toMatch(
      /--keep expects a whole number[\s\S]*unknown history command 'show'[\s\S]*belong to 'fedicheck history prune'/,
    );
  });

  it("names a missing results file and stores nothing", async () => {
    const store = join(dir, "h.sqlite");
    expect(await main(["history", "add", join(dir, "missing.json"), "--store", store])).toBe(2);
    expect(err.join("\n")).toMatch(/no such file or directory: .*missing\.json/);
  });

  it("explains a store that is not a history store", async () => {
    const { writeFile } = await import("node:fs/promises");
    const store = join(dir, "notes.db");
    await writeFile(store, "just some notes, not a database at all");
    expect(await main(["history", "--store", store])).toBe(2);
    expect(err.join("\n")).toMatch(/notes\.db is a file but not a SQLite database/);
  });
});
