import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { CellResult, OutcomeKind, RunResults, VariantOutcome } from "../core/model.ts";
import { escapeHtml, htmlPage } from "./html.ts";
import { codeSpan, escapeMarkdown } from "./markdown.ts";
import { writeFileAtomic } from "./writer.ts";

/** Symbols per outcome kind, readable without colour. */
export const OUTCOME_SYMBOLS: Readonly<Record<OutcomeKind, string>> = {
  kept: "🟢",
  transformed: "🟡",
  "feature-dropped": "🟠",
  "post-dropped": "🔴",
  errored: "⚪",
};

/** Words per outcome kind, for legends. */
export const OUTCOME_WORDS: Readonly<Record<OutcomeKind, string>> = {
  kept: "kept as sent",
  transformed: "transformed",
  "feature-dropped": "feature dropped, post kept",
  "post-dropped": "whole post dropped",
  errored: "not decided (harness)",
};

/** Mark of a variant whose outcome misses the catalogue requirement it exercises. */
export const REQUIREMENT_FAILED_SYMBOL = "❗";
/** Mark of a cell whose outcome changed since the previous run. */
export const CHANGED_SYMBOL = "Δ";

/** File names of the support reports inside a run directory. */
export const SUPPORT_FILES = { html: "support.html", json: "support.json", markdown: "support.md" } as const;

/** One column of the tables: a sender→receiver pair (just the receiver when the probe sent). */
export interface SupportColumn {
  /** Stable across runs: the receiver id, or `sender→receiver` when the sender is not the probe. */
  key: string;
  sender: string;
  receiver: string;
  /** Implementation and version of the receiver. */
  implementation: string;
  version: string;
  /** Implementation and version of the sender. */
  senderImplementation: string;
  senderVersion: string;
}

/** One cell of a table: the outcome, and where its evidence is. */
export interface SupportEntry extends VariantOutcome {
  /** Index into `results.cells` of the cell that holds the evidence. */
  cell: number;
}

/** One row: a variant and its outcome per column key. */
export interface SupportRow {
  variant: string;
  title: string;
  check?: string;
  outcomes: Record<string, SupportEntry>;
}

/** One group's table. */
export interface SupportGroupTable {
  group: string;
  title: string;
  read: string;
  checkId: string;
  rows: SupportRow[];
}

/** Every table of a run. */
export interface SupportTables {
  runId: string;
  startedAt: string;
  /** Input-set versions of the cells (one, unless merged runs used different sets). */
  inputSets: string[];
  columns: SupportColumn[];
  groups: SupportGroupTable[];
}

const PROBE = "probe";

