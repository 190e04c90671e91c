import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { RunResults } from "../core/model.ts";
import {
  buildDashboardData,
  type DashboardData,
  escapeHtml,
  jsonForScript,
  renderDashboard,
} from "./html.ts";
import { sampleResults } from "./sample.ts";

/** The data embedded in a rendered page, decoded whichever way it was packed. */
function embedded(html: string): DashboardData {
  const open = html.indexOf('id="fedicheck-data"');
  const start = html.indexOf(">", open) + 1;
  const end = html.indexOf("</script>", start);
  const text = html.slice(start, end);
  const tag = html.slice(html.lastIndexOf("<script", open), start);
  if (tag.includes('data-encoding="gzip+base64"')) {
    return JSON.parse(gunzipSync(Buffer.from(text, "base64")).toString("utf8")) as DashboardData;
  }
  return JSON.parse(text) as DashboardData;
}

function sha(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("base64");
}

describe("buildDashboardData", () => {
  it("scores every implementation but the probe, as sender and as receiver", () => {
    const results = sampleResults({ checks: 40 });
    const data = buildDashboardData(results);
    expect(data.runs[0]!.scorecards.map((s) => s.implementation)).toEqual(["fedify-ref", "mastodon"]);
    const mastodon = data.runs[0]!.scorecards.find((s) => s.implementation === "mastodon")!;
    const involved = results.cells.filter((c) => c.sender === "mastodon" || c.receiver === "mastodon");
    expect(mastodon.overall.total).toBe(involved.length);
    expect(mastodon.overall.counts.failed).toBe(involved.filter((c) => c.verdict === "failed").length);
    expect(mastodon.asSender.total).toBe(results.cells.filter((c) => c.sender === "mastodon").length);
    expect(mastodon.asReceiver.total).toBe(results.cells.filter((c) => c.receiver === "mastodon").length);
    const passed = involved.filter((c) => c.verdict === "passed").length;
    expect(mastodon.overall.rate).toBeCloseTo(passed / (passed + mastodon.overall.counts.failed));
    for (const breakdown of [mastodon.bySuite, mastodon.byLevel, mastodon.byImpact]) {
      expect(breakdown.reduce((n, b) => n + b.total, 0)).toBe(involved.length);
    }
    expect(mastodon.bySuite.map((b) => b.key)).toEqual([
      "discovery",
      "follow",
      "post",
      "media-fallback",
      "delete",
      "signatures",
    ]);
    expect(mastodon.byLevel.map((b) => b.key)).toEqual(["MUST", "SHOULD", "MAY", "IMPLIED"]);
  });

  it("lays out the matrix: columns by receiver, every cell in exactly one place", () => {
    const results = sampleResults({ checks: 40 });
    const { matrix } = buildDashboardData(results).runs[0]!;
    expect(matrix.pairs.map((p) => p.label)).toEqual([
      "fedify-ref→probe",
      "mastodon→probe",
      "probe→fedify-ref",
      "mastodon→fedify-ref",
      "probe→mastodon",
      "fedify-ref→mastodon",
    ]);
    const placed = matrix.groups.flatMap((g) => g.rows.flatMap((r) => r.cells.flat()));
    expect(placed.sort((a, b) => a - b)).toEqual(results.cells.map((_, i) => i));
    for (const g of matrix.groups) {
      for (const row of g.rows) {
        row.cells.forEach((list, j) => {
          for (const i of list) {
            expect(results.cells[i]!.checkId).toBe(row.checkId);
            expect(results.cells[i]!.sender).toBe(matrix.pairs[j]!.sender);
            expect(results.cells[i]!.receiver).toBe(matrix.pairs[j]!.receiver);
          }
        });
      }
    }
  });

  it("diffs against `previous`, and each run of a list against the one before", () => {
    const before = sampleResults({ checks: 20, failureRate: 0, runId: "before" });
    const after = structuredClone(before);
    after.runId = "after";
    const index = after.cells.findIndex((c) => c.checkId === "FOL-03" && c.verdict === "passed");
    after.cells[index]!.verdict = "failed";
    const one = buildDashboardData(after, { previous: before });
    expect(one.runs[0]!.diff!.against.runId).toBe("before");
    expect(one.runs[0]!.diff!.newFailures).toEqual([
      expect.objectContaining({ checkId: "FOL-03", before: "passed", after: "failed", index }),
    ]);
    const list = buildDashboardData([before, after]);
    expect(list.selected).toBe(1);
    expect(list.runs[0]!.diff).toBeUndefined();
    expect(list.runs[1]!.diff!.newFailures.length).toBe(1);
  });

  it("draws trends and flake rates from the history", () => {
    const runs: RunResults[] = [1, 2, 3].map((seed, i) =>
      sampleResults({ seed, checks: 20, runId: `r${i}`, startedAt: `2025-01-1${i}T10:00:00.000Z` }),
    );
    runs[1]!.cells[0]!.flaky = true;
    const data = buildDashboardData(runs[2]!, { history: [runs[1]!, runs[0]!] });
    expect(data.trend!.runs.map((r) => r.runId)).toEqual(["r0", "r1", "r2"]);
    const mastodon = data.trend!.series.find((s) => s.implementation === "mastodon")!;
    expect(mastodon.rates).toEqual(
      runs.map(
        (r) =>
          buildDashboardData(r).runs[0]!.scorecards.find((s) => s.implementation === "mastodon")!.overall
            .rate,
      ),
    );
    const flake = data.flakes!.find((f) => f.checkId === runs[1]!.cells[0]!.checkId)!;
    expect(flake.flaky).toBeGreaterThanOrEqual(1);
    expect(flake.rate).toBeCloseTo(flake.flaky / flake.cells);
    // Without history there is nothing to trend.
    expect(buildDashboardData(runs[0]!).trend).toBeUndefined();
  });
});

