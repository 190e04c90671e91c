/**
 * The bug zoo: every defect of fixtures/fedify-ref/defects.ts, switched on in one fedify-ref process
 * (`zoo`) run against the probe, must make exactly its `catches` checks fail on cells involving the
 * broken server — each of them at least once, nothing else (beyond the reference's documented gaps),
 * with a message that names the defect's `symptom`. Only the suites holding the defect's checks run.
 */
import { describe, expect, it } from "vitest";
import { DEFECTS } from "../../fixtures/fedify-ref/defects.ts";
import type { TargetSpec } from "../../harness/core/config.ts";
import { checkById } from "../../suites/catalogue.ts";
import { KNOWN_REFERENCE_GAPS } from "./known-gaps.ts";
import { describeCells, runSuites } from "./run-suites.ts";

const ZOO = "zoo";

/** At most this many defect runs at once (each starts a probe and one or two fedify-ref processes). */
const PARALLEL = 2;
let running = 0;
const queue: Array<() => void> = [];
async function slot<T>(task: () => Promise<T>): Promise<T> {
  if (running >= PARALLEL) await new Promise<void>((resolve) => queue.push(resolve));
  running++;
  try {
    return await task();
  } finally {
    running--;
    queue.shift()?.();
  }
}

/** `FEDICHECK_ZOO=a,b` runs only those defects (handy while working on one). */
const only = process.env.FEDICHECK_ZOO?.split(",").filter(Boolean);

describe.concurrent("bug zoo", () => {
  for (const defect of DEFECTS.filter((d) => !only || only.includes(d.id))) {
    const catches: readonly string[] = defect.catches;
    const suites = [...new Set(catches.map((id) => checkById(id).suite))];
    it(`${defect.id} fails exactly ${catches.join(", ")}`, { timeout: 600_000 }, async () => {
      const targets: TargetSpec[] = [
        {
          id: ZOO,
          implementation: "fedify-ref",
          runtime: "process",
          defects: [defect.id],
          ...("serverOptions" in defect ? defect.serverOptions : {}),
        },
      ];
      if ("needsPeer" in defect && defect.needsPeer)
        targets.push({ id: "fedify-b", implementation: "fedify-ref", runtime: "process" });
      // Only cells involving the broken server: every ordered pair with it, and its single cells.
      const others = ["probe", ...targets.filter((t) => t.id !== ZOO).map((t) => t.id)];
      const pairs = others.flatMap((o) => [
        { sender: o, receiver: ZOO },
        { sender: ZOO, receiver: o },
      ]);
      const outcome = await slot(() => runSuites({ targets, suites, pairs, waitBudgetMs: 8_000 }));
      console.info(
        `${defect.id}: ${outcome.cells.length} cells (${suites.join(", ")}) in ${outcome.wallMs} ms`,
      );

      const errored = outcome.cells.filter((c) => c.verdict === "errored");
      expect(errored.length, `errored cells:\n${describeCells(errored)}`).toBe(0);

      const involved = (c: { sender: string; receiver: string }) => c.sender === ZOO || c.receiver === ZOO;
      const failed = outcome.cells.filter((c) => c.verdict === "failed");
      // Each check the defect names fails at least once on a cell involving the broken server.
      const caught = new Set(failed.filter(involved).map((c) => c.checkId));
      const missed = catches.filter((id) => !caught.has(id));
      expect(
        missed,
        `checks that did not fail:\n${describeCells(outcome.cells.filter((c) => missed.includes(c.checkId)))}`,
      ).toEqual([]);
      // Nothing else fails, anywhere, apart from the reference's documented gaps.
      const unexpected = failed.filter(
        (c) => !(involved(c) && catches.includes(c.checkId)) && !(c.checkId in KNOWN_REFERENCE_GAPS),
      );
      expect(unexpected.length, `unexpected failures:\n${describeCells(unexpected)}`).toBe(0);
      // Each failure of a named check says what went wrong in terms of the symptom.
      for (const cell of failed.filter(
        (c) => catches.includes(c.checkId) && !(c.checkId in KNOWN_REFERENCE_GAPS),
      )) {
        expect(
          `${cell.message} ${cell.observed ?? ""}`,
          `${cell.checkId} ${cell.sender}->${cell.receiver}`,
        ).toMatch(defect.symptom);
        expect(cell.evidence.length, `${cell.checkId} has evidence`).toBeGreaterThan(0);
      }
    });
  }
});
