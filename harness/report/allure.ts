/**
 * Allure output: `allure-results` written while a run goes on (one test result per cell, its evidence
 * as steps with attachments, labels for suite, implementation pair and spec level, environment and
 * categories files), and the Allure site made from them by allure-commandline (which needs Java).
 *
 * The file format is Allure's documented one, with allure-js-commons' types and helpers. Every file
 * is written to a temporary name and renamed into place, attachments before the result that refers
 * to them, so a crash mid-run leaves only complete files. (allure-js-commons' own FileSystemWriter
 * also fsyncs every file: about 4 s for a 250-cell run here, for a durability a report does not need.)
 * @module
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cp, mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { hostname } from "node:os";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import {
  type Attachment,
  ContentType,
  type Label,
  LabelName,
  type Link,
  LinkType,
  Severity,
  Stage,
  Status,
  type StatusDetails,
  type StepResult,
  type TestResult,
} from "allure-js-commons";
import type { Category } from "allure-js-commons/sdk";
import { md5, stringifyEnvInfo } from "allure-js-commons/sdk/reporter";
import type {
  CellResult,
  CheckDefinition,
  Evidence,
  HttpMessage,
  RunResults,
  Verdict,
} from "../core/model.ts";
import { cellKey, expectationMatched, pairLabel } from "./analysis.ts";

/** What the Allure writer needs to know about the run besides its cells. */
export type AllureRunHeader = Pick<RunResults, "runId" | "targets" | "checks"> &
  Partial<Pick<RunResults, "startedAt" | "command" | "tool">>;

/** Options of {@link createAllureWriter}. */
export interface AllureWriterOptions {
  /**
   * Directory that relative screenshot paths in evidence are relative to. Default: the parent of the
   * results directory (a run writes `reports/<run-id>/allure-results`, screenshots live in the run directory).
   */
  baseDir?: string;
  /**
   * Remove Allure files left in the directory by an earlier write (results, attachments, containers,
   * environment, categories, executor; the `history` folder is kept) before writing. Default true, so
   * re-rendering a run never counts a cell twice.
   */
  clean?: boolean;
  /** Value of the `host` label. Default: this machine's host name. */
  host?: string;
}

/** Writes allure-results for a run, cell by cell. */
export interface AllureWriter {
  /** The allure-results directory. */
  readonly dir: string;
  /** Writes one test result per cell (and its attachments). Resolves once the files are in place. */
  add(cells: CellResult[], header: AllureRunHeader): Promise<void>;
  /**
   * Writes `environment.properties`, `categories.json` and `executor.json` for the run (also written
   * on the first add, so a crashed run still has them) and returns how many test results were written.
   */
  finish(header?: AllureRunHeader): Promise<{ tests: number }>;
}

/** Allure's status for a verdict: errored is `broken` (not the target's fault), not-run verdicts are `skipped`. */
export const ALLURE_STATUS: Readonly<Record<Verdict, Status>> = {
  passed: Status.PASSED,
  failed: Status.FAILED,
  errored: Status.BROKEN,
  unsupported: Status.SKIPPED,
  inapplicable: Status.SKIPPED,
  skipped: Status.SKIPPED,
};

/** Allure severity from the check's interop impact: what breaks for users if the check fails. */
const SEVERITY: Record<CheckDefinition["impact"], Severity> = {
  PROBLEM: Severity.CRITICAL,
  DEGRADED: Severity.NORMAL,
  UNAFFECTED: Severity.MINOR,
};

/**
 * Categories (Allure's "what kind of problem" tab), told apart by the first line of each result's
 * trace (see {@link traceHead}): target problems versus harness and infrastructure problems, known
 * failures, and the three ways a check does not run. Regexes are exclusive so no test is listed twice.
 */