describe("renderDashboard", () => {
  const app = readFileSync(new URL("./dashboard/app.js", import.meta.url), "utf8");
  const css = readFileSync(new URL("./dashboard/app.css", import.meta.url), "utf8");

  it("embeds the data so that it parses back unchanged", () => {
    const results = sampleResults({ checks: 10 });
    const html = renderDashboard(results);
    expect(embedded(html)).toEqual(JSON.parse(JSON.stringify(buildDashboardData(results))));
  });

  it("keeps hostile strings inert: nothing can close the data element or the page's markup", () => {
    const results = sampleResults({ checks: 30, hostile: true, failureRate: 0.4 });
    results.runId = "<b>run</b>";
    const html = renderDashboard(results);
    expect(html).not.toContain("<script>alert(1)");
    expect(html).not.toContain("<img src=x");
    expect(html.match(/<\/script>/g)?.length).toBe(2); // the data element and the app's
    expect(html).toContain("<title>fedicheck · &lt;b&gt;run&lt;/b&gt;</title>");
    expect(
      embedded(html).runs[0]!.results.cells.some((c) => c.message.includes("<script>alert(1)</script>")),
    ).toBe(true);
  });

  it("makes no external request: a CSP with the hashes of its only script and style", () => {
    const html = renderDashboard(sampleResults({ checks: 5 }));
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/
      .exec(html)![1]!
      .replaceAll("&#39;", "'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src 'sha256-${sha(app)}'`);
    expect(csp).toContain(`style-src 'sha256-${sha(css)}'`);
    expect(csp).not.toMatch(/https?:/);
    // No attribute of the page's markup or rule of its style sheet points anywhere.
    const markup = html.replace(/<script[\s\S]*?<\/script>/g, "").replace(/<style>[\s\S]*?<\/style>/, "");
    expect(markup).not.toMatch(/\s(src|href|action)=/i);
    expect(css).not.toMatch(/@import|url\(/i);
  });

  it("compresses big data and leaves small data readable", () => {
    const results = sampleResults({ checks: 10 });
    const small = renderDashboard(results);
    expect(small).toContain('<script type="application/json" id="fedicheck-data">');
    const packed = renderDashboard(results, { compressAbove: 0 });
    expect(packed).toContain('data-encoding="gzip+base64"');
    expect(embedded(packed)).toEqual(embedded(small));
    expect(packed.length).toBeLessThan(small.length);
  });

  it("the page script never parses markup from data", () => {
    // The XSS defence is structural: text goes in with textContent, never as HTML.
    expect(app).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
    expect(app).not.toContain("</script");
    expect(css).not.toContain("</style");
  });
});

describe("escaping helpers", () => {
  it("escapes HTML", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });

  it("serialises JSON without <, >, & or line separators", () => {
    const value = { s: "</script><!-- & \u2028 \u2029 -->" };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
