import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Finding } from "./findings.ts";
import { checkHeaders } from "./headers.ts";
import { validate } from "./index.ts";

const BODY = '{"@context":"https://www.w3.org/ns/activitystreams","type":"Note","id":"https://a.example/1"}';
const SHA256 = createHash("sha256").update(BODY).digest("base64");
const SHA512 = createHash("sha512").update(BODY).digest("base64");
const OTHER = createHash("sha256").update("something else").digest("base64");

function summary(findings: Finding[]): string[] {
  return findings.map((f) => `${f.severity} ${f.ruleId} ${f.pointer}`);
}

describe("Digest header", () => {
  it("accepts SHA-256 in upper case matching the body", () => {
    expect(checkHeaders({ Digest: `SHA-256=${SHA256}` }, { body: BODY })).toEqual([]);
  });

  it("warns about a lower-case prefix with PROBLEM impact and cites fedify #125", () => {
    const findings = checkHeaders({ digest: `sha-256=${SHA256}` }, { body: BODY });
    expect(summary(findings)).toEqual(["warning SIG-DIGEST-FORM /headers/digest"]);
    expect(findings[0]?.impact).toBe("PROBLEM");
    expect(`${findings[0]?.message} ${findings[0]?.source}`).toContain("fedify #125");
  });

  it("rejects a value that is not the base64 of 32 bytes", () => {
    expect(summary(checkHeaders({ digest: "SHA-256=abc" }))).toEqual([
      "error SIG-DIGEST-FORM /headers/digest",
    ]);
    expect(summary(checkHeaders({ digest: "SHA-256" }))).toContain("error SIG-DIGEST-FORM /headers/digest");
    expect(summary(checkHeaders({ digest: `SHA-256=${SHA512}` }))).toEqual([
      "error SIG-DIGEST-FORM /headers/digest",
    ]);
  });

  it("rejects a digest of another body, and says which value was expected", () => {
    const findings = checkHeaders({ Digest: `SHA-256=${OTHER}` }, { body: BODY });
    expect(summary(findings)).toEqual(["error SIG-DIGEST-MISMATCH /headers/digest"]);
    expect(findings[0]?.message).toContain(SHA256);
  });

  it("wants a SHA-256 member even next to SHA-512, and calls MD5 weak", () => {
    expect(summary(checkHeaders({ digest: `SHA-512=${SHA512}` }, { body: BODY }))).toEqual([
      "error SIG-DIGEST-FORM /headers/digest",
    ]);
    expect(checkHeaders({ digest: `SHA-512=${SHA512}, SHA-256=${SHA256}` }, { body: BODY })).toEqual([]);
    const md5 = createHash("md5").update(BODY).digest("base64");
    expect(summary(checkHeaders({ digest: `MD5=${md5},SHA-256=${SHA256}` }, { body: BODY }))).toEqual([
      "warning SIG-DIGEST-FORM /headers/digest",
    ]);
  });
});

describe("Content-Digest header (RFC 9530)", () => {
  it("accepts sha-256 and sha-512 byte sequences matching the body", () => {
    expect(checkHeaders({ "Content-Digest": `sha-256=:${SHA256}:` }, { body: BODY })).toEqual([]);
    expect(
      checkHeaders({ "content-digest": `sha-512=:${SHA512}:, sha-256=:${SHA256}:` }, { body: BODY }),
    ).toEqual([]);
  });

  it("rejects the Digest-style bare value and the upper-case key", () => {
    expect(summary(checkHeaders({ "content-digest": `sha-256=${SHA256}` }))).toEqual([
      "error SIG-CONTENT-DIGEST-FORM /headers/content-digest",
    ]);
    expect(summary(checkHeaders({ "content-digest": `SHA-256=:${SHA256}:` }))).toEqual([
      "error SIG-CONTENT-DIGEST-FORM /headers/content-digest",
    ]);
  });

  it("rejects a wrong length and a mismatching body; warns about deprecated and unknown algorithms", () => {
    expect(summary(checkHeaders({ "content-digest": `sha-256=:${SHA512}:` }))).toEqual([
      "error SIG-CONTENT-DIGEST-FORM /headers/content-digest/sha-256",
    ]);
    expect(summary(checkHeaders({ "content-digest": `sha-256=:${OTHER}:` }, { body: BODY }))).toEqual([
      "error SIG-DIGEST-MISMATCH /headers/content-digest/sha-256",
    ]);
    const md5 = createHash("md5").update(BODY).digest("base64");
    expect(
      summary(
        checkHeaders(
          { "content-digest": `md5=:${md5}:, sha-256=:${SHA256}:, blake3=:AAAA:` },
          { body: BODY },
        ),
      ),
    ).toEqual([
      "warning SIG-CONTENT-DIGEST-FORM /headers/content-digest/md5",
      "warning SIG-CONTENT-DIGEST-FORM /headers/content-digest/blake3",
    ]);
  });
});

describe("delivery headers", () => {
  it("warns when a delivery with a body has no digest at all", () => {
    expect(
      summary(checkHeaders({ "content-type": "application/activity+json" }, { body: BODY, delivered: true })),
    ).toEqual(["warning SIG-DIGEST-MISSING /headers/digest"]);
    expect(checkHeaders({ "content-type": "application/activity+json" }, { body: BODY })).toEqual([]);
  });

  it("accepts both AS2 media types, warns on plain JSON, rejects anything else", () => {
    const digest = { digest: `SHA-256=${SHA256}` };
    const ld = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"';
    for (const type of ["application/activity+json", "application/activity+json; charset=utf-8", ld]) {
      expect(
        checkHeaders({ ...digest, "content-type": type }, { body: BODY, delivered: true }),
        type,
      ).toEqual([]);
    }
    expect(
      summary(
        checkHeaders({ ...digest, "content-type": "application/json" }, { body: BODY, delivered: true }),
      ),
    ).toEqual(["warning AP-CONTENT-TYPE /headers/content-type"]);
    expect(
      summary(checkHeaders({ ...digest, "content-type": "text/html" }, { body: BODY, delivered: true })),
    ).toEqual(["error AP-CONTENT-TYPE /headers/content-type"]);
  });

  it("are checked by validate() when the context carries headers and body", async () => {
    const findings = await validate(JSON.parse(BODY), {
      headers: { digest: `SHA-256=${OTHER}` },
      body: BODY,
    });
    expect(findings.map((f) => f.ruleId)).toContain("SIG-DIGEST-MISMATCH");
  });
});
