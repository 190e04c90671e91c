import { describe, expect, it } from "vitest";
import type { CellResult, RunResults } from "../core/model.ts";
import { escapeXmlAttr, renderJUnit, xmlSafe } from "./junit.ts";
import { sampleResults } from "./sample.ts";
import { findAll, parseXml, type XmlElement } from "./testing/xml.ts";

function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

function props(el: XmlElement): Record<string, string> {
  const list = child(el, "properties")?.children ?? [];
  return Object.fromEntries(list.map((p) => [p.attributes.name!, p.attributes.value!]));
}

/** A run with exactly one cell per interesting case. */
function crafted(): RunResults {
  const base = sampleResults({ checks: 2, implementations: ["mastodon"] });
  const template = base.cells.find((c) => c.verdict === "passed")!;
  const cell = (over: Partial<CellResult>): CellResult => ({ ...structuredClone(template), ...over });
  const check = base.checks[1]!; // DSC-WF-02, suite discovery
  base.cells = [
    cell({ checkId: check.id, scenarioId: "s.pass", verdict: "passed", message: "fine" }),
    cell({
      checkId: check.id,
      scenarioId: "s.fail",
      verdict: "failed",
      message: 'answered <script>alert(1)</script> & "quoted" \u0007bell',
      expected: "400 Bad Request",
      observed: "200 <html>",
    }),
    cell({ checkId: check.id, scenarioId: "s.err", verdict: "errored", message: "container exited" }),
    cell({ checkId: check.id, scenarioId: "s.unsup", verdict: "unsupported", message: "no webfinger" }),
    cell({ checkId: check.id, scenarioId: "s.inap", verdict: "inapplicable", message: "media only" }),
    cell({ checkId: check.id, scenarioId: "s.skip", verdict: "skipped", message: "follow failed" }),
    cell({
      checkId: check.id,
      scenarioId: "s.known",
      verdict: "failed",
      message: "known bug",
      expectation: { verdict: "failed", reason: "mastodon#123", link: "https://example.invalid/123" },
    }),
    cell({
      checkId: check.id,
      scenarioId: "s.flaky",
      verdict: "passed",
      flaky: true,
      attempts: 2,
      message: "ok",
    }),
  ];
  return base;
}

