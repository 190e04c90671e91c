/**
 * Issue 8: `--shard i/n` splits the plan deterministically and `fedicheck merge` joins the shards into
 * one run. Runs the same suites unsharded and as shards 1/3, 2/3 and 3/3 (each a full session with
 * its own probe and fedify-ref processes, as on separate CI machines, all at once), merges the
 * shards with mergeResults, and compares the merge with the unsharded run cell for cell.
 *
 * The checks are ones whose verdicts do not depend on timing: discovery (single cells on every
 * target) and the signature checks where the probe signs, or not, towards the target (SIG-08, key
 * rotation, is left out: under load it sometimes errors). One fedify-ref target keeps the four
 * sessions light enough to run at once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../harness/core/config.ts";
import type { CellResult, RunResults } from "../../harness/core/model.ts";
import { runSession } from "../../harness/core/session.ts";
import { mergeResults } from "../../harness/report/merge.ts";
import { validateResults } from "../../harness/report/results-schema.ts";
import { CHECKS } from "../../suites/catalogue.ts";
import { ALL_SCENARIOS } from "../../suites/index.ts";

const SUITES = ["discovery", "signatures"];
const CHECK_IDS = ["DSC-*", "SIG-01", "SIG-02", "SIG-03", "SIG-04", "SIG-05", "SIG-06", "SIG-07"];

/** What must agree between the merged shards and the unsharded run. */
function identity(cell: CellResult): string {
  return [cell.checkId, cell.scenarioId, cell.sender, cell.receiver, cell.verdict].join(" | ");
}

describe("sharding: shards 1/3 + 2/3 + 3/3 merged equal the unsharded run", () => {
  let outDir: string;
  let whole: RunResults;
  let shards: RunResults[];

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), "fedicheck-shard-"));
    const session = (shard?: { index: number; count: number }) =>
      runSession({
        config: resolveConfig({
          targets: [{ id: "fedify-a", implementation: "fedify-ref" }],
          suites: SUITES,
          checks: CHECK_IDS,
          outDir,
          ...(shard ? { shard } : {}),
        }),
        scenarios: ALL_SCENARIOS,
        checks: CHECKS,
        command: `fedicheck run --suites ${SUITES.join(",")}${shard ? ` --shard ${shard.index}/${shard.count}` : ""}`,
        runId: shard ? `shard-${shard.index}-of-${shard.count}` : "unsharded",
      }).then((outcome) => outcome.results);
    [whole, ...shards] = await Promise.all([
      session(),
      session({ index: 1, count: 3 }),
      session({ index: 2, count: 3 }),
      session({ index: 3, count: 3 }),
    ]);
  }, 120_000);

  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it("gives every shard a part of the plan, no cell twice", () => {
    const counts = shards.map((s) => s.cells.length);
    expect(
      counts.every((n) => n > 0),
      `cells per shard: ${counts.join(", ")}`,
    ).toBe(true);
    const keys = shards.flatMap((s) =>
      s.cells.map((c) => `${c.checkId} ${c.scenarioId} ${c.sender}->${c.receiver}`),
    );
    expect(new Set(keys).size).toBe(keys.length);
    // Shards split cells (scenario × pair), so their sizes differ by at most one cell's checks.
    const cellsPerShard = shards.map(
      (s) => new Set(s.cells.map((c) => `${c.scenarioId}@${c.sender}->${c.receiver}`)).size,
    );
    expect(Math.max(...cellsPerShard) - Math.min(...cellsPerShard)).toBeLessThanOrEqual(1);
  });

  it("merges into the unsharded run, cell for cell", () => {
    const merged = mergeResults(shards);
    expect(merged.status).toBe("completed");
    expect(merged.shard).toBeUndefined();
    expect(whole.cells.length).toBeGreaterThan(15);
    expect(merged.cells.map(identity).sort()).toEqual(whole.cells.map(identity).sort());
    // The same checks and the same targets (by id and implementation; origins differ per run).
    expect(merged.checks.map((c) => c.id).sort()).toEqual(whole.checks.map((c) => c.id).sort());
    expect(validateResults(merged)).toEqual({ ok: true, errors: [] });
  });

  it("records each shard in its results and adds up the timing", () => {
    expect(shards.map((s) => s.shard)).toEqual([
      { index: 1, count: 3 },
      { index: 2, count: 3 },
      { index: 3, count: 3 },
    ]);
    const merged = mergeResults(shards);
    const sum = (pick: (r: RunResults) => number | undefined) =>
      shards.reduce((t, r) => t + (pick(r) ?? 0), 0);
    expect(merged.timing?.waitingMs).toBe(sum((r) => r.timing?.waitingMs));
    expect(merged.timing?.harnessCpuMs).toBe(sum((r) => r.timing?.harnessCpuMs));
  });
});
