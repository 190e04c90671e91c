/**
 * A disk cache of ajv's standalone validation code, so that a fresh process loads its validators
 * instead of compiling them (compiling, with the meta-schema it first compiles to check each schema,
 * costs more CPU than most runs spend validating).
 *
 * {@link compileCached} keys each validator by a sha256 of the schema's JSON, ajv's version, the
 * instance's options and formats, and a label naming what the options do not (the dialect, plugins).
 * A hit reads `<dir>/<key>.cjs` and evaluates it; a miss compiles with ajv, generates the standalone
 * code and writes it atomically (temp file + rename), so concurrent processes never see half a file.
 * A file that fails its checksum or does not evaluate to a function is ignored and rewritten; a folder
 * that cannot be written only means the next process compiles again.
 *
 * Environment: `FEDICHECK_AJV_CACHE=0` turns the cache off (validators are compiled; nothing is read
 * or written). The folder is `<fedicheckCacheDir()>/ajv`; deleting it is always safe.
 * @module
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { compileFunction } from "node:vm";
import { _, type Ajv, type AnySchema, type CodeOptions, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { fedicheckCacheDir } from "../runtime/cache-dir.ts";

/** Bumped when the file layout or the loader changes, so older files are never read. */
const CACHE_FORMAT = 1;

const nodeRequire = createRequire(import.meta.url);
const AJV_VERSION = (nodeRequire("ajv/package.json") as { version: string }).version;

/**
 * What {@link compileCached} needs of an ajv instance. Ajv, Ajv2020 and ajv-draft-04 all fit: these
 * members come from ajv's core class, which they all extend.
 */
export type CacheableAjv = Pick<Ajv, "compile" | "opts" | "formats">;

/** Options of {@link compileCached}. */
export interface CompileCachedOptions {
  /**
   * Names what the instance's options and formats do not say but that changes the generated code:
   * the dialect ("draft-07", "draft-2020"), added keywords or plugins. Required.
   */
  label: string;
  /**
   * Modules the generated code requires that Node cannot resolve from here, by specifier: typically
   * the in-memory formats that the instance's `code.formats` names (see {@link cacheableCode}).
   * Other specifiers (ajv's runtime helpers, ajv-formats) are required normally. Default: none.
   */
  modules?: Readonly<Record<string, unknown>>;
  /** The cache folder. Default: `<fedicheckCacheDir()>/ajv`. */
  dir?: string;
  /** Use the cache. Default: true unless the environment sets `FEDICHECK_AJV_CACHE=0`. */
  enabled?: boolean;
}

/**
 * The `code` option an ajv instance needs for {@link compileCached}: keep each validator's source (so
 * standalone code can be generated), and, when the instance has formats added as functions, refer to
 * them in that code as `require(formatsModule)[name]` — pass the same specifier in
 * {@link CompileCachedOptions.modules}. Without `formatsModule`, ajv's default applies (ajv-formats
 * sets its own module).
 */
export function cacheableCode(formatsModule?: string): CodeOptions {
  return formatsModule === undefined
    ? { source: true }
    : { source: true, formats: _`require(${formatsModule})` };
}

// ajv-formats is CommonJS; under `nodenext` its default import is typed as the module namespace,
// while at run time it is the plugin function itself.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** Options of {@link lazyDraft2020Validator}. */
export interface Draft2020Options {
  /** ajv's `strict` mode. */
  strict: boolean;
  /** The ajv-formats formats the schema uses. */
  formats: NonNullable<Parameters<typeof addFormats>[1]>;
}

/**
 * A getter of the draft 2020-12 validator of `schema` (all errors, with ajv-formats' `formats`),
 * built on the first call through {@link compileCached} and the same function after.
 */
export function lazyDraft2020Validator(schema: AnySchema, options: Draft2020Options): () => ValidateFunction {
  let compiled: ValidateFunction | undefined;
  return () => {
    if (compiled === undefined) {
      const ajv = new Ajv2020({ allErrors: true, strict: options.strict, code: cacheableCode() });
      addFormats(ajv, options.formats);
      compiled = compileCached(ajv, schema, { label: "draft-2020+ajv-formats" });
    }
    return compiled;
  };
}

/** True unless `FEDICHECK_AJV_CACHE=0` (read on each call, so tests may set it). */
export function ajvCacheEnabled(): boolean {
  return process.env.FEDICHECK_AJV_CACHE !== "0";
}

/**
 * The validator of `schema`: loaded from the disk cache when a previous process generated it, else
 * compiled by `ajv` (and stored). The instance must be created with `code: cacheableCode(…)` for
 * misses to be stored; without it, or when the cache is off, this is `ajv.compile(schema)`.
 * A loaded validator answers and reports `errors` exactly as the compiled one; it has no `schemaEnv`
 * or `source` (its `schema` is set), and its schema was checked against the meta-schema when the file
 * was made. The instance's options and formats are read at its first call: add formats before.
 */
