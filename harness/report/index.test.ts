import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../tests/temp-dir.ts";
import { writeReports } from "./index.ts";
import { readResults } from "./results-schema.ts";
import { sampleResults } from "./sample.ts";
import { findAll, parseXml } from "./testing/xml.ts";

describe("writeReports", () => {
  it("writes results.json, junit.xml, summary.md and index.html", async () => {
    const dir = join(await tempDir("fedicheck-reports-"), "run");
    const results = sampleResults({ checks: 15 });
    const written = await writeReports(dir, results);
    expect((await readdir(dir)).sort()).toEqual(["index.html", "junit.xml", "results.json", "summary.md"]);
    expect(written.results).toBe(join(dir, "results.json"));
    expect(await readResults(dir)).toEqual(results);
    const junit = parseXml(await readFile(written.junit, "utf8"));
    expect(findAll(junit, "testcase").length).toBe(results.cells.length);
    expect(await readFile(written.summary, "utf8")).toContain(`**${results.cells.length} cells:**`);
    expect(await readFile(written.dashboard, "utf8")).toMatch(/^<!doctype html>/);
  });

  it("leaves results.json to the writer when asked, and compares with a baseline", async () => {
    const dir = await tempDir("fedicheck-reports-");
    const baseline = sampleResults({ checks: 15, seed: 5, runId: "base" });
    const written = await writeReports(dir, sampleResults({ checks: 15 }), { json: false, baseline });
    expect(written.results).toBeUndefined();
    expect((await readdir(dir)).sort()).toEqual(["index.html", "junit.xml", "summary.md"]);
    expect(await readFile(written.summary, "utf8")).toContain("### Compared with `base`");
    const html = await readFile(written.dashboard, "utf8");
    expect(html).toContain('"against":{"runId":"base"');
  });
});
