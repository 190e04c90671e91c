/**
 * The support suite end to end (issue 10): every input variant from the probe to a fedify-ref
 * process, read back through its driver, twice — the conformant reference, then the same target id
 * with the bug-zoo defect `drop-array-url` (a receiver "upgrade" that broke something). The tables
 * must be honest about the reference (it drops some shapes), and the diff between the two runs must
 * change exactly the cells of the variants whose attachment `url` is an array. Prints the wall time of
 * the full support run against one receiver.
 */
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../harness/core/config.ts";
import type { RunResults } from "../../harness/core/model.ts";
import { planCells } from "../../harness/core/plan.ts";
import { runCells } from "../../harness/core/runner.ts";
import { TOOL_VERSION } from "../../harness/core/session.ts";
import { startTargets } from "../../harness/core/targets.ts";
import { writeReports } from "../../harness/report/index.ts";
import { validateResults } from "../../harness/report/results-schema.ts";
import { buildSupportTables, diffSupportTables } from "../../harness/report/support-tables.ts";
import { allVariants, buildObject, inputSet } from "../../harness/support/inputs.ts";
import { validate } from "../../harness/validate/index.ts";
import { outcomesOf, SUPPORT_CHECKS, scenarios, supportScenarios } from "../../suites/support.ts";
import { tempDir } from "../temp-dir.ts";

const RECEIVER = "recv";

/** Runs the whole support suite from the probe to one fedify-ref process; returns results and timings. */
async function supportRun(
  runId: string,
  defects: string[],
): Promise<{ results: RunResults; runMs: number; wallMs: number }> {
  const started = Date.now();
  const run = await startTargets(
    {
      ...DEFAULT_CONFIG,
      targets: [{ id: RECEIVER, implementation: "fedify-ref", runtime: "process", defects }],
    },
    { runId },
  );
  try {
    const cells = planCells({
      scenarios,
      targets: run.targets,
      pairs: [{ sender: "probe", receiver: RECEIVER }],
    });
    const t0 = Date.now();
    const outcome = await runCells({
      cells,
      checks: [...SUPPORT_CHECKS],
      probe: run.probe,
      http: run.http,
      validate: (document, context) => validate(document, context),
      concurrency: 4,
    });
    const runMs = Date.now() - t0;
    const results: RunResults = {
      schemaVersion: 1,
      runId,
      tool: { name: "fedicheck", version: TOOL_VERSION },
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString(),
      status: "completed",
      command: `fedicheck run --suites support --pairs 'probe->${RECEIVER}'`,
      targets: run.targets.map(({ driver: _d, logs: _l, ...info }) => info),
      checks: [...SUPPORT_CHECKS],
      cells: outcome.results,
    };
    return { results, runMs, wallMs: Date.now() - started };
  } finally {
    await run.stop();
  }
}

/** Ids of the variants that send an attachment whose `url` is an array, from the input set itself. */
function arrayUrlVariants(): string[] {
  const set = inputSet();
  return set.groups.flatMap((group) =>
    group.variants
      .filter((v) => {
        const object = buildObject(set.base, group, v, {});
        const attachments = Array.isArray(object.attachment) ? object.attachment : [object.attachment];
        return attachments.some(
          (a) => typeof a === "object" && a !== null && Array.isArray((a as { url?: unknown }).url),
        );
      })
      .map((v) => v.id),
  );
}

