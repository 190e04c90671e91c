/**
 * Authorized fetch end to end: a conformant fedify-ref started with `--authorized-fetch` (it declares
 * the capability) passes SIG-09 — unsigned GETs of its actors and objects refused, signed ones
 * served — and the mode breaks nothing else that talks to it through the probe (discovery, follows,
 * signatures, security, deletes: every fetch the probe makes is retried signed). The embedded
 * default has no authorized-fetch target, so SIG-09 is decided here; the bug zoo runs the broken
 * variant (no-authorized-fetch).
 */
import { describe, expect, it } from "vitest";
import { KNOWN_REFERENCE_GAPS } from "./known-gaps.ts";
import { describeCells, runSuites } from "./run-suites.ts";

describe("authorized fetch (probe + fedify-ref --authorized-fetch)", () => {
  it("passes SIG-09 and every other check it takes part in", { timeout: 300_000 }, async () => {
    const outcome = await runSuites({
      targets: [{ id: "fedify-af", implementation: "fedify-ref", runtime: "process", authorizedFetch: true }],
      suites: ["discovery", "follow", "signatures", "security", "delete"],
    });
    console.info(`authorized-fetch run: ${outcome.cells.length} cells in ${outcome.wallMs} ms`);

    const sig09 = outcome.cells.filter((c) => c.checkId === "SIG-09" && c.receiver === "fedify-af");
    expect(sig09.map((c) => c.verdict)).toEqual(["passed"]);
    expect(sig09[0]!.message).toBe("unsigned GETs refused, signed GETs served");

    const bad = outcome.cells.filter(
      (c) =>
        c.verdict !== "passed" &&
        c.verdict !== "unsupported" &&
        c.verdict !== "inapplicable" &&
        !(c.verdict === "failed" && c.checkId in KNOWN_REFERENCE_GAPS),
    );
    expect(bad.length, `unexpected verdicts:\n${describeCells(bad)}`).toBe(0);
  });
});