export const ALLURE_CATEGORIES: Category[] = [
  {
    name: "Known failures (in the implementation's expectations file)",
    description: "Failed as the expectations file predicts: known, tracked elsewhere.",
    matchedStatuses: [Status.FAILED],
    traceRegex: "verdict=failed[^\\n]* known[\\s\\S]*",
  },
  {
    name: "Target problems (failed checks)",
    description: "The target did not meet the requirement: the evidence shows what it sent or showed.",
    matchedStatuses: [Status.FAILED],
    traceRegex: "verdict=failed(?![^\\n]* known)[\\s\\S]*",
  },
  {
    name: "Target broke a harness limit (errored)",
    description:
      "The target exceeded a limit the harness enforces (time, size, redirects, JSON, allow-list).",
    matchedStatuses: [Status.BROKEN],
    traceRegex: "verdict=errored blame=target[\\s\\S]*",
  },
  {
    name: "Infrastructure problems (errored)",
    description: "Connection, TLS, interruption or a spent budget: not the target's fault.",
    matchedStatuses: [Status.BROKEN],
    traceRegex: "verdict=errored blame=infrastructure[\\s\\S]*",
  },
  {
    name: "Harness problems (errored)",
    description: "A fault of fedicheck itself: never blamed on the target.",
    matchedStatuses: [Status.BROKEN],
    traceRegex: "verdict=errored(?! blame=(?:target|infrastructure))[\\s\\S]*",
  },
  {
    name: "Unsupported by the implementation",
    description: "The implementation declares it lacks a capability the check needs.",
    matchedStatuses: [Status.SKIPPED],
    traceRegex: "verdict=unsupported[\\s\\S]*",
  },
  {
    name: "Not applicable",
    matchedStatuses: [Status.SKIPPED],
    traceRegex: "verdict=inapplicable[\\s\\S]*",
  },
  {
    name: "Skipped (a precondition was not met)",
    matchedStatuses: [Status.SKIPPED],
    traceRegex: "verdict=skipped[\\s\\S]*",
  },
  { name: "Flaky (verdict changed on retry)", flaky: true },
];

/** A uuid-shaped id derived from `text`: re-rendering a run rewrites the same files. */
function stableUuid(text: string): string {
  const h = md5(text);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * First line of a result's trace: `verdict=<v>[ blame=<b>][ known][ flaky]`. Categories match on it,
 * so it is the one place the verdict fedicheck gave survives Allure's coarser statuses.
 */
export function traceHead(cell: CellResult): string {
  const parts = [`verdict=${cell.verdict}`];
  if (cell.verdict === "errored" && cell.blame !== undefined) parts.push(`blame=${cell.blame}`);
  if (expectationMatched(cell)) parts.push("known");
  if (cell.flaky) parts.push("flaky");
  return parts.join(" ");
}

/** A file to write next to the result: its name in allure-results and its bytes (or a file to copy). */
interface PendingAttachment {
  source: string;
  content?: Buffer;
  from?: string;
}

/** A test result with the attachments it refers to. */
export interface BuiltTestResult {
  result: TestResult;
  attachments: PendingAttachment[];
}

function httpText(message: HttpMessage, response: boolean): string {
  const head = response ? `HTTP ${message.status ?? "?"}` : `${message.method ?? "GET"} ${message.url ?? ""}`;
  const headers = Object.entries(message.headers).map(([k, v]) => `${k}: ${v}`);
  return [head, ...headers, "", message.body ?? ""].join("\n");
}

function httpExchangeText(evidence: Extract<Evidence, { kind: "http" }>): string {
  const parts = [`# request (${evidence.at})`, httpText(evidence.request, false)];
  if (evidence.response)
    parts.push(
      `# response${evidence.durationMs === undefined ? "" : ` after ${evidence.durationMs} ms`}`,
      httpText(evidence.response, true),
    );
  else parts.push("# no response");
  if (evidence.signature) {
    const s = evidence.signature;
    parts.push(
      `# signature: ${s.ok ? "verified" : "NOT verified"}${s.scheme ? ` (${s.scheme})` : ""}${s.keyId ? ` keyId=${s.keyId}` : ""}${s.reason ? ` — ${s.reason}` : ""}`,
    );
  }
  return `${parts.join("\n")}\n`;
}

/** The first http(s) URL in a check's source, for a link. */
function sourceUrl(source: string): string | undefined {
  return /https?:\/\/[^\s)>\]]+/.exec(source)?.[0];
}

