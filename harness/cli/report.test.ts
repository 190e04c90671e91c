import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { tempDir } from "../../tests/temp-dir.ts";
import type { RunResults } from "../core/model.ts";
import { readResults } from "../report/results-schema.ts";
import { sampleResults } from "../report/sample.ts";
import { findAll, parseXml } from "../report/testing/xml.ts";
import { serializeResults } from "../report/writer.ts";
import { main, UsageError } from "./main.ts";
import { run as merge } from "./merge.ts";
import { run as report } from "./report.ts";

let logs: string[];
beforeEach(() => {
  logs = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    logs.push(args.join(" "));
  });
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    logs.push(args.join(" "));
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function runDir(results: RunResults): Promise<string> {
  const dir = await tempDir("fedicheck-cli-report-");
  await writeFile(join(dir, "results.json"), serializeResults(results));
  return dir;
}

function shard(run: RunResults, index: number, count: number): RunResults {
  return {
    ...structuredClone(run),
    shard: { index, count },
    cells: run.cells.filter((_, j) => j % count === index),
  };
}

describe("fedicheck report", () => {
  it("renders the three reports next to the run's results, leaving results.json alone", async () => {
    const results = sampleResults({ checks: 12, failureRate: 0.3 });
    const dir = await runDir(results);
    const before = await readFile(join(dir, "results.json"), "utf8");
    expect(await report([dir])).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(["index.html", "junit.xml", "results.json", "summary.md"]);
    expect(await readFile(join(dir, "results.json"), "utf8")).toBe(before);
    const junit = parseXml(await readFile(join(dir, "junit.xml"), "utf8"));
    expect(findAll(junit, "testcase").length).toBe(results.cells.length);
    expect(await readFile(join(dir, "summary.md"), "utf8")).toContain(
      `## fedicheck run \`${results.runId}\`: completed`,
    );
    expect(await readFile(join(dir, "index.html"), "utf8")).toContain('id="fedicheck-data"');
    expect(logs[0]).toMatch(
      new RegExp(`^fedicheck report: ${results.runId}: ${results.cells.length} cells: \\d+ passed`),
    );
  });

  it("merges several inputs into --out and compares with --previous", async () => {
    const results = sampleResults({ checks: 12, runId: "full" });
    const a = await runDir(shard(results, 0, 2));
    const b = await runDir(shard(results, 1, 2));
    const previous = await runDir(sampleResults({ checks: 12, seed: 9, runId: "yesterday" }));
    const out = join(a, "merged");
    expect(await report([join(a, "results.json"), b, "--out", out, "--previous", previous])).toBe(0);
    const merged = await readResults(out);
    expect(merged.cells.length).toBe(results.cells.length);
    expect(merged.runId).toBe("full");
    expect(await readFile(join(out, "summary.md"), "utf8")).toContain("### Compared with `yesterday`");
  });

  it("explains what is wrong with its input, as a usage error", async () => {
    const dir = await tempDir("fedicheck-cli-report-");
    await expect(report([])).rejects.toThrow(UsageError);
    await expect(report([dir, dir])).rejects.toThrow(/several inputs .* --out <dir>/);
    await expect(report([join(dir, "missing.json")])).rejects.toThrow(
      /no such file or directory: .*missing\.json/,
    );
    await expect(report(["--bogus"])).rejects.toThrow(
      /Unknown option '--bogus'.*see fedicheck report --help/,
    );
    await writeFile(join(dir, "results.json"), "{");
    await expect(report([dir])).rejects.toThrow(/is not valid JSON/);
  });

  it("is wired into the CLI table with exit code 2 for input problems", async () => {
    expect(await main(["report", "/nonexistent/run"])).toBe(2);
    expect(logs.join("\n")).toContain("fedicheck report: no such file or directory: /nonexistent/run");
    expect(await main(["report", "--help"])).toBe(0);
    expect(logs.join("\n")).toContain("usage: fedicheck report <run-dir|results.json>… [options]");
  });
});

describe("fedicheck merge", () => {
  it("puts shards back into one results.json", async () => {
    const results = sampleResults({ checks: 12, runId: "sharded" });
    const inputs = await Promise.all([0, 1, 2].map((i) => runDir(shard(results, i, 3))));
    const out = join(inputs[0]!, "out");
    expect(await merge([...inputs, "--out", out])).toBe(0);
    const merged = await readResults(out);
    expect(merged.shard).toBeUndefined();
    expect(new Set(merged.cells.map((c) => JSON.stringify(c)))).toEqual(
      new Set(results.cells.map((c) => JSON.stringify(c))),
    );
    expect(await readdir(out)).toEqual(["results.json"]);
    expect(await merge([...inputs, "--out", out, "--reports"])).toBe(0);
    expect((await readdir(out)).sort()).toEqual(["index.html", "junit.xml", "results.json", "summary.md"]);
  });

  it("refuses overlapping shards that disagree", async () => {
    const results = sampleResults({ checks: 6 });
    const a = await runDir(results);
    const changed = structuredClone(results);
    changed.cells[0]!.verdict = changed.cells[0]!.verdict === "passed" ? "failed" : "passed";
    const b = await runDir(changed);
    await expect(merge([a, b, "--out", join(a, "out")])).rejects.toThrow(
      /cannot merge .*shards must not overlap/,
    );
    await expect(merge([a])).rejects.toThrow(/--out <dir>/);
    expect(await main(["merge", a, b, "--out", join(a, "out")])).toBe(2);
  });
});
