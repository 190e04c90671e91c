/**
 * The embedded default end to end: the probe and two conformant fedify-ref processes, every suite,
 * every pair. Nothing may fail or error (beyond the documented gaps of the reference), and every
 * check of the catalogue must be planned at least once.
 */
import { describe, expect, it } from "vitest";
import type { CellResult } from "../../harness/core/model.ts";
import { CHECKS } from "../../suites/catalogue.ts";
import { KNOWN_REFERENCE_GAPS } from "./known-gaps.ts";
import { describeCells, runSuites } from "./run-suites.ts";

describe("embedded default (probe + fedify-a + fedify-b)", () => {
  it("runs every suite with no failed or errored cell, and plans every check", {
    timeout: 600_000,
  }, async () => {
    const outcome = await runSuites({
      targets: [
        { id: "fedify-a", implementation: "fedify-ref", runtime: "process" },
        { id: "fedify-b", implementation: "fedify-ref", runtime: "process" },
      ],
    });
    const counts: Record<string, number> = {};
    for (const cell of outcome.cells) counts[cell.verdict] = (counts[cell.verdict] ?? 0) + 1;
    console.info(`embedded run: ${outcome.cells.length} cells in ${outcome.wallMs} ms`, counts);

    // Every catalogue check is planned somewhere.
    // (The support suite's SUP-* checks run only on request: see tests/integration/support.test.ts.)
    const unplanned = CHECKS.filter((c) => c.suite !== "support")
      .map((c) => c.id)
      .filter((id) => !outcome.plannedChecks.has(id));
    expect(unplanned, "checks no scenario plans").toEqual([]);

    // Only passed / unsupported / inapplicable, apart from the reference's documented gaps.
    const bad = outcome.cells.filter(
      (c) => c.verdict !== "passed" && c.verdict !== "unsupported" && c.verdict !== "inapplicable",
    );
    const known = bad.filter((c) => c.verdict === "failed" && c.checkId in KNOWN_REFERENCE_GAPS);
    if (known.length > 0) console.info(`known reference gaps:\n${describeCells(known)}`);
    const unexpected = bad.filter((c) => !known.includes(c));
    expect(unexpected.length, `unexpected verdicts:\n${describeCells(unexpected)}`).toBe(0);

    // A gap that no longer shows is stale: say so (the list must stay accurate).
    const stale = Object.keys(KNOWN_REFERENCE_GAPS).filter(
      (id) => !known.some((c: CellResult) => c.checkId === id),
    );
    if (stale.length > 0)
      console.warn(`known gaps that passed everywhere (remove them): ${stale.join(", ")}`);
    // Every cell decided something: a skipped cell in a conformant run means a broken precondition.
    expect(outcome.cells.some((c) => c.verdict === "passed")).toBe(true);
  });
});
