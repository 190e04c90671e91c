import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../tests/temp-dir.ts";
import type { CellResult, RunResults, SupportOutcomes, TargetInfo, VariantOutcome } from "../core/model.ts";
import { writeReports } from "./index.ts";
import { validateResults } from "./results-schema.ts";
import { sampleResults } from "./sample.ts";
import {
  buildSupportTables,
  CHANGED_SYMBOL,
  diffSupportTables,
  renderSupportHtml,
  renderSupportMarkdown,
  SUPPORT_FILES,
  supportJson,
  writeSupportReports,
} from "./support-tables.ts";

const TARGETS: TargetInfo[] = [
  {
    id: "probe",
    implementation: "probe",
    version: "0.1.0",
    origin: "http://127.0.0.1:1",
    runtime: "process",
    capabilities: [],
  },
  {
    id: "ref",
    implementation: "fedify-ref",
    version: "0.1.0",
    origin: "http://127.0.0.1:2",
    runtime: "process",
    capabilities: [],
  },
  {
    id: "masto",
    implementation: "mastodon",
    version: "4.3.0",
    origin: "https://m.test",
    runtime: "container",
    capabilities: [],
  },
];

function outcome(
  variant: string,
  value: string,
  kind: VariantOutcome["kind"],
  extra: Partial<VariantOutcome> = {},
): VariantOutcome {
  return { variant, title: `title of ${variant}`, value, kind, ...extra };
}

function cell(sender: string, receiver: string, checkId: string, support: SupportOutcomes): CellResult {
  return {
    checkId,
    scenarioId: `support.${support.group}`,
    suite: "support",
    sender,
    receiver,
    verdict: "passed",
    message: "m",
    evidence: support.variants.flatMap((v) => [
      {
        kind: "payload" as const,
        label: `sent ${v.variant}`,
        document: { type: "Create", object: { id: `doc-${v.variant}` } },
        findings: [],
      },
      {
        kind: "view" as const,
        label: `view ${v.variant}`,
        view: { text: `view of ${v.variant} on ${receiver}` },
      },
    ]),
    startedAt: "2025-01-01T00:00:00.000Z",
    durationMs: 1,
    waitingMs: 0,
    attempts: 1,
    reproduce: "r",
    support,
  };
}

function image(variants: VariantOutcome[]): SupportOutcomes {
  return {
    inputSet: "1.0.0",
    group: "image_attachments",
    groupTitle: "Image attachments",
    read: "the kind",
    variants,
  };
}

function run(
  runId: string,
  refArray: VariantOutcome,
  extraCells: CellResult[] = [],
  version = "0.1.0",
): RunResults {
  return {
    schemaVersion: 1,
    runId,
    tool: { name: "fedicheck", version: "0.1.0" },
    startedAt: "2025-01-01T00:00:00.000Z",
    status: "completed",
    command: "fedicheck run --suites support",
    targets: TARGETS.map((t) => (t.id === "ref" ? { ...t, version } : t)),
    checks: [
      {
        id: "SUP-CONTEXT",
        suite: "support",
        title: "c",
        requirement: "r",
        source: "s",
        level: "SHOULD",
        impact: "DEGRADED",
      },
      {
        id: "SUP-IMAGE",
        suite: "support",
        title: "i",
        requirement: "r",
        source: "s",
        level: "SHOULD",
        impact: "DEGRADED",
      },
    ],
    cells: [
      cell(
        "probe",
        "ref",
        "SUP-IMAGE",
        image([
          outcome("image_attachments.png", "image", "kept", { check: "MED-01", requirement: "passed" }),
          refArray,
        ]),
      ),
      cell(
        "probe",
        "masto",
        "SUP-IMAGE",
        image([
          outcome("image_attachments.png", "image", "kept"),
          outcome("image_attachments.url-array", "unknown", "transformed"),
        ]),
      ),
      ...extraCells,
    ],
  };
}

const contextCell = cell("ref", "masto", "SUP-CONTEXT", {
  inputSet: "1.0.0",
  group: "context",
  groupTitle: "Context <values>",
  read: "arrival",
  variants: [
    outcome("context.no-context", "post dropped", "post-dropped", {
      check: "AS-01",
      requirement: "failed",
      status: 400,
    }),
  ],
});

const before = run(
  "run-1",
  outcome("image_attachments.url-array", "image", "kept", { check: "MED-05", requirement: "passed" }),
  [contextCell],
);
const after = run(
  "run-2",
  outcome("image_attachments.url-array", "post dropped", "post-dropped", {
    check: "MED-05",
    requirement: "failed",
    status: 202,
  }),
  [contextCell],
  "0.2.0",
);

describe("buildSupportTables", () => {
  it("makes one table per group, in catalogue order, with a column per pair", () => {
    const tables = buildSupportTables(after)!;
    expect(tables.groups.map((g) => g.group)).toEqual(["context", "image_attachments"]);
    expect(tables.columns.map((c) => c.key)).toEqual(["ref", "masto", "ref→masto"]);
    expect(tables.columns[0]).toMatchObject({
      implementation: "fedify-ref",
      version: "0.2.0",
      senderImplementation: "probe",
    });
    const image = tables.groups[1]!;
    expect(image.rows.map((r) => r.variant)).toEqual([
      "image_attachments.png",
      "image_attachments.url-array",
    ]);
    expect(image.rows[1]!.outcomes.ref).toMatchObject({ value: "post dropped", cell: 0 });
    expect(image.rows[1]!.outcomes.masto?.value).toBe("unknown");
    expect(tables.inputSets).toEqual(["1.0.0"]);
  });

  it("is undefined for a run without support cells", () => {
    expect(buildSupportTables(sampleResults())).toBeUndefined();
  });
});

