/**
 * `summary.md`: what a person reads in a pull request or a CI job summary. Counts first, then the
 * matrix (symbols readable without colour), then what failed with expected vs observed and the command
 * that reproduces each failure. GitHub-flavoured Markdown.
 * @module
 */
import type { CellResult, CheckDefinition, RunResults, Verdict } from "../core/model.ts";
import { VERDICTS } from "../core/model.ts";
import {
  buildMatrix,
  countVerdicts,
  diffRuns,
  EXPECTED_SYMBOL,
  expectationMatched,
  FLAKY_SYMBOL,
  formatDuration,
  isKnownFailure,
  type MatrixPair,
  type MatrixRow,
  pairLabel,
  summaryCell,
  VERDICT_SYMBOLS,
  type VerdictChange,
} from "./analysis.ts";

/** Options of {@link renderMarkdown}. */
export interface MarkdownOptions {
  /** A run to compare with: adds a section of new failures, fixes and other changes. Default none. */
  baseline?: RunResults;
  /** Failures and errors detailed at most; the rest are counted. Default 50. */
  maxFailures?: number;
  /** Above this many sender→receiver pairs, the matrix is split into one table per receiver. Default 8. */
  maxPairsPerTable?: number;
}

/**
 * Escapes text for Markdown prose and table cells: Markdown and HTML syntax is shown literally, `|`
 * cannot end a table cell, newlines become spaces, and `@name` is broken with a zero-width space so a
 * server's handle never pings a GitHub user.
 */
export function escapeMarkdown(text: string): string {
  let out = "";
  // Block syntax only matters at the start: `# x`, `> x`, `- x`, `1. x` (there the `.` is escaped).
  const ordered = /^[0-9]+[.)]/.exec(text)?.[0].length;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const blockStart = (i === 0 && "#>-+=".includes(c)) || (ordered !== undefined && i === ordered - 1);
    if ("\\`*_[]<>|~&".includes(c) || blockStart) out += `\\${c}`;
    else if (c === "\n" || c === "\r") out += " ";
    else if (c === "@" && /[A-Za-z0-9]/.test(text[i + 1] ?? "")) out += "@\u200b";
    else out += c;
  }
  return visibleControls(out);
}

