import { describe, expect, test } from "vitest";
import type { Target } from "./model.ts";
import { matchesAny, parsePairs, parseShard, planCells } from "./plan.ts";
import type { Scenario } from "./scenario.ts";

const target = (id: string, capabilities: Target["capabilities"] = ["follow", "post"]): Target =>
  ({
    id,
    implementation: id,
    version: "1",
    origin: `http://${id}`,
    runtime: "process",
    capabilities,
  }) as Target;

const scenario = (id: string, extra: Partial<Scenario> = {}): Scenario => ({
  id,
  suite: id.split(".")[0] ?? "x",
  title: id,
  shape: "pair",
  checks: ["X-01"],
  run: async () => {},
  ...extra,
});

const targets = [target("probe"), target("a"), target("b", ["follow"])];

describe("planCells", () => {
  test("pair scenarios run on every ordered pair, single ones once per target", () => {
    const cells = planCells({
      scenarios: [scenario("s.pair"), scenario("s.one", { shape: "single" })],
      targets,
    });
    expect(cells.filter((c) => c.scenario.id === "s.pair")).toHaveLength(6);
    const singles = cells.filter((c) => c.scenario.id === "s.one");
    expect(singles.map((c) => c.receiver.id).sort()).toEqual(["a", "b", "probe"]);
    expect(singles.every((c) => c.sender.id === "probe")).toBe(true);
  });

  test("probe-only flags and pair selections restrict the pairs", () => {
    const cells = planCells({
      scenarios: [
        scenario("s.in", { probeSenderOnly: true }),
        scenario("s.out", { probeReceiverOnly: true }),
      ],
      targets,
    });
    expect(cells.filter((c) => c.scenario.id === "s.in").every((c) => c.sender.id === "probe")).toBe(true);
    expect(
      cells
        .filter((c) => c.scenario.id === "s.out")
        .map((c) => c.sender.id)
        .sort(),
    ).toEqual(["a", "b"]);
    const ab = planCells({
      scenarios: [scenario("s.pair")],
      targets,
      pairs: [{ sender: "a", receiver: "b" }],
    });
    expect(ab.map((c) => c.key)).toEqual(["s.pair@a->b"]);
    const probeOnly = planCells({ scenarios: [scenario("s.pair")], targets, pairs: "probe" });
    expect(probeOnly.every((c) => c.sender.id === "probe" || c.receiver.id === "probe")).toBe(true);
    expect(probeOnly).toHaveLength(4);
  });

  test("missing capabilities are listed per role", () => {
    const cells = planCells({ scenarios: [scenario("s.post", { requires: { sender: ["post"] } })], targets });
    const fromB = cells.filter((c) => c.sender.id === "b");
    expect(fromB.every((c) => c.missing.some((m) => m.role === "sender" && m.capability === "post"))).toBe(
      true,
    );
    expect(cells.filter((c) => c.sender.id === "a").every((c) => c.missing.length === 0)).toBe(true);
  });

  test("shards partition the plan exactly", () => {
    const scenarios = ["a.1", "a.2", "b.1", "b.2", "c.1"].map((id) => scenario(id));
    const all = planCells({ scenarios, targets }).map((c) => c.key);
    const shards = [1, 2, 3].flatMap((index) =>
      planCells({ scenarios, targets, shard: { index, count: 3 } }).map((c) => c.key),
    );
    expect(shards.sort()).toEqual([...all].sort());
    expect(new Set(shards).size).toBe(all.length);
  });

  test("check filters accept globs, and a plan without the probe is refused", () => {
    const scenarios = [scenario("a.1", { checks: ["FOL-01"] }), scenario("b.1", { checks: ["PST-01"] })];
    expect(planCells({ scenarios, targets, checks: ["fol-*"] }).every((c) => c.scenario.id === "a.1")).toBe(
      true,
    );
    expect(() => planCells({ scenarios, targets: [target("a")] })).toThrow(/probe/);
    expect(matchesAny("MED-05", ["MED-0*"])).toBe(true);
    expect(matchesAny("MED-15", ["MED-0*"])).toBe(false);
  });
});

describe("argument parsers", () => {
  test("shards and pairs parse, and bad input says what was expected", () => {
    expect(parseShard("2/3")).toEqual({ index: 2, count: 3 });
    expect(() => parseShard("4/3")).toThrow(/i\/n/);
    expect(parsePairs("a->b,probe->a")).toEqual([
      { sender: "a", receiver: "b" },
      { sender: "probe", receiver: "a" },
    ]);
    expect(() => parsePairs("a-b")).toThrow(/sender->receiver/);
  });
});