function describeCell(cell: CellResult, check: CheckDefinition | undefined): string {
  const lines: string[] = [];
  if (check) {
    lines.push(
      `**Requirement** (${check.level}, impact ${check.impact}): ${check.requirement}`,
      "",
      `Source: ${check.source}`,
      "",
    );
  }
  lines.push(`**Result** (${cell.verdict}${cell.flaky ? ", flaky" : ""}): ${cell.message}`);
  if (cell.expected !== undefined) lines.push("", `Expected: ${cell.expected}`);
  if (cell.observed !== undefined) lines.push("", `Observed: ${cell.observed}`);
  if (cell.expectation) {
    const e = cell.expectation;
    lines.push("", `Expectation: ${e.verdict} — ${e.reason}${e.link ? ` (${e.link})` : ""}`);
  }
  lines.push("", `Attempts: ${cell.attempts}; waiting ${cell.waitingMs} ms of ${cell.durationMs} ms.`);
  lines.push("", "Reproduce:", "", `    ${cell.reproduce}`);
  return lines.join("\n");
}

/**
 * Builds the Allure test result of one cell and the attachments it refers to, without writing
 * anything. `baseDir` resolves relative screenshot paths.
 */
export function buildTestResult(
  cell: CellResult,
  header: AllureRunHeader,
  options: { baseDir: string; host: string },
): BuiltTestResult {
  const check = header.checks.find((c) => c.id === cell.checkId);
  const title = check?.title ?? "(check not in the run's catalogue)";
  const implOf = new Map(header.targets.map((t) => [t.id, t.implementation]));
  const senderImpl = implOf.get(cell.sender) ?? cell.sender;
  const receiverImpl = implOf.get(cell.receiver) ?? cell.receiver;
  const key = cellKey(cell);
  const uuid = stableUuid(`${header.runId}\n${key}`);
  const pair = pairLabel(cell.sender, cell.receiver);
  const start = Date.parse(cell.startedAt);
  const attachments: PendingAttachment[] = [];

  const attach = (
    name: string,
    type: string,
    ext: string,
    content: Buffer | { from: string },
  ): Attachment => {
    // Named by content: evidence shared by the checks of a cell (a fifth of it) is written once.
    const identity = Buffer.isBuffer(content)
      ? `content\n${createHash("sha256").update(content).digest("hex")}`
      : `file\n${content.from}`;
    const source = `${stableUuid(identity)}-attachment.${ext}`;
    attachments.push(Buffer.isBuffer(content) ? { source, content } : { source, from: content.from });
    return { name, type, source };
  };
  const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, "utf8");
  const text = (value: string) => Buffer.from(value, "utf8");

  const steps: StepResult[] = cell.evidence.map((evidence) => {
    const step: StepResult = {
      name: evidence.label,
      status: Status.PASSED,
      statusDetails: {},
      stage: Stage.FINISHED,
      steps: [],
      attachments: [],
      parameters: [],
      start,
      stop: start,
    };
    switch (evidence.kind) {
      case "http": {
        const status = evidence.response?.status;
        step.name = `HTTP ${evidence.request.method ?? "GET"} ${evidence.request.url ?? ""} → ${status ?? "no response"} (${evidence.label})`;
        step.start = Date.parse(evidence.at);
        step.stop = step.start + (evidence.durationMs ?? 0);
        step.attachments.push(
          attach(
            `${evidence.label} (HTTP exchange)`,
            ContentType.TEXT,
            "txt",
            text(httpExchangeText(evidence)),
          ),
        );
        if (evidence.signature && !evidence.signature.ok) {
          step.status = Status.FAILED;
          step.statusDetails = {
            message: `signature not verified: ${evidence.signature.reason ?? "no reason given"}`,
          };
        }
        break;
      }
      case "payload": {
        const errors = evidence.findings.filter((f) => f.severity === "error");
        step.name = `payload: ${evidence.label}${evidence.findings.length ? ` (${evidence.findings.length} finding${evidence.findings.length === 1 ? "" : "s"})` : ""}`;
        step.attachments.push(attach(evidence.label, ContentType.JSON, "json", json(evidence.document)));
        if (evidence.findings.length > 0) {
          step.attachments.push(
            attach(`${evidence.label} — findings`, ContentType.JSON, "json", json(evidence.findings)),
          );
        }
        if (errors.length > 0) {
          step.status = Status.FAILED;
          step.statusDetails = {
            message: errors.map((f) => `${f.ruleId} ${f.pointer ?? ""}: ${f.message}`).join("\n"),
          };
        }
        break;
      }
      case "view":
        step.name = `view: ${evidence.label}`;
        step.attachments.push(attach(evidence.label, ContentType.JSON, "json", json(evidence.view)));
        break;
      case "log":
        step.name = `log: ${evidence.label}`;
        step.attachments.push(attach(evidence.label, ContentType.TEXT, "txt", text(evidence.text)));
        break;
      case "note":
        step.name = `note: ${evidence.label}`;
        step.attachments.push(attach(evidence.label, ContentType.TEXT, "txt", text(evidence.text)));
        break;
      case "screenshot": {
        step.name = `screenshot: ${evidence.label}`;
        const path = isAbsolute(evidence.path) ? evidence.path : resolve(options.baseDir, evidence.path);
        if (existsSync(path)) {
          step.attachments.push(attach(evidence.label, ContentType.PNG, "png", { from: path }));
        } else {
          step.status = Status.BROKEN;
          step.statusDetails = { message: `screenshot file not found: ${evidence.path}` };
        }
        break;
      }
    }
    return step;
  });

  const details: StatusDetails & { flaky?: boolean; known?: boolean } = {};
  if (cell.verdict !== "passed" || cell.flaky) {
    details.message = cell.message;
    const trace = [traceHead(cell)];
    if (cell.expected !== undefined) trace.push(`expected: ${cell.expected}`);
    if (cell.observed !== undefined) trace.push(`observed: ${cell.observed}`);
    if (cell.expectation) trace.push(`expectation: ${cell.expectation.verdict} — ${cell.expectation.reason}`);
    trace.push(`reproduce: ${cell.reproduce}`);
    details.trace = trace.join("\n");
    if (cell.expected !== undefined) details.expected = cell.expected;
    if (cell.observed !== undefined) details.actual = cell.observed;
  }
  // Allure 2 reads these two marks from statusDetails (allure-js-commons' type does not list them).
  if (cell.flaky) details.flaky = true;
  if (expectationMatched(cell)) details.known = true;

  const labels: Label[] = [
    { name: LabelName.PARENT_SUITE, value: cell.suite },
    { name: LabelName.SUITE, value: pairLabel(senderImpl, receiverImpl) },
    { name: LabelName.SUB_SUITE, value: pair },
    { name: LabelName.FEATURE, value: cell.suite },
    { name: LabelName.STORY, value: `${cell.checkId} ${title}` },
    { name: LabelName.PACKAGE, value: `fedicheck.${cell.suite}` },
    { name: LabelName.TEST_CLASS, value: cell.scenarioId },
    { name: LabelName.TEST_METHOD, value: cell.checkId },
    { name: LabelName.HOST, value: options.host },
    { name: LabelName.FRAMEWORK, value: "fedicheck" },
    { name: "sender", value: cell.sender },
    { name: "receiver", value: cell.receiver },
    { name: "senderImplementation", value: senderImpl },
    { name: "receiverImplementation", value: receiverImpl },
    { name: "verdict", value: cell.verdict },
  ];
  if (check) {
    labels.push(
      { name: LabelName.TAG, value: check.level },
      { name: LabelName.TAG, value: check.impact },
      { name: LabelName.SEVERITY, value: SEVERITY[check.impact] },
      { name: "level", value: check.level },
      { name: "impact", value: check.impact },
    );
  }
  if (cell.verdict !== "passed" && cell.verdict !== "failed")
    labels.push({ name: LabelName.TAG, value: cell.verdict });
  if (cell.flaky) labels.push({ name: LabelName.TAG, value: "flaky" });
  if (expectationMatched(cell)) labels.push({ name: LabelName.TAG, value: "known-failure" });

  const links: Link[] = [];
  const source = check ? sourceUrl(check.source) : undefined;
  if (source) links.push({ name: "requirement source", url: source, type: LinkType.DEFAULT });
  if (cell.expectation?.link)
    links.push({ name: "known issue", url: cell.expectation.link, type: LinkType.ISSUE });

  const result: TestResult = {
    uuid,
    historyId: md5(key),
    testCaseId: md5(JSON.stringify([cell.checkId, cell.scenarioId])),
    name: `${cell.checkId} ${title} [${pair}]`,
    fullName: `${cell.scenarioId}#${cell.checkId}[${cell.sender}→${cell.receiver}]`,
    titlePath: [cell.suite, pairLabel(senderImpl, receiverImpl), pair],
    status: ALLURE_STATUS[cell.verdict],
    statusDetails: details,
    stage: Stage.FINISHED,
    description: describeCell(cell, check),
    steps,
    attachments: [],
    parameters: [
      { name: "sender", value: cell.sender },
      { name: "receiver", value: cell.receiver },
      { name: "scenario", value: cell.scenarioId },
      { name: "attempts", value: String(cell.attempts) },
    ],
    labels,
    links,
    start,
    stop: start + cell.durationMs,
  };
  return { result, attachments };
}

