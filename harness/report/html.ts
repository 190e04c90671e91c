/**
 * The dashboard: one static, self-contained HTML file (inline CSS and JavaScript, no request leaves
 * the page, it opens from `file://`). The matrix of checks × sender→receiver pairs, per-implementation
 * scorecards, client-side filters, a detail view per cell with its evidence, the difference with a
 * previous run and trends over a history of runs.
 *
 * Node computes everything that has a number in it ({@link buildDashboardData}, unit-tested); the
 * page's script (`dashboard/app.js`) only draws it, with `textContent` and never `innerHTML`, because
 * evidence holds whatever the servers under test sent. A Content-Security-Policy with the hashes of
 * the one script and the one style sheet backs that up: injected markup could not run anyway.
 * @module
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import type { CellResult, RunResults, Verdict } from "../core/model.ts";
import {
  buildMatrix,
  cellKey,
  countVerdicts,
  diffAgainst,
  passRate,
  type RunDiffAgainst,
  type VerdictCounts,
} from "./analysis.ts";

/** Options of {@link renderDashboard}. */
export interface DashboardOptions {
  /** The run to compare the latest run with (the diff panel). Default: the run before it in `runs`, if any. */
  previous?: RunResults;
  /** Earlier runs for the trends (pass rate per implementation, flake rate per check). Default none. */
  history?: RunResults[];
  /** Page title. Default `fedicheck · <run id>`. */
  title?: string;
  /**
   * Embed the data gzip-compressed (base64) when its JSON is larger than this many bytes; browsers
   * inflate it with DecompressionStream. Evidence compresses about tenfold, which matters for big
   * matrices kept as CI artifacts. Default 2 MiB; `Infinity` never compresses, 0 always does.
   */
  compressAbove?: number;
}

/** Verdict counts with their pass rate. */
export interface Tally {
  counts: VerdictCounts;
  /** passed / (passed + failed); null when nothing was decided. */
  rate: number | null;
  /** Number of cells. */
  total: number;
}

/** One implementation's results in a run (cells where one of its targets is sender or receiver). */
export interface Scorecard {
  implementation: string;
  /** Its targets in this run. */
  targets: string[];
  versions: string[];
  overall: Tally;
  asSender: Tally;
  asReceiver: Tally;
  bySuite: Array<{ key: string } & Tally>;
  byLevel: Array<{ key: string } & Tally>;
  byImpact: Array<{ key: string } & Tally>;
}

/** A run as the page draws it. */
export interface DashboardRun {
  results: RunResults;
  /** Columns (pairs) and rows (`checkId` + cell indices per pair) of the matrix. */
  matrix: {
    pairs: Array<{ sender: string; receiver: string; label: string }>;
    groups: Array<{ suite: string; rows: Array<{ checkId: string; cells: number[][] }> }>;
  };
  tally: Tally;
  scorecards: Scorecard[];
  /** Difference with the run before (or `options.previous`). */
  diff?: RunDiffAgainst;
}

/** Pass rates per implementation across runs, oldest first. */
export interface Trend {
  runs: Array<{ runId: string; startedAt: string }>;
  series: Array<{ implementation: string; rates: Array<number | null> }>;
}

/** How often a check's cells were flaky (changed on retry) or changed verdict between runs. */
export interface FlakeStat {
  checkId: string;
  title: string;
  /** Cells of the check over all runs. */
  cells: number;
  /** Of which marked flaky. */
  flaky: number;
  /** Verdict changes of the same cell between consecutive runs. */
  flips: number;
  /** flaky / cells. */
  rate: number;
}

/** Everything embedded in the page. */
export interface DashboardData {
  format: 1;
  runs: DashboardRun[];
  /** Index of the run shown first (the latest). */
  selected: number;
  /** Present with two runs or more (history and runs together). */
  trend?: Trend;
  flakes?: FlakeStat[];
}

/** The implementation id of the harness's own peer; it gets no scorecard. */
const PROBE = "probe";

function tally(cells: readonly CellResult[]): Tally {
  const counts = countVerdicts(cells);
  return { counts, rate: passRate(counts) ?? null, total: cells.length };
}

function groupTally(cells: readonly CellResult[], key: (c: CellResult) => string, order?: readonly string[]) {
  const groups = new Map<string, CellResult[]>((order ?? []).map((k) => [k, []]));
  for (const cell of cells) {
    const k = key(cell);
    const list = groups.get(k);
    if (list === undefined) groups.set(k, [cell]);
    else list.push(cell);
  }
  return [...groups].filter(([, list]) => list.length > 0).map(([k, list]) => ({ key: k, ...tally(list) }));
}

