import { describe, expect, it } from "vitest";
import type { RunResults } from "../core/model.ts";
import { MergeError, mergeResults } from "./merge.ts";
import { validateResults } from "./results-schema.ts";
import { sampleResults } from "./sample.ts";

/** Splits a run into `n` shards the way `--shard i/n` would: every n-th cell. */
function shards(run: RunResults, n: number): RunResults[] {
  return Array.from({ length: n }, (_, i) => ({
    ...structuredClone(run),
    shard: { index: i + 1, count: n },
    cells: run.cells.filter((_, j) => j % n === i),
  }));
}

describe("mergeResults", () => {
  it("puts the shards of a run back together", () => {
    const run = sampleResults({ checks: 20 });
    const merged = mergeResults(shards(run, 3));
    expect(merged.runId).toBe(run.runId);
    expect(merged.shard).toBeUndefined();
    expect(merged.status).toBe("completed");
    expect(merged.targets).toEqual(run.targets);
    expect(merged.checks).toEqual(run.checks);
    expect(merged.cells.length).toBe(run.cells.length);
    expect(new Set(merged.cells)).toEqual(new Set(run.cells));
    expect(validateResults(merged)).toEqual({ ok: true, errors: [] });
  });

  it("unites different targets and checks and sums timings", () => {
    const a = sampleResults({ implementations: ["fedify-ref"], checks: 10, runId: "a" });
    const b = sampleResults({
      implementations: ["mastodon"],
      checks: 14,
      runId: "b",
      startedAt: "2025-01-15T12:00:00.000Z",
    });
    const merged = mergeResults([a, b]);
    expect(merged.runId).toBe("merged-a+b");
    expect(merged.targets.map((t) => t.id)).toEqual(["probe", "fedify-ref", "mastodon"]);
    expect(merged.checks.length).toBe(14);
    expect(merged.cells.length).toBe(a.cells.length + b.cells.length);
    expect(merged.startedAt).toBe(a.startedAt);
    expect(merged.finishedAt).toBe(b.finishedAt);
    expect(merged.timing!.waitingMs).toBe(a.timing!.waitingMs + b.timing!.waitingMs);
    expect(merged.timing!.wallMs).toBe(Date.parse(b.finishedAt!) - Date.parse(a.startedAt));
    expect(merged.command).toBe(`${a.command} ; ${b.command}`);
    expect(validateResults(merged)).toEqual({ ok: true, errors: [] });
  });

  it("keeps identical duplicate cells once and rejects conflicting ones", () => {
    const run = sampleResults({ checks: 4 });
    const [one, two] = shards(run, 2);
    two!.cells.push(structuredClone(one!.cells[0]!));
    expect(mergeResults([one!, two!]).cells.length).toBe(run.cells.length);
    const changed = structuredClone(one!.cells[1]!);
    changed.verdict = changed.verdict === "passed" ? "failed" : "passed";
    two!.cells.push(changed);
    expect(() => mergeResults([one!, two!])).toThrow(MergeError);
    expect(() => mergeResults([one!, two!])).toThrow(
      new RegExp(
        `cell ${changed.checkId} \\(${changed.scenarioId}\\) on ${changed.sender}→${changed.receiver} .*shards must not overlap`,
      ),
    );
  });

  it("rejects the same target id with different content", () => {
    const a = sampleResults({ runId: "a" });
    const b = sampleResults({ runId: "b" });
    b.targets[1]!.version = "9.9.9";
    expect(() => mergeResults([a, b])).toThrow("target 'fedify-ref' differs between run a and run b");
  });

  it("accepts a target whose origin differs between shards (each started its own), keeping the first", () => {
    const run = sampleResults({ checks: 6 });
    const [one, two] = shards(run, 2);
    two!.targets[1]!.origin = "http://127.0.0.1:45678";
    const merged = mergeResults([one!, two!]);
    expect(merged.targets[1]!.origin).toBe(run.targets[1]!.origin);
    two!.targets[1]!.capabilities = [];
    expect(() => mergeResults([one!, two!])).toThrow(MergeError);
  });

  it("adds up the issue-8 timing figures, per target for target CPU", () => {
    const run = sampleResults({ checks: 6 });
    const [one, two] = shards(run, 2);
    one!.timing = { wallMs: 10, waitingMs: 1, workingMs: 2, harnessCpuMs: 3, targetCpuMs: { a: 5 } };
    two!.timing = { wallMs: 10, waitingMs: 1, workingMs: 2, harnessCpuMs: 4, targetCpuMs: { a: 6, b: 1 } };
    const timing = mergeResults([one!, two!]).timing!;
    expect(timing.harnessCpuMs).toBe(7);
    expect(timing.targetCpuMs).toEqual({ a: 11, b: 1 });
    expect(timing.startupMs).toBeUndefined(); // absent from the inputs
  });

  it("is completed only when every input is", () => {
    const run = sampleResults({ checks: 4 });
    const [one, two] = shards(run, 2);
    two!.status = "running";
    delete two!.finishedAt;
    const merged = mergeResults([one!, two!]);
    expect(merged.status).toBe("running");
    expect(merged.finishedAt).toBeUndefined();
    one!.status = "interrupted";
    expect(mergeResults([one!, two!]).status).toBe("interrupted");
  });

  it("refuses an empty list", () => {
    expect(() => mergeResults([])).toThrow(/nothing to merge/);
  });
});
