import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../tests/temp-dir.ts";
import type { RunResults } from "../core/model.ts";
import { RESULTS_SCHEMA_VERSION, ResultsFileError, readResults, validateResults } from "./results-schema.ts";
import { sampleResults } from "./sample.ts";

function clone(results: RunResults): RunResults {
  return structuredClone(results);
}

describe("validateResults", () => {
  it("accepts a realistic run with every evidence kind", () => {
    const results = sampleResults({ checks: 42, failureRate: 0.3 });
    const kinds = new Set(results.cells.flatMap((c) => c.evidence.map((e) => e.kind)));
    expect([...kinds].sort()).toEqual(["http", "log", "note", "payload", "screenshot", "view"]);
    expect(validateResults(results)).toEqual({ ok: true, errors: [] });
  });

  it("accepts hostile strings and a run still being written", () => {
    const results = sampleResults({ hostile: true, status: "running" });
    expect(results.finishedAt).toBeUndefined();
    expect(validateResults(JSON.parse(JSON.stringify(results)))).toEqual({ ok: true, errors: [] });
  });

  it("names the pointer of a wrong verdict, a missing field and a bad timestamp", () => {
    const results = clone(sampleResults());
    (results.cells[3] as { verdict: string }).verdict = "passd";
    delete (results.cells[5] as Partial<RunResults["cells"][number]>).reproduce;
    results.startedAt = "yesterday";
    const { ok, errors } = validateResults(results);
    expect(ok).toBe(false);
    expect(errors).toContain(
      '/cells/3/verdict: must be one of "passed", "failed", "unsupported", "inapplicable", "skipped", "errored"',
    );
    expect(errors).toContain("/cells/5: must have required property 'reproduce'");
    expect(errors).toContain('/startedAt: must match format "date-time"');
  });

  it("checks the evidence by kind", () => {
    const results = clone(sampleResults());
    const cell = results.cells.find((c) => c.evidence.some((e) => e.kind === "payload"))!;
    const index = results.cells.indexOf(cell);
    const at = cell.evidence.findIndex((e) => e.kind === "payload");
    delete (cell.evidence[at] as { findings?: unknown }).findings;
    const { errors } = validateResults(results);
    expect(errors).toEqual([`/cells/${index}/evidence/${at}: must have required property 'findings'`]);
  });

  it("rejects cells naming unknown checks or targets, and duplicate cells", () => {
    const results = clone(sampleResults());
    results.cells[0]!.checkId = "NOPE-1";
    results.cells[1]!.receiver = "ghost";
    results.cells.push(clone(results).cells[2]!);
    const { ok, errors } = validateResults(results);
    expect(ok).toBe(false);
    expect(errors).toEqual([
      "/cells/0/checkId: 'NOPE-1' is not in /checks",
      "/cells/1/receiver: 'ghost' is not in /targets",
      expect.stringMatching(new RegExp(`^/cells/${results.cells.length - 1}: a second cell for `)),
    ]);
  });

  it("rejects another schemaVersion", () => {
    const results = { ...sampleResults(), schemaVersion: 2 };
    expect(validateResults(results).errors).toEqual(["/schemaVersion: must be 1"]);
  });
});

describe("readResults", () => {
  async function dir(): Promise<string> {
    return await tempDir("fedicheck-schema-");
  }

  it("reads a results.json and a run directory alike", async () => {
    const d = await dir();
    const results = sampleResults({ checks: 5 });
    await writeFile(join(d, "results.json"), JSON.stringify(results));
    expect(await readResults(join(d, "results.json"))).toEqual(results);
    expect((await readResults(d)).cells.length).toBe(results.cells.length);
  });

  it("explains a missing file", async () => {
    const d = await dir();
    await expect(readResults(join(d, "nope.json"))).rejects.toThrow(
      /no such file or directory: .*nope\.json.*check the path/,
    );
    await mkdir(join(d, "empty"));
    const error = await readResults(join(d, "empty")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResultsFileError);
    expect((error as Error).message).toMatch(
      /is a directory without results\.json.*pass the run's directory/,
    );
  });

  it("explains bad JSON", async () => {
    const d = await dir();
    await writeFile(join(d, "results.json"), '{"schemaVersion": 1, "cells": [');
    await expect(readResults(d)).rejects.toThrow(
      /results\.json is not valid JSON \(.+\)\. Expected the results\.json/,
    );
  });

  it("explains a newer and a missing schemaVersion", async () => {
    const d = await dir();
    await writeFile(join(d, "results.json"), JSON.stringify({ ...sampleResults(), schemaVersion: 7 }));
    await expect(readResults(d)).rejects.toThrow(
      `has schemaVersion 7; this fedicheck reads schemaVersion ${RESULTS_SCHEMA_VERSION}: it was written by a newer fedicheck: upgrade`,
    );
    await writeFile(join(d, "results.json"), JSON.stringify({ hello: "world" }));
    await expect(readResults(d)).rejects.toThrow(/has no schemaVersion;.*is it a fedicheck results file\?/);
  });

  it("lists schema errors, at most ten", async () => {
    const d = await dir();
    const results = clone(sampleResults());
    for (const cell of results.cells.slice(0, 12)) (cell as { durationMs: unknown }).durationMs = "slow";
    await writeFile(join(d, "results.json"), JSON.stringify(results));
    const error = (await readResults(d).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain("does not match the results schema");
    expect(error.message).toContain("  /cells/0/durationMs: must be number");
    expect(error.message).toContain("  … and 2 more");
  });
});
