import { EventEmitter } from "node:events";
import { describe, expect, test } from "vitest";
import { UnsupportedError } from "../drivers/driver.ts";
import type { Probe } from "../peer/types.ts";
import type { HttpClient } from "../protocol/types.ts";
import type { CheckDefinition, Target } from "./model.ts";
import { planCells } from "./plan.ts";
import { runCells } from "./runner.ts";
import type { Scenario } from "./scenario.ts";
import { PreconditionError } from "./scenario.ts";

// The runner only needs the probe's inbox events here; the real probe is exercised in integration tests.
const events = new EventEmitter();
const probe = {
  inbox: {
    subscribe: (listener: () => void) => {
      events.on("entry", listener);
      return () => events.off("entry", listener);
    },
  },
  actor: (name: string) => ({ name }),
} as unknown as Probe;
const http = {} as HttpClient;

const target = (id: string): Target =>
  ({
    id,
    implementation: id,
    version: "1",
    origin: `http://${id}`,
    runtime: "process",
    capabilities: [],
    logs: () => `${id} says hello`,
  }) as unknown as Target;
const targets = [target("probe"), target("a")];
const checks: CheckDefinition[] = ["T-01", "T-02", "T-03"].map((id) => ({
  id,
  suite: "t",
  title: id,
  requirement: "",
  source: "",
  level: "MUST",
  impact: "PROBLEM",
}));

async function run(scenario: Scenario, retries = 0) {
  const cells = planCells({ scenarios: [scenario], targets, pairs: [{ sender: "probe", receiver: "a" }] });
  return runCells({ cells, checks, probe, http, validate: async () => [], retries, waitBudgetMs: 200 });
}

const base = { id: "t.s", suite: "t", title: "t", shape: "pair" as const, checks: ["T-01", "T-02", "T-03"] };

describe("runCells", () => {
  test("a wait that names its check fails that check and skips the rest", async () => {
    const { results } = await run({
      ...base,
      run: async (ctx) => {
        ctx.assert("T-01", true, "ok");
        await ctx.waitFor("the impossible", async () => false, { check: "T-02" });
        ctx.assert("T-03", true, "never reached");
      },
    });
    expect(results.map((r) => r.verdict)).toEqual(["passed", "failed", "skipped"]);
    expect(results[1]?.message).toContain("the impossible");
    expect(results[2]?.message).toContain("T-02 failed");
    // Failed cells carry the targets' logs as evidence.
    expect(results[1]?.evidence.some((e) => e.kind === "log" && e.text.includes("a says hello"))).toBe(true);
    expect(results[1]?.reproduce).toContain("--suites t --checks T-02 --pairs 'probe->a'");
    expect(results[0]?.waitingMs).toBeGreaterThanOrEqual(150);
  });

  test("preconditions skip, unsupported operations and harness errors are never failures", async () => {
    const skipped = await run({
      ...base,
      run: async () => Promise.reject(new PreconditionError("follow failed")),
    });
    expect(skipped.results.every((r) => r.verdict === "skipped" && r.message.includes("follow failed"))).toBe(
      true,
    );
    const unsupported = await run({
      ...base,
      run: async () => Promise.reject(new UnsupportedError("a", "polls")),
    });
    expect(unsupported.results.every((r) => r.verdict === "unsupported")).toBe(true);
    const errored = await run({ ...base, run: async () => Promise.reject(new Error("socket hang up")) });
    expect(
      errored.results.every((r) => r.verdict === "errored" && r.message.includes("socket hang up")),
    ).toBe(true);
  });

  test("a cell over its budget is errored, and undeclared checks are refused", async () => {
    const slow = await run({ ...base, timeoutMs: 50, run: () => new Promise(() => {}) });
    expect(slow.results.every((r) => r.verdict === "errored" && /budget of 50 ms/.test(r.message))).toBe(
      true,
    );
    const undeclared = await run({
      ...base,
      run: async (ctx) => {
        ctx.assert("NOPE-1", true, "x");
      },
    });
    expect(undeclared.results[0]?.message).toMatch(/does not declare/);
  });

  test("a retry that changes the verdict marks the check flaky", async () => {
    let attempt = 0;
    const { results } = await run(
      {
        ...base,
        run: async (ctx) => {
          attempt++;
          ctx.assert("T-01", attempt > 1, `attempt ${attempt}`);
          ctx.assert("T-02", true, "stable");
          ctx.record("T-03", "inapplicable", "n/a");
        },
      },
      2,
    );
    expect(results[0]).toMatchObject({ verdict: "passed", flaky: true, attempts: 2 });
    expect(results[1]?.flaky).toBeUndefined();
  });

  test("evidence attached before a verdict stays with that check", async () => {
    const { results } = await run({
      ...base,
      run: async (ctx) => {
        ctx.view("T-01", "receiver view", { text: "hi" });
        ctx.evidence(undefined, { kind: "note", label: "shared", text: "for all" });
        ctx.assert("T-01", false, "bad", { expected: "x", observed: "y" });
        ctx.assert("T-02", true, "ok");
        ctx.assert("T-03", true, "ok");
      },
    });
    expect(results[0]).toMatchObject({ verdict: "failed", expected: "x", observed: "y" });
    expect(results[0]?.evidence.map((e) => e.kind)).toEqual(["view", "note", "log", "log"]); // one log per target
    expect(results[1]?.evidence.map((e) => e.kind)).toEqual(["note"]);
  });
});

