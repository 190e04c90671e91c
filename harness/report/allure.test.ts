/**
 * allure-results written cell by cell from a generated run: one result per cell with the right name,
 * status, labels, steps and attachments on disk; environment and categories; a rewrite that does not
 * duplicate. Then the real Allure site from allure-commandline: its test count must equal the run's
 * cell count, and its categories must sort failures from harness problems.
 *
 * The site test skips, saying why, when Java is missing; with CI=true a missing Java fails instead.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestResult } from "allure-js-commons";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CellResult, RunResults } from "../core/model.ts";
import { encodePng } from "../core/png.ts";
import {
  ALLURE_STATUS,
  AllureError,
  createAllureWriter,
  generateAllureSite,
  javaAvailable,
  readAllureSummary,
  writeAllureResults,
} from "./allure.ts";
import { expectationMatched } from "./analysis.ts";
import { sampleResults } from "./sample.ts";

const IN_CI = process.env.CI === "true";
const JAVA = javaAvailable();

let runDir: string;
let resultsDir: string;
let results: RunResults;

async function readResultsDir(dir: string): Promise<TestResult[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith("-result.json"));
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), "utf8")) as TestResult));
}

const label = (r: TestResult, name: string) => r.labels.filter((l) => l.name === name).map((l) => l.value);

beforeAll(async () => {
  runDir = await mkdtemp(join(tmpdir(), "fedicheck-allure-"));
  resultsDir = join(runDir, "allure-results");
  results = sampleResults({ seed: 7, checks: 42 });
  // Give the first screenshot a real PNG next to the run; leave the others missing.
  const shots = results.cells.flatMap((c) => c.evidence.filter((e) => e.kind === "screenshot"));
  expect(shots.length, "the sample has screenshot evidence").toBeGreaterThan(1);
  const first = shots[0]!;
  if (first.kind !== "screenshot") throw new Error("unreachable");
  await mkdir(join(runDir, "screenshots"), { recursive: true });
  await writeFile(
    join(runDir, first.path),
    encodePng({ width: 4, height: 4, data: new Uint8Array(64).fill(200) }),
  );
  // Write during the "run": several adds, as cells finish.
  const writer = createAllureWriter(resultsDir, { host: "ci-host" });
  const { cells, ...header } = results;
  for (let i = 0; i < cells.length; i += 7) await writer.add(cells.slice(i, i + 7), header);
  expect(await writer.finish(header)).toEqual({ tests: cells.length });
});

afterAll(async () => {
  await rm(runDir, { recursive: true, force: true });
});

describe("allure-results", () => {
  it("holds one result per cell, with a stable, unique history id", async () => {
    const written = await readResultsDir(resultsDir);
    expect(written).toHaveLength(results.cells.length);
    expect(new Set(written.map((r) => r.historyId)).size).toBe(results.cells.length);
    expect(new Set(written.map((r) => r.uuid)).size).toBe(results.cells.length);
  });

  it("names, statuses and labels each cell", async () => {
    const written = await readResultsDir(resultsDir);
    const byName = new Map(written.map((r) => [r.fullName, r]));
    const titles = new Map(results.checks.map((c) => [c.id, c]));
    const implOf = new Map(results.targets.map((t) => [t.id, t.implementation]));
    for (const cell of results.cells) {
      const r = byName.get(`${cell.scenarioId}#${cell.checkId}[${cell.sender}→${cell.receiver}]`);
      expect(r, `${cell.checkId} ${cell.sender}→${cell.receiver}`).toBeDefined();
      const check = titles.get(cell.checkId)!;
      const pair = cell.sender === cell.receiver ? cell.sender : `${cell.sender}→${cell.receiver}`;
      expect(r!.name).toBe(`${cell.checkId} ${check.title} [${pair}]`);
      expect(r!.status).toBe(ALLURE_STATUS[cell.verdict]);
      expect(r!.stop! - r!.start!).toBe(cell.durationMs);
      expect(label(r!, "parentSuite")).toEqual([cell.suite]);
      expect(label(r!, "suite")).toEqual([`${implOf.get(cell.sender)}→${implOf.get(cell.receiver)}`]);
      expect(label(r!, "subSuite")).toEqual([pair]);
      expect(label(r!, "tag")).toEqual(expect.arrayContaining([check.level, check.impact]));
      expect(label(r!, "feature")).toEqual([cell.suite]);
      expect(label(r!, "host")).toEqual(["ci-host"]);
      if (cell.verdict !== "passed") {
        expect(r!.statusDetails.message).toBe(cell.message);
        expect(r!.statusDetails.trace!.split("\n")[0]).toMatch(new RegExp(`^verdict=${cell.verdict}\\b`));
      }
      if (cell.observed !== undefined) expect(r!.statusDetails.trace).toContain(`observed: ${cell.observed}`);
      expect(r!.steps).toHaveLength(cell.evidence.length);
    }
    const statuses = written.map((r) => r.status);
    const count = (verdicts: CellResult["verdict"][]) =>
      results.cells.filter((c) => verdicts.includes(c.verdict)).length;
    expect(statuses.filter((s) => s === "broken")).toHaveLength(count(["errored"]));
    expect(statuses.filter((s) => s === "skipped")).toHaveLength(
      count(["unsupported", "inapplicable", "skipped"]),
    );
    expect(count(["errored"])).toBeGreaterThan(0);
  });

  it("attaches the evidence as files of the right type, and marks a missing screenshot", async () => {
    const written = await readResultsDir(resultsDir);
    const files = new Set(await readdir(resultsDir));
    const seen = new Map<string, number>();
    let missingShots = 0;
    for (const r of written) {
      for (const step of r.steps) {
        if (step.name?.startsWith("screenshot:") && step.status === "broken") missingShots++;
        for (const a of step.attachments) {
          expect(files.has(a.source), a.source).toBe(true);
          expect(a.source).toMatch(/^[0-9a-f-]{36}-attachment\.(json|txt|png)$/);
          seen.set(a.type!, (seen.get(a.type!) ?? 0) + 1);
        }
      }
    }
    expect([...seen.keys()].sort()).toEqual(["application/json", "image/png", "text/plain"]);
    expect(seen.get("image/png")).toBe(1);
    expect(missingShots).toBeGreaterThan(0);
    // An HTTP exchange keeps the signed headers and the response.
    const failed = results.cells.find((c) => c.verdict === "failed")!;
    const r = written.find((w) =>
      w.fullName!.startsWith(`${failed.scenarioId}#${failed.checkId}[${failed.sender}→${failed.receiver}]`),
    )!;
    const http = r.steps.find((s) => s.name?.startsWith("HTTP POST"))!;
    const text = await readFile(join(resultsDir, http.attachments[0]!.source), "utf8");
    expect(text).toMatch(/^# request[\s\S]*signature: keyId=[\s\S]*# response[\s\S]*HTTP 401/);
    // The payload step with error findings failed, with the findings as a second attachment.
    const payload = r.steps.find((s) => s.name?.startsWith("payload:"))!;
    expect(payload.status).toBe("failed");
    expect(payload.attachments.map((a) => a.type)).toEqual(["application/json", "application/json"]);
  });

  it("writes evidence shared by several results once, named by its content", async () => {
    const written = await readResultsDir(resultsDir);
    const referenced = written.flatMap((r) => r.steps.flatMap((s) => s.attachments.map((a) => a.source)));
    const onDisk = (await readdir(resultsDir)).filter((f) => f.includes("-attachment."));
    expect(new Set(referenced)).toEqual(new Set(onDisk));
    expect(referenced.length, "the sample shares evidence between results").toBeGreaterThan(onDisk.length);
  });

  it("writes environment.properties with every target and categories.json", async () => {
    const env = await readFile(join(resultsDir, "environment.properties"), "utf8");
    for (const t of results.targets) expect(env).toContain(`target.${t.id}=${t.implementation} ${t.version}`);
    expect(env).toContain(`run.id=${results.runId}`);
    const categories = JSON.parse(await readFile(join(resultsDir, "categories.json"), "utf8")) as Array<{
      name: string;
    }>;
    expect(categories.map((c) => c.name)).toEqual(
      expect.arrayContaining(["Target problems (failed checks)", "Harness problems (errored)"]),
    );
  });

  it("rewrites a run without duplicating results, keeping Allure's history folder", async () => {
    const dir = join(runDir, "rewrite");
    await writeAllureResults(dir, results);
    await mkdir(join(dir, "history"));
    await writeFile(join(dir, "history", "history.json"), "{}");
    await writeFile(join(dir, "notes.txt"), "not ours");
    const fewer = { ...results, cells: results.cells.slice(0, 5) };
    expect((await writeAllureResults(dir, fewer)).tests).toBe(5);
    expect(await readResultsDir(dir)).toHaveLength(5);
    expect(existsSync(join(dir, "history", "history.json"))).toBe(true);
    expect(existsSync(join(dir, "notes.txt"))).toBe(true);
  });
});

if (!JAVA.ok && !IN_CI) console.warn(`Allure site test skipped: ${JAVA.reason} (install Java 17+ to run it)`);

describe.runIf(IN_CI && !JAVA.ok)("Allure site under CI", () => {
  it("needs Java (CI=true: a missing Java is a failure, not a skip)", () => {
    expect(JAVA.ok, JAVA.ok ? "" : JAVA.reason).toBe(true);
  });
});

describe.skipIf(!JAVA.ok)(
  JAVA.ok ? "Allure site" : `Allure site (skipped: ${JAVA.ok ? "" : JAVA.reason})`,
  () => {
    it("has as many tests as the run has cells, sorted into our categories", {
      timeout: 240_000,
    }, async () => {
      const site = join(runDir, "allure-report");
      const { summary } = await generateAllureSite(resultsDir, site);
      expect(summary.total).toBe(results.cells.length);
      expect(await readAllureSummary(site)).toEqual(summary);
      const count = (p: (c: CellResult) => boolean) => results.cells.filter(p).length;
      expect(summary.failed).toBe(count((c) => c.verdict === "failed"));
      expect(summary.broken).toBe(count((c) => c.verdict === "errored"));
      const testCases = (await readdir(join(site, "data", "test-cases"))).filter((f) => f.endsWith(".json"));
      expect(testCases).toHaveLength(results.cells.length);

      // Categories group their tests by message: count the leaves.
      interface Node {
        name: string;
        uid: string;
        children?: Node[];
      }
      const categories = JSON.parse(await readFile(join(site, "data", "categories.json"), "utf8")) as Node;
      const leaves = (node: Node): number =>
        node.children === undefined ? 1 : node.children.reduce((n, child) => n + leaves(child), 0);
      const size = (name: string) => {
        const node = categories.children?.find((c) => c.name === name);
        return node === undefined ? 0 : leaves(node);
      };
      expect(size("Target problems (failed checks)")).toBe(
        count((c) => c.verdict === "failed" && !expectationMatched(c)),
      );
      expect(size("Known failures (in the implementation's expectations file)")).toBe(
        count((c) => c.verdict === "failed" && expectationMatched(c)),
      );
      expect(size("Harness problems (errored)")).toBe(count((c) => c.verdict === "errored"));
      expect(size("Product defects")).toBe(0);
    });

    it("refuses to --clean a directory that is not an Allure site", async () => {
      const precious = join(runDir, "precious");
      await mkdir(precious);
      await writeFile(join(precious, "keep.txt"), "x");
      const error = await generateAllureSite(resultsDir, precious).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AllureError);
      expect((error as Error).message).toMatch(/not an Allure site/);
      expect(existsSync(join(precious, "keep.txt"))).toBe(true);
      await expect(generateAllureSite(resultsDir, runDir)).rejects.toThrow(/holds the results/);
    });
  },
);
