import { describe, expect, it } from "vitest";
import { allVariants, inputSet } from "../harness/support/inputs.ts";
import { CHECKS } from "./catalogue.ts";
import { SUPPORT_CHECKS, scenarios, supportScenarios, tallyOutcomes } from "./support.ts";

describe("the support suite", () => {
  const set = inputSet();

  it("has one pair scenario per group, deciding that group's SUP check", () => {
    expect(scenarios).toHaveLength(set.groups.length);
    const ids = scenarios.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [i, s] of scenarios.entries()) {
      const group = set.groups[i]!;
      expect(s).toMatchObject({ suite: "support", shape: "pair", checks: [group.checkId] });
      expect(s.id).toMatch(/^support\.[a-z0-9-]+$/);
      expect(s.requires?.sender).toEqual(["raw-post"]);
      // A budget that grows with the group: the HTML group has 60 variants.
      expect(s.timeoutMs ?? 0).toBeGreaterThanOrEqual(60_000);
      expect(s.title).toContain(`${group.variants.length} variants`);
    }
  });

  it("defines every SUP check once, in the support suite, in group order", () => {
    expect(SUPPORT_CHECKS.map((c) => c.id)).toEqual(set.groups.map((g) => g.checkId));
    for (const c of SUPPORT_CHECKS) expect(c).toMatchObject({ suite: "support", level: "SHOULD" });
    // SUP ids never collide with the catalogue's.
    const catalogue = new Set(CHECKS.map((c) => c.id));
    for (const c of SUPPORT_CHECKS)
      expect(catalogue.has(c.id) && CHECKS.find((k) => k.id === c.id)?.suite !== "support").toBe(false);
  });

  it("names only catalogue checks as variant requirements", () => {
    const catalogue = new Set(CHECKS.map((c) => c.id));
    for (const v of allVariants(set))
      if (v.check !== undefined) expect(catalogue.has(v.check), `${v.id}: ${v.check}`).toBe(true);
  });

  it("sends from the probe only, unless asked for any raw-post sender", () => {
    expect(scenarios.every((s) => s.probeSenderOnly === true)).toBe(true);
    expect(supportScenarios({ anySender: true }).every((s) => s.probeSenderOnly === false)).toBe(true);
  });

  it("can be limited to some groups", () => {
    expect(supportScenarios({ groups: ["emoji", "url"] }).map((s) => s.id)).toEqual([
      "support.emoji",
      "support.url",
    ]);
  });

  it("tallies outcomes in a fixed order", () => {
    expect(
      tallyOutcomes([{ kind: "post-dropped" }, { kind: "kept" }, { kind: "kept" }, { kind: "errored" }]),
    ).toBe("4 variants: 2 kept, 1 post dropped, 1 not decided");
  });
});
