import { spawn } from "node:child_process";
import { appendFile, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../tests/temp-dir.ts";
import type { CellResult, RunResults } from "../core/model.ts";
import { readResults, validateResults } from "./results-schema.ts";
import { sampleResults } from "./sample.ts";
import {
  CELLS_FILE,
  createResultsWriter,
  RESULTS_FILE,
  serializeResults,
  writeFileAtomic,
} from "./writer.ts";

function split(results: RunResults): { header: Omit<RunResults, "cells" | "status">; cells: CellResult[] } {
  const { cells, status: _status, finishedAt: _finishedAt, ...header } = results;
  return { header, cells };
}

async function readJson(path: string): Promise<RunResults> {
  return JSON.parse(await readFile(path, "utf8")) as RunResults;
}

describe("createResultsWriter", () => {
  it("writes a valid running file at once; after every add the run's results hold every cell", async () => {
    const dir = join(await tempDir("fedicheck-writer-"), "run");
    const { header, cells } = split(sampleResults({ checks: 12 }));
    const writer = createResultsWriter(dir, header);
    const first = await readJson(join(dir, RESULTS_FILE));
    expect(first.status).toBe("running");
    expect(first.cells).toEqual([]);
    expect(validateResults(first)).toEqual({ ok: true, errors: [] });
    for (let i = 0; i < cells.length; i += 5) {
      await writer.add(cells.slice(i, i + 5));
      const onDisk = await readJson(join(dir, RESULTS_FILE));
      expect(validateResults(onDisk)).toEqual({ ok: true, errors: [] });
      expect(onDisk.status).toBe("running");
      // results.json holds a prefix (it is rewritten at growing intervals); cells.jsonl the rest.
      expect(onDisk.cells).toEqual(cells.slice(0, onDisk.cells.length));
      expect((await readResults(dir)).cells).toEqual(cells.slice(0, i + 5));
    }
    expect(writer.results().cells.length).toBe(cells.length);
  });

  it("rewrites results.json at growing intervals, so a long run stays linear", async () => {
    const dir = await tempDir("fedicheck-writer-");
    const { header, cells } = split(sampleResults({ checks: 40 }));
    const writer = createResultsWriter(dir, header);
    const sizes = new Set<number>();
    for (const cell of cells) {
      await writer.add([cell]);
      sizes.add((await readJson(join(dir, RESULTS_FILE))).cells.length);
    }
    // Every cell of the first eight, then when an eighth more arrived: far fewer rewrites than cells.
    expect(cells.length).toBeGreaterThan(100);
    expect(sizes.size).toBeLessThan(cells.length / 3);
    expect([...sizes].slice(0, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const final = await writer.finish("completed");
    expect((await readJson(join(dir, RESULTS_FILE))).cells).toEqual(final.cells);
  });

  it("reads a crashed run back with the cells only cells.jsonl holds, up to a line cut short", async () => {
    const dir = await tempDir("fedicheck-writer-");
    const { header, cells } = split(sampleResults({ checks: 40 }));
    const writer = createResultsWriter(dir, header);
    for (const cell of cells.slice(0, 47)) await writer.add([cell]);
    const onDisk = await readJson(join(dir, RESULTS_FILE));
    expect(onDisk.cells.length).toBeLessThan(47);
    // The process dies while appending the next cell.
    await appendFile(join(dir, CELLS_FILE), JSON.stringify(cells[47]).slice(0, 40));
    const read = await readResults(dir);
    expect(read.status).toBe("running");
    expect(read.cells).toEqual(cells.slice(0, 47));
  });

  it("finishes with a status, finishedAt and timing, then refuses more cells", async () => {
    const dir = await tempDir("fedicheck-writer-");
    const { header, cells } = split(sampleResults({ checks: 3 }));
    const writer = createResultsWriter(dir, header);
    await writer.add(cells);
    const final = await writer.finish("completed", {
      finishedAt: "2025-01-15T11:00:00.000Z",
      timing: { wallMs: 10, waitingMs: 4, workingMs: 6 },
    });
    const onDisk = await readResults(dir);
    expect(onDisk).toEqual(final);
    expect(onDisk.status).toBe("completed");
    expect(onDisk.finishedAt).toBe("2025-01-15T11:00:00.000Z");
    expect(onDisk.timing).toEqual({ wallMs: 10, waitingMs: 4, workingMs: 6 });
    await expect(writer.add(cells.slice(0, 1))).rejects.toThrow(/is finished; cannot add cells/);
  });

  it("streams cells.jsonl in order, one cell per line", async () => {
    const dir = await tempDir("fedicheck-writer-");
    const { header, cells } = split(sampleResults({ checks: 6 }));
    const writer = createResultsWriter(dir, header);
    await Promise.all(cells.map((cell) => writer.add([cell])));
    const lines = (await readFile(join(dir, CELLS_FILE), "utf8")).trimEnd().split("\n");
    expect(lines.map((l) => JSON.parse(l) as CellResult)).toEqual(cells);
  });

  it("keeps the file valid for a reader racing many overlapping adds", async () => {
    const dir = await tempDir("fedicheck-writer-");
    const { header, cells } = split(sampleResults({ checks: 42 }));
    const writer = createResultsWriter(dir, header);
    let done = false;
    let reads = 0;
    const counts: number[] = [];
    const reader = (async () => {
      while (!done) {
        const now = await readJson(join(dir, RESULTS_FILE));
        const { ok, errors } = validateResults(now);
        if (!ok) throw new Error(errors.join("\n"));
        counts.push(now.cells.length);
        reads++;
      }
    })();
    await Promise.all(cells.map((cell) => writer.add([cell])));
    done = true;
    await reader;
    expect(reads).toBeGreaterThan(1);
    // Cells only ever accumulate.
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect((await readJson(join(dir, RESULTS_FILE))).cells.length).toBe(cells.length);
    // Overlapping adds share writes: no temporary file is left behind.
    expect((await readdir(dir)).sort()).toEqual([CELLS_FILE, RESULTS_FILE]);
  });

  it("leaves a valid running file when the process is killed mid-run", async () => {
    const child = fileURLToPath(new URL("./testing/writer-child.ts", import.meta.url));
    for (const wantCells of [1, 40, 300]) {
      const dir = await tempDir("fedicheck-writer-");
      const proc = spawn(process.execPath, ["--import", "tsx", child, dir], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      proc.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        proc.on("exit", (_code, signal) => resolve(signal)),
      );
      // Kill it as soon as the streaming log shows enough cells: mid-write, most likely.
      for (;;) {
        const lines = await readFile(join(dir, CELLS_FILE), "utf8").catch(() => "");
        if (lines.split("\n").length > wantCells) break;
        if (proc.exitCode !== null) throw new Error(`child exited early: ${stderr}`);
        await new Promise((r) => setTimeout(r, 2));
      }
      proc.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      const results = await readResults(dir);
      expect(results.status).toBe("running");
      expect(results.cells.length).toBeGreaterThanOrEqual(wantCells - 1);
      // The streaming log is never behind results.json (it may hold the cell in flight).
      const logged = (await readFile(join(dir, CELLS_FILE), "utf8")).split("\n").filter((l) => l !== "");
      expect(logged.length).toBeGreaterThanOrEqual(results.cells.length);
    }
  });

  it("rejects a header that does not match the schema", async () => {
    const { header } = split(sampleResults({ checks: 1 }));
    expect(() => createResultsWriter("/nonexistent-never-created", { ...header, startedAt: "soon" })).toThrow(
      /results header does not match the results schema: \/startedAt: must match format "date-time"/,
    );
  });
});

describe("writeFileAtomic", () => {
  it("writes the very bytes serializeResults makes, from its pre-encoded cells (issue 8)", async () => {
    const dir = await tempDir("fedicheck-writer-");
    const { header, cells } = split(sampleResults({ checks: 9 }));
    const writer = createResultsWriter(dir, header);
    await writer.add(cells.slice(0, 1));
    await writer.add(cells.slice(1, 4));
    expect(await readFile(join(dir, RESULTS_FILE), "utf8")).toBe(serializeResults(writer.results()));
    await writer.add(cells.slice(4));
    const final = await writer.finish("completed", { finishedAt: "2025-01-15T11:00:00.000Z" });
    expect(await readFile(join(dir, RESULTS_FILE), "utf8")).toBe(serializeResults(final));
  });

  it("replaces the content and leaves no temporary file", async () => {
    const dir = await tempDir("fedicheck-writer-");
    const path = join(dir, "x.json");
    await writeFileAtomic(path, "one");
    await writeFileAtomic(path, "two", { durable: true });
    expect(await readFile(path, "utf8")).toBe("two");
    expect(await readdir(dir)).toEqual(["x.json"]);
  });
});
