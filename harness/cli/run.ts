/**
 * `fedicheck run`: replay the suites across the chosen targets and write the reports.
 * Exit codes: 0 as expected, 1 unexpected failures, 2 usage or configuration error, 3 infrastructure
 * failure, 130 interrupted (results so far are kept).
 * @module
 */
import { parseArgs, styleText } from "node:util";
import { CHECKS } from "../../suites/catalogue.ts";
import { ALL_SCENARIOS, DEFAULT_SUITES, SUITES } from "../../suites/index.ts";
import {
  ConfigError,
  loadConfigFile,
  parsePairs,
  parseShard,
  parseTargetSpec,
  type RunConfig,
  resolveConfig,
} from "../core/config.ts";
import type { CellResult, RunTiming, Verdict } from "../core/model.ts";
import { matchesAny } from "../core/plan.ts";
import { runSession, type SessionEvent } from "../core/session.ts";
import { TargetStartError } from "../core/targets.ts";
import { stopAll } from "../runtime/process.ts";
import { UsageError } from "./main.ts";
import { parseImageOverrides } from "./stack.ts";

const HELP = `usage: fedicheck run [options]

With no options: every suite between the probe and two fedify-ref servers run as local processes.

options:
  --config FILE         fedicheck.config.ts or a JSON file with the same fields
  --target SPEC         id=implementation[,runtime=process|container|external][,origin=URL]
                        [,token=VALUE|env:NAME][,defects=a+b][,authorized-fetch]
                        (repeatable; replaces the default targets)
  --suites LIST         comma-separated suite names (${Object.keys(SUITES).join(", ")});
                        default all but support (the input-variant tables)
  --checks LIST         comma-separated check ids or globs (FOL-*, MED-05)
  --pairs SEL           all | probe | sender->receiver[,…]
  --shard I/N           run shard I of N (merge the shards with 'fedicheck merge')
  --tls                 serve the probe and process targets over HTTPS with a per-run CA
  --runtime R           process (default, no Docker needed) or container (Docker: every target on
                        its own https://<id>.test hostname with a per-run CA)
  --image IMPL=REF      image override for the container runtime (repeatable), e.g. mastodon=ghcr.io/…:v4.3
  --concurrency N       cells at once (default 4)
  --per-target N        cells at once that involve the same target (default 4; the probe is exempt)
  --retries N           re-run failing cells N times; a changed verdict is marked flaky
  --fresh-accounts      fresh accounts in every cell (by default read-only scenarios share one)
  --wait-ms N           budget of one wait in ms (default 10000)
  --expectations FILE   known outcomes per implementation (repeatable)
  --baseline FILE       results.json of an earlier run: only new failures fail the run
  --out DIR             where run directories go (default reports)
  --history STORE       run history (.sqlite file or directory; default <out>/history.sqlite)
  --no-history          neither read nor record run history
  --screenshots WHEN    browser screenshots of how posts render: failed (default), all, or off
  --no-allure           skip writing allure-results
  --list                print the plan (checks per suite) and exit
  --debug               print stack traces`;

