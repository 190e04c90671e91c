/**
 * JUnit XML for CI systems (GitHub, GitLab, Jenkins, Buildkite read it). One `<testsuite>` per
 * fedicheck suite; one `<testcase>` per cell, named `CHECK-ID title [sender→receiver]` with classname
 * `fedicheck.<suite>.<sender>-><receiver>`, so CI UIs group by suite and then by pair.
 *
 * Verdicts map as CI systems understand them: failed → `<failure>`, errored → `<error>`,
 * unsupported/inapplicable/skipped → `<skipped>`. A failure the expectations file already knows is
 * `<skipped>` too by default (as pytest reports an xfail), so the CI view shows only news.
 * @module
 */
import type { CellResult, CheckDefinition, Evidence, RunResults } from "../core/model.ts";
import { expectationMatched, pairLabel } from "./analysis.ts";

/** Options of {@link renderJUnit}. */
export interface JUnitOptions {
  /** How a failure that matches its expectation is reported. Default `"skipped"`. */
  knownFailures?: "skipped" | "failure";
}

/**
 * Replaces characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF)
 * with a visible `\uXXXX`, so server output never makes the file unreadable.
 */
export function xmlSafe(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i++;
        continue;
      }
    }
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd);
    out += allowed ? text[i]! : `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return out;
}

/** Escapes text content. */
export function escapeXmlText(text: string): string {
  return xmlSafe(text).replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Escapes an attribute value (quoted with `"`); newlines and tabs survive as character references. */
export function escapeXmlAttr(text: string): string {
  return escapeXmlText(text)
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;")
    .replaceAll("\n", "&#10;")
    .replaceAll("\r", "&#13;")
    .replaceAll("\t", "&#9;");
}

function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXmlAttr(String(v))}"`)
    .join("");
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function firstLine(text: string, max = 200): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** One line per evidence item: what a person scanning CI output needs to decide where to look. */
function evidenceSummary(item: Evidence): string {
  switch (item.kind) {
    case "http": {
      const req = `${item.request.method ?? "GET"} ${item.request.url ?? ""}`;
      const res = item.response?.status === undefined ? "no response" : String(item.response.status);
      const took = item.durationMs === undefined ? "" : ` (${Math.round(item.durationMs)} ms)`;
      const sig =
        item.signature === undefined
          ? ""
          : ` signature ${item.signature.ok ? "ok" : "FAILED"}${item.signature.scheme ? ` ${item.signature.scheme}` : ""}` +
            `${item.signature.reason ? `: ${item.signature.reason}` : ""}`;
      return `http     ${item.label}: ${req} → ${res}${took}${sig}`;
    }
    case "payload": {
      const head = `payload  ${item.label}: ${item.findings.length} finding${item.findings.length === 1 ? "" : "s"}`;
      const lines = item.findings.map(
        (f) =>
          `           ${f.severity} ${f.ruleId} ${f.pointer === "" ? "(document)" : f.pointer}: ${firstLine(f.message)}`,
      );
      return [head, ...lines].join("\n");
    }
    case "view":
      return `view     ${item.label}`;
    case "log": {
      const lines = item.text.split("\n");
      return `log      ${item.label} (${lines.length} line${lines.length === 1 ? "" : "s"}), last: ${firstLine(lines.at(-1) ?? "")}`;
    }
    case "note":
      return `note     ${item.label}: ${firstLine(item.text)}`;
    case "screenshot":
      return `image    ${item.label}: ${item.path}`;
  }
}

function systemOut(cell: CellResult, check: CheckDefinition | undefined): string {
  const lines = [cell.message];
  if (check !== undefined) lines.push(`requirement: ${check.requirement} (${check.source})`);
  if (cell.expected !== undefined) lines.push(`expected: ${cell.expected}`);
  if (cell.observed !== undefined) lines.push(`observed: ${cell.observed}`);
  if (cell.flaky) lines.push(`flaky: the verdict changed on retry (${cell.attempts} attempts)`);
  if (cell.expectation !== undefined) {
    const status = expectationMatched(cell) ? "matched" : "NOT matched (stale expectation?)";
    lines.push(
      `expectation: ${cell.expectation.verdict}, ${status}: ${cell.expectation.reason}${cell.expectation.link ? ` ${cell.expectation.link}` : ""}`,
    );
  }
  lines.push(`timing: ${Math.round(cell.durationMs)} ms, of which waiting ${Math.round(cell.waitingMs)} ms`);
  if (cell.evidence.length > 0)
    lines.push("evidence:", ...cell.evidence.map((e) => `  ${evidenceSummary(e)}`));
  lines.push(`reproduce: ${cell.reproduce}`);
  return lines.join("\n");
}