/** The support tables of a run, or undefined when it ran no support cells. */
export function buildSupportTables(results: RunResults): SupportTables | undefined {
  const cells = results.cells
    .map((cell, index) => ({ cell, index }))
    .filter(
      (c): c is { cell: CellResult & Required<Pick<CellResult, "support">>; index: number } =>
        c.cell.support !== undefined,
    );
  if (cells.length === 0) return undefined;
  const targets = new Map(results.targets.map((t) => [t.id, t]));
  const columnOf = (cell: CellResult): SupportColumn => {
    const sender = targets.get(cell.sender);
    const receiver = targets.get(cell.receiver);
    const probeSent = sender?.implementation === PROBE;
    return {
      key: probeSent ? cell.receiver : `${cell.sender}→${cell.receiver}`,
      sender: cell.sender,
      receiver: cell.receiver,
      implementation: receiver?.implementation ?? cell.receiver,
      version: receiver?.version ?? "",
      senderImplementation: sender?.implementation ?? cell.sender,
      senderVersion: sender?.version ?? "",
    };
  };
  const columns = new Map<string, SupportColumn>();
  // Columns in the order of `results.targets` (receiver, then sender).
  const targetOrder = new Map(results.targets.map((t, i) => [t.id, i]));
  for (const { cell } of cells) {
    const column = columnOf(cell);
    if (!columns.has(column.key)) columns.set(column.key, column);
  }
  const orderedColumns = [...columns.values()].sort(
    (a, b) =>
      (targetOrder.get(a.receiver) ?? 0) - (targetOrder.get(b.receiver) ?? 0) ||
      (targetOrder.get(a.sender) ?? 0) - (targetOrder.get(b.sender) ?? 0),
  );
  // Groups in the order of their checks in the catalogue the run used.
  const checkOrder = new Map(results.checks.map((c, i) => [c.id, i]));
  const groups = new Map<string, SupportGroupTable>();
  const rowsOf = new Map<string, Map<string, SupportRow>>();
  const sortedCells = [...cells].sort(
    (a, b) =>
      (checkOrder.get(a.cell.checkId) ?? Number.MAX_SAFE_INTEGER) -
        (checkOrder.get(b.cell.checkId) ?? Number.MAX_SAFE_INTEGER) ||
      a.cell.support.group.localeCompare(b.cell.support.group),
  );
  for (const { cell, index } of sortedCells) {
    const s = cell.support;
    let table = groups.get(s.group);
    if (table === undefined) {
      table = { group: s.group, title: s.groupTitle, read: s.read, checkId: cell.checkId, rows: [] };
      groups.set(s.group, table);
      rowsOf.set(s.group, new Map());
    }
    const rows = rowsOf.get(s.group)!;
    const key = columnOf(cell).key;
    for (const outcome of s.variants) {
      let row = rows.get(outcome.variant);
      if (row === undefined) {
        row = {
          variant: outcome.variant,
          title: outcome.title,
          ...(outcome.check ? { check: outcome.check } : {}),
          outcomes: {},
        };
        rows.set(outcome.variant, row);
        table.rows.push(row);
      }
      row.outcomes[key] = { ...outcome, cell: index };
    }
  }
  return {
    runId: results.runId,
    startedAt: results.startedAt,
    inputSets: [...new Set(cells.map((c) => c.cell.support.inputSet))].sort(),
    columns: orderedColumns,
    groups: [...groups.values()],
  };
}

/** A cell whose outcome differs between two runs. */
export interface SupportChange {
  group: string;
  variant: string;
  title: string;
  column: string;
  before: Pick<VariantOutcome, "value" | "kind">;
  after: Pick<VariantOutcome, "value" | "kind">;
  /** Receiver versions, when they differ (`0.1.0 → 0.2.0`). */
  versions?: { before: string; after: string };
}

/** What changed between two runs' tables. */
export interface SupportDiff {
  against: { runId: string; startedAt: string; inputSets: string[] };
  /** Cells present in both runs whose value or kind changed. */
  changes: SupportChange[];
  /** Variant × column cells only in one of the runs (new variants, new receivers). */
  added: number;
  removed: number;
}

/** Compares the tables of an earlier run with a later one, cell by cell (variant × column key). */
export function diffSupportTables(before: SupportTables, after: SupportTables): SupportDiff {
  const index = (tables: SupportTables) => {
    const map = new Map<string, { group: string; row: SupportRow; entry: SupportEntry }>();
    for (const group of tables.groups)
      for (const row of group.rows)
        for (const [column, entry] of Object.entries(row.outcomes))
          map.set(JSON.stringify([row.variant, column]), { group: group.group, row, entry });
    return map;
  };
  const a = index(before);
  const b = index(after);
  const versionOf = (tables: SupportTables, key: string) =>
    tables.columns.find((c) => c.key === key)?.version ?? "";
  const changes: SupportChange[] = [];
  let added = 0;
  for (const [key, now] of b) {
    const then = a.get(key);
    if (then === undefined) {
      added++;
      continue;
    }
    if (then.entry.value === now.entry.value && then.entry.kind === now.entry.kind) continue;
    const column = (JSON.parse(key) as [string, string])[1];
    const versions = { before: versionOf(before, column), after: versionOf(after, column) };
    changes.push({
      group: now.group,
      variant: now.row.variant,
      title: now.row.title,
      column,
      before: { value: then.entry.value, kind: then.entry.kind },
      after: { value: now.entry.value, kind: now.entry.kind },
      ...(versions.before !== versions.after ? { versions } : {}),
    });
  }
  const removed = [...a.keys()].filter((k) => !b.has(k)).length;
  return {
    against: { runId: before.runId, startedAt: before.startedAt, inputSets: before.inputSets },
    changes,
    added,
    removed,
  };
}