function parseRunArgs(argv: string[]): { flags: Partial<RunConfig>; configFile?: string; list: boolean } {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}. See 'fedicheck run --help'.`);
  }
  if (values.help) {
    console.log(HELP);
    throw new HelpShown();
  }
  const number = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0)
      throw new UsageError(`--${name} expects a whole number, got '${text}'`);
    return n;
  };
  const list = (text: string | undefined) =>
    text
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  try {
    const flags: Partial<RunConfig> = {
      ...(values.target ? { targets: values.target.map(parseTargetSpec) } : {}),
      ...(values.suites ? { suites: list(values.suites) } : {}),
      ...(values.checks ? { checks: list(values.checks) } : {}),
      ...(values.pairs ? { pairs: parsePairs(values.pairs) } : {}),
      ...(values.shard ? { shard: parseShard(values.shard) } : {}),
      ...(values.tls ? { tls: true } : {}),
      ...(values.runtime ? { runtime: runtimeFlag(values.runtime) } : {}),
      ...(values.image ? { images: parseImageOverrides(values.image) } : {}),
      ...(values.concurrency ? { concurrency: number("concurrency", values.concurrency) } : {}),
      ...(values["per-target"] ? { perTargetConcurrency: number("per-target", values["per-target"]) } : {}),
      ...(values.retries ? { retries: number("retries", values.retries) } : {}),
      ...(values["fresh-accounts"] ? { freshAccounts: true } : {}),
      ...(values["wait-ms"] ? { waitBudgetMs: number("wait-ms", values["wait-ms"]) } : {}),
      ...(values.expectations ? { expectations: values.expectations } : {}),
      ...(values.baseline ? { baseline: values.baseline } : {}),
      ...(values.out ? { outDir: values.out } : {}),
      ...(values.history ? { history: values.history } : {}),
      ...(values["no-history"] ? { history: false as const } : {}),
      ...(values.screenshots ? { screenshots: screenshotsFlag(values.screenshots) } : {}),
      ...(values["no-allure"] ? { allure: false } : {}),
    };
    return { flags, ...(values.config ? { configFile: values.config } : {}), list: values.list ?? false };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message);
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      config: { type: "string" },
      target: { type: "string", multiple: true },
      suites: { type: "string" },
      checks: { type: "string" },
      pairs: { type: "string" },
      shard: { type: "string" },
      tls: { type: "boolean" },
      runtime: { type: "string" },
      image: { type: "string", multiple: true },
      concurrency: { type: "string" },
      "per-target": { type: "string" },
      retries: { type: "string" },
      "fresh-accounts": { type: "boolean" },
      "wait-ms": { type: "string" },
      expectations: { type: "string", multiple: true },
      baseline: { type: "string" },
      out: { type: "string" },
      history: { type: "string" },
      "no-history": { type: "boolean" },
      screenshots: { type: "string" },
      "no-allure": { type: "boolean" },
      list: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

class HelpShown extends Error {}

function screenshotsFlag(value: string): RunConfig["screenshots"] {
  if (value === "failed" || value === "all" || value === "off") return value;
  throw new UsageError(`--screenshots expects failed, all or off, got '${value}'`);
}

function runtimeFlag(value: string): RunConfig["runtime"] {
  if (value === "process" || value === "container") return value;
  throw new UsageError(`--runtime expects process or container, got '${value}'`);
}

const SYMBOL: Record<Verdict, string> = {
  passed: "✓",
  failed: "✗",
  errored: "!",
  unsupported: "-",
  inapplicable: "·",
  skipped: "»",
};

/** Prints progress: one line per finished cell (a TTY gets colour), then a summary. */
function reporter(tty: boolean): (event: SessionEvent) => void {
  const colour = (style: Parameters<typeof styleText>[0], text: string) =>
    tty ? styleText(style, text) : text;
  return (event) => {
    switch (event.type) {
      case "starting":
        console.log(`starting probe and ${event.targets.join(", ")}…`);
        break;
      case "started":
        for (const t of event.targets) console.log(`  ${t.id.padEnd(12)} ${t.origin} (${t.runtime})`);
        console.log(`targets ready in ${(event.ms / 1000).toFixed(1)} s`);
        break;
      case "planned":
        console.log(`${event.cells} cells deciding ${event.checks} checks`);
        break;
      case "cell": {
        const worst = worstOf(event.results);
        const line = `[${String(event.done).padStart(String(event.total).length)}/${event.total}] ${SYMBOL[worst]} ${event.cell.key}`;
        const bad = event.results.filter(
          (r) => (r.verdict === "failed" || r.verdict === "errored") && !r.expectation,
        );
        const text = bad.length
          ? `${line}\n${bad.map((r) => `      ${r.checkId}: ${r.message}`).join("\n")}`
          : line;
        console.log(worst === "failed" || worst === "errored" ? colour("red", text) : text);
        break;
      }
      case "warning":
        console.warn(colour("yellow", `warning: ${event.message}`));
        break;
      case "stopping":
        break;
    }
  };
}

/** One line on where the run's time went: the harness's own CPU share, and cell time by kind. */
export function timingLine(timing: RunTiming): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const parts = [];
  if (timing.harnessCpuMs !== undefined) {
    const share = (100 * timing.harnessCpuMs) / Math.max(1, timing.wallMs);
    parts.push(`harness CPU ${s(timing.harnessCpuMs)} (${share.toFixed(0)}% of wall)`);
  }
  if (timing.startupMs !== undefined) parts.push(`targets started in ${s(timing.startupMs)}`);
  const other = timing.workingMs - (timing.targetCallMs ?? 0);
  parts.push(
    `summed over cells: waiting ${s(timing.waitingMs)}` +
      (timing.targetCallMs === undefined
        ? `, working ${s(timing.workingMs)}`
        : `, in target calls ${s(timing.targetCallMs)}, other ${s(Math.max(0, other))}`),
  );
  return `time: ${parts.join("; ")}`;
}

function worstOf(results: CellResult[]): Verdict {
  const order: Verdict[] = ["errored", "failed", "skipped", "unsupported", "inapplicable", "passed"];
  return order.find((v) => results.some((r) => r.verdict === v)) ?? "passed";
}

/**
 * What is wrong with `--checks` patterns that would decide nothing (a gate with a misspelt check id
 * would pass having run none), or undefined: each pattern must match a check of the catalogue, in
 * one of the suites that run.
 */
export function unmatchedChecks(patterns: string[], suites: string[]): string | undefined {
  const matches = patterns.map((p) => ({ p, checks: CHECKS.filter((check) => matchesAny(check.id, [p])) }));
  const unknown = matches.filter((m) => m.checks.length === 0).map((m) => m.p);
  if (unknown.length > 0) {
    return `no check matches ${unknown.join(", ")}; check ids look like FOL-02 or DSC-WF-* (\`fedicheck run --list\` lists them)`;
  }
  const running = new Set(suites.flatMap((suite) => (SUITES[suite] ?? []).flatMap((s) => s.checks)));
  const elsewhere = matches.find((m) => !m.checks.some((check) => running.has(check.id)));
  if (elsewhere === undefined) return undefined;
  const theirSuites = [...new Set(elsewhere.checks.map((check) => check.suite))];
  return `the checks ${elsewhere.p} names are in ${theirSuites.join(", ")}, not in the suites that run (${suites.join(", ")}); add ${theirSuites.join(", ")} to --suites`;
}

