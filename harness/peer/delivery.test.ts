import { describe, expect, it } from "vitest";
import {
  audienceOf,
  NESTED_MEMBER,
  padBody,
  tamperBody,
  withNestedArrays,
  withoutHiddenRecipients,
} from "./delivery.ts";

describe("delivery helpers", () => {
  it("pads a JSON body with spaces to the exact size and keeps it parseable", () => {
    const body = JSON.stringify({ id: "x", type: "Note" });
    const padded = padBody(body, 1000);
    expect(Buffer.byteLength(padded)).toBe(1000);
    expect(JSON.parse(padded)).toEqual({ id: "x", type: "Note" });
    expect(padBody(body, 5)).toBe(body);
  });

  it("tampers a body so it differs but still parses", () => {
    const body = JSON.stringify({ id: "x" });
    const tampered = tamperBody(body);
    expect(tampered).not.toBe(body);
    expect(JSON.parse(tampered)).toMatchObject({ id: "x", "https://fedicheck.test/ns#tampered": true });
    expect(JSON.parse(tamperBody("{}"))).toEqual({ "https://fedicheck.test/ns#tampered": true });
  });

  it("lists every address once and strips bto/bcc from the activity and its object", () => {
    const activity = {
      type: "Create",
      to: ["a", "b"],
      cc: "b",
      bto: ["c"],
      bcc: [{ id: "d", type: "Person" }],
      object: { type: "Note", to: ["a"], bcc: ["d"], bto: ["c"] },
    };
    expect(audienceOf(activity)).toEqual(["a", "b", "c", "d"]);
    const shown = withoutHiddenRecipients(activity);
    expect(JSON.stringify(shown)).not.toMatch(/bto|bcc/);
    expect(shown).toMatchObject({ to: ["a", "b"], cc: "b", object: { to: ["a"] } });
    // The original is untouched (it keeps the audience for later Update/Delete).
    expect(activity.bcc).toHaveLength(1);
  });

  it("splices nested arrays into the embedded object as text, at the asked depth", () => {
    const body = withNestedArrays({ type: "Create", object: { type: "Note", content: "x" } }, 10_000);
    // JSON.parse is iterative in V8: it reads what JSON.stringify could not write.
    const parsed = JSON.parse(body) as { object: Record<string, unknown> };
    let depth = 0;
    for (let v: unknown = parsed.object[NESTED_MEMBER]; Array.isArray(v); v = v[0]) depth++;
    expect(depth).toBe(10_000);
    expect(parsed.object.content).toBe("x");
    expect(JSON.parse(withNestedArrays({ type: "Like", object: "x" }, 2))).toMatchObject({
      object: "x",
      [NESTED_MEMBER]: [[]],
    });
  });
});