/** `environment.properties` entries: the run and every target with its implementation and version. */
export function environmentInfo(header: AllureRunHeader): Record<string, string> {
  const info: Record<string, string> = { "run.id": header.runId };
  if (header.startedAt) info["run.started"] = header.startedAt;
  if (header.command) info["run.command"] = header.command;
  if (header.tool) info["fedicheck.version"] = header.tool.version;
  for (const t of header.targets) {
    info[`target.${t.id}`] = `${t.implementation} ${t.version} (${t.runtime}, ${t.origin})`;
  }
  return info;
}

/** File names an earlier write may have left; {@link AllureWriterOptions.clean} removes only these. */
const ALLURE_FILE =
  /^(?:[0-9a-f-]{36}-(?:result\.json|container\.json|attachment\.[\w]+)|environment\.properties|categories\.json|executor\.json)$/;

let tmpCounter = 0;

/**
 * Writes `content` (or a copy of the file `from`) to `path` via a temporary file and a rename.
 *
 * Synchronously, like every file the writer makes, on purpose: creating a file costs ~0.02 ms of
 * CPU, but up to ~0.9 ms on ext4 without a journal right after many deletions nearby (see
 * docs/ci.md), and through the promise API, with cells finishing together, the same files cost about
 * twice that (thread handoffs, threads contending for one directory). Written in turn they cost
 * about half, for a pause of up to a millisecond per file at the dear end (issue 8).
 */
