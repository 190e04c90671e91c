/**
 * The captures suite (suites/captures.ts) through the real planner and runner: the probe replays each
 * shipped capture to a conformant fedify-ref and to a bug-zoo one, and the verdicts land on the
 * catalogue checks the sidecars name — failures on the zoo exactly where its defects bite.
 */

import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CAPTURES_DIR, captureScenario, captureScenarios, scenarios } from "../../suites/captures.ts";
import { CHECKS } from "../../suites/catalogue.ts";
import type { CellResult } from "../core/model.ts";
import { planCells } from "../core/plan.ts";
import { runCells } from "../core/runner.ts";
import { type RunTargets, startTargets } from "../core/targets.ts";
import { validate } from "../validate/index.ts";

describe("captures suite", () => {
  it("has one probe-sent pair scenario per shipped capture, deciding the sidecar's catalogue checks", () => {
    expect(scenarios.map((s) => s.id)).toEqual([
      "captures.lemmy-follow-page-update-delete",
      "captures.mastodon-follow-post-update-delete",
      "captures.mastodon-poll",
      "captures.misskey-follow-post-update-delete",
      "captures.peertube-follow-video-update-delete",
      "captures.threads-audio-transcript",
      "captures.threads-follow-post-update-delete",
    ]);
    for (const scenario of scenarios) {
      expect(scenario).toMatchObject({ suite: "captures", shape: "pair", probeSenderOnly: true });
      expect(scenario.title).not.toMatch(/^Replay of/);
    }
    const mastodon = scenarios.find((s) => s.id === "captures.mastodon-follow-post-update-delete")!;
    expect(mastodon.checks).toEqual(["FOL-03", "MED-01", "PST-09", "DEL-01"]);
    // FOL-03 needs a receiver that can follow.
    expect(mastodon.requires?.receiver).toContain("follow");
  });

  it("fails to load a sidecar naming a check the catalogue lacks, naming the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "fedicheck-captures-"));
    try {
      const capture = join(dir, "x.jsonl");
      copyFileSync(join(CAPTURES_DIR, "mastodon-poll.jsonl"), capture);
      writeFileSync(
        join(dir, "x.expect.json"),
        JSON.stringify({
          version: 1,
          checks: [{ check: "NOPE-99", activity: 1, expect: { outcome: "following" } }],
        }),
      );
      expect(() => captureScenario(capture)).toThrow(
        /x\.expect\.json: check 'NOPE-99' is not in the catalogue/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("makes scenarios only of captures that have a sidecar", () => {
    const dir = mkdtempSync(join(tmpdir(), "fedicheck-captures-"));
    try {
      copyFileSync(join(CAPTURES_DIR, "mastodon-poll.jsonl"), join(dir, "with.jsonl"));
      copyFileSync(join(CAPTURES_DIR, "mastodon-poll.expect.json"), join(dir, "with.expect.json"));
      copyFileSync(join(CAPTURES_DIR, "mastodon-poll.jsonl"), join(dir, "without.jsonl"));
      expect(captureScenarios(dir).map((s) => s.id)).toEqual(["captures.with"]);
      expect(captureScenarios(join(dir, "missing"))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("captures suite on the runner", () => {
  let run: RunTargets;
  let cells: CellResult[];
  beforeAll(async () => {
    run = await startTargets(
      {
        targets: [
          { id: "ref", implementation: "fedify-ref", runtime: "process" },
          {
            id: "zoo",
            implementation: "fedify-ref",
            runtime: "process",
            defects: ["ignore-delete", "drop-attachments"],
          },
        ],
        pairs: "all",
        concurrency: 4,
        retries: 0,
        waitBudgetMs: 10_000,
        tls: false,
        expectations: [],
        outDir: "reports",
        runtime: "process",
        images: {},
        screenshots: "off",
        allure: false,
      },
      { runId: `captures-${Date.now()}` },
    );
    const planned = planCells({
      scenarios: captureScenarios(CAPTURES_DIR, { settleMs: 1_500 }),
      targets: run.targets,
      pairs: [
        { sender: "probe", receiver: "ref" },
        { sender: "probe", receiver: "zoo" },
      ],
    });
    cells = (
      await runCells({
        cells: planned,
        checks: CHECKS,
        probe: run.probe,
        http: run.http,
        validate: (document, context) => validate(document, context),
        concurrency: 4,
      })
    ).results;
  }, 240_000);
  afterAll(async () => {
    await run?.stop();
  });

  const verdicts = (receiver: string) =>
    Object.fromEntries(
      cells
        .filter((c) => c.receiver === receiver)
        .map((c) => [`${c.scenarioId.replace("captures.", "")} ${c.checkId}`, c.verdict]),
    );

  it("passes every check on the conformant reference", () => {
    const observed = verdicts("ref");
    const wanted = Object.fromEntries(Object.keys(observed).map((key) => [key, "passed"]));
    expect(observed).toEqual(wanted);
    expect(Object.keys(observed)).toHaveLength(scenarios.reduce((n, s) => n + s.checks.length, 0));
  });

  it("fails on the zoo exactly the checks its defects break, on the activity that shows it", () => {
    const failed = cells
      .filter((c) => c.receiver === "zoo" && c.verdict === "failed")
      .map((c) => `${c.scenarioId.replace("captures.", "")} ${c.checkId}`)
      .sort();
    expect(failed).toEqual([
      "lemmy-follow-page-update-delete DEL-01",
      "mastodon-follow-post-update-delete DEL-01",
      "mastodon-follow-post-update-delete MED-01",
      "misskey-follow-post-update-delete DEL-01",
      "misskey-follow-post-update-delete MED-01",
      "peertube-follow-video-update-delete DEL-01",
      "threads-audio-transcript MED-03",
      "threads-follow-post-update-delete DEL-01",
      "threads-follow-post-update-delete MED-01",
    ]);
    const del = cells.find(
      (c) =>
        c.receiver === "zoo" &&
        c.scenarioId === "captures.mastodon-follow-post-update-delete" &&
        c.checkId === "DEL-01",
    )!;
    expect(del.message).toMatch(
      /^activity 4 \(Delete of https:\/\/mastodon\.example\/users\/alice\/statuses\/112233445566772\)/,
    );
    expect(del.observed).toMatch(/delete-ignored/);
    expect(del.evidence.some((e) => e.kind === "view" && e.label === "replayed activity 4: Delete")).toBe(
      true,
    );
    const media = cells.find(
      (c) =>
        c.receiver === "zoo" &&
        c.scenarioId === "captures.mastodon-follow-post-update-delete" &&
        c.checkId === "MED-01",
    )!;
    expect(media.observed).toMatch(/0 of 1 kept/);
  });
});
