import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { bundleScript } from "./bundle.ts";

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedicheck-bundle-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes an entry importing a helper module, both TypeScript. */
async function project(name: string, greeting: string): Promise<string> {
  await writeFile(
    join(dir, `${name}-helper.ts`),
    `export const greeting: string = ${JSON.stringify(greeting)};\n`,
  );
  const entry = join(dir, `${name}.ts`);
  await writeFile(
    entry,
    `import { greeting } from "./${name}-helper.ts";\nconst saved = (globalThis as Record<symbol, unknown>)[Symbol.for("fedicheck.natives")];\nconsole.log(JSON.stringify({ greeting, saved: saved !== undefined }));\n`,
  );
  return entry;
}

/** bundleScript from a new instance of the module, as another process would load it. */
async function freshBundler(): Promise<typeof bundleScript> {
  vi.resetModules();
  return (await import("./bundle.ts")).bundleScript;
}

describe("bundleScript", () => {
  it("bundles TypeScript into one ESM file plain Node runs, with the built-ins saved first", async () => {
    const entry = await project("hello", "hi");
    const bundle = await bundleScript(entry, { cacheDir: join(dir, "cache") });
    expect(bundle).toMatch(/hello-[0-9a-f]{12}\.mjs$/);
    const { stdout } = await run(process.execPath, [bundle]);
    expect(JSON.parse(stdout)).toEqual({ greeting: "hi", saved: true });
  });

  it("reuses a fresh bundle and rebuilds when an input changes", async () => {
    const entry = await project("stamp", "one");
    const cacheDir = join(dir, "cache-stamp");
    const first = await bundleScript(entry, { cacheDir });
    const builtAt = (await stat(first)).mtimeMs;
    // A fresh copy of the module stands for a new process: it has no memo, only the stamp.
    const again = await (await freshBundler())(entry, { cacheDir });
    expect(again).toBe(first);
    expect((await stat(first)).mtimeMs).toBe(builtAt);
    // The helper changes (size and mtime): the stamp no longer matches, so it is rebuilt.
    await writeFile(join(dir, "stamp-helper.ts"), 'export const greeting: string = "two!";\n');
    const rebuilt = await (await freshBundler())(entry, { cacheDir });
    expect(rebuilt).toBe(first);
    expect(await readFile(rebuilt, "utf8")).toContain('"two!"');
  });

  it("says which entry failed and what to do when esbuild cannot bundle it", async () => {
    const entry = join(dir, "broken.ts");
    await writeFile(entry, 'import { nothing } from "./does-not-exist.ts";\nconsole.log(nothing);\n');
    await expect(bundleScript(entry, { cacheDir: join(dir, "cache-broken") })).rejects.toThrow(
      /Could not bundle .*broken\.ts with esbuild:[\s\S]*does-not-exist[\s\S]*npx tsc -p \./,
    );
  });
});