function placeFile(path: string, content: string | Buffer | { from: string }): void {
  // A dot name: Allure ignores it should a crash leave it behind.
  const tmp = join(dirname(path), `.fedicheck-${process.pid}-${tmpCounter++}.tmp`);
  try {
    if (typeof content === "string" || Buffer.isBuffer(content)) writeFileSync(tmp, content);
    else copyFileSync(content.from, tmp);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** Creates an Allure results writer for `dir` (created if needed). */
export function createAllureWriter(dir: string, options: AllureWriterOptions = {}): AllureWriter {
  const baseDir = options.baseDir ?? dirname(resolve(dir));
  const host = options.host ?? hostname();
  let prepared: Promise<void> | undefined;
  let tests = 0;
  let lastHeader: AllureRunHeader | undefined;
  let runFilesWritten = false;
  /** Attachments already in the directory (they are named by content). */
  const written = new Set<string>();

  const prepare = () =>
    (prepared ??= (async () => {
      await mkdir(dir, { recursive: true });
      if (options.clean ?? true) {
        const stale = (await readdir(dir)).filter((f) => ALLURE_FILE.test(f));
        await Promise.all(stale.map((f) => rm(join(dir, f), { force: true })));
      }
    })());

  const writeRunFiles = (header: AllureRunHeader) => {
    const executor = {
      name: "fedicheck",
      type: "fedicheck",
      buildName: header.runId,
      reportName: `fedicheck · ${header.runId}`,
    };
    placeFile(join(dir, "environment.properties"), `${stringifyEnvInfo(environmentInfo(header))}\n`);
    placeFile(join(dir, "categories.json"), JSON.stringify(ALLURE_CATEGORIES, null, 2));
    placeFile(join(dir, "executor.json"), `${JSON.stringify(executor, null, 2)}\n`);
    runFilesWritten = true;
  };

  return {
    dir,
    async add(cells, header) {
      await prepare();
      lastHeader = header;
      if (!runFilesWritten) writeRunFiles(header);
      for (const cell of cells) {
        const { result, attachments } = buildTestResult(cell, header, { baseDir, host });
        // Attachments first: a result file never points at a file that is not there yet. They are
        // written in place: until its result file names it, a half-written one is never read.
        for (const a of attachments) {
          if (written.has(a.source)) continue;
          if (a.content !== undefined) writeFileSync(join(dir, a.source), a.content);
          else copyFileSync(a.from!, join(dir, a.source));
          written.add(a.source);
        }
        placeFile(join(dir, `${result.uuid}-result.json`), JSON.stringify(result));
      }
      tests += cells.length;
    },
    async finish(header) {
      await prepare();
      const final = header ?? lastHeader;
      if (final !== undefined) writeRunFiles(final);
      return { tests };
    },
  };
}

/** Writes the allure-results of a finished (or stored) run in one go; see {@link createAllureWriter}. */
export async function writeAllureResults(
  dir: string,
  results: RunResults,
  options: AllureWriterOptions = {},
): Promise<{ dir: string; tests: number }> {
  const writer = createAllureWriter(dir, options);
  const { cells, ...header } = results;
  await writer.add(cells, header);
  const { tests } = await writer.finish(header);
  return { dir, tests };
}

// ——————————————————————————————————————————— the Allure site ———————————————————————————————————————————

/** Allure could not produce the site; the message says why and what to do. */
export class AllureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AllureError";
  }
}

