/**
 * Issue 6, "done when": the Allure site is generated from a real run and its test count equals the
 * run's cell count. A real session (the discovery suite between the probe and two fedify-ref
 * processes) feeds the Allure writer cell by cell as the cells finish, the way a run writes its
 * allure-results; the run is then stored in a SQLite history and the site generated.
 *
 * The site part skips, saying why, when Java is missing; with CI=true a missing Java fails instead.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../harness/core/config.ts";
import { runSession, type SessionOutcome } from "../../harness/core/session.ts";
import { createAllureWriter, generateAllureSite, javaAvailable } from "../../harness/report/allure.ts";
import { historyContext, openHistory } from "../../harness/report/history.ts";
import { CHECKS } from "../../suites/catalogue.ts";
import { ALL_SCENARIOS } from "../../suites/index.ts";

const IN_CI = process.env.CI === "true";
const JAVA = javaAvailable();

let dir: string;
let outcome: SessionOutcome;
let allureDir: string;
let written = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedicheck-real-run-"));
  allureDir = join(dir, "allure-results");
  const allure = createAllureWriter(allureDir);
  const pending: Array<Promise<void>> = [];
  const config = resolveConfig({ suites: ["discovery"], outDir: join(dir, "runs") });
  // What the session knows before its first cell (it passes its results header; here the config's).
  const header: Parameters<typeof allure.add>[1] = {
    runId: "real-run-1",
    checks: CHECKS,
    targets: [{ id: "probe", implementation: "probe" }, ...config.targets].map((t) => ({
      id: t.id,
      implementation: t.implementation,
      version: "",
      origin: "",
      runtime: "process" as const,
      capabilities: [],
    })),
  };
  outcome = await runSession({
    config,
    runId: header.runId,
    scenarios: ALL_SCENARIOS,
    checks: CHECKS,
    command: "fedicheck run --suites discovery",
    onEvent: (event) => {
      if (event.type === "cell") pending.push(allure.add(event.results, header));
    },
  });
  await Promise.all(pending);
  // The run's final header (targets, the checks it used) for environment.properties.
  const { cells: _cells, ...final } = outcome.results;
  written = (await allure.finish(final)).tests;
}, 240_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a real run", () => {
  it("wrote one Allure result per cell while it ran", async () => {
    expect(outcome.results.cells.length).toBeGreaterThan(10);
    expect(written).toBe(outcome.results.cells.length);
    const files = (await readdir(allureDir)).filter((f) => f.endsWith("-result.json"));
    expect(files).toHaveLength(outcome.results.cells.length);
  });

  it("is stored in the history and becomes the previous run of the next one", async () => {
    const store = await openHistory(join(dir, "history.sqlite"));
    try {
      await store.add(outcome.results);
      const [summary] = await store.list();
      expect(summary?.cells).toBe(outcome.results.cells.length);
      const next = { ...outcome.results, runId: "next-run", startedAt: new Date().toISOString() };
      expect((await historyContext(store, next)).previous?.runId).toBe(outcome.results.runId);
    } finally {
      await store.close();
    }
  });
});

if (!JAVA.ok && !IN_CI)
  console.warn(`Allure site of a real run skipped: ${JAVA.reason} (install Java 17+ to run it)`);

describe.runIf(IN_CI && !JAVA.ok)("Allure site of a real run under CI", () => {
  it("needs Java (CI=true: a missing Java is a failure, not a skip)", () => {
    expect(JAVA.ok, JAVA.ok ? "" : JAVA.reason).toBe(true);
  });
});

describe.skipIf(!JAVA.ok)(
  JAVA.ok ? "Allure site of a real run" : "Allure site of a real run (skipped: no Java)",
  () => {
    it("counts exactly the run's cells", { timeout: 240_000 }, async () => {
      const { summary } = await generateAllureSite(allureDir, join(dir, "allure-report"));
      console.log(`Allure site: ${summary.total} tests for ${outcome.results.cells.length} cells`);
      expect(summary.total).toBe(outcome.results.cells.length);
      const byVerdict = (v: string) => outcome.results.cells.filter((c) => c.verdict === v).length;
      expect(summary.passed).toBe(byVerdict("passed"));
      expect(summary.failed).toBe(byVerdict("failed"));
      expect(summary.broken).toBe(byVerdict("errored"));
    });
  },
);