export function compileCached(
  ajv: CacheableAjv,
  schema: AnySchema,
  options: CompileCachedOptions,
): ValidateFunction {
  if (!(options.enabled ?? ajvCacheEnabled()) || !ajv.opts.code.source) return ajv.compile(schema);
  const dir = options.dir ?? join(fedicheckCacheDir(), "ajv");
  const key = cacheKey(ajv, schema, options.label);
  const file = join(dir, `${key}.cjs`);
  const loaded = load(file, options.modules);
  if (loaded !== undefined) {
    loaded.schema = schema;
    return loaded;
  }
  const validate = ajv.compile(schema);
  store(dir, file, ajv, validate);
  return validate;
}

// The instance's part of the key, computed once per instance.
const instanceKeys = new WeakMap<CacheableAjv, string>();

function cacheKey(ajv: CacheableAjv, schema: AnySchema, label: string): string {
  let instance = instanceKeys.get(ajv);
  if (instance === undefined) {
    // RegExp formats are inlined into the code; function formats are referenced by name only.
    const formats = Object.entries(ajv.formats).map(([name, f]) => [
      name,
      f instanceof RegExp ? String(f) : typeof f,
    ]);
    instance = JSON.stringify([CACHE_FORMAT, AJV_VERSION, ajv.opts, formats], describeValue);
    instanceKeys.set(ajv, instance);
  }
  // NUL separators: no label/schema pair can spell another's.
  return createHash("sha256").update(`${instance}\0${label}\0`).update(JSON.stringify(schema)).digest("hex");
}

// Options hold functions (code.regExp), code templates (code.formats) and modules (uriResolver, logger,
// which do not change the code and may be circular): name them, keep data as is.
function describeValue(key: string, value: unknown): unknown {
  if (key === "uriResolver" || key === "logger") return typeof value;
  if (typeof value === "function") return `[function ${value.name}]`;
  if (value instanceof RegExp) return String(value);
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return String(value);
  }
  return value;
}

const CHECKSUM = /^\/\/ sha256:([0-9a-f]{64})\n/;

function checksum(body: string): string {
  return createHash("sha256").update(body).digest("hex");
}

/** The cached validator in `file`, or undefined when there is none or it is damaged. */
function load(file: string, modules: Readonly<Record<string, unknown>> = {}): ValidateFunction | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  // A file edited or cut short must not validate differently: check its body against the header.
  const header = CHECKSUM.exec(text);
  if (header === null) return undefined;
  const body = text.slice(header[0].length);
  if (checksum(body) !== header[1]) return undefined;
  try {
    const module: { exports: unknown } = { exports: {} };
    const run = compileFunction(body, ["require", "module", "exports"], { filename: file });
    const require = (specifier: string): unknown =>
      Object.hasOwn(modules, specifier) ? modules[specifier] : nodeRequire(specifier);
    run(require, module, module.exports);
    return typeof module.exports === "function" ? (module.exports as ValidateFunction) : undefined;
  } catch {
    return undefined;
  }
}

// Folders created (or found unwritable) in this process: one mkdir per folder, not per validator.
const folders = new Map<string, boolean>();

/** Writes the standalone code of `validate`; any failure just leaves the cache without it. */
function store(dir: string, file: string, ajv: CacheableAjv, validate: ValidateFunction): void {
  let writable = folders.get(dir);
  if (writable === undefined) {
    try {
      mkdirSync(dir, { recursive: true });
      writable = true;
    } catch {
      writable = false;
    }
    folders.set(dir, writable);
  }
  if (!writable) return;
  let body: string;
  try {
    body = standalone(ajv, validate);
  } catch {
    // Some validators cannot be made standalone (a format or keyword without code): stay compiled.
    return;
  }
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(temp, `// sha256:${checksum(body)}\n${body}`);
    renameSync(temp, file);
  } catch {
    try {
      rmSync(temp, { force: true });
    } catch {
      // Nothing was written, or the folder is gone: nothing to clean.
    }
  }
}

type StandaloneCode = (ajv: CacheableAjv, validate: ValidateFunction) => string;
let standaloneCode: StandaloneCode | undefined;

// Required on the first miss only: a process that hits the cache never loads it.
function standalone(ajv: CacheableAjv, validate: ValidateFunction): string {
  standaloneCode ??= (nodeRequire("ajv/dist/standalone") as { default: StandaloneCode }).default;
  return standaloneCode(ajv, validate);
}