describe("support tables against fedify-ref", { timeout: 900_000 }, () => {
  const timings: string[] = [];
  afterAll(() => {
    for (const line of timings) console.info(line);
  });

  it("shows honest outcomes for ≥310 variants, and exactly the array-url cells change with drop-array-url", async () => {
    const conformant = await supportRun("support-conformant", []);
    const broken = await supportRun("support-drop-array-url", ["drop-array-url"]);
    const variants = allVariants(inputSet());
    timings.push(
      `support run against one receiver (fedify-ref, ${variants.length} variants, ${conformant.results.cells.length} groups): ` +
        `${(conformant.runMs / 1000).toFixed(1)} s (${(conformant.wallMs / 1000).toFixed(1)} s with starting the probe and fedify-ref); ` +
        `with drop-array-url: ${(broken.runMs / 1000).toFixed(1)} s`,
    );

    for (const { results } of [conformant, broken]) {
      expect(validateResults(results)).toEqual({ ok: true, errors: [] });
      const outcomes = outcomesOf(results.cells);
      // Every variant ran and was decided (errored would be the harness's fault).
      expect(outcomes.size).toBeGreaterThanOrEqual(310);
      expect(outcomes.size).toBe(variants.length);
      const undecided = [...outcomes.values()].filter((o) => o.kind === "errored");
      expect(undecided.map((o) => `${o.variant}: ${o.detail}`)).toEqual([]);
      // Each variant has its document sent and the receiver's view as evidence.
      for (const cell of results.cells) {
        for (const o of cell.support?.variants ?? []) {
          expect(
            cell.evidence.some((e) => e.label === `sent ${o.variant}` && e.kind === "payload"),
            o.variant,
          ).toBe(true);
          expect(
            cell.evidence.some((e) => e.label === `view ${o.variant}`),
            o.variant,
          ).toBe(true);
        }
      }
    }

    // Honest about the reference: it drops what its inbox refuses (documented in fixtures/fedify-ref/inbox.ts).
    const ref = outcomesOf(conformant.results.cells);
    expect(ref.get("necessary_properties.no-id")?.kind).toBe("post-dropped");
    expect(ref.get("attributed_to.other-actor")?.kind).toBe("post-dropped");
    expect(ref.get("image_attachments.png")).toMatchObject({
      value: "image",
      kind: "kept",
      requirement: "passed",
    });
    expect(ref.get("hashtags.camel-case")?.value).toBe("#fedichecktag");

    // The defect: exactly the variants whose attachment url is an array change, to "post dropped".
    const expected = arrayUrlVariants().sort();
    expect(expected.length).toBeGreaterThanOrEqual(5);
    const before = buildSupportTables(conformant.results)!;
    const after = buildSupportTables(broken.results)!;
    const diff = diffSupportTables(before, after);
    expect(diff.changes.map((c) => c.variant).sort()).toEqual(expected);
    for (const change of diff.changes) {
      expect(change.column).toBe(RECEIVER);
      expect(change.before.kind).not.toBe("post-dropped");
      expect(change.after).toEqual({ value: "post dropped", kind: "post-dropped" });
    }
    const zoo = outcomesOf(broken.results.cells);
    for (const id of expected) expect(zoo.get(id)?.requirement ?? "none", id).not.toBe("passed");

    // The matrix: the groups holding MED-05 variants fail only on the broken receiver.
    const verdict = (results: RunResults, checkId: string) =>
      results.cells.find((c) => c.checkId === checkId);
    for (const checkId of ["SUP-IMAGE", "SUP-RECOMMENDED"]) {
      expect(verdict(conformant.results, checkId)?.verdict, checkId).toBe("passed");
      expect(verdict(broken.results, checkId)).toMatchObject({
        verdict: "failed",
        message: expect.stringMatching(/MED-05 not met/),
      });
    }

    // The reports: support.md lists exactly those changes; support.html highlights them.
    const dir = await tempDir("fc-support-run-");
    const written = await writeReports(dir, broken.results, { baseline: conformant.results });
    const md = readFileSync(written.support!.markdown, "utf8");
    expect(md.split("(was ").length - 1).toBe(expected.length);
    const html = readFileSync(written.support!.html, "utf8");
    for (const id of expected) expect(html).toContain(`<a href="#d-${id}">Δ 🔴 post dropped`);
  });

  it("also runs from another raw-post sender, saying what that sender may fill in", async () => {
    const run = await startTargets(
      {
        ...DEFAULT_CONFIG,
        targets: [
          { id: "fedify-a", implementation: "fedify-ref", runtime: "process" },
          { id: "fedify-b", implementation: "fedify-ref", runtime: "process" },
        ],
      },
      { runId: "support-any-sender" },
    );
    try {
      const cells = planCells({
        scenarios: supportScenarios({ anySender: true, groups: ["necessary_properties"] }),
        targets: run.targets,
        pairs: [
          { sender: "fedify-a", receiver: "fedify-b" },
          { sender: "fedify-a", receiver: "probe" },
        ],
      });
      const { results } = await runCells({
        cells,
        checks: [...SUPPORT_CHECKS],
        probe: run.probe,
        http: run.http,
        validate: (document, context) => validate(document, context),
      });
      const toRef = results.find((c) => c.receiver === "fedify-b")!;
      // fedify-a's post-raw fills in the id the variant removes, so the post arrives.
      const noId = toRef.support?.variants.find((v) => v.variant === "necessary_properties.no-id");
      expect(noId).toMatchObject({
        kind: "kept",
        detail: expect.stringContaining("sent through fedify-a's own API"),
      });
      expect(toRef.support?.variants).toHaveLength(8);
      // The probe as receiver shows what fedify-a put on the wire, and judges nothing.
      const toProbe = results.find((c) => c.receiver === "probe")!;
      expect(toProbe.verdict).toBe("inapplicable");
      expect(toProbe.message).toMatch(/presents nothing to judge/);
      expect(toProbe.support?.variants.every((v) => v.requirement === undefined)).toBe(true);
    } finally {
      await run.stop();
    }
  });
});