function longestRun(text: string, char: string): number {
  let best = 0;
  let run = 0;
  for (const c of text) {
    run = c === char ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

/** Control characters (but tab and newline) as visible `\uXXXX`: terminals' colour codes, NULs. */
function visibleControls(text: string): string {
  let out = "";
  for (const c of text) {
    const code = c.charCodeAt(0);
    out +=
      (code < 0x20 && c !== "\t" && c !== "\n") || code === 0x7f
        ? `\\u${code.toString(16).padStart(4, "0")}`
        : c;
  }
  return out;
}

/** An inline code span that holds any single-line text; `|` is escaped for table cells. */
export function codeSpan(text: string): string {
  const oneLine = visibleControls(text.replaceAll(/\r?\n/g, " ⏎ "));
  const fence = "`".repeat(longestRun(oneLine, "`") + 1);
  const pad = oneLine.startsWith("`") || oneLine.endsWith("`") || oneLine === "" ? " " : "";
  return `${fence}${pad}${oneLine.replaceAll("|", "\\|")}${pad}${fence}`;
}

/** A fenced code block that holds any text (the fence outgrows every backtick run inside). */
export function codeBlock(text: string, language = ""): string {
  text = visibleControls(text.replaceAll("\r\n", "\n"));
  const fence = "`".repeat(Math.max(3, longestRun(text, "`") + 1));
  return `${fence}${language}\n${text.replace(/\n$/, "")}\n${fence}`;
}

function symbolOf(cells: readonly CellResult[], indices: readonly number[]): string {
  const shown = summaryCell(cells, indices);
  if (shown === undefined) return "·";
  const cell = cells[shown]!;
  let text = VERDICT_SYMBOLS[cell.verdict];
  if (indices.some((i) => cells[i]?.flaky)) text += FLAKY_SYMBOL;
  if (expectationMatched(cell)) text += EXPECTED_SYMBOL;
  return text;
}

function checkLabel(check: CheckDefinition): string {
  return `${codeSpan(check.id)} ${escapeMarkdown(check.title)}`;
}

function table(
  results: RunResults,
  groups: ReturnType<typeof buildMatrix>["groups"],
  columns: Array<{ header: string; index: number }>,
): string {
  const lines = [
    `| Check | ${columns.map((c) => c.header).join(" | ")} |`,
    `|:--|${columns.map(() => ":-:").join("|")}|`,
  ];
  for (const group of groups) {
    const rows = group.rows.filter((row: MatrixRow) => columns.some((c) => row.cells[c.index]!.length > 0));
    if (rows.length === 0) continue;
    lines.push(`| **${escapeMarkdown(group.suite)}** |${columns.map(() => " |").join("")}`);
    for (const row of rows) {
      const cells = columns.map((c) => symbolOf(results.cells, row.cells[c.index]!));
      lines.push(`| ${checkLabel(row.check)} | ${cells.join(" | ")} |`);
    }
  }
  return lines.join("\n");
}

function matrixSection(results: RunResults, maxPairs: number): string {
  const matrix = buildMatrix(results);
  if (matrix.pairs.length === 0) return "_No cells were run._";
  const header = (p: MatrixPair) => escapeMarkdown(p.label);
  if (matrix.pairs.length <= maxPairs) {
    return table(
      results,
      matrix.groups,
      matrix.pairs.map((p, index) => ({ header: header(p), index })),
    );
  }
  // Wide matrices: one table per receiver, columns are the senders to it.
  const receivers = [...new Set(matrix.pairs.map((p) => p.receiver))];
  return receivers
    .map((receiver) => {
      const columns = matrix.pairs
        .map((p, index) => ({ p, index }))
        .filter(({ p }) => p.receiver === receiver)
        .map(({ p, index }) => ({
          header: p.sender === p.receiver ? "(alone)" : escapeMarkdown(p.sender),
          index,
        }));
      return `#### Receiver ${codeSpan(receiver)} (columns: sender)\n\n${table(results, matrix.groups, columns)}`;
    })
    .join("\n\n");
}

function countsLine(results: RunResults): string {
  const counts = countVerdicts(results.cells);
  const known = results.cells.filter(isKnownFailure).length;
  const flaky = results.cells.filter((c) => c.flaky).length;
  const parts = VERDICTS.map((v) => {
    const extra = v === "failed" && known > 0 ? ` (${known} known)` : "";
    return `${VERDICT_SYMBOLS[v]} ${counts[v]} ${v}${extra}`;
  });
  if (flaky > 0) parts.push(`${FLAKY_SYMBOL} ${flaky} flaky`);
  return `**${results.cells.length} cells:** ${parts.join(" · ")}`;
}

function changeLine(change: VerdictChange): string {
  const before = change.before === undefined ? "new" : `${VERDICT_SYMBOLS[change.before]} ${change.before}`;
  const after = change.after === undefined ? "gone" : `${VERDICT_SYMBOLS[change.after]} ${change.after}`;
  return `- ${codeSpan(change.checkId)} ${escapeMarkdown(pairLabel(change.sender, change.receiver))} (${escapeMarkdown(change.scenarioId)}): ${before} → ${after}`;
}

function baselineSection(baseline: RunResults, results: RunResults): string {
  const diff = diffRuns(baseline, results);
  const lines = [`### Compared with ${codeSpan(baseline.runId)}`, ""];
  if (diff.newFailures.length + diff.fixes.length + diff.changed.length === 0) {
    lines.push("No verdict changed.");
    return lines.join("\n");
  }
  const list = (title: string, changes: VerdictChange[]) => {
    if (changes.length === 0) return;
    lines.push(`**${title} (${changes.length})**`, "");
    lines.push(...changes.slice(0, 25).map(changeLine));
    if (changes.length > 25) lines.push(`- … and ${changes.length - 25} more`);
    lines.push("");
  };
  list(`${VERDICT_SYMBOLS.failed} New failures`, diff.newFailures);
  list(`${VERDICT_SYMBOLS.passed} Fixed`, diff.fixes);
  list("Other changes", diff.changed);
  return lines.join("\n").trimEnd();
}

function detail(cell: CellResult, check: CheckDefinition | undefined): string {
  const title = check === undefined ? "" : ` ${escapeMarkdown(check.title)}`;
  const lines = [
    `#### ${VERDICT_SYMBOLS[cell.verdict]} ${codeSpan(cell.checkId)}${title} — ${escapeMarkdown(pairLabel(cell.sender, cell.receiver))}`,
    "",
    escapeMarkdown(cell.message),
    "",
  ];
  const field = (name: string, value: string | undefined) => {
    if (value === undefined) return;
    if (value.includes("\n")) lines.push(`**${name}:**`, "", codeBlock(value), "");
    else lines.push(`- **${name}:** ${codeSpan(value)}`);
  };
  field("Expected", cell.expected);
  field("Observed", cell.observed);
  if (check !== undefined && check.requirement !== "") {
    lines.push(
      `- **Requirement** (${check.level}, ${check.impact}): ${escapeMarkdown(check.requirement)} — ${escapeMarkdown(check.source)}`,
    );
  }
  const findings = cell.evidence.flatMap((e) => (e.kind === "payload" ? e.findings : []));
  for (const f of findings.filter((f) => f.severity === "error").slice(0, 5)) {
    lines.push(
      `- **Finding** ${codeSpan(f.ruleId)} at ${codeSpan(f.pointer || "/")}: ${escapeMarkdown(f.message)}`,
    );
  }
  lines.push(
    `- Scenario ${codeSpan(cell.scenarioId)}, ${formatDuration(cell.durationMs)}, ${cell.attempts} attempt${cell.attempts === 1 ? "" : "s"}`,
  );
  lines.push("", codeBlock(cell.reproduce, "sh"));
  return lines.join("\n");
}

/** Renders a run as the Markdown summary. */
export function renderMarkdown(results: RunResults, options: MarkdownOptions = {}): string {
  const maxFailures = options.maxFailures ?? 50;
  const checks = new Map(results.checks.map((c) => [c.id, c]));
  const out: string[] = [];
  out.push(`## fedicheck run ${codeSpan(results.runId)}: ${results.status}`, "");
  if (results.status !== "completed") {
    out.push(
      results.status === "running"
        ? "> [!WARNING]\n> The run was still going when this summary was made: the results are partial."
        : "> [!WARNING]\n> The run was interrupted: the results are partial.",
      "",
    );
  }
  out.push(countsLine(results), "");
  const targets = results.targets
    .map((t) => `${codeSpan(t.id)} (${escapeMarkdown(`${t.implementation} ${t.version}`)}, ${t.runtime})`)
    .join(", ");
  out.push(`**Targets:** ${targets}  `);
  const timing = results.timing
    ? `${formatDuration(results.timing.wallMs)} (waiting ${formatDuration(results.timing.waitingMs)})`
    : results.finishedAt
      ? formatDuration(Date.parse(results.finishedAt) - Date.parse(results.startedAt))
      : "unfinished";
  out.push(`**Duration:** ${timing} · **Command:** ${codeSpan(results.command)}`, "");

  if (options.baseline !== undefined) out.push(baselineSection(options.baseline, results), "");

  out.push("### Matrix", "");
  const legend = VERDICTS.map((v: Verdict) => `${VERDICT_SYMBOLS[v]} ${v}`);
  legend.push(
    `${FLAKY_SYMBOL} flaky`,
    `${EXPECTED_SYMBOL} matches the expectations file`,
    "· not run on this pair",
  );
  out.push(legend.join(" · "), "");
  out.push(matrixSection(results, options.maxPairsPerTable ?? 8), "");

  const order = (c: CellResult) => results.cells.indexOf(c);
  const failed = results.cells.filter((c) => c.verdict === "failed" && !isKnownFailure(c));
  const errored = results.cells.filter((c) => c.verdict === "errored");
  const known = results.cells.filter(isKnownFailure);
  let budget = maxFailures;
  const section = (title: string, cells: CellResult[], intro?: string) => {
    if (cells.length === 0) return;
    out.push(`### ${title} (${cells.length})`, "");
    if (intro !== undefined) out.push(intro, "");
    const shown = cells.slice(0, Math.max(0, budget));
    budget -= shown.length;
    for (const cell of shown.sort((a, b) => order(a) - order(b)))
      out.push(detail(cell, checks.get(cell.checkId)), "");
    if (shown.length < cells.length) {
      out.push(
        `… and ${cells.length - shown.length} more: see junit.xml or index.html next to this file.`,
        "",
      );
    }
  };
  section("Failures", failed);
  section("Errors", errored, "Harness or infrastructure faults, not blamed on the target.");
  if (known.length > 0) {
    out.push(
      `<details><summary>Known failures (${known.length}), matching the expectations files</summary>`,
      "",
    );
    for (const cell of known) {
      const url = cell.expectation!.link;
      const link =
        url === undefined
          ? ""
          : /^https?:\/\/[^\s<>()]+$/.test(url)
            ? ` ([link](${url}))`
            : ` (${codeSpan(url)})`;
      out.push(
        `- ${VERDICT_SYMBOLS.failed}${EXPECTED_SYMBOL} ${codeSpan(cell.checkId)} ${escapeMarkdown(pairLabel(cell.sender, cell.receiver))}: ${escapeMarkdown(cell.expectation!.reason)}${link}`,
      );
    }
    out.push("", "</details>", "");
  }
  if (failed.length + errored.length === 0) out.push("No unexpected failures. 🎉", "");
  return `${out.join("\n").trimEnd()}\n`;
}
