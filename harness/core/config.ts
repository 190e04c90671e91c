/**
 * The run configuration: which targets, suites, checks and pairs, and the run's limits. Comes from
 * defaults, then a config file (`fedicheck.config.ts` or `.json`), then command-line flags.
 * @module
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type PairSelection, parsePairs, parseShard } from "./plan.ts";

/** One target to start (process, container) or reach (external). */
export interface TargetSpec {
  /** Unique id in the run, e.g. `fedify-a`. */
  id: string;
  /** Implementation profile id, e.g. `fedify-ref`, `mastodon`. */
  implementation: string;
  /** Default: the profile's first runtime. */
  runtime?: "process" | "container" | "external";
  /** For external targets: where it already runs. */
  origin?: string;
  /** For external targets: an API token, or `env:NAME` to read it from the environment. */
  token?: string;
  /** fedify-ref only: bug-zoo defects to switch on. */
  defects?: string[];
  /**
   * fedify-ref as a local process only: serve actors and objects to signed GETs alone (authorized
   * fetch); the target then declares the `authorized-fetch` capability (SIG-09).
   */
  authorizedFetch?: boolean;
}

/** Everything that shapes a run. Every field has a default (see {@link DEFAULT_CONFIG}). */
export interface RunConfig {
  targets: TargetSpec[];
  /** Suite names; default all. */
  suites?: string[];
  /** Check ids or globs; default all. */
  checks?: string[];
  pairs: PairSelection;
  /** Cells at once. Default 4. */
  concurrency: number;
  /**
   * Cells at once that involve the same target (servers rate-limit; the probe is exempt). Default 4.
   */
  perTargetConcurrency?: number;
  /** Retries of a cell with a failed/errored check (flake detection). Default 0. */
  retries: number;
  /**
   * Fresh accounts in every cell, even for scenarios that may share one per target (they only read
   * what it publishes). Default false.
   */
  freshAccounts?: boolean;
  /** Budget of one wait, ms. Default 10 000. */
  waitBudgetMs: number;
  /** Serve the probe and process targets over HTTPS with a per-run CA. Default false. */
  tls: boolean;
  /** Expectations files (known failures). */
  expectations: string[];
  /** results.json of an earlier run: only new failures count. */
  baseline?: string;
  /** Where run directories go. Default `reports`. */
  outDir: string;
  shard?: { index: number; count: number };
  /**
   * Runtime for targets that do not name one: `process` (default, no Docker needed) or `container`
   * (every target on its own HTTPS hostname in a per-run Docker network).
   */
  runtime: "process" | "container";
  /** Image overrides for the container runtime: implementation (or implementation/service) → image. */
  images: Record<string, string>;
  /**
   * Run history store (`.sqlite` file or a directory of results files) for the dashboard's diff and
   * trends; completed unsharded runs are added to it. Default `<outDir>/history.sqlite`; false: none.
   */
  history?: string | false;
  /**
   * Screenshot how posts render in targets with a web UI (needs Chromium): for cells that `failed`
   * or errored (default: evidence where a person will look, at little cost), for `all` cells, or `off`.
   */
  screenshots: "failed" | "all" | "off";
  /** Write allure-results into the run directory. Default true. */
  allure: boolean;
}

/** The embedded default: the probe plus two fedify-ref servers as local processes. */
export const DEFAULT_CONFIG: RunConfig = {
  targets: [
    { id: "fedify-a", implementation: "fedify-ref" },
    { id: "fedify-b", implementation: "fedify-ref" },
  ],
  pairs: "all",
  concurrency: 4,
  perTargetConcurrency: 4,
  retries: 0,
  waitBudgetMs: 10_000,
  tls: false,
  expectations: [],
  outDir: "reports",
  runtime: "process",
  images: {},
  screenshots: "failed",
  allure: true,
};

/** A configuration problem the user can fix; the CLI exits 2 with the message. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * Parses a `--target` value: `id=implementation[,key=value…]` with keys runtime, origin, token and
 * defects (`+`-separated), and `authorized-fetch` (fedify-ref processes), e.g.
 * `zoo=fedify-ref,defects=ignore-delete+no-cors` or `af=fedify-ref,authorized-fetch`.
 */
