/**
 * The container runtime gives the same verdicts as the process runtime: every suite, the probe and
 * two fedify-ref targets, once as local processes over HTTP and once as containers on their own
 * network over HTTPS (per-run CA, real hostnames `fedify-a.test`, `probe.test`).
 */
import { execFileSync } from "node:child_process";
import { expect, it } from "vitest";
import type { CellResult } from "../../harness/core/model.ts";
import { describeDocker } from "../../harness/runtime/docker-test-helper.ts";
import { runSuites } from "./run-suites.ts";

const targets = [
  { id: "fedify-a", implementation: "fedify-ref" },
  { id: "fedify-b", implementation: "fedify-ref" },
];

function verdicts(cells: CellResult[]): Map<string, string> {
  return new Map(cells.map((c) => [`${c.checkId} ${c.scenarioId} ${c.sender}->${c.receiver}`, c.verdict]));
}

function leftovers(runIdPrefix: string): string {
  const ids = execFileSync(
    "docker",
    ["ps", "-a", "--filter", "label=fedicheck.run", "--format", "{{.Labels}}"],
    {
      encoding: "utf8",
    },
  );
  return ids
    .split("\n")
    .filter((line) => line.includes(`fedicheck.run=${runIdPrefix}`))
    .join("\n");
}

describeDocker("container runtime parity", () => {
  it("matches the process runtime verdict for verdict, over HTTPS with real hostnames", {
    timeout: 900_000,
  }, async () => {
    const inContainers = await runSuites({ targets, runtime: "container", runIdPrefix: "parity-c" });
    const asProcesses = await runSuites({ targets, runtime: "process", runIdPrefix: "parity-p" });

    // 1. The container run really used the run network's hostnames over HTTPS.
    expect(inContainers.origins.get("fedify-a")).toBe("https://fedify-a.test");
    expect(inContainers.origins.get("probe")).toBe("https://probe.test");
    expect(asProcesses.origins.get("fedify-a")).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // 2. Same cells, same verdicts.
    const container = verdicts(inContainers.cells);
    const process = verdicts(asProcesses.cells);
    expect([...container.keys()].sort()).toEqual([...process.keys()].sort());
    const differing = [...container].filter(([key, verdict]) => process.get(key) !== verdict);
    expect(
      differing.map(([key, verdict]) => `${key}: container ${verdict}, process ${process.get(key)}`),
    ).toEqual([]);

    // 3. Nothing of the container run is left behind.
    expect(leftovers("parity-c")).toBe("");
  });
});
