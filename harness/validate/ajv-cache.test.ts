import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ErrorObject, type SchemaObject } from "ajv";
import { describe, expect, it, vi } from "vitest";
import { tempDir } from "../../tests/temp-dir.ts";
import { cacheableCode, compileCached } from "./ajv-cache.ts";

const FORMATS_MODULE = "test:formats";
const FORMATS: Record<string, (value: string) => boolean> = {
  even: (value) => value.length % 2 === 0,
  "http-ish": (value) => value.startsWith("http"),
};
const MODULES = { [FORMATS_MODULE]: FORMATS };

// Uses the in-memory formats and ajv's runtime helpers (ucs2length for minLength, equal for enum).
const SCHEMA: SchemaObject = {
  type: "object",
  required: ["id", "name"],
  properties: {
    id: { type: "string", format: "http-ish" },
    name: { type: "string", minLength: 2, format: "even" },
    tags: { type: "array", items: { enum: [{ a: 1 }, "x"] } },
    code: { type: "string", pattern: "^[A-Z]+$" },
  },
  additionalProperties: false,
};

const VALUES: unknown[] = [
  { id: "https://a.example", name: "ab" },
  { id: "https://a.example", name: "abcd", tags: [{ a: 1 }, "x"], code: "AB" },
  { id: "ftp://a", name: "abc", tags: [{ a: 2 }, "y"], code: "ab", extra: 1 },
  { name: "a" },
  "not an object",
  null,
];

function newAjv(allErrors = true): Ajv {
  const ajv = new Ajv({ allErrors, strict: true, code: cacheableCode(FORMATS_MODULE) });
  for (const [name, test] of Object.entries(FORMATS)) ajv.addFormat(name, test);
  return ajv;
}

/** Each value's answer and errors. */
function outcomes(validate: ReturnType<Ajv["compile"]>): [boolean, ErrorObject[] | null][] {
  return VALUES.map((value) => [validate(value) === true, validate.errors ?? null]);
}

function cacheFiles(dir: string): string[] {
  return readdirSync(dir).sort();
}

describe("compileCached", () => {
  it("stores a validator, then loads it in a fresh instance without compiling, with the same answers", async () => {
    const dir = await tempDir("ajv-cache-");
    const options = { label: "test", dir, modules: MODULES, enabled: true };
    const compiled = compileCached(newAjv(), SCHEMA, options);
    const files = cacheFiles(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f]{64}\.cjs$/);

    const fresh = newAjv();
    const compile = vi.spyOn(fresh, "compile");
    const loaded = compileCached(fresh, SCHEMA, options);
    expect(compile).not.toHaveBeenCalled();
    expect(loaded).not.toBe(compiled);
    expect(loaded.schema).toBe(SCHEMA);
    const expected = outcomes(compiled);
    expect(expected.some(([valid]) => valid === true)).toBe(true);
    expect(expected.some(([, errors]) => Array.isArray(errors) && errors.length > 3)).toBe(true);
    expect(outcomes(loaded)).toEqual(expected);
  });

  it("keys by options and label: an instance that differs does not load another's code", async () => {
    const dir = await tempDir("ajv-cache-");
    compileCached(newAjv(true), SCHEMA, { label: "test", dir, modules: MODULES, enabled: true });
    const firstErrors = newAjv(false);
    const compile = vi.spyOn(firstErrors, "compile");
    const validate = compileCached(firstErrors, SCHEMA, {
      label: "test",
      dir,
      modules: MODULES,
      enabled: true,
    });
    expect(compile).toHaveBeenCalledOnce();
    expect(validate(VALUES[2])).toBe(false);
    expect(validate.errors).toHaveLength(1);
    compileCached(newAjv(true), SCHEMA, { label: "other", dir, modules: MODULES, enabled: true });
    expect(cacheFiles(dir)).toHaveLength(3);
  });

  it.each([
    ["garbage", () => "not javascript {"],
    ["a changed body", (text: string) => text.replace("minLength", "maxLength").replace(/"ab"/g, '"xy"')],
    ["a cut-short file", (text: string) => text.slice(0, text.length / 2)],
    [
      "valid code that exports no function",
      () => {
        const body = "module.exports = 1;";
        return `// sha256:${createHash("sha256").update(body).digest("hex")}\n${body}`;
      },
    ],
  ])("ignores a damaged file (%s), recompiles and rewrites it", async (_name, damage) => {
    const dir = await tempDir("ajv-cache-");
    const options = { label: "test", dir, modules: MODULES, enabled: true };
    const expected = outcomes(compileCached(newAjv(), SCHEMA, options));
    const file = join(dir, cacheFiles(dir)[0]!);
    const good = readFileSync(file, "utf8");
    writeFileSync(file, damage(good));

    const ajv = newAjv();
    const compile = vi.spyOn(ajv, "compile");
    expect(outcomes(compileCached(ajv, SCHEMA, options))).toEqual(expected);
    expect(compile).toHaveBeenCalledOnce();
    expect(readFileSync(file, "utf8")).toBe(good);
    expect(cacheFiles(dir)).toHaveLength(1);
  });

  it("still gives a working validator when the folder cannot be written", async () => {
    const base = await tempDir("ajv-cache-");
    const blocker = join(base, "file");
    writeFileSync(blocker, "");
    // A folder under a regular file cannot be created, even by root.
    const options = { label: "test", dir: join(blocker, "ajv"), modules: MODULES, enabled: true };
    const expected = outcomes(newAjv().compile(SCHEMA));
    expect(outcomes(compileCached(newAjv(), SCHEMA, options))).toEqual(expected);
    expect(outcomes(compileCached(newAjv(), SCHEMA, options))).toEqual(expected);
    expect(cacheFiles(base)).toEqual(["file"]);
  });

  it("reads and writes nothing when turned off, by option or by FEDICHECK_AJV_CACHE=0", async () => {
    const dir = await tempDir("ajv-cache-");
    compileCached(newAjv(), SCHEMA, { label: "test", dir, modules: MODULES, enabled: false });
    try {
      vi.stubEnv("FEDICHECK_AJV_CACHE", "0");
      compileCached(newAjv(), SCHEMA, { label: "test", dir, modules: MODULES });
      expect(cacheFiles(dir)).toEqual([]);
      vi.stubEnv("FEDICHECK_AJV_CACHE", "1");
      compileCached(newAjv(), SCHEMA, { label: "test", dir, modules: MODULES });
    } finally {
      vi.unstubAllEnvs();
    }
    expect(cacheFiles(dir)).toHaveLength(1);
  });

  it("compiles without storing when the instance keeps no source", async () => {
    const dir = await tempDir("ajv-cache-");
    const ajv = new Ajv({ strict: true });
    const validate = compileCached(ajv, { type: "string" }, { label: "test", dir, enabled: true });
    expect(validate("a")).toBe(true);
    expect(cacheFiles(dir)).toEqual([]);
  });
});