describe("diffSupportTables", () => {
  it("finds exactly the cells whose outcome changed, with the receiver's versions", () => {
    const diff = diffSupportTables(buildSupportTables(before)!, buildSupportTables(after)!);
    expect(diff.changes).toEqual([
      {
        group: "image_attachments",
        variant: "image_attachments.url-array",
        title: "title of image_attachments.url-array",
        column: "ref",
        before: { value: "image", kind: "kept" },
        after: { value: "post dropped", kind: "post-dropped" },
        versions: { before: "0.1.0", after: "0.2.0" },
      },
    ]);
    expect(diff.against.runId).toBe("run-1");
    expect(diffSupportTables(buildSupportTables(after)!, buildSupportTables(after)!).changes).toEqual([]);
  });

  it("counts cells present in one run only", () => {
    const withoutContext = run("run-0", outcome("image_attachments.url-array", "image", "kept"));
    const diff = diffSupportTables(buildSupportTables(withoutContext)!, buildSupportTables(after)!);
    expect(diff).toMatchObject({ added: 1, removed: 0 });
  });
});

describe("exports", () => {
  const tables = buildSupportTables(after)!;
  const diff = diffSupportTables(buildSupportTables(before)!, tables);

  it("support.json carries the versions, the legend, every outcome and the diff", () => {
    const json = supportJson(after, tables, diff);
    expect(json).toMatchObject({ format: 1, runId: "run-2", inputSet: "1.0.0" });
    expect(json.columns.find((c) => c.key === "ref")?.version).toBe("0.2.0");
    expect(json.legend["post-dropped"].symbol).toBe("🔴");
    const row = json.groups[1]!.variants[1]!;
    expect(row).toMatchObject({ id: "image_attachments.url-array", check: "MED-05" });
    expect(row.outcomes.ref).toEqual({
      value: "post dropped",
      kind: "post-dropped",
      symbol: "🔴",
      requirement: "failed",
      status: 202,
    });
    expect(json.diff?.changes).toHaveLength(1);
  });

  it("support.md has a table per group, symbols, requirement marks and the changes", () => {
    const md = renderSupportMarkdown(tables, diff);
    expect(md).toContain("Input set 1.0.0 · fedify-ref 0.2.0, mastodon 4.3.0");
    expect(md).toContain("## Changes since run-1");
    expect(md).toMatch(
      /\| `image_attachments.url-array` .*\| ref \(versions 0\.1\.0 → 0\.2\.0\) \| 🟢 image \| 🔴 post dropped \|/,
    );
    expect(md).toContain(
      "| variant | ref (fedify-ref 0.2.0) | masto (mastodon 4.3.0) | ref→masto (mastodon 4.3.0) |",
    );
    expect(md).toContain(`**${CHANGED_SYMBOL} 🔴 post dropped ❗MED-05** (was 🟢 image)`);
    expect(md).toContain("Context \\<values\\>");
    // Exactly one changed cell is marked.
    expect(md.split("(was ").length - 1).toBe(1);
  });

  it("support.html links each cell to the document sent and the view, side by side, and highlights changes", () => {
    const html = renderSupportHtml(after, tables, diff);
    expect(html).toContain(
      '<a href="#d-image_attachments.url-array">Δ 🔴 post dropped ❗MED-05<span class="was">was 🟢 image</span></a>',
    );
    expect(html.match(/<td class="[^"]*\bchanged\b[^"]*"/g)).toHaveLength(2); // the grid cell and the changes table
    expect(html).toContain('<td class="k-post-dropped changed reqfail"');
    expect(html).toContain('<section class="detail" id="d-image_attachments.url-array">');
    expect(html).toContain("&quot;id&quot;: &quot;doc-image_attachments.url-array&quot;");
    expect(html).toContain("view of image_attachments.url-array on ref");
    expect(html).toContain('class="panes"');
    // Text from servers is escaped; no script, strict CSP.
    expect(html).toContain("Context &lt;values&gt;");
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("default-src &#39;none&#39;");
  });
});

describe("writing", () => {
  it("writes the three files only for runs with support cells, and through writeReports", async () => {
    const dir = await tempDir("fc-support-");
    expect(await writeSupportReports(join(dir, "none"), sampleResults())).toBeUndefined();
    expect(existsSync(join(dir, "none", SUPPORT_FILES.html))).toBe(false);
    const written = await writeReports(join(dir, "run"), after, { baseline: before });
    expect(written.support).toBeDefined();
    const json = JSON.parse(readFileSync(written.support!.json, "utf8"));
    expect(json.diff.changes).toHaveLength(1);
    expect(readFileSync(written.support!.markdown, "utf8")).toContain("Changes since run-1");
    expect(readFileSync(written.dashboard, "utf8")).toContain('<a href="support.html">');
  });

  it("keeps results with support outcomes schema-valid, and rejects a bad outcome kind", () => {
    expect(validateResults(after)).toEqual({ ok: true, errors: [] });
    const broken = structuredClone(after);
    (broken.cells[0]!.support!.variants[0] as { kind: string }).kind = "vanished";
    expect(validateResults(broken).ok).toBe(false);
  });
});
