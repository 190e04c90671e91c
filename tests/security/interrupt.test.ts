/**
 * Issue 7: a run stopped midway leaves a valid partial results file and nothing running. Spawns the
 * real CLI (`node bin/fedicheck.js run`, the embedded default: the probe and two fedify-ref
 * processes), waits until cells have been written, then interrupts it (SIGINT, as Ctrl-C) or kills it
 * (SIGKILL, as a crash), and checks the results file and that every process the run started is gone.
 * Processes are found through /proc (Linux), so the test is skipped elsewhere.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { validateResults } from "../../harness/report/results-schema.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const HAS_PROC = existsSync("/proc/self/stat");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 100 ms until it returns a value, or fails after `timeoutMs`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** pid → parent pid of every process, from /proc. */
async function parents(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      // The command name is in parentheses and may hold spaces: the ppid follows the last ')'.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(entry), Number(fields[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** Every live descendant of `root`. */
async function descendants(root: number): Promise<number[]> {
  const map = await parents();
  const found: number[] = [];
  let frontier = [root];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const [pid, ppid] of map) if (frontier.includes(ppid)) next.push(pid);
    found.push(...next);
    frontier = next;
  }
  return found;
}

/** Whether a process is still running (a zombie counts as gone: it runs nothing). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

interface Started {
  child: ChildProcess;
  out: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

const started: Started[] = [];

async function startRun(): Promise<Started> {
  const out = await mkdtemp(join(tmpdir(), "fedicheck-interrupt-"));
  const child = spawn(process.execPath, ["bin/fedicheck.js", "run", "--out", out], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.on("exit", (code, signal) => resolveExit({ code, signal })),
  );
  const run = { child, out, exit, output: () => text };
  started.push(run);
  return run;
}

/** Waits until the run directory's cells.jsonl holds at least `n` cells; returns the run directory. */
async function cellsWritten(run: Started, n: number): Promise<string> {
  return until(
    `${n} cells in cells.jsonl (output so far: ${run.output().slice(-500)})`,
    async () => {
      for (const dir of await readdir(run.out)) {
        const lines = await readFile(join(run.out, dir, "cells.jsonl"), "utf8").catch(() => "");
        if (lines.split("\n").filter(Boolean).length >= n) return join(run.out, dir);
      }
      return undefined;
    },
    120_000,
  );
}

async function expectAllGone(pids: number[]): Promise<void> {
  // The run stops its targets on the way out; a killed run's children exit when their stdin closes.
  await until(
    `processes ${pids.join(", ")} to end`,
    async () => ((await Promise.all(pids.map(alive))).some(Boolean) ? undefined : true),
    15_000,
  );
}

afterEach(async () => {
  for (const run of started.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGKILL");
    await run.exit;
    await rm(run.out, { recursive: true, force: true });
  }
});

describe.skipIf(!HAS_PROC)("a run stopped midway", () => {
  it("SIGINT (Ctrl-C): exit 130, results.json valid and 'interrupted', no process left", async () => {
    const run = await startRun();
    const runDir = await cellsWritten(run, 2);
    const family = await descendants(run.child.pid!);
    expect(family.length).toBeGreaterThanOrEqual(2); // the two fedify-ref servers at least
    run.child.kill("SIGINT");
    const { code } = await run.exit;
    expect(code, run.output().slice(-2000)).toBe(130);

    const stored = JSON.parse(await readFile(join(runDir, "results.json"), "utf8")) as {
      status: string;
      cells: unknown[];
    };
    expect(validateResults(stored).errors).toEqual([]);
    expect(stored.status, run.output().slice(-3000)).toBe("interrupted");
    expect(stored.cells.length).toBeGreaterThanOrEqual(2);
    const lines = (await readFile(join(runDir, "cells.jsonl"), "utf8")).split("\n").filter(Boolean);
    expect(stored.cells.length).toBe(lines.length);
    await expectAllGone(family);
  }, 180_000);

  it("SIGKILL (a crash): results.json still valid with the cells so far, no process left", async () => {
    const run = await startRun();
    const runDir = await cellsWritten(run, 2);
    const family = await descendants(run.child.pid!);
    expect(family.length).toBeGreaterThanOrEqual(2);
    run.child.kill("SIGKILL");
    await run.exit;

    const stored = JSON.parse(await readFile(join(runDir, "results.json"), "utf8")) as {
      status: string;
      cells: unknown[];
    };
    expect(validateResults(stored).errors).toEqual([]);
    // Nobody could write "interrupted": the file says what it was when the process died.
    expect(stored.status).toBe("running");
    expect(stored.cells.length).toBeGreaterThanOrEqual(1);
    await expectAllGone(family);
  }, 180_000);
});
