import { describe, expect, it } from "vitest";
import { hasErrors, MAX_FINDINGS_PER_RULE, RULES, ruleInfo, validate } from "./index.ts";
import { MAX_DEPTH } from "./util.ts";

const NOTE = {
  "@context": "https://www.w3.org/ns/activitystreams",
  id: "https://a.example/1",
  type: "Note",
  content: "hi",
};

function ids(findings: { ruleId: string }[]): string[] {
  return findings.map((f) => f.ruleId);
}

describe("validate() on hostile input", () => {
  it.each([
    ["undefined", undefined, "DOC-NOT-JSON"],
    ["null", null, "DOC-NOT-OBJECT"],
    ["a string", '{"type":"Note"}', "DOC-NOT-OBJECT"],
    ["an array", [NOTE], "DOC-NOT-OBJECT"],
    ["a number", 42, "DOC-NOT-OBJECT"],
    ["NaN inside", { ...NOTE, width: Number.NaN }, "DOC-NOT-JSON"],
    ["a function inside", { ...NOTE, f: () => 1 }, "DOC-NOT-JSON"],
    ["a bigint inside", { ...NOTE, n: 10n }, "DOC-NOT-JSON"],
    ["a symbol inside", { ...NOTE, s: Symbol("x") }, "DOC-NOT-JSON"],
    ["a Date inside", { ...NOTE, published: new Date(0) }, "DOC-NOT-JSON"],
    ["a Map", new Map([["type", "Note"]]), "DOC-NOT-JSON"],
    ["undefined in an array", { ...NOTE, to: [undefined] }, "DOC-NOT-JSON"],
  ])("reports %s without throwing", async (_name, input, rule) => {
    const findings = await validate(input);
    expect(ids(findings)).toEqual([rule]);
    expect(findings[0]?.severity).toBe("error");
  });

  it("reports a cycle where it closes", async () => {
    const doc: Record<string, unknown> = { ...NOTE, object: { type: "Note" } };
    (doc.object as Record<string, unknown>).inReplyTo = doc;
    const findings = await validate(doc);
    expect(findings.map((f) => [f.ruleId, f.pointer])).toEqual([["DOC-NOT-JSON", "/object/inReplyTo"]]);
  });

  it("stops at the nesting limit instead of overflowing the stack", async () => {
    let deep: unknown = "bottom";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const findings = await validate({ ...NOTE, content: deep });
    expect(ids(findings)).toEqual(["DOC-TOO-DEEP"]);
    let ok: unknown = "bottom";
    for (let i = 0; i < MAX_DEPTH - 2; i++) ok = [ok];
    expect(ids(await validate({ ...NOTE, misc: ok }))).not.toContain("DOC-TOO-DEEP");
  });

  it("survives a proxy whose getters throw", async () => {
    const trap = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error("no keys for you");
        },
      },
    );
    const findings = await validate({ ...NOTE, object: trap });
    expect(ids(findings)).toEqual(["DOC-NOT-JSON"]);
    expect(findings[0]?.message).toContain("no keys for you");
  });

  it("treats undefined members as absent, as JSON would", async () => {
    expect(await validate({ ...NOTE, bcc: undefined }, { delivered: true })).toEqual([]);
  });

  it("ignores ill-typed context fields instead of throwing", async () => {
    const context = {
      headers: "nope",
      delivered: "yes",
      kind: "banana",
      origin: 42,
    } as unknown as Parameters<typeof validate>[1];
    expect(await validate(NOTE, context)).toEqual([]);
  });

  it("accepts a valid Note with no findings at all", async () => {
    expect(await validate(NOTE)).toEqual([]);
  });
});

