/**
 * `fedicheck run` as a user meets it: usage errors, the plan listing, and real runs whose exit code,
 * summary.md and junit.xml tell a conformant peer from a broken one.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateResults } from "../../harness/report/results-schema.ts";
import { tempDir } from "../temp-dir.ts";

function fedicheck(args: string[]) {
  const result = spawnSync(process.execPath, ["bin/fedicheck.js", ...args], {
    encoding: "utf8",
    timeout: 240_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The only run directory under `out`. */
function runDir(out: string): string {
  const dirs = readdirSync(out).filter((name) => /^\d{8}-/.test(name));
  expect(dirs).toHaveLength(1);
  return join(out, dirs[0] as string);
}

describe("fedicheck run", () => {
  it("explains bad input in one line and exits 2", () => {
    const badTarget = fedicheck(["run", "--target", "nonsense"]);
    expect(badTarget.code).toBe(2);
    expect(badTarget.stderr).toMatch(/--target expects id=implementation/);
    expect(badTarget.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const badSuite = fedicheck(["run", "--suites", "folow"]);
    expect(badSuite.code).toBe(2);
    expect(badSuite.stderr).toMatch(/unknown suite\(s\) folow; expected some of: discovery, follow/);
    // A misspelt check id, or one outside the suites that run, would decide nothing and pass.
    const badCheck = fedicheck(["run", "--checks", "FOL-02,DIS-01"]);
    expect(badCheck.code).toBe(2);
    expect(badCheck.stderr).toMatch(/no check matches DIS-01; check ids look like FOL-02/);
    const elsewhere = fedicheck(["run", "--suites", "discovery", "--checks", "FOL-*"]);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(
      /the checks FOL-\* names are in follow, not in the suites that run \(discovery\)/,
    );
    const strangerPair = fedicheck(["run", "--pairs", "probe->fedify-c"]);
    expect(strangerPair.code).toBe(2);
    expect(strangerPair.stderr).toMatch(/names 'fedify-c', which is not a target of this run/);
    const badShard = fedicheck(["run", "--shard", "4/3"]);
    expect(badShard.code).toBe(2);
    expect(badShard.stderr).toMatch(/--shard expects i\/n/);
  });

  it("lists suites and their checks", () => {
    const list = fedicheck(["run", "--list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^follow: .*FOL-03/m);
    expect(list.stdout).toMatch(/^support: /m);
  });

  it("passes a conformant peer and fails a broken one, with readable summary.md and junit.xml", {
    timeout: 300_000,
  }, async () => {
    // 1. A conformant fedify-ref against the probe: exit 0.
    const goodOut = await tempDir("fc-run-good-");
    const good = fedicheck([
      "run",
      "--suites",
      "delete",
      "--pairs",
      "probe",
      "--out",
      goodOut,
      "--no-history",
    ]);
    expect(good.code, good.stdout + good.stderr).toBe(0);

    // 2. The same with a peer that ignores Delete: exit 1, and the reports name DEL-01 on its pairs.
    const badOut = await tempDir("fc-run-bad-");
    const bad = fedicheck([
      "run",
      ...[
        "--target",
        "zoo=fedify-ref,defects=ignore-delete",
        "--suites",
        "delete",
        "--out",
        badOut,
        "--no-history",
      ],
    ]);
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stdout).toMatch(/DEL-01: /);
    const dir = runDir(badOut);

    const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8"));
    expect(validateResults(results).ok).toBe(true);
    expect(results.status).toBe("completed");
    const failed = results.cells.filter((c: { verdict: string }) => c.verdict === "failed");
    expect(failed.map((c: { checkId: string; receiver: string }) => `${c.checkId} ${c.receiver}`)).toEqual(
      expect.arrayContaining(["DEL-01 zoo"]),
    );
    expect(failed.every((c: { checkId: string }) => c.checkId === "DEL-01")).toBe(true);

    // summary.md: a DEL-01 row with a failure symbol in the probe→zoo column, and the reproduce command.
    const summary = readFileSync(join(dir, "summary.md"), "utf8");
    const header = summary
      .split("\n")
      .find((line) => line.startsWith("| Check") || line.startsWith("| check"));
    const row = summary.split("\n").find((line) => line.includes("`DEL-01`"));
    expect(header && row).toBeTruthy();
    const columns = (header as string).split("|").map((c) => c.trim());
    const cells = (row as string).split("|").map((c) => c.trim());
    expect(cells[columns.findIndex((c) => /probe\s*→\s*zoo/.test(c))]).toContain("❌");
    expect(summary).toMatch(/npx fedicheck run .*--suites delete --checks DEL-01 --pairs 'probe->zoo'/);

    // junit.xml: one testcase per cell, DEL-01 probe→zoo carrying a <failure>.
    const junit = readFileSync(join(dir, "junit.xml"), "utf8");
    expect((junit.match(/<testcase /g) ?? []).length).toBe(results.cells.length);
    const testcase = junit
      .split("<testcase ")
      .find((t) => t.startsWith('name="DEL-01 ') && t.includes("[probe→zoo]"));
    expect(testcase).toMatch(/<failure /);
    expect(junit).toMatch(/failures="[1-9]/);

    // 3. The failed cell's reproduce command runs that one cell again, and it fails again.
    const cell = failed.find((c: { sender: string }) => c.sender === "probe") as { reproduce: string };
    const words = cell.reproduce
      .replace(/^npx fedicheck /, "")
      .replaceAll("'", "")
      .split(" ");
    const againOut = await tempDir("fc-run-again-");
    const again = fedicheck([...words, "--out", againOut, "--no-history"]);
    expect(again.code, again.stdout + again.stderr).toBe(1);
    const rerun = JSON.parse(readFileSync(join(runDir(againOut), "results.json"), "utf8"));
    expect(rerun.cells.map((c: { checkId: string; verdict: string }) => `${c.checkId} ${c.verdict}`)).toEqual(
      ["DEL-01 failed"],
    );
  });
});
