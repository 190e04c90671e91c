import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { type Finding, RULES, type ValidationContext, validate } from "./index.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CORPUS = join(ROOT, "fixtures/payloads");
const BIN = join(ROOT, "bin/fedicheck.js");
const run = promisify(execFile);

/** One corpus document with its sidecar expectations. */
interface Case {
  name: string;
  path: string;
  text: string;
  valid: boolean;
  /** Rule ids the document must trigger (errors for invalid ones, any severity for valid ones). */
  rules: string[];
  context: ValidationContext;
}

function loadCases(folder: "valid" | "invalid"): Case[] {
  const dir = join(CORPUS, folder);
  return readdirSync(dir)
    .filter((name) => name.endsWith(".json") && !name.endsWith(".expect.json"))
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const sidecar = path.replace(/\.json$/, ".expect.json");
      const expect = existsSync(sidecar)
        ? (JSON.parse(readFileSync(sidecar, "utf8")) as { rules?: string[]; context?: ValidationContext })
        : {};
      return {
        name,
        path,
        text: readFileSync(path, "utf8"),
        valid: folder === "valid",
        rules: expect.rules ?? [],
        context: expect.context ?? {},
      };
    });
}

const valid = loadCases("valid");
const invalid = loadCases("invalid");

/** The context a test passes for a case: the sidecar's, plus the raw body when headers are given. */
function contextOf(c: Case): ValidationContext {
  return c.context.headers ? { ...c.context, body: c.text } : c.context;
}

/** The CLI flags that carry a sidecar context (the CLI adds the raw body itself). */
function flagsOf(c: Case): string[] {
  const flags: string[] = [];
  if (c.context.delivered) flags.push("--delivered");
  if (c.context.origin) flags.push("--origin", c.context.origin);
  if (c.context.kind) flags.push("--kind", c.context.kind);
  for (const [name, value] of Object.entries(c.context.headers ?? {}))
    flags.push("--header", `${name}: ${value}`);
  return flags;
}

function errorsOf(findings: Finding[]): Finding[] {
  return findings.filter((f) => f.severity === "error");
}

describe("payload corpus", () => {
  it("has at least 28 valid and 16 invalid documents, each invalid one with a sidecar", () => {
    expect(valid.length).toBeGreaterThanOrEqual(28);
    expect(invalid.length).toBeGreaterThanOrEqual(16);
    for (const c of invalid) expect(c.rules.length, `${c.name} declares no rules`).toBeGreaterThan(0);
  });

  it("declares only rule ids the catalogue knows", () => {
    for (const c of [...valid, ...invalid]) {
      for (const rule of c.rules) expect(Object.hasOwn(RULES, rule), `${c.name}: ${rule}`).toBe(true);
    }
  });

  describe.each(valid.map((c) => [c.name, c] as const))("valid/%s through validate()", (_name, c) => {
    it("has no error findings and triggers its declared rules", async () => {
      const findings = await validate(JSON.parse(c.text), contextOf(c));
      expect(errorsOf(findings)).toEqual([]);
      const ids = findings.map((f) => f.ruleId);
      for (const rule of c.rules) expect(ids).toContain(rule);
    });
  });

  describe.each(invalid.map((c) => [c.name, c] as const))("invalid/%s through validate()", (_name, c) => {
    it("triggers its declared rules as errors", async () => {
      const findings = await validate(JSON.parse(c.text), contextOf(c));
      const errorIds = errorsOf(findings).map((f) => f.ruleId);
      for (const rule of c.rules) expect(errorIds).toContain(rule);
    });
  });
});

describe.concurrent("payload corpus through the CLI", () => {
  it("exits 0 on the valid documents that need no context, with no errors in --json", async () => {
    const plain = valid.filter((c) => Object.keys(c.context).length === 0);
    const { stdout } = await run(process.execPath, [BIN, "validate", "--json", ...plain.map((c) => c.path)], {
      maxBuffer: 32 * 1024 * 1024,
    });
    const reports = JSON.parse(stdout) as { input: string; findings: Finding[] }[];
    expect(reports.map((r) => r.input)).toEqual(plain.map((c) => c.path));
    for (const report of reports) expect(errorsOf(report.findings), report.input).toEqual([]);
  });

  it.each(valid.filter((c) => Object.keys(c.context).length > 0).map((c) => [c.name, c] as const))(
    "exits 0 on valid/%s with its context as flags",
    async (_name, c) => {
      const { stdout } = await run(process.execPath, [BIN, "validate", "--json", ...flagsOf(c), c.path]);
      const [report] = JSON.parse(stdout) as { findings: Finding[] }[];
      const ids = report?.findings.map((f) => f.ruleId) ?? [];
      for (const rule of c.rules) expect(ids).toContain(rule);
    },
  );

  it.each(invalid.map((c) => [c.name, c] as const))(
    "exits 1 on invalid/%s and reports its rules",
    async (_name, c) => {
      const result = await run(process.execPath, [BIN, "validate", "--json", ...flagsOf(c), c.path]).then(
        () => ({ code: 0, stdout: "" }),
        (error: { code?: number; stdout?: string }) => ({ code: error.code, stdout: error.stdout ?? "" }),
      );
      expect(result.code).toBe(1);
      const [report] = JSON.parse(result.stdout) as { findings: Finding[] }[];
      const errorIds = errorsOf(report?.findings ?? []).map((f) => f.ruleId);
      for (const rule of c.rules) expect(errorIds).toContain(rule);
    },
  );
});