describe("renderJUnit", () => {
  it("maps verdicts to failure, error and skipped, and counts them", () => {
    const results = crafted();
    const root = parseXml(renderJUnit(results));
    expect(root.name).toBe("testsuites");
    expect(root.attributes).toMatchObject({ tests: "8", failures: "1", errors: "1", skipped: "4" });
    const suites = findAll(root, "testsuite");
    expect(suites.map((s) => s.attributes.name)).toEqual(["discovery"]);
    const cases = findAll(root, "testcase");
    const byScenario = new Map(cases.map((c) => [props(c)["fedicheck.scenario"], c]));
    expect(child(byScenario.get("s.pass")!, "failure")).toBeUndefined();
    expect(child(byScenario.get("s.pass")!, "skipped")).toBeUndefined();
    const failure = child(byScenario.get("s.fail")!, "failure")!;
    expect(failure.attributes.message).toBe('answered <script>alert(1)</script> & "quoted" \\u0007bell');
    expect(failure.text).toContain("expected: 400 Bad Request\nobserved: 200 <html>");
    expect(child(byScenario.get("s.err")!, "error")!.attributes.message).toBe("container exited");
    expect(child(byScenario.get("s.unsup")!, "skipped")!.attributes.message).toBe(
      "unsupported: no webfinger",
    );
    expect(child(byScenario.get("s.inap")!, "skipped")!.attributes.message).toBe("inapplicable: media only");
    expect(child(byScenario.get("s.skip")!, "skipped")!.attributes.message).toBe("skipped: follow failed");
    expect(child(byScenario.get("s.known")!, "skipped")!.attributes.message).toBe(
      "known failed: mastodon#123 — known bug",
    );
    expect(props(byScenario.get("s.flaky")!)["fedicheck.flaky"]).toBe("true");
  });

  it("can report known failures as failures", () => {
    const root = parseXml(renderJUnit(crafted(), { knownFailures: "failure" }));
    expect(root.attributes).toMatchObject({ failures: "2", skipped: "3" });
  });

  it("names test cases by check, title and pair, with level and impact as properties", () => {
    const results = crafted();
    const check = results.checks[1]!;
    const tc = findAll(parseXml(renderJUnit(results)), "testcase")[1]!;
    expect(tc.attributes.name).toBe(`${check.id} ${check.title} [probe→mastodon]`);
    expect(tc.attributes.classname).toBe(`fedicheck.discovery.probe->mastodon`);
    expect(tc.attributes.time).toBe((results.cells[1]!.durationMs / 1000).toFixed(3));
    expect(props(tc)).toMatchObject({ "fedicheck.level": check.level, "fedicheck.impact": check.impact });
    const out = child(tc, "system-out")!.text;
    expect(out).toContain(`requirement: ${check.requirement}`);
    expect(out).toContain("http     delivery to inbox: POST https://mastodon.test/users/bob/inbox → 202");
    expect(out).toContain(`reproduce: ${results.cells[1]!.reproduce}`);
  });

  it("summarises payload findings in system-out", () => {
    const results = sampleResults({ checks: 20, failureRate: 0.5 });
    const failed = results.cells.findIndex((c) => c.verdict === "failed" && c.expectation === undefined);
    const tc = findAll(parseXml(renderJUnit(results)), "testcase")[failed]!;
    const out = child(tc, "system-out")!.text;
    expect(out).toContain("payload  Create(Note) as delivered: 2 findings");
    expect(out).toContain("error AS-03 /object/published: expected an RFC 3339 date");
  });

  it("stays well-formed and keeps every count for a large hostile run", () => {
    const results = sampleResults({ checks: 42, hostile: true, failureRate: 0.4 });
    const xml = renderJUnit(results);
    const root = parseXml(xml);
    const cases = findAll(root, "testcase");
    expect(cases.length).toBe(results.cells.length);
    const suites = findAll(root, "testsuite");
    expect(suites.reduce((n, s) => n + Number(s.attributes.tests), 0)).toBe(results.cells.length);
    for (const s of suites) {
      const mine = findAll(s, "testcase");
      expect(Number(s.attributes.tests)).toBe(mine.length);
      expect(Number(s.attributes.failures)).toBe(mine.filter((c) => child(c, "failure")).length);
      expect(Number(s.attributes.errors)).toBe(mine.filter((c) => child(c, "error")).length);
      expect(Number(s.attributes.skipped)).toBe(mine.filter((c) => child(c, "skipped")).length);
    }
    expect(xml).not.toContain("<script>");
    expect(xml).not.toContain("\u0001");
  });
});

describe("XML escaping", () => {
  it("makes control characters and lone surrogates visible, keeps pairs", () => {
    expect(xmlSafe("a\u0000b\u001bc\td\ud800e😀\uffff")).toBe("a\\u0000b\\u001bc\td\\ud800e😀\\uffff");
  });

  it("keeps newlines in attributes", () => {
    const value = "x\n\"y\"\t<z> & 'w'\r";
    expect(escapeXmlAttr(value)).toBe("x&#10;&quot;y&quot;&#9;&lt;z&gt; &amp; &apos;w&apos;&#13;");
    const root = parseXml(`<a v="${escapeXmlAttr(value)}"/>`);
    expect(root.attributes.v).toBe(value);
  });

  it("the test parser rejects what is not well-formed", () => {
    expect(() => parseXml("<a><b></a></b>")).toThrow(/<\/a> closes <b>/);
    expect(() => parseXml('<a v="<"/>')).toThrow(/'<' in an attribute value/);
    expect(() => parseXml("<a>&nbsp;</a>")).toThrow(/unknown entity/);
    expect(() => parseXml("<a>\u0001</a>")).toThrow(/not allowed in XML/);
    expect(() => parseXml("<a>x & y</a>")).toThrow(/entity/);
  });
});