/** `🟢 image`, with the requirement mark when the variant misses its requirement. */
export function cellText(entry: Pick<VariantOutcome, "kind" | "value" | "requirement" | "check">): string {
  const failed = entry.requirement === "failed" ? ` ${REQUIREMENT_FAILED_SYMBOL}${entry.check ?? ""}` : "";
  return `${OUTCOME_SYMBOLS[entry.kind]} ${entry.value}${failed}`;
}

function columnLabel(column: SupportColumn): string {
  return `${column.key} (${column.implementation}${column.version ? ` ${column.version}` : ""})`;
}

function changeKey(variant: string, column: string): string {
  return JSON.stringify([variant, column]);
}

// ---------------------------------------------------------------------------------------------
// JSON export
// ---------------------------------------------------------------------------------------------

/** The `support.json` document: tables for publishing, versioned by input set and implementations. */
export interface SupportExport {
  format: 1;
  runId: string;
  startedAt: string;
  tool: { name: "fedicheck"; version: string };
  inputSet: string;
  inputSets: string[];
  columns: SupportColumn[];
  legend: Record<OutcomeKind, { symbol: string; meaning: string }>;
  groups: Array<{
    group: string;
    title: string;
    read: string;
    checkId: string;
    variants: Array<{
      id: string;
      title: string;
      check?: string;
      outcomes: Record<string, Omit<VariantOutcome, "variant" | "title" | "check"> & { symbol: string }>;
    }>;
  }>;
  /** Present when compared with an earlier run. */
  diff?: SupportDiff;
}

