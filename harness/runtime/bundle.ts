/**
 * Bundles a TypeScript entry point (the fedify-ref server) into one ESM file with esbuild, so a
 * process target starts in plain Node: no tsx loader thread transpiling hundreds of modules in every
 * child. On 2 cores with 8 targets, starting through tsx cost each child ~0.9 s of CPU before its
 * ready line and more while lazily loading modules; the bundle starts in ~0.2 s (issue 8).
 *
 * Bundles are cached beside the key cache (node_modules/.cache/fedicheck) and reused while every
 * input file esbuild read keeps its size and modification time; concurrent builders write to
 * temporary names and rename, so readers never see half a file.
 * @module
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { fedicheckCacheDir } from "./cache-dir.ts";
import { REPO_ROOT } from "./repo.ts";

/** Options of {@link bundleScript}. */
export interface BundleOptions {
  /** Where bundles are kept. Default {@link fedicheckCacheDir}()/bundles. */
  cacheDir?: string;
}

/** What is stored beside a bundle: the inputs it was built from, to tell when it is stale. */
interface BundleStamp {
  entry: string;
  inputs: Array<[path: string, size: number, mtimeMs: number]>;
}

/**
 * Runs before any bundled module: gives bundled CommonJS code the require() ESM lacks, and saves
 * built-ins that polyfills in dependencies replace, so the program can put them back (see
 * fixtures/fedify-ref/natives.ts, which reads the same key).
 */
const BANNER = [
  'import { createRequire as __fedicheckRequire } from "node:module";',
  "const require = __fedicheckRequire(import.meta.url);",
  'globalThis[Symbol.for("fedicheck.natives")] = { push: Array.prototype.push, stringify: JSON.stringify, toString: Function.prototype.toString };',
].join("\n");

/** In-flight or finished builds of this process, per output file. */
const builds = new Map<string, Promise<string>>();

/**
 * Returns the path of an up-to-date ESM bundle of `entry` (absolute, or relative to the repository
 * root), building it when missing or stale. Node built-ins and native addons stay external.
 * @throws Error naming the entry and esbuild's messages when the build fails.
 */
export function bundleScript(entry: string, options: BundleOptions = {}): Promise<string> {
  const source = resolve(REPO_ROOT, entry);
  const dir = options.cacheDir ?? join(fedicheckCacheDir(), "bundles");
  const name = `${basename(source).replace(/\.[cm]?[jt]s$/, "")}-${hash(source)}`;
  const output = join(dir, `${name}.mjs`);
  let pending = builds.get(output);
  if (pending === undefined) {
    pending = (async () => {
      if (await isFresh(`${output}.stamp.json`, source)) return output;
      await buildBundle(source, output);
      return output;
    })();
    builds.set(output, pending);
    pending.catch(() => builds.delete(output));
  }
  return pending;
}

/** Whether the stamp names this entry and every input still has its recorded size and mtime. */
async function isFresh(stampFile: string, source: string): Promise<boolean> {
  let stamp: BundleStamp;
  try {
    stamp = JSON.parse(await readFile(stampFile, "utf8")) as BundleStamp;
  } catch {
    return false;
  }
  if (stamp.entry !== source || !Array.isArray(stamp.inputs) || stamp.inputs.length === 0) return false;
  try {
    const current = await Promise.all(stamp.inputs.map(([path]) => stat(path)));
    return current.every((s, i) => s.size === stamp.inputs[i]![1] && s.mtimeMs === stamp.inputs[i]![2]);
  } catch {
    return false; // an input is gone
  }
}

async function buildBundle(source: string, output: string): Promise<void> {
  await mkdir(resolve(output, ".."), { recursive: true });
  const temporary = `${output}.${process.pid}.${Date.now()}.tmp`;
  let result: Awaited<ReturnType<typeof build>>;
  try {
    result = await build({
      entryPoints: [source],
      outfile: temporary,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      metafile: true,
      keepNames: true,
      logLevel: "silent",
      absWorkingDir: REPO_ROOT,
      // better-sqlite3 loads a native addon relative to its package; it is not used by servers.
      external: ["better-sqlite3"],
      banner: { js: BANNER },
    });
  } catch (error) {
    throw new Error(
      `Could not bundle ${source} with esbuild: ${error instanceof Error ? error.message : String(error)}\n` +
        "Run `npm ci` to reinstall esbuild, or check the file compiles with `npx tsc -p .`.",
      { cause: error },
    );
  }
  // This file is an input too: a change to how bundles are made makes them stale.
  const inputs = await Promise.all(
    [...Object.keys(result.metafile!.inputs), fileURLToPath(import.meta.url)].map(
      async (input): Promise<[string, number, number]> => {
        const path = resolve(REPO_ROOT, input);
        const s = await stat(path);
        return [path, s.size, s.mtimeMs];
      },
    ),
  );
  const stamp: BundleStamp = { entry: source, inputs };
  await rename(temporary, output);
  await writeFile(`${temporary}.stamp`, JSON.stringify(stamp));
  await rename(`${temporary}.stamp`, `${output}.stamp.json`);
}

function hash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 12);
}