/** Whether a Java runtime is there for allure-commandline (`$JAVA_HOME/bin/java`, else `java` on PATH). */
export function javaAvailable(): { ok: true; java: string; version: string } | { ok: false; reason: string } {
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, "bin", "java") : "java";
  const probe = spawnSync(java, ["-version"], { encoding: "utf8", timeout: 30_000 });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? probe.error.message : `exit code ${probe.status}`;
    return { ok: false, reason: `${java} -version failed (${why})` };
  }
  // `java -version` prints to stderr, e.g. `openjdk version "17.0.15" 2025-04-15`.
  const version = /version "([^"]+)"/.exec(`${probe.stderr}${probe.stdout}`)?.[1] ?? "unknown";
  return { ok: true, java, version };
}

/** Path of allure-commandline's launcher script. */
export function allureBinary(): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve("allure-commandline/package.json");
  } catch {
    throw new AllureError(
      "allure-commandline is not installed: run `npm install` (it is a dev dependency of fedicheck).",
    );
  }
  return join(dirname(packageJson), "dist", "bin", process.platform === "win32" ? "allure.bat" : "allure");
}

/** The test counts of a generated site (its `widgets/summary.json`). */
export interface AllureSummary {
  total: number;
  passed: number;
  failed: number;
  broken: number;
  skipped: number;
  unknown: number;
}

/** Reads the counts of a generated Allure site. */
export async function readAllureSummary(siteDir: string): Promise<AllureSummary> {
  const file = join(siteDir, "widgets", "summary.json");
  let parsed: { statistic?: Partial<AllureSummary> };
  try {
    parsed = JSON.parse(await readFile(file, "utf8")) as { statistic?: Partial<AllureSummary> };
  } catch (error) {
    throw new AllureError(`cannot read ${file}: ${(error as Error).message}. Is ${siteDir} an Allure site?`);
  }
  const s = parsed.statistic ?? {};
  return {
    total: s.total ?? 0,
    passed: s.passed ?? 0,
    failed: s.failed ?? 0,
    broken: s.broken ?? 0,
    skipped: s.skipped ?? 0,
    unknown: s.unknown ?? 0,
  };
}

/** Folder names inside a run directory: the Allure results a run writes and the site made from them. */
export const ALLURE_DIRS = { results: "allure-results", site: "allure-report" } as const;