function testcase(
  cell: CellResult,
  check: CheckDefinition | undefined,
  options: Required<JUnitOptions>,
): string {
  const title = check?.title ?? "";
  const name = `${cell.checkId}${title ? ` ${title}` : ""} [${pairLabel(cell.sender, cell.receiver)}]`;
  const classname = `fedicheck.${cell.suite}.${cell.sender}->${cell.receiver}`;
  const props: Record<string, string> = {
    "fedicheck.check": cell.checkId,
    "fedicheck.scenario": cell.scenarioId,
    "fedicheck.sender": cell.sender,
    "fedicheck.receiver": cell.receiver,
    "fedicheck.verdict": cell.verdict,
  };
  if (check !== undefined) {
    props["fedicheck.level"] = check.level;
    props["fedicheck.impact"] = check.impact;
  }
  props["fedicheck.attempts"] = String(cell.attempts);
  if (cell.flaky) props["fedicheck.flaky"] = "true";
  if (cell.expectation !== undefined) {
    props["fedicheck.expectation"] =
      `${cell.expectation.verdict} (${expectationMatched(cell) ? "matched" : "stale"})`;
  }
  const out: string[] = [];
  out.push(`    <testcase${attrs({ name, classname, time: seconds(cell.durationMs) })}>`);
  out.push("      <properties>");
  for (const [k, v] of Object.entries(props)) out.push(`        <property${attrs({ name: k, value: v })}/>`);
  out.push("      </properties>");
  const detail = [
    cell.expected !== undefined ? `expected: ${cell.expected}` : undefined,
    cell.observed !== undefined ? `observed: ${cell.observed}` : undefined,
    `reproduce: ${cell.reproduce}`,
  ]
    .filter((l) => l !== undefined)
    .join("\n");
  const known = expectationMatched(cell) && (cell.verdict === "failed" || cell.verdict === "errored");
  if (known && options.knownFailures === "skipped") {
    out.push(
      `      <skipped${attrs({ message: `known ${cell.verdict}: ${cell.expectation!.reason} — ${cell.message}` })}/>`,
    );
  } else if (cell.verdict === "failed") {
    out.push(
      `      <failure${attrs({ message: cell.message, type: "failed" })}>${escapeXmlText(detail)}</failure>`,
    );
  } else if (cell.verdict === "errored") {
    out.push(
      `      <error${attrs({ message: cell.message, type: "errored (harness or infrastructure, not the target)" })}>${escapeXmlText(detail)}</error>`,
    );
  } else if (cell.verdict !== "passed") {
    out.push(`      <skipped${attrs({ message: `${cell.verdict}: ${cell.message}` })}/>`);
  }
  out.push(`      <system-out>${escapeXmlText(systemOut(cell, check))}</system-out>`);
  out.push("    </testcase>");
  return out.join("\n");
}

interface Tally {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  ms: number;
}

function tally(cells: readonly CellResult[], options: Required<JUnitOptions>): Tally {
  const t: Tally = { tests: 0, failures: 0, errors: 0, skipped: 0, ms: 0 };
  for (const cell of cells) {
    t.tests++;
    t.ms += cell.durationMs;
    const known = expectationMatched(cell) && (cell.verdict === "failed" || cell.verdict === "errored");
    if (known && options.knownFailures === "skipped") t.skipped++;
    else if (cell.verdict === "failed") t.failures++;
    else if (cell.verdict === "errored") t.errors++;
    else if (cell.verdict !== "passed") t.skipped++;
  }
  return t;
}

/** Renders a run as JUnit XML. */
export function renderJUnit(results: RunResults, options: JUnitOptions = {}): string {
  const opts: Required<JUnitOptions> = { knownFailures: options.knownFailures ?? "skipped" };
  const checks = new Map(results.checks.map((c) => [c.id, c]));
  const suiteOrder = [
    ...new Set([...results.checks.map((c) => c.suite), ...results.cells.map((c) => c.suite)]),
  ];
  const bySuite = new Map<string, CellResult[]>(suiteOrder.map((s) => [s, []]));
  for (const cell of results.cells) bySuite.get(cell.suite)!.push(cell);

  const runProps: Record<string, string> = {
    "fedicheck.runId": results.runId,
    "fedicheck.status": results.status,
    "fedicheck.command": results.command,
    "fedicheck.version": results.tool.version,
  };
  for (const t of results.targets) {
    runProps[`fedicheck.target.${t.id}`] = `${t.implementation} ${t.version} ${t.origin} (${t.runtime})`;
  }

  const total = tally(results.cells, opts);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(
    `<testsuites${attrs({
      name: `fedicheck ${results.runId}`,
      tests: total.tests,
      failures: total.failures,
      errors: total.errors,
      skipped: total.skipped,
      time: seconds(results.timing?.wallMs ?? total.ms),
      timestamp: results.startedAt,
    })}>`,
  );
  for (const [suite, cells] of bySuite) {
    if (cells.length === 0) continue;
    const t = tally(cells, opts);
    lines.push(
      `  <testsuite${attrs({
        name: suite,
        tests: t.tests,
        failures: t.failures,
        errors: t.errors,
        skipped: t.skipped,
        time: seconds(t.ms),
        timestamp: cells[0]!.startedAt,
      })}>`,
    );
    lines.push("    <properties>");
    for (const [k, v] of Object.entries(runProps))
      lines.push(`      <property${attrs({ name: k, value: v })}/>`);
    lines.push("    </properties>");
    for (const cell of cells) lines.push(testcase(cell, checks.get(cell.checkId), opts));
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>");
  return `${lines.join("\n")}\n`;
}