/** Builds `support.json`. */
export function supportJson(results: RunResults, tables: SupportTables, diff?: SupportDiff): SupportExport {
  return {
    format: 1,
    runId: tables.runId,
    startedAt: tables.startedAt,
    tool: results.tool,
    inputSet: tables.inputSets.join(", "),
    inputSets: tables.inputSets,
    columns: tables.columns,
    legend: Object.fromEntries(
      (Object.keys(OUTCOME_SYMBOLS) as OutcomeKind[]).map((k) => [
        k,
        { symbol: OUTCOME_SYMBOLS[k], meaning: OUTCOME_WORDS[k] },
      ]),
    ) as SupportExport["legend"],
    groups: tables.groups.map((g) => ({
      group: g.group,
      title: g.title,
      read: g.read,
      checkId: g.checkId,
      variants: g.rows.map((row) => ({
        id: row.variant,
        title: row.title,
        ...(row.check ? { check: row.check } : {}),
        outcomes: Object.fromEntries(
          Object.entries(row.outcomes).map(([column, e]) => [
            column,
            {
              value: e.value,
              kind: e.kind,
              symbol: OUTCOME_SYMBOLS[e.kind],
              ...(e.detail !== undefined ? { detail: e.detail } : {}),
              ...(e.requirement !== undefined ? { requirement: e.requirement } : {}),
              ...(e.status !== undefined ? { status: e.status } : {}),
            },
          ]),
        ),
      })),
    })),
    ...(diff ? { diff } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Markdown export
// ---------------------------------------------------------------------------------------------

function versionsLine(tables: SupportTables): string {
  const impls = [
    ...new Set(tables.columns.map((c) => `${c.implementation}${c.version ? ` ${c.version}` : ""}`)),
  ].join(", ");
  return `Input set ${tables.inputSets.join(", ")} · ${impls} · run ${tables.runId} (${tables.startedAt})`;
}

function legendMarkdown(): string {
  const kinds = (Object.keys(OUTCOME_SYMBOLS) as OutcomeKind[]).map(
    (k) => `${OUTCOME_SYMBOLS[k]} ${OUTCOME_WORDS[k]}`,
  );
  return `${kinds.join(" · ")} · ${REQUIREMENT_FAILED_SYMBOL} misses the requirement of the check named · **${CHANGED_SYMBOL}** changed since the previous run`;
}

/** Renders `support.md` (GitHub-flavoured Markdown). */
export function renderSupportMarkdown(tables: SupportTables, diff?: SupportDiff): string {
  const lines = ["# Support tables", "", escapeMarkdown(versionsLine(tables)), "", legendMarkdown(), ""];
  const changed = new Map((diff?.changes ?? []).map((c) => [changeKey(c.variant, c.column), c]));
  if (diff !== undefined) {
    lines.push(`## Changes since ${escapeMarkdown(diff.against.runId)}`, "");
    if (diff.changes.length === 0) lines.push("No outcome changed.", "");
    else {
      lines.push("| variant | receiver | before | after |", "|---|---|---|---|");
      for (const c of diff.changes) {
        const versions = c.versions
          ? ` (${escapeMarkdown(`versions ${c.versions.before} → ${c.versions.after}`)})`
          : "";
        lines.push(
          `| ${codeSpan(c.variant)} ${escapeMarkdown(c.title)} | ${escapeMarkdown(c.column)}${versions} | ${escapeMarkdown(cellText(c.before))} | ${escapeMarkdown(cellText(c.after))} |`,
        );
      }
      lines.push("");
    }
    if (diff.added + diff.removed > 0)
      lines.push(`${diff.added} cell(s) only in this run, ${diff.removed} only in the previous one.`, "");
  }
  for (const group of tables.groups) {
    lines.push(
      `## ${escapeMarkdown(group.title)}`,
      "",
      `${codeSpan(group.checkId)} · read back: ${escapeMarkdown(group.read)}`,
      "",
    );
    lines.push(
      `| variant | ${tables.columns.map((c) => escapeMarkdown(columnLabel(c))).join(" | ")} |`,
      `|---|${tables.columns.map(() => "---").join("|")}|`,
    );
    for (const row of group.rows) {
      const check = row.check ? ` (${codeSpan(row.check)})` : "";
      const cells = tables.columns.map((column) => {
        const entry = row.outcomes[column.key];
        if (entry === undefined) return "·";
        const text = escapeMarkdown(cellText(entry));
        const change = changed.get(changeKey(row.variant, column.key));
        return change
          ? `**${CHANGED_SYMBOL} ${text}** (was ${escapeMarkdown(cellText(change.before))})`
          : text;
      });
      lines.push(`| ${escapeMarkdown(row.title)} ${codeSpan(row.variant)}${check} | ${cells.join(" | ")} |`);
    }
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

const MAX_PANE_CHARS = 24_000;

function pretty(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "string" ? value : (JSON.stringify(value, null, 2) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > MAX_PANE_CHARS
    ? `${text.slice(0, MAX_PANE_CHARS)}\n… (cut at ${MAX_PANE_CHARS} characters)`
    : text;
}

/** The document sent and the receiver's view of a variant, from the cell's evidence. */
function evidenceOf(
  results: RunResults,
  entry: SupportEntry,
): { sent?: unknown; view?: unknown; findings?: number } {
  const cell = results.cells[entry.cell];
  const out: { sent?: unknown; view?: unknown; findings?: number } = {};
  for (const e of cell?.evidence ?? []) {
    if (e.label === `sent ${entry.variant}` && e.kind === "payload") {
      out.sent = e.document;
      out.findings = e.findings.length;
    } else if (e.label === `view ${entry.variant}`) {
      if (e.kind === "view") out.view = e.view;
      else if (e.kind === "note") out.view = e.text;
    }
  }
  return out;
}

function anchorId(prefix: string, id: string): string {
  return `${prefix}-${id.replace(/[^A-Za-z0-9_.-]/g, "_")}`;
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1f2328;--muted:#656d76;--bg:#fff;--border:#d8dee4;--soft:#f6f8fa;--hl:#fff8c5;--fail:#cf222e}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#8d96a0;--bg:#0d1117;--border:#30363d;--soft:#161b22;--hl:#3b2e00}}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;padding:1rem 1.5rem;max-width:110rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}p.meta,p.read{color:var(--muted)}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}th,td{border:1px solid var(--border);padding:.25rem .5rem;text-align:left;vertical-align:top}
thead th{background:var(--soft);position:sticky;top:0}td a{color:inherit;text-decoration:none;display:block}td a:hover{text-decoration:underline}
code{font:12px ui-monospace,Menlo,Consolas,monospace}td.changed{outline:3px solid #bf8700;outline-offset:-3px;font-weight:600}td.reqfail{box-shadow:inset 3px 0 0 var(--fail)}
td.k-kept{background:#dafbe1}td.k-transformed{background:#fff8c5}td.k-feature-dropped{background:#ffe7cc}td.k-post-dropped{background:#ffd8d3}td.k-errored{background:#eaeef2}
@media (prefers-color-scheme:dark){td.k-kept{background:#12261e}td.k-transformed{background:#2e2a12}td.k-feature-dropped{background:#33210f}td.k-post-dropped{background:#3a1414}td.k-errored{background:#1c2128}}
.was{display:block;font-weight:400;color:var(--muted);font-size:12px}.detail{display:none;border:2px solid var(--border);padding:.5rem 1rem;margin:1rem 0;background:var(--bg)}
.detail:target{display:block}.panes{display:grid;grid-template-columns:1fr 1fr;gap:.75rem}.panes pre{background:var(--soft);padding:.5rem;overflow:auto;max-height:36rem;font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-word}
nav.groups a{margin-right:.75rem}`;

/** Renders `support.html`: one static page, no script, the tables then a detail block per variant. */
export function renderSupportHtml(results: RunResults, tables: SupportTables, diff?: SupportDiff): string {
  const changed = new Map((diff?.changes ?? []).map((c) => [changeKey(c.variant, c.column), c]));
  const out: string[] = [];
  const legend = (Object.keys(OUTCOME_SYMBOLS) as OutcomeKind[])
    .map((k) => `${OUTCOME_SYMBOLS[k]} ${escapeHtml(OUTCOME_WORDS[k])}`)
    .join(" · ");
  out.push(
    `<h1>Support tables</h1>`,
    `<p class="meta">${escapeHtml(versionsLine(tables))}</p>`,
    `<p class="meta">${legend} · ${REQUIREMENT_FAILED_SYMBOL} misses the requirement of the check named · <b>${CHANGED_SYMBOL}</b> changed since the previous run. Click a cell for the document sent and the receiver's view.</p>`,
    `<nav class="groups">${tables.groups.map((g) => `<a href="#${anchorId("g", g.group)}">${escapeHtml(g.title)}</a>`).join("")}</nav>`,
  );
  if (diff !== undefined) {
    out.push(`<h2 id="changes">Changes since ${escapeHtml(diff.against.runId)}</h2>`);
    if (diff.changes.length === 0) out.push("<p>No outcome changed.</p>");
    else {
      out.push(
        "<table><thead><tr><th>variant</th><th>receiver</th><th>before</th><th>after</th></tr></thead><tbody>",
      );
      for (const c of diff.changes) {
        const versions = c.versions
          ? ` (versions ${escapeHtml(`${c.versions.before} → ${c.versions.after}`)})`
          : "";
        out.push(
          `<tr><td><a href="#${anchorId("d", c.variant)}"><code>${escapeHtml(c.variant)}</code> ${escapeHtml(c.title)}</a></td><td>${escapeHtml(c.column)}${versions}</td><td>${escapeHtml(cellText(c.before))}</td><td class="changed">${escapeHtml(cellText(c.after))}</td></tr>`,
        );
      }
      out.push("</tbody></table>");
    }
  }
  const details: string[] = [];
  for (const group of tables.groups) {
    out.push(
      `<h2 id="${anchorId("g", group.group)}">${escapeHtml(group.title)} <code>${escapeHtml(group.checkId)}</code></h2>`,
      `<p class="read">Read back: ${escapeHtml(group.read)}</p>`,
      `<table><thead><tr><th>variant</th>${tables.columns.map((c) => `<th>${escapeHtml(columnLabel(c))}</th>`).join("")}</tr></thead><tbody>`,
    );
    for (const row of group.rows) {
      const cells = tables.columns.map((column) => {
        const entry = row.outcomes[column.key];
        if (entry === undefined) return "<td>·</td>";
        const change = changed.get(changeKey(row.variant, column.key));
        const classes = [
          `k-${entry.kind}`,
          change ? "changed" : "",
          entry.requirement === "failed" ? "reqfail" : "",
        ].filter(Boolean);
        const tip = [entry.detail, entry.status !== undefined ? `HTTP ${entry.status}` : ""]
          .filter(Boolean)
          .join(" · ");
        return `<td${classes.length ? ` class="${classes.join(" ")}"` : ""}${tip ? ` title="${escapeHtml(tip)}"` : ""}><a href="#${anchorId("d", row.variant)}">${change ? `${CHANGED_SYMBOL} ` : ""}${escapeHtml(cellText(entry))}${change ? `<span class="was">was ${escapeHtml(cellText(change.before))}</span>` : ""}</a></td>`;
      });
      const check = row.check ? ` <code>${escapeHtml(row.check)}</code>` : "";
      out.push(
        `<tr><th scope="row">${escapeHtml(row.title)}<br><code>${escapeHtml(row.variant)}</code>${check}</th>${cells.join("")}</tr>`,
      );
      details.push(detailBlock(results, tables, group.group, row));
    }
    out.push("</tbody></table>");
  }
  out.push(
    `<h2>Documents and views</h2><p class="meta">Select a cell above to show its variant here.</p>`,
    ...details,
  );
  return htmlPage({
    title: `fedicheck support tables · ${tables.runId}`,
    version: results.tool.version,
    style: STYLE,
    body: out.join("\n"),
  });
}

function detailBlock(results: RunResults, tables: SupportTables, group: string, row: SupportRow): string {
  const parts = [
    `<section class="detail" id="${anchorId("d", row.variant)}"><h3>${escapeHtml(row.title)} <code>${escapeHtml(row.variant)}</code></h3>`,
    `<p><a href="#${anchorId("g", group)}">back to the table</a></p>`,
  ];
  for (const column of tables.columns) {
    const entry = row.outcomes[column.key];
    if (entry === undefined) continue;
    const { sent, view, findings } = evidenceOf(results, entry);
    const requirement = entry.check
      ? ` · ${escapeHtml(entry.check)} ${escapeHtml(entry.requirement ?? "not decided")}`
      : "";
    parts.push(
      `<h4>${escapeHtml(columnLabel(column))}: ${escapeHtml(cellText(entry))}${requirement}</h4>`,
      entry.detail ? `<p>${escapeHtml(entry.detail)}</p>` : "",
      `<div class="panes"><div><b>Sent${entry.status !== undefined ? ` (answered ${entry.status})` : ""}${findings ? ` · ${findings} validator finding(s)` : ""}</b><pre>${escapeHtml(sent === undefined ? "(not kept)" : pretty(sent))}</pre></div>`,
      `<div><b>Receiver's view</b><pre>${escapeHtml(view === undefined ? "(none)" : pretty(view))}</pre></div></div>`,
    );
  }
  parts.push("</section>");
  return parts.filter(Boolean).join("\n");
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/** Options of {@link writeSupportReports}. */
export interface SupportReportOptions {
  /** An earlier run: cells whose outcome changed are highlighted. Default none. */
  previous?: RunResults;
}

/** Paths of the support reports written. */
export interface SupportReportPaths {
  html: string;
  json: string;
  markdown: string;
}

/**
 * Writes `support.html`, `support.json` and `support.md` into `runDir` when the run has support
 * cells; returns undefined (and writes nothing) otherwise.
 */
export async function writeSupportReports(
  runDir: string,
  results: RunResults,
  options: SupportReportOptions = {},
): Promise<SupportReportPaths | undefined> {
  const tables = buildSupportTables(results);
  if (tables === undefined) return undefined;
  const previous = options.previous === undefined ? undefined : buildSupportTables(options.previous);
  const diff = previous === undefined ? undefined : diffSupportTables(previous, tables);
  await mkdir(runDir, { recursive: true });
  const paths: SupportReportPaths = {
    html: join(runDir, SUPPORT_FILES.html),
    json: join(runDir, SUPPORT_FILES.json),
    markdown: join(runDir, SUPPORT_FILES.markdown),
  };
  await Promise.all([
    writeFileAtomic(paths.html, renderSupportHtml(results, tables, diff)),
    writeFileAtomic(paths.json, `${JSON.stringify(supportJson(results, tables, diff), null, 2)}\n`),
    writeFileAtomic(paths.markdown, renderSupportMarkdown(tables, diff)),
  ]);
  return paths;
}
