import { describe, expect, it } from "vitest";
import type { CellResult, RunResults } from "../core/model.ts";
import { countVerdicts } from "./analysis.ts";
import { codeBlock, codeSpan, escapeMarkdown, renderMarkdown } from "./markdown.ts";
import { sampleResults } from "./sample.ts";

/** Splits a GFM table row on the pipes that separate cells (not the escaped ones). */
function cellsOf(line: string): string[] {
  const cells: string[] = [];
  let current = "";
  for (let i = 1; i < line.length; i++) {
    const c = line[i]!;
    if (c === "\\" && line[i + 1] === "|") {
      current += "\\|";
      i++;
    } else if (c === "|") {
      cells.push(current.trim());
      current = "";
    } else current += c;
  }
  return cells;
}

/** The tables of a Markdown document: header cells and body rows. */
function tables(md: string): Array<{ title: string; header: string[]; rows: string[][] }> {
  const out: Array<{ title: string; header: string[]; rows: string[][] }> = [];
  const lines = md.split("\n");
  let title = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("#")) title = line;
    if (line.startsWith("| ") && lines[i + 1]?.startsWith("|:--")) {
      const table = { title, header: cellsOf(line), rows: [] as string[][] };
      i += 2;
      while (lines[i]?.startsWith("|")) table.rows.push(cellsOf(lines[i++]!));
      out.push(table);
    }
  }
  return out;
}

function symbolAt(md: string, checkId: string, column: string, tableTitle?: string): string | undefined {
  for (const t of tables(md)) {
    if (tableTitle !== undefined && !t.title.includes(tableTitle)) continue;
    const col = t.header.indexOf(column);
    const row = t.rows.find((r) => r[0]!.startsWith(`\`${checkId}\``));
    if (col >= 0 && row !== undefined) return row[col];
  }
  return undefined;
}

function withCell(
  results: RunResults,
  pick: (c: CellResult) => boolean,
  change: Partial<CellResult>,
): CellResult {
  const cell = results.cells.find(pick)!;
  Object.assign(cell, change);
  return cell;
}