/** Scorecards of every implementation but the probe, in the order of `results.targets`. */
export function scorecards(results: RunResults): Scorecard[] {
  const implOf = new Map(results.targets.map((t) => [t.id, t.implementation]));
  const checks = new Map(results.checks.map((c) => [c.id, c]));
  const suites = [...new Set(results.checks.map((c) => c.suite))];
  const implementations = [...new Set(results.targets.map((t) => t.implementation))].filter(
    (i) => i !== PROBE,
  );
  return implementations.map((implementation) => {
    const targets = results.targets.filter((t) => t.implementation === implementation);
    const asSender = results.cells.filter((c) => implOf.get(c.sender) === implementation);
    const asReceiver = results.cells.filter((c) => implOf.get(c.receiver) === implementation);
    const all = results.cells.filter(
      (c) => implOf.get(c.sender) === implementation || implOf.get(c.receiver) === implementation,
    );
    return {
      implementation,
      targets: targets.map((t) => t.id),
      versions: [...new Set(targets.map((t) => t.version))],
      overall: tally(all),
      asSender: tally(asSender),
      asReceiver: tally(asReceiver),
      bySuite: groupTally(all, (c) => c.suite, suites),
      byLevel: groupTally(all, (c) => checks.get(c.checkId)?.level ?? "IMPLIED", [
        "MUST",
        "SHOULD",
        "MAY",
        "IMPLIED",
      ]),
      byImpact: groupTally(all, (c) => checks.get(c.checkId)?.impact ?? "UNAFFECTED", [
        "PROBLEM",
        "DEGRADED",
        "UNAFFECTED",
      ]),
    };
  });
}

/** Pass rate per implementation over runs (sorted by start time, one entry per run id). */
export function trend(runs: readonly RunResults[]): Trend {
  const ordered = dedupe(runs);
  const implementations = [...new Set(ordered.flatMap((r) => r.targets.map((t) => t.implementation)))].filter(
    (i) => i !== PROBE,
  );
  return {
    runs: ordered.map((r) => ({ runId: r.runId, startedAt: r.startedAt })),
    series: implementations.map((implementation) => ({
      implementation,
      rates: ordered.map(
        (r) => scorecards(r).find((s) => s.implementation === implementation)?.overall.rate ?? null,
      ),
    })),
  };
}

/** Flaky and flipping checks over runs, worst first; checks that never wavered are left out. */
export function flakes(runs: readonly RunResults[]): FlakeStat[] {
  const ordered = dedupe(runs);
  const stats = new Map<string, FlakeStat>();
  const last = new Map<string, Verdict>();
  for (const run of ordered) {
    const titles = new Map(run.checks.map((c) => [c.id, c.title]));
    for (const cell of run.cells) {
      let stat = stats.get(cell.checkId);
      if (stat === undefined) {
        stat = {
          checkId: cell.checkId,
          title: titles.get(cell.checkId) ?? "",
          cells: 0,
          flaky: 0,
          flips: 0,
          rate: 0,
        };
        stats.set(cell.checkId, stat);
      }
      stat.cells++;
      if (cell.flaky) stat.flaky++;
      const key = cellKey(cell);
      const before = last.get(key);
      if (before !== undefined && before !== cell.verdict) stat.flips++;
      last.set(key, cell.verdict);
    }
  }
  return [...stats.values()]
    .map((s) => ({ ...s, rate: s.cells === 0 ? 0 : s.flaky / s.cells }))
    .filter((s) => s.flaky > 0 || s.flips > 0)
    .sort((a, b) => b.rate - a.rate || b.flips - a.flips || a.checkId.localeCompare(b.checkId));
}

