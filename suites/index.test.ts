import { describe, expect, it } from "vitest";
import { DEFECTS } from "../fixtures/fedify-ref/defects.ts";
import type { InboxEntry } from "../harness/peer/types.ts";
import { CHECKS, checkById } from "./catalogue.ts";
import { ALL_SCENARIOS, SUITES } from "./index.ts";
import { signatureProblems } from "./signatures.ts";

describe("catalogue", () => {
  it("has unique ids, complete fields, and at least 55 checks", () => {
    const ids = CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(CHECKS.length).toBeGreaterThanOrEqual(55);
    for (const c of CHECKS) {
      expect(c.title && c.requirement && c.source, c.id).toBeTruthy();
      expect(Object.keys(SUITES), c.id).toContain(c.suite);
    }
  });

  it("names every check a bug-zoo defect must catch", () => {
    for (const defect of DEFECTS)
      for (const id of defect.catches) expect(() => checkById(id), id).not.toThrow();
  });

  it("has a bug-zoo defect for every check outside the support tables (a check that never fails proves nothing)", () => {
    const caught = new Set(DEFECTS.flatMap((d): readonly string[] => d.catches));
    const uncaught = CHECKS.filter((c) => c.suite !== "support" && !caught.has(c.id)).map((c) => c.id);
    expect(uncaught).toEqual([]);
  });

  it("throws a helpful error for an unknown id", () => {
    expect(() => checkById("NOPE-1")).toThrow(/not in the catalogue/);
  });
});

describe("scenarios", () => {
  it("have unique ids prefixed by their suite, and decide only catalogue checks of that suite", () => {
    const ids = ALL_SCENARIOS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [suite, scenarios] of Object.entries(SUITES)) {
      for (const s of scenarios) {
        expect(s.suite).toBe(suite);
        expect(s.id.startsWith(`${suite}.`), s.id).toBe(true);
        expect(s.checks.length, s.id).toBeGreaterThan(0);
        // Captures replay whole flows, so they decide checks of any suite.
        if (suite !== "captures") {
          for (const id of s.checks) expect(checkById(id).suite, `${s.id} decides ${id}`).toBe(suite);
        }
        expect(s.probeSenderOnly && s.probeReceiverOnly, s.id).toBeFalsy();
      }
    }
  });

  it("decide every check of the catalogue", () => {
    const decided = new Set(ALL_SCENARIOS.flatMap((s) => s.checks));
    expect(CHECKS.map((c) => c.id).filter((id) => !decided.has(id))).toEqual([]);
  });
});

describe("signatureProblems", () => {
  const entry = (headers: Record<string, string>, ok = true): InboxEntry => ({
    seq: 1,
    at: "",
    method: "POST",
    path: "/inbox",
    headers,
    body: "{}",
    signature: { ok },
    findings: [],
    status: 202,
  });
  const cavage = 'keyId="k",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="x"';
  it("accepts Mastodon-style cavage and complete RFC 9421", () => {
    expect(signatureProblems(entry({ signature: cavage, digest: "SHA-256=abc" }))).toEqual([]);
    expect(
      signatureProblems(
        entry({
          "signature-input": 'sig1=("@method" "@target-uri" "content-digest");created=1;keyid="k"',
          signature: "sig1=:x:",
          "content-digest": "sha-256=:abc:",
        }),
      ),
    ).toEqual([]);
  });
  it("flags a lower-case digest prefix, missing coverage, and a failed verification", () => {
    expect(signatureProblems(entry({ signature: cavage, digest: "sha-256=abc" })).join()).toMatch(
      /upper-case/,
    );
    const partial = 'keyId="k",headers="date",signature="x"';
    expect(signatureProblems(entry({ signature: partial, digest: "SHA-256=abc" })).join()).toMatch(
      /request-target/,
    );
    expect(signatureProblems(entry({ signature: cavage, digest: "SHA-256=abc" }, false)).join()).toMatch(
      /did not verify/,
    );
    expect(signatureProblems(entry({}))).toEqual(["not signed"]);
  });
});