describe("renderMarkdown", () => {
  it("gives the counts per verdict", () => {
    const results = sampleResults({ checks: 30, failureRate: 0.2 });
    const md = renderMarkdown(results);
    const counts = countVerdicts(results.cells);
    expect(md).toContain(
      `**${results.cells.length} cells:** ✅ ${counts.passed} passed · ❌ ${counts.failed} failed`,
    );
    expect(md).toContain(`💥 ${counts.errored} errored · ⛔ ${counts.unsupported} unsupported`);
    expect(counts.failed).toBeGreaterThan(0);
  });

  it("puts a failed cell's symbol in its row and column, and details it", () => {
    const results = sampleResults({ checks: 20, failureRate: 0 });
    const cell = withCell(
      results,
      (c) => c.checkId === "FOL-03" && c.sender === "mastodon" && c.receiver === "probe",
      {
        verdict: "failed",
        message: "Accept never arrived | waited 10 s",
        expected: "Accept",
        observed: "nothing",
      },
    );
    const md = renderMarkdown(results);
    expect(symbolAt(md, "FOL-03", "mastodon→probe")).toBe("❌");
    // Its neighbours are not failed.
    expect(symbolAt(md, "FOL-03", "fedify-ref→probe")).toBe("✅");
    expect(symbolAt(md, "FOL-02", "mastodon→probe")).toBe("✅");
    // One-sided checks leave the other pairs empty.
    expect(symbolAt(md, "DSC-WF-01", "mastodon→probe")).toBe("·");
    const failures = md.slice(md.indexOf("### Failures (1)"));
    expect(failures).toContain("#### ❌ `FOL-03` Embedded Accept completes the follow — mastodon→probe");
    expect(failures).toContain("Accept never arrived \\| waited 10 s");
    expect(failures).toContain("- **Expected:** `Accept`\n- **Observed:** `nothing`");
    expect(failures).toContain(`\`\`\`sh\n${cell.reproduce}\n\`\`\``);
  });

  it("keeps table rows intact when a title holds a pipe", () => {
    const results = sampleResults({ checks: 12 });
    results.checks[11]!.title = "Follow | Accept";
    const md = renderMarkdown(results);
    const [t] = tables(md);
    for (const row of t!.rows) expect(row.length).toBe(t!.header.length);
    expect(md).toContain("Follow \\| Accept");
  });

  it("marks flaky cells and matched expectations", () => {
    const results = sampleResults({ checks: 20, failureRate: 0 });
    withCell(results, (c) => c.checkId === "FOL-01" && c.sender === "probe" && c.receiver === "mastodon", {
      flaky: true,
      attempts: 2,
    });
    withCell(results, (c) => c.checkId === "FOL-02" && c.sender === "probe" && c.receiver === "mastodon", {
      verdict: "failed",
      expectation: {
        verdict: "failed",
        reason: "mastodon needs a manual approval",
        link: "https://example.invalid/1",
      },
    });
    const md = renderMarkdown(results);
    expect(symbolAt(md, "FOL-01", "probe→mastodon")).toBe("✅⚠");
    expect(symbolAt(md, "FOL-02", "probe→mastodon")).toBe("❌📌");
    expect(md).toContain("❌ 1 failed (1 known)");
    expect(md).not.toContain("### Failures");
    expect(md).toContain("<details><summary>Known failures (1), matching the expectations files</summary>");
    expect(md).toContain("mastodon needs a manual approval ([link](https://example.invalid/1))");
  });

  it("splits a wide matrix into one table per receiver", () => {
    const results = sampleResults({ checks: 20, implementations: ["a", "b", "c", "d"], failureRate: 0 });
    const cell = withCell(results, (c) => c.checkId === "PST-01" && c.sender === "c" && c.receiver === "a", {
      verdict: "failed",
    });
    const md = renderMarkdown(results);
    const receiverTables = tables(md).filter((t) => t.title.startsWith("#### Receiver"));
    expect(receiverTables.map((t) => t.title)).toEqual(
      ["probe", "a", "b", "c", "d"].map((r) => `#### Receiver \`${r}\` (columns: sender)`),
    );
    expect(receiverTables[1]!.header).toEqual(["Check", "probe", "b", "c", "d"]);
    expect(symbolAt(md, "PST-01", "c", "`a`")).toBe("❌");
    expect(symbolAt(md, "PST-01", "c", "`b`")).toBe("✅");
    expect(cell.verdict).toBe("failed");
  });

  it("lists new failures and fixes against a baseline", () => {
    const baseline = sampleResults({ checks: 20, failureRate: 0, runId: "before" });
    const results = structuredClone(baseline);
    results.runId = "after";
    withCell(baseline, (c) => c.checkId === "FOL-04" && c.sender === "probe", { verdict: "failed" });
    withCell(results, (c) => c.checkId === "PST-02" && c.sender === "probe" && c.receiver === "mastodon", {
      verdict: "failed",
    });
    const md = renderMarkdown(results, { baseline });
    const section = md.slice(md.indexOf("### Compared with `before`"), md.indexOf("### Matrix"));
    expect(section).toContain(
      "**❌ New failures (1)**\n\n- `PST-02` probe→mastodon (post.pst-02): ✅ passed → ❌ failed",
    );
    expect(section).toContain(
      "**✅ Fixed (1)**\n\n- `FOL-04` probe→fedify-ref (follow.fol-04): ❌ failed → ✅ passed",
    );
  });

  it("escapes hostile text and warns about partial runs", () => {
    const results = sampleResults({ checks: 30, hostile: true, failureRate: 0.3, status: "interrupted" });
    const md = renderMarkdown(results);
    expect(md).toContain("> The run was interrupted: the results are partial.");
    // Outside code (where Markdown shows text as is), markup is escaped.
    const prose = md.replaceAll(/```[\s\S]*?```|`[^`\n]*`/g, "");
    expect(prose).not.toMatch(/(?<!\\)<(script|img)/);
    expect(prose).toContain("\\<script\\>alert(1)\\</script\\>");
    expect(md).toContain(
      "`401 <script>alert(1)</script> </script><img src=x onerror=alert(2)> a\\|b \\u0001\\u001b[31m`",
    );
    expect(md).not.toContain("\u0001");
    expect(md).not.toContain("\u001b");
  });

  it("details at most maxFailures cells", () => {
    const results = sampleResults({ checks: 40, failureRate: 0.5 });
    const md = renderMarkdown(results, { maxFailures: 3 });
    expect(md.match(/^#### ❌/gm)?.length).toBe(3);
    expect(md).toMatch(/… and \d+ more: see junit\.xml or index\.html/);
  });
});

describe("Markdown escaping", () => {
  it("escapes syntax, breaks mentions and block starts", () => {
    expect(escapeMarkdown("a*b_c`d[e](f)<g>|h&amp; ~i")).toBe(
      "a\\*b\\_c\\`d\\[e\\](f)\\<g\\>\\|h\\&amp; \\~i",
    );
    expect(escapeMarkdown("# not a heading")).toBe("\\# not a heading");
    expect(escapeMarkdown("12. not a list")).toBe("12\\. not a list");
    expect(escapeMarkdown("ping @bob@x.test, mail a @ b")).toBe("ping @\u200bbob@\u200bx.test, mail a @ b");
    expect(escapeMarkdown("two\nlines")).toBe("two lines");
  });

  it("fences code around backticks", () => {
    expect(codeSpan("a `b` c|d")).toBe("``a `b` c\\|d``");
    expect(codeSpan("`x`")).toBe("`` `x` ``");
    expect(codeBlock("has ``` inside")).toBe("````\nhas ``` inside\n````");
  });
});