function dedupe(runs: readonly RunResults[]): RunResults[] {
  const byId = new Map<string, RunResults>();
  for (const run of runs) byId.set(run.runId, run);
  return [...byId.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** Computes what the page shows; exported so the numbers can be tested without a browser. */
export function buildDashboardData(
  runs: RunResults[] | RunResults,
  options: Pick<DashboardOptions, "previous" | "history"> = {},
): DashboardData {
  const list = Array.isArray(runs) ? runs : [runs];
  if (list.length === 0) throw new TypeError("renderDashboard needs at least one run");
  const data: DashboardData = {
    format: 1,
    selected: list.length - 1,
    runs: list.map((results, i) => {
      const matrix = buildMatrix(results);
      const against = i > 0 ? list[i - 1] : options.previous;
      const run: DashboardRun = {
        results,
        matrix: {
          pairs: matrix.pairs,
          groups: matrix.groups.map((g) => ({
            suite: g.suite,
            rows: g.rows.map((r) => ({ checkId: r.check.id, cells: r.cells })),
          })),
        },
        tally: tally(results.cells),
        scorecards: scorecards(results),
      };
      if (against !== undefined) run.diff = diffAgainst(against, results);
      return run;
    }),
  };
  const series = [...(options.history ?? []), ...(options.previous ? [options.previous] : []), ...list];
  if (dedupe(series).length > 1) {
    data.trend = trend(series);
    data.flakes = flakes(series);
  }
  return data;
}

/** Escapes text for HTML content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/**
 * Serialises data for a `<script type="application/json">` element: every `<` becomes `\u003c`, so
 * no `</script>` or `<!--` in the data can end the element early; JSON.parse gives the same value.
 */
export function jsonForScript(data: unknown): string {
  return escapeJsonText(JSON.stringify(data));
}

const JSON_ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/** The escaping of {@link jsonForScript} on JSON text (one pass: these only occur inside strings). */
function escapeJsonText(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => JSON_ESCAPES[c]!);
}

/** The `<script>` element that carries the data: JSON, or gzip + base64 past `compressAbove` bytes. */
function dataElement(data: DashboardData, compressAbove: number): string {
  const json = JSON.stringify(data);
  if (Buffer.byteLength(json) <= compressAbove) {
    return `<script type="application/json" id="fedicheck-data">${escapeJsonText(json)}</script>`;
  }
  // base64 has no `<`, so it cannot end the element whatever the data holds.
  const packed = gzipSync(json, { level: 6 }).toString("base64");
  return `<script type="application/octet-stream" id="fedicheck-data" data-encoding="gzip+base64">${packed}</script>`;
}

function asset(name: string): string {
  return readFileSync(new URL(`./dashboard/${name}`, import.meta.url), "utf8");
}

let assets: { script: string; style: string } | undefined;

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/** Issue 10: a link to the support tables (support.html beside the dashboard) when the run has them. */
function supportLink(results: RunResults): string {
  if (!results.cells.some((c) => c.support !== undefined)) return "";
  return '<nav class="support-link"><a href="support.html">Support tables: what each receiver made of every input variant</a></nav>\n';
}

/** Renders the dashboard of one run (or a run picker over several, the last shown first). */
export function renderDashboard(runs: RunResults[] | RunResults, options: DashboardOptions = {}): string {
  const data = buildDashboardData(runs, options);
  assets ??= { script: asset("app.js"), style: asset("app.css") };
  const latest = data.runs[data.selected]!.results;
  const title = options.title ?? `fedicheck · ${latest.runId}`;
  return htmlPage({
    title,
    version: latest.tool.version,
    style: assets.style,
    script: assets.script,
    // Screenshots in evidence are files next to the report; nothing else may be loaded.
    imgSrc: "'self' file: data:",
    body:
      `${supportLink(latest)}<div id="app"><noscript><p class="noscript">This dashboard needs JavaScript. The same results are in summary.md and junit.xml next to this file.</p></noscript></div>\n` +
      dataElement(data, options.compressAbove ?? 2 * 1024 * 1024),
  });
}

/** What {@link htmlPage} puts in a page. */
export interface HtmlPageParts {
  title: string;
  /** fedicheck's version, for the generator tag. */
  version: string;
  /** The page's only stylesheet, inline. */
  style: string;
  /** The page's only script, inline at the end of the body. Default none. */
  script?: string;
  /** The CSP `img-src` sources. Default none (no images). */
  imgSrc?: string;
  /** The body's HTML. */
  body: string;
}

/**
 * A self-contained report page: inline style (and script), and a Content-Security-Policy that
 * allows exactly those by hash, so the page loads nothing from anywhere and runs nothing else.
 */
export function htmlPage(parts: HtmlPageParts): string {
  const csp = [
    "default-src 'none'",
    ...(parts.script !== undefined ? [`script-src ${sha256(parts.script)}`] : []),
    `style-src ${sha256(parts.style)}`,
    ...(parts.imgSrc !== undefined ? [`img-src ${parts.imgSrc}`] : []),
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="fedicheck ${escapeHtml(parts.version)}">
<title>${escapeHtml(parts.title)}</title>
<style>${parts.style}</style>
</head>
<body>
${parts.body}
${parts.script !== undefined ? `<script>${parts.script}</script>\n` : ""}</body>
</html>
`;
}