describe("kinds", () => {
  it("detects WebFinger and NodeInfo by shape and AS2 by type", async () => {
    expect(ids(await validate({ subject: "acct:a@a.example", links: [] }))).toEqual(["WF-SELF-LINK"]);
    expect(ids(await validate({ version: "2.1", software: { name: "x", version: "1" } }))).toContain(
      "NI-SCHEMA",
    );
    expect(ids(await validate({ type: "Person", id: "https://a.example/u" }))).toContain("AP-ACTOR-INBOX");
  });

  it("reports a document of another kind than asked for", async () => {
    const findings = await validate(NOTE, { kind: "actor" });
    expect(findings.map((f) => [f.ruleId, f.message])).toContainEqual([
      "DOC-KIND",
      'expected an actor, found type "Note"',
    ]);
    expect(ids(await validate(NOTE, { kind: "object" }))).toEqual([]);
    expect(ids(await validate({ ...NOTE, type: "Person" }, { kind: "object" }))).not.toContain("DOC-KIND");
    expect(ids(await validate(NOTE, { kind: "activity" }))).toContain("DOC-KIND");
  });

  it("validates as the kind asked for, whatever the shape", async () => {
    expect(ids(await validate(NOTE, { kind: "nodeinfo" }))).toContain("NI-SCHEMA");
  });
});

describe("findings", () => {
  it("come errors first, then warnings, then notes", async () => {
    const findings = await validate({
      ...NOTE,
      to: ["as:Public"],
      published: "yesterday",
      isCat: "x",
      glitter: 1,
    });
    const order = findings.map((f) => f.severity);
    expect(order).toEqual(
      [...order].sort(
        (a, b) => ["error", "warning", "info"].indexOf(a) - ["error", "warning", "info"].indexOf(b),
      ),
    );
    expect(new Set(order)).toEqual(new Set(["error", "warning", "info"]));
    expect(hasErrors(findings)).toBe(true);
    expect(hasErrors(findings.filter((f) => f.severity !== "error"))).toBe(false);
  });

  it("are capped per rule, with one more finding saying how many were left out", async () => {
    const doc: Record<string, unknown> = { ...NOTE };
    for (let i = 0; i < MAX_FINDINGS_PER_RULE + 30; i++) doc[`undefinedTerm${i}`] = i;
    const undefinedTerms = (await validate(doc)).filter((f) => f.ruleId === "JSONLD-UNDEFINED-TERM");
    expect(undefinedTerms).toHaveLength(MAX_FINDINGS_PER_RULE + 1);
    expect(undefinedTerms.at(-1)?.message).toContain("30 more JSONLD-UNDEFINED-TERM");
  });

  it("take level, impact and source from the catalogue", async () => {
    const [finding] = await validate({ ...NOTE, name: "<b>x</b>" });
    expect(finding?.ruleId).toBe("AS-05");
    expect(finding).toMatchObject({
      level: RULES["AS-05"].level,
      impact: RULES["AS-05"].impact,
      source: RULES["AS-05"].source,
    });
  });
});

describe("RULES catalogue", () => {
  it("describes every rule with a title, level, impact, severity and source", () => {
    for (const [id, rule] of Object.entries(RULES)) {
      expect(id).toMatch(/^[A-Z0-9]+(-[A-Z0-9]+)+$/);
      expect(rule.title.length, id).toBeGreaterThan(10);
      expect(["MUST", "SHOULD", "MAY", "IMPLIED"]).toContain(rule.level);
      expect(["PROBLEM", "DEGRADED", "UNAFFECTED"]).toContain(rule.impact);
      expect(["error", "warning", "info"]).toContain(rule.severity);
      expect(rule.source.length, id).toBeGreaterThan(3);
    }
  });

  it("has AS-01 and AS-03 to AS-07 under their catalogue ids, and looks ids up safely", () => {
    for (const id of ["AS-01", "AS-03", "AS-04", "AS-05", "AS-06", "AS-07"])
      expect(ruleInfo(id)?.check).toBe(id);
    expect(ruleInfo("toString")).toBeUndefined();
    expect(ruleInfo("NOPE")).toBeUndefined();
  });
});
