import { describe, expect, it } from "vitest";
import { audienceOf, padBody, tamperBody, withoutHiddenRecipients } from "./delivery.ts";

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
});
