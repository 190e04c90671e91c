import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkDigest, contentDigestHeader, digestHeader } from "./digest.ts";

const BODY = '{"type":"Note"}';
const B64 = createHash("sha256").update(BODY).digest("base64");
const B64_512 = createHash("sha512").update(BODY).digest("base64");

describe("digest headers", () => {
  it("formats Digest with an upper-case prefix by default", () => {
    expect(digestHeader(BODY)).toBe(`SHA-256=${B64}`);
    expect(digestHeader(BODY, { lowercase: true })).toBe(`sha-256=${B64}`);
    expect(digestHeader(Buffer.from(BODY))).toBe(`SHA-256=${B64}`);
  });

  it("formats Content-Digest as a structured field", () => {
    expect(contentDigestHeader(BODY)).toBe(`sha-256=:${B64}:`);
  });
});

describe("checkDigest", () => {
  it("accepts a matching Digest and reports which header it checked", () => {
    expect(checkDigest({ digest: `SHA-256=${B64}` }, BODY)).toEqual({
      ok: true,
      present: "digest",
      lowercasePrefix: false,
    });
  });

  it("accepts but flags a lower-case prefix", () => {
    expect(checkDigest({ digest: `sha-256=${B64}` }, BODY)).toEqual({
      ok: true,
      present: "digest",
      lowercasePrefix: true,
    });
  });

  it("accepts a matching Content-Digest, also with several algorithms", () => {
    expect(checkDigest({ "content-digest": `sha-256=:${B64}:` }, BODY)).toEqual({
      ok: true,
      present: "content-digest",
    });
    expect(checkDigest({ "content-digest": `sha-512=:${B64_512}:, sha-256=:${B64}:` }, BODY).ok).toBe(true);
    expect(checkDigest({ digest: `SHA-512=${B64_512},SHA-256=${B64}` }, BODY).ok).toBe(true);
  });

  it("rejects a mismatch with the expected value in the reason", () => {
    const result = checkDigest({ digest: `SHA-256=${B64}` }, `${BODY} `);
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^Digest SHA-256 does not match the body: header has .*, body hashes to /);
    const cd = checkDigest({ "content-digest": `sha-256=:${B64}:` }, "other");
    expect(cd).toMatchObject({ ok: false, present: "content-digest" });
  });

  it("checks both headers when both are present", () => {
    const result = checkDigest({ digest: `SHA-256=${B64}`, "content-digest": "sha-256=:AAAA:" }, BODY);
    expect(result).toMatchObject({ ok: false, present: "content-digest", lowercasePrefix: false });
  });

  it("reports absence, unknown algorithms and malformed values", () => {
    expect(checkDigest({}, BODY)).toMatchObject({ ok: false, present: "none" });
    expect(checkDigest({ digest: "MD5=abc" }, BODY).reason).toMatch(/no supported algorithm/);
    expect(checkDigest({ "content-digest": "sha-256=abc" }, BODY).reason).toMatch(/not a byte sequence/);
    expect(checkDigest({ "content-digest": "sha-256=:" }, BODY).reason).toMatch(
      /not a structured-field dictionary/,
    );
  });

  it("matches its own headers for any body (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (body) => {
        expect(checkDigest({ digest: digestHeader(body) }, body).ok).toBe(true);
        expect(checkDigest({ "content-digest": contentDigestHeader(body) }, body).ok).toBe(true);
      }),
    );
  });
});
