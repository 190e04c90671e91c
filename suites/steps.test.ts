import { describe, expect, it } from "vitest";
import type { DeliveryResult } from "../harness/peer/types.ts";
import { deliveryEvidence } from "./steps.ts";

/** A delivery of `body` answered 202 with `responseBody`. */
function delivery(body: string, responseBody = ""): DeliveryResult {
  return {
    status: 202,
    request: { method: "POST", url: "http://127.0.0.1:1/inbox", headers: {}, body },
    response: { status: 202, headers: {}, body: responseBody },
  };
}

describe("deliveryEvidence", () => {
  it("re-indents JSON bodies and keeps other bodies as sent", () => {
    const evidence = deliveryEvidence("deliver", delivery('{"type":"Follow"}', "<html>ok</html>"));
    if (evidence.kind !== "http") throw new Error(`expected http evidence, got ${evidence.kind}`);
    expect(evidence.request.body).toBe('{\n  "type": "Follow"\n}');
    expect(evidence.response?.body).toBe("<html>ok</html>");
  });

  it("keeps the first 64 KiB of a larger body as sent, marked as cut", () => {
    // SEC-03's shape: a small activity padded with whitespace to MiBs.
    const padded = `{"type":"Create",${" ".repeat(1024 * 1024)}"id":"x"}`;
    const evidence = deliveryEvidence("deliver", delivery(padded));
    if (evidence.kind !== "http") throw new Error(`expected http evidence, got ${evidence.kind}`);
    expect(evidence.request.body).toBe(`${padded.slice(0, 65_536)}…`);
  });

  it("keeps a deeply nested body as sent (indenting 10 000 levels would make ~100 MB)", () => {
    const deep = `{"type":"Note","content":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    const evidence = deliveryEvidence("deliver", delivery(deep));
    if (evidence.kind !== "http") throw new Error(`expected http evidence, got ${evidence.kind}`);
    expect(evidence.request.body).toBe(deep);
  });
});
