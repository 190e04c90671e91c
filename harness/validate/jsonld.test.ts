import { describe, expect, it } from "vitest";
import { type Finding, validate } from "./index.ts";
import { checkJsonLd, isKnownExtensionTerm } from "./jsonld.ts";

const AS = "https://www.w3.org/ns/activitystreams";

function of(findings: Finding[], ruleId: string): Finding[] {
  return findings.filter((f) => f.ruleId === ruleId);
}

describe("JSON-LD stage", () => {
  it("accepts a document without @context as AS2 (AS-01, info only)", async () => {
    const findings = await validate({ id: "https://a.example/1", type: "Note", content: "hi" });
    expect(findings.map((f) => [f.ruleId, f.severity])).toEqual([["AS-01", "info"]]);
  });

  it("notes a @context that does not name AS2, and still reads AS2 terms underneath", async () => {
    const { findings } = await checkJsonLd({
      "@context": "https://w3id.org/security/v1",
      id: "https://a.example/1",
      type: "Note",
      content: "hi",
    });
    expect(findings.map((f) => `${f.ruleId} ${f.pointer}`)).toEqual(["AS-01 /@context"]);
  });

  it("counts a LitePub context as naming AS2 (it includes it)", async () => {
    const { findings } = await checkJsonLd({
      "@context": ["https://pleroma.example/schemas/litepub-0.1.jsonld"],
      type: "ChatMessage",
      id: "https://pleroma.example/objects/1",
    });
    expect(findings).toEqual([]);
  });

  it("warns about an unknown remote context, points at it, and goes on with the rest", async () => {
    const findings = await validate({
      "@context": [AS, "https://unknown.example/ns"],
      id: "https://a.example/1",
      type: "Note",
      name: "<b>still checked</b>",
      mood: "x",
    });
    const unknown = of(findings, "JSONLD-UNKNOWN-CONTEXT");
    expect(unknown.map((f) => [f.pointer, f.severity])).toEqual([["/@context/1", "warning"]]);
    expect(unknown[0]?.message).toContain("https://unknown.example/ns");
    expect(of(findings, "AS-05")).toHaveLength(1);
    // With an unknown context around, an undefined term may be its: info, not warning.
    expect(of(findings, "JSONLD-UNDEFINED-TERM").map((f) => [f.pointer, f.severity])).toEqual([
      ["/mood", "info"],
    ]);
  });

  it("warns about undefined terms and types, infos known extension terms, and points at them", async () => {
    const findings = await validate({
      "@context": AS,
      id: "https://a.example/1",
      type: "Note",
      attachment: [{ type: "Sparkle", glitter: 3 }],
      _misskey_content: "x",
      isCat: true,
      "toot:discoverable": true,
    });
    const undefinedTerms = of(findings, "JSONLD-UNDEFINED-TERM").map((f) => [f.pointer, f.severity]);
    expect(undefinedTerms).toEqual(
      expect.arrayContaining([
        ["/attachment/0/type", "warning"],
        ["/attachment/0/glitter", "warning"],
        ["/_misskey_content", "info"],
        ["/isCat", "info"],
        ["/toot:discoverable", "info"],
      ]),
    );
    expect(undefinedTerms).toHaveLength(5);
  });

  it("reports a term dropped because the context maps it to null", async () => {
    const findings = await validate({
      "@context": [AS, { secret: null }],
      id: "https://a.example/1",
      type: "Note",
      secret: 1,
    });
    expect(of(findings, "JSONLD-UNDEFINED-TERM").map((f) => f.pointer)).toEqual(["/secret"]);
  });

  it("reports invalid JSON-LD as an error with the JSON-LD error code", async () => {
    const findings = await validate({ "@context": [AS, 42], id: "https://a.example/1", type: "Note" });
    const invalid = of(findings, "JSONLD-INVALID");
    expect(invalid).toHaveLength(1);
    expect(invalid[0]?.severity).toBe("error");
    expect(invalid[0]?.message).toContain("invalid local context");
  });

  it("classifies extension families", () => {
    expect(isKnownExtensionTerm("_misskey_reaction")).toBe(true);
    expect(isKnownExtensionTerm("_misskey_anything_new")).toBe(true);
    expect(isKnownExtensionTerm("featured")).toBe(true);
    expect(isKnownExtensionTerm("toot:whatever")).toBe(true);
    expect(isKnownExtensionTerm("glitter")).toBe(false);
    expect(isKnownExtensionTerm("https://example.org/ns#x")).toBe(false);
  });
});
