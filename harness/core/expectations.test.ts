import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, test } from "vitest";
import { tempDir } from "../../tests/temp-dir.ts";
import { applyExpectations, cellIdentity, isRegression, loadExpectations } from "./expectations.ts";
import type { CellResult, TargetInfo } from "./model.ts";

const targets: TargetInfo[] = [
  {
    id: "probe",
    implementation: "probe",
    version: "0.1.0",
    origin: "http://p",
    runtime: "process",
    capabilities: [],
  },
  {
    id: "m",
    implementation: "mastodon",
    version: "4.3.1",
    origin: "https://m",
    runtime: "container",
    capabilities: [],
  },
];
const cell = (checkId: string, verdict: CellResult["verdict"], receiver = "m"): CellResult => ({
  checkId,
  scenarioId: "s",
  suite: "x",
  sender: "probe",
  receiver,
  verdict,
  message: "",
  evidence: [],
  startedAt: "",
  durationMs: 0,
  waitingMs: 0,
  attempts: 1,
  reproduce: "",
});

test("an expectation marks matching cells, version-conditioned, and reports stale ones", () => {
  const cells = [cell("MED-05", "failed"), cell("MED-09", "passed"), cell("DEL-01", "failed")];
  const stale = applyExpectations(cells, targets, [
    {
      implementation: "mastodon",
      expectations: [
        { check: "MED-05", verdict: "failed", reason: "mastodon #34979", version: "4.*" },
        { check: "MED-09", verdict: "failed", reason: "fixed since" },
        { check: "DEL-*", verdict: "failed", reason: "only in 3.x", version: "3.*" },
      ],
    },
  ]);
  expect(cells[0]?.expectation?.reason).toBe("mastodon #34979");
  expect(isRegression(cells[0] as CellResult)).toBe(false);
  expect(cells[2]?.expectation).toBeUndefined();
  expect(isRegression(cells[2] as CellResult)).toBe(true);
  expect(stale.map((s) => s.expectation.check)).toEqual(["MED-09"]);
  expect(stale[0]?.observed).toEqual(["passed"]);
});

test("a baseline forgives failures that were already there", () => {
  const failing = cell("DEL-01", "failed");
  const baseline = new Map([[cellIdentity(failing), "failed" as const]]);
  expect(isRegression(failing, baseline)).toBe(false);
  expect(isRegression(cell("DEL-02", "failed"), baseline)).toBe(true);
  expect(isRegression(cell("DEL-02", "passed"), baseline)).toBe(false);
});

test("a malformed expectations file is refused with the expected shape", async () => {
  const dir = await tempDir("fc-exp-");
  const path = join(dir, "bad.json");
  await writeFile(path, JSON.stringify({ implementation: "x", expectations: [{ check: "A" }] }));
  await expect(loadExpectations(path)).rejects.toThrow(/check, verdict and reason/);
  await writeFile(path, "{");
  await expect(loadExpectations(path)).rejects.toThrow(/cannot read/);
});