describe("runCells scheduling (issue 8)", () => {
  const many = [target("probe"), target("a"), target("b"), target("c")];
  /** Runs `scenario` on every pair of `many`, recording how many cells ran at once per target. */
  async function measure(options: {
    perTargetConcurrency: number;
    concurrency: number;
    unlimitedTargets?: string[];
  }) {
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const scenario: Scenario = {
      ...base,
      run: async (ctx) => {
        const ids = [ctx.sender.id, ctx.receiver.id];
        for (const id of ids) {
          running.set(id, (running.get(id) ?? 0) + 1);
          peak.set(id, Math.max(peak.get(id) ?? 0, running.get(id) ?? 0));
        }
        await new Promise((r) => setTimeout(r, 20));
        for (const id of ids) running.set(id, (running.get(id) ?? 1) - 1);
        for (const c of base.checks) ctx.assert(c, true, "ok");
      },
    };
    const cells = planCells({ scenarios: [scenario], targets: many });
    const outcome = await runCells({ cells, checks, probe, http, validate: async () => [], ...options });
    return { peak, outcome, cells };
  }

  test("limits cells per target, but not on the probe", async () => {
    const { peak, outcome, cells } = await measure({ perTargetConcurrency: 1, concurrency: 12 });
    expect(outcome.results.length).toBe(cells.length * 3);
    for (const id of ["a", "b", "c"]) expect(peak.get(id)).toBe(1);
    // a, b and c each take one probe cell at once: the probe is in several.
    expect(peak.get("probe")).toBeGreaterThan(1);
    // Without the exemption the probe would be limited like any target.
    const limited = await measure({ perTargetConcurrency: 1, concurrency: 12, unlimitedTargets: [] });
    expect(limited.peak.get("probe")).toBe(1);
  });

  test("handing results on does not hold a cell's slot, and the run waits for every hand-over", async () => {
    const scenario = (id: string): Scenario => ({
      ...base,
      id,
      run: async (ctx) => {
        for (const c of base.checks) ctx.assert(c, true, "ok");
      },
    });
    const cells = planCells({
      scenarios: [scenario("t.one"), scenario("t.two")],
      targets,
      pairs: [{ sender: "probe", receiver: "a" }],
    });
    const order: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const outcome = runCells({
      cells,
      checks,
      probe,
      http,
      validate: async () => [],
      concurrency: 1,
      onCellResults: async (_results, cell) => {
        order.push(`start ${cell.scenario.id}`);
        // The first hand-over blocks until the second cell has been handed over too.
        if (cell.scenario.id === "t.one") await gate;
        else release();
        order.push(`end ${cell.scenario.id}`);
      },
    });
    const { results } = await outcome;
    expect(results.length).toBe(6);
    expect(order).toEqual(["start t.one", "start t.two", "end t.two", "end t.one"]);
  });

  test("a failing hand-over fails the run", async () => {
    const cells = planCells({ scenarios: [{ ...base, run: async () => {} }], targets });
    await expect(
      runCells({
        cells,
        checks,
        probe,
        http,
        validate: async () => [],
        onCellResults: async () => {
          throw new Error("disk full");
        },
      }),
    ).rejects.toThrow("disk full");
  });
});

describe("accounts", () => {
  /** Targets whose driver counts the accounts it provisions. */
  function countingTargets() {
    const provisioned: string[] = [];
    const driver = {
      provisionAccount: async (name: string) => {
        provisioned.push(name);
        return { username: name, handle: `@${name}@a`, actorId: `http://a/users/${name}` };
      },
    };
    const withDriver = ["probe", "a", "b"].map((id) => ({ ...target(id), driver }) as unknown as Target);
    return { provisioned, targets: withDriver };
  }
  const single = { ...base, shape: "single" as const, checks: ["T-01"] };
  const scenarios: Scenario[] = ["one", "two"].map((n) => ({
    ...single,
    id: `t.${n}`,
    run: async (ctx) => {
      const shared = await ctx.sharedAccount(ctx.receiver, "reader");
      const again = await ctx.sharedAccount(ctx.receiver, "reader");
      ctx.assert("T-01", shared === again, `${shared.username} both times`);
    },
  }));

  test("cells asking for a shared role on a target get one account there", async () => {
    const { provisioned, targets: all } = countingTargets();
    const cells = planCells({ scenarios, targets: all });
    const { results } = await runCells({ cells, checks, probe, http, validate: async () => [] });
    expect(results.map((r) => r.verdict)).toEqual(Array(6).fill("passed"));
    // Two scenarios on three targets: one account per target, not one per cell.
    expect(provisioned).toHaveLength(3);
  });

  test("freshAccounts gives every request its own account", async () => {
    const { provisioned, targets: all } = countingTargets();
    const cells = planCells({ scenarios, targets: all });
    const { results } = await runCells({
      cells,
      checks,
      probe,
      http,
      validate: async () => [],
      freshAccounts: true,
    });
    expect(results.map((r) => r.verdict)).toEqual(Array(6).fill("failed"));
    expect(provisioned).toHaveLength(12);
    expect(new Set(provisioned).size).toBe(12);
  });
});