/** Options of {@link generateAllureSite}. */
export interface AllureSiteOptions {
  /** Time allowed for `allure generate`, in ms. Default 180 000 (the JVM starts slowly on small machines). */
  timeoutMs?: number;
  /**
   * An earlier Allure site whose `history/` folder is copied into the results first, so the new site
   * shows trends and retries across runs. Default none.
   */
  historyFrom?: string;
}

/**
 * Runs `allure generate --clean <resultsDir> -o <outDir>` and returns the site's test counts.
 * `--clean` empties `outDir`, so it refuses an `outDir` that holds the results or looks like
 * anything but an Allure site.
 * @throws {AllureError} when Java or allure-commandline is missing, the directories are unsafe, or
 *   the generation fails or times out (with the tail of its output).
 */
export async function generateAllureSite(
  resultsDir: string,
  outDir: string,
  options: AllureSiteOptions = {},
): Promise<{ outDir: string; summary: AllureSummary }> {
  const results = resolve(resultsDir);
  const out = resolve(outDir);
  const inside = relative(out, results);
  if (inside === "" || (!inside.startsWith("..") && !isAbsolute(inside))) {
    throw new AllureError(
      `the site directory ${outDir} holds the results ${resultsDir}; pick another output directory.`,
    );
  }
  const outInfo = await stat(out).catch(() => undefined);
  if (outInfo !== undefined) {
    const entries = outInfo.isDirectory() ? await readdir(out) : ["(a file)"];
    if (entries.length > 0 && !entries.includes("widgets")) {
      throw new AllureError(
        `${outDir} exists and is not an Allure site; allure generate --clean would delete it. Pick another output directory.`,
      );
    }
  }
  if (!(await stat(results).catch(() => undefined))?.isDirectory()) {
    throw new AllureError(
      `no allure-results at ${resultsDir}; write them first (fedicheck run or report --allure).`,
    );
  }
  const java = javaAvailable();
  if (!java.ok) {
    throw new AllureError(
      `the Allure site needs Java (17 or newer): ${java.reason}. Install it (Debian: apt-get install -y ` +
        "default-jre-headless) or set JAVA_HOME. The allure-results are complete without it.",
    );
  }
  if (options.historyFrom !== undefined) {
    const history = join(options.historyFrom, "history");
    if ((await stat(history).catch(() => undefined))?.isDirectory()) {
      await cp(history, join(results, "history"), { recursive: true });
    }
  }
  const binary = allureBinary();
  const timeoutMs = options.timeoutMs ?? 180_000;
  await new Promise<void>((resolvePromise, reject) => {
    execFile(
      binary,
      ["generate", "--clean", results, "-o", out],
      { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) return resolvePromise();
        const tail = `${stdout}${stderr}`.trim().split("\n").slice(-15).join("\n");
        const why = error.killed
          ? `timed out after ${timeoutMs} ms`
          : `failed (${error.message.split("\n")[0]})`;
        reject(new AllureError(`allure generate ${why}. Its output:\n${tail}`));
      },
    );
  });
  return { outDir: out, summary: await readAllureSummary(out) };
}

/**
 * What `fedicheck report --allure` does for one run directory: (re)writes `<runDir>/allure-results`
 * from the results (so merged or re-rendered runs get exactly their cells), then generates
 * `<runDir>/allure-report`. Returns both paths and the site's counts.
 * @throws {AllureError} as {@link generateAllureSite} does.
 */
export async function writeAllureSite(
  runDir: string,
  results: RunResults,
  options: AllureSiteOptions & Pick<AllureWriterOptions, "host"> = {},
): Promise<{ resultsDir: string; siteDir: string; summary: AllureSummary }> {
  const resultsDir = join(runDir, ALLURE_DIRS.results);
  const siteDir = join(runDir, ALLURE_DIRS.site);
  await writeAllureResults(resultsDir, results, {
    baseDir: runDir,
    ...(options.host ? { host: options.host } : {}),
  });
  const { summary } = await generateAllureSite(resultsDir, siteDir, options);
  return { resultsDir, siteDir, summary };
}