/** Runs `fedicheck run` and returns its exit code. */
export async function run(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseRunArgs>;
  try {
    parsed = parseRunArgs(argv);
  } catch (error) {
    if (error instanceof HelpShown) return 0;
    throw error;
  }
  let config: RunConfig;
  try {
    const fromFile = parsed.configFile ? await loadConfigFile(parsed.configFile) : {};
    config = resolveConfig(fromFile, parsed.flags);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  config.suites ??= [...DEFAULT_SUITES];
  const unknownSuites = config.suites.filter((s) => !(s in SUITES));
  if (unknownSuites.length) {
    throw new UsageError(
      `unknown suite(s) ${unknownSuites.join(", ")}; expected some of: ${Object.keys(SUITES).join(", ")}`,
    );
  }
  const checkProblem = config.checks && unmatchedChecks(config.checks, config.suites);
  if (checkProblem) throw new UsageError(checkProblem);
  if (parsed.list) {
    for (const [suite, scenarios] of Object.entries(SUITES)) {
      console.log(`${suite}: ${[...new Set(scenarios.flatMap((s) => s.checks))].join(" ")}`);
    }
    return 0;
  }

  // First Ctrl-C: stop scheduling, abort running cells, keep results, stop targets. Second: force.
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      console.error("\ninterrupted: finishing up (results so far are kept); press Ctrl-C again to force");
      controller.abort(new Error("interrupted"));
    } else {
      void stopAll().finally(() => process.exit(130));
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const outcome = await runSession({
      config,
      scenarios: ALL_SCENARIOS,
      checks: CHECKS,
      command: ["fedicheck", "run", ...argv].join(" "),
      signal: controller.signal,
      onEvent: reporter(process.stdout.isTTY === true),
    });
    const counts = new Map<Verdict, number>();
    for (const cell of outcome.results.cells) counts.set(cell.verdict, (counts.get(cell.verdict) ?? 0) + 1);
    const timing = outcome.results.timing;
    console.log(
      `\n${[...counts].map(([v, n]) => `${n} ${v}`).join(", ")}` +
        (timing ? ` in ${(timing.wallMs / 1000).toFixed(1)} s` : ""),
    );
    if (timing) console.log(timingLine(timing));
    for (const s of outcome.stale) {
      console.log(
        `stale expectation: ${s.implementation} ${s.expectation.check} expected ${s.expectation.verdict}, saw ${s.observed.join("/")}`,
      );
    }
    if (outcome.regressions.length) console.log(`${outcome.regressions.length} unexpected failure(s)`);
    console.log(`reports: ${outcome.runDir}/index.html, summary.md, junit.xml, results.json`);
    return outcome.exitCode;
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    if (error instanceof TargetStartError) {
      console.error(`fedicheck run: ${error.message}`);
      return 3;
    }
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stopAll();
  }
}