export function parseTargetSpec(text: string): TargetSpec {
  const [head, ...options] = text.split(",");
  const [id, implementation] = (head ?? "").split("=");
  if (!id || !implementation || !/^[a-z0-9][a-z0-9-]*$/i.test(id)) {
    throw new ConfigError(
      `--target expects id=implementation[,runtime=…][,origin=…][,token=…][,defects=a+b][,authorized-fetch], got '${text}'`,
    );
  }
  const spec: TargetSpec = { id, implementation };
  for (const option of options) {
    const [key, value = ""] = option.split("=");
    if (key === "runtime") {
      if (value !== "process" && value !== "container" && value !== "external") {
        throw new ConfigError(
          `--target ${id}: runtime must be process, container or external, got '${value}'`,
        );
      }
      spec.runtime = value;
    } else if (key === "origin") spec.origin = value;
    else if (key === "token") spec.token = value;
    else if (key === "defects") spec.defects = value.split("+").filter(Boolean);
    else if (key === "authorized-fetch") spec.authorizedFetch = value !== "false";
    else
      throw new ConfigError(
        `--target ${id}: unknown option '${key}' (expected runtime, origin, token, defects or authorized-fetch)`,
      );
  }
  return spec;
}

/** Loads `fedicheck.config.ts`/`.js` (default export) or a JSON file. */
export async function loadConfigFile(path: string): Promise<Partial<RunConfig>> {
  const full = resolve(path);
  if (!existsSync(full)) throw new ConfigError(`config file ${path} does not exist`);
  try {
    if (/\.(ts|js|mjs)$/.test(full)) {
      const mod = (await import(pathToFileURL(full).href)) as { default?: Partial<RunConfig> };
      if (!mod.default) throw new Error("it has no default export");
      return mod.default;
    }
    return JSON.parse(await readFile(full, "utf8")) as Partial<RunConfig>;
  } catch (error) {
    throw new ConfigError(`cannot load config file ${path}: ${(error as Error).message}`);
  }
}

/** The values of {@link RunConfig.screenshots}. */
const SCREENSHOT_MODES: ReadonlyArray<RunConfig["screenshots"]> = ["failed", "all", "off"];

/** Merges layers over the defaults and checks the result; throws ConfigError saying what to fix. */
export function resolveConfig(...layers: Array<Partial<RunConfig>>): RunConfig {
  const config: RunConfig = { ...DEFAULT_CONFIG };
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
    }
  }
  const ids = new Set<string>();
  for (const target of config.targets) {
    if (target.id === "probe")
      throw new ConfigError("the target id 'probe' is reserved for the harness's own peer");
    if (ids.has(target.id))
      throw new ConfigError(`two targets share the id '${target.id}': ids must be unique`);
    ids.add(target.id);
    if (target.runtime === "external" && !target.origin) {
      throw new ConfigError(`target ${target.id} is external: give its origin (origin=https://…)`);
    }
  }
  // A pair naming no target would plan no cell, and a gate would pass having run nothing.
  if (Array.isArray(config.pairs)) {
    for (const { sender, receiver } of config.pairs) {
      const unknown = [sender, receiver].find((id) => id !== "probe" && !ids.has(id));
      if (unknown !== undefined) {
        throw new ConfigError(
          `pairs: ${sender}->${receiver} names '${unknown}', which is not a target of this run (targets: probe, ${[...ids].join(", ")})`,
        );
      }
    }
  }
  if (config.runtime !== "process" && config.runtime !== "container") {
    throw new ConfigError(`runtime must be process or container, got '${String(config.runtime)}'`);
  }
  if (!SCREENSHOT_MODES.includes(config.screenshots)) {
    throw new ConfigError(
      `screenshots must be one of ${SCREENSHOT_MODES.join(", ")}, got ${JSON.stringify(config.screenshots)} ("off" turns them off)`,
    );
  }
  // A config file's `"allure": "false"` would otherwise be truthy and write Allure output.
  for (const key of ["allure", "tls"] as const) {
    if (typeof config[key] !== "boolean") {
      throw new ConfigError(`${key} must be true or false, got ${JSON.stringify(config[key])}`);
    }
  }
  if (!Number.isInteger(config.concurrency) || config.concurrency < 1) {
    throw new ConfigError(`concurrency must be a whole number ≥ 1, got ${config.concurrency}`);
  }
  const perTarget = config.perTargetConcurrency;
  if (perTarget !== undefined && (!Number.isInteger(perTarget) || perTarget < 1)) {
    throw new ConfigError(`perTargetConcurrency must be a whole number ≥ 1, got ${perTarget}`);
  }
  return config;
}

export { parsePairs, parseShard };
