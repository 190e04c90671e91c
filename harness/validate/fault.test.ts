import { describe, expect, it, vi } from "vitest";

// A stage that throws must not lose the other stages' findings, nor throw out of validate().
vi.mock("./rules.ts", async (importOriginal) => {
  const original = await importOriginal<typeof import("./rules.ts")>();
  return {
    ...original,
    checkAs2Rules: () => {
      throw new Error("rule engine exploded");
    },
  };
});

const { validate } = await import("./index.ts");

describe("a fault inside the validator", () => {
  it("becomes a VALIDATOR-FAULT warning and the other stages still report", async () => {
    const findings = await validate({
      "@context": "https://www.w3.org/ns/activitystreams",
      id: "https://a.example/1",
      type: "Note",
      content: 42,
      glitter: true,
    });
    const fault = findings.find((f) => f.ruleId === "VALIDATOR-FAULT");
    expect(fault?.severity).toBe("warning");
    expect(fault?.message).toContain("rule engine exploded");
    expect(fault?.message).toContain("not the document's fault");
    expect(findings.map((f) => f.ruleId)).toEqual(
      expect.arrayContaining(["AS2-SCHEMA", "JSONLD-UNDEFINED-TERM"]),
    );
  });
});
