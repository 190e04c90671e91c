/**
 * Fuzzing signature parsing and verification (issue 7): arbitrary and structured-but-wrong
 * `Signature`, `Signature-Input`, `Authorization`, `Digest`, `Content-Digest` and `Date` headers
 * never make `verifyRequest` throw and never verify; the parsers only ever throw their own
 * SignatureFormatError. A resolver that always hands out a real, owned key makes every case reach
 * the cryptographic check, so "never verifies" is not just "the key was missing". Runs: see ./runs.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCavageSignature, SignatureFormatError } from "../../harness/protocol/cavage.ts";
import { checkDigest } from "../../harness/protocol/digest.ts";
import { generateSigningKeyPairSync } from "../../harness/protocol/keys.ts";
import { parseRfc9421Signatures } from "../../harness/protocol/rfc9421.ts";
import { signRequest } from "../../harness/protocol/sign.ts";
import type { KeyResolver, SignableRequest } from "../../harness/protocol/types.ts";
import { verifyRequest } from "../../harness/protocol/verify.ts";
import { fuzzParameters, fuzzTimeout } from "./runs.ts";

const pair = generateSigningKeyPairSync("rsa-sha256");
const ACTOR = "https://a.test/users/alice";
const KEY_ID = `${ACTOR}#main-key`;
const NOW = new Date("2025-01-01T00:00:00Z");

/** Hands out the real key, owned by ACTOR, for any keyId: every case reaches the crypto check. */
const resolver: KeyResolver = {
  resolve: async (keyId) => ({ keyId, publicKey: pair.publicKey, ownerActorId: ACTOR }),
};

const base64 = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString("base64"));
const component = fc.oneof(
  fc.constantFrom("(request-target)", "host", "date", "digest", "(created)", "(expires)", "content-type"),
  fc.string({ maxLength: 12 }),
);
const sfComponent = fc.oneof(
  fc.constantFrom(
    '"@method"',
    '"@target-uri"',
    '"@authority"',
    '"@path"',
    '"content-digest"',
    '"date"',
    '"host"',
  ),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
);
const quoted = (s: string) => `"${s.replace(/["\\]/g, "")}"`;

/** A cavage Signature value built from plausible and arbitrary parts. */
const cavageSignature = fc
  .record(
    {
      keyId: fc.oneof(fc.constant(KEY_ID), fc.string({ maxLength: 40 })),
      algorithm: fc.oneof(
        fc.constantFrom("rsa-sha256", "hs2019", "ed25519", "rsa-sha512", "hmac-sha256"),
        fc.string({ maxLength: 10 }),
      ),
      headers: fc.array(component, { maxLength: 6 }).map((c) => c.join(" ")),
      signature: fc.oneof(base64, fc.string({ maxLength: 60 })),
      created: fc.oneof(fc.integer(), fc.string({ maxLength: 6 })),
      expires: fc.oneof(fc.integer(), fc.double().map(String)),
    },
    { requiredKeys: [] },
  )
  .map((params) =>
    Object.entries(params)
      .map(([k, v]) => (typeof v === "number" ? `${k}=${v}` : `${k}=${quoted(String(v))}`))
      .join(","),
  );

/** An RFC 9421 Signature-Input / Signature pair built from plausible and arbitrary parts. */
const rfc9421Fields = fc
  .record({
    labels: fc.array(fc.oneof(fc.constantFrom("sig1", "sig2"), fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/)), {
      minLength: 1,
      maxLength: 2,
    }),
    components: fc.array(sfComponent, { maxLength: 5 }),
    created: fc.oneof(
      fc.integer({ min: 0, max: 4_000_000_000 }),
      fc.constant(Math.floor(NOW.getTime() / 1000)),
    ),
    keyid: fc.oneof(fc.constant(KEY_ID), fc.string({ maxLength: 30 })),
    alg: fc.oneof(
      fc.constantFrom("rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519", "hmac-sha256"),
      fc.string({ maxLength: 10 }),
    ),
    signature: base64,
    junk: fc.string({ maxLength: 20 }),
  })
  .map(({ labels, components, created, keyid, alg, signature, junk }) => ({
    input: labels
      .map(
        (l) => `${l}=(${components.join(" ")});created=${created};keyid=${quoted(keyid)};alg=${quoted(alg)}`,
      )
      .join(", "),
    signature: `${labels.map((l) => `${l}=:${signature}:`).join(", ")}${junk ? `, ${junk}` : ""}`,
  }));

const digestValue = fc.oneof(
  fc.constantFrom(
    "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    "sha-256=",
    "SHA-512=abc",
    "constructor=abc",
  ),
  base64.map((b) => `SHA-256=${b}`),
  fc.string({ maxLength: 60 }),
);
const contentDigestValue = fc.oneof(
  base64.map((b) => `sha-256=:${b}:`),
  fc.constantFrom("sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:", "constructor=:YWJj:"),
  fc.string({ maxLength: 60 }),
);

const request = fc.record({
  method: fc.oneof(fc.constantFrom("POST", "GET", "post"), fc.string({ maxLength: 6 })),
  url: fc.oneof(fc.constant("https://b.test/inbox"), fc.webUrl(), fc.string({ maxLength: 30 })),
  body: fc.option(fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 })), {
    nil: undefined,
  }),
  headers: fc.record(
    {
      signature: fc.oneof(cavageSignature, fc.string({ maxLength: 100 })),
      authorization: fc.oneof(
        cavageSignature.map((s) => `Signature ${s}`),
        fc.string({ maxLength: 60 }),
      ),
      "signature-input": fc.string({ maxLength: 100 }),
      digest: digestValue,
      "content-digest": contentDigestValue,
      date: fc.oneof(
        fc.constant(NOW.toUTCString()),
        fc.date().map((d) => (Number.isNaN(d.getTime()) ? "x" : d.toUTCString())),
        fc.string({ maxLength: 30 }),
      ),
      host: fc.oneof(fc.constant("b.test"), fc.string({ maxLength: 20 })),
      "Content-Type": fc.string({ maxLength: 30 }),
    },
    { requiredKeys: [] },
  ),
});

/** A request whose 9421 fields are structured (parse) but whose signature is random. */
const rfc9421Request = fc.tuple(request, rfc9421Fields).map(([r, f]) => ({
  ...r,
  headers: { ...r.headers, "signature-input": f.input, signature: f.signature },
}));

async function expectRejected(req: SignableRequest): Promise<void> {
  const verdict = await verifyRequest(req, resolver, { now: NOW, skewSeconds: 10 ** 10 });
  expect(verdict.ok).toBe(false);
  expect(typeof verdict.reason).toBe("string");
  expect(verdict.reason).not.toMatch(/Verification failed unexpectedly/);
}

describe("signature parsing and verification under fuzzing", () => {
  it(
    "arbitrary header strings never throw and never verify",
    async () => {
      await fc.assert(
        fc.asyncProperty(request, (req) => expectRejected(req)),
        fuzzParameters(),
      );
    },
    fuzzTimeout(10),
  );

  it(
    "structured RFC 9421 fields with random signatures never throw and never verify",
    async () => {
      await fc.assert(
        fc.asyncProperty(rfc9421Request, (req) => expectRejected(req)),
        fuzzParameters(),
      );
    },
    fuzzTimeout(10),
  );

  it(
    "a genuine signature with one header changed afterwards never verifies",
    async () => {
      const body = JSON.stringify({ type: "Create", actor: ACTOR });
      await fc.assert(
        fc.asyncProperty(
          // Only what each scheme covers: cavage signs host, date and digest; RFC 9421 the
          // content-digest, and its parameters live in Signature-Input.
          fc.oneof(
            fc.tuple(
              fc.constant("draft-cavage-12" as const),
              fc.constantFrom("signature", "date", "digest", "host"),
            ),
            fc.tuple(
              fc.constant("rfc9421" as const),
              fc.constantFrom("signature", "content-digest", "signature-input"),
            ),
          ),
          fc.string({ minLength: 1, maxLength: 40 }),
          async ([scheme, header], replacement) => {
            const url = "https://b.test/inbox";
            const signed = signRequest(
              { method: "POST", url, headers: {}, body },
              { keyId: KEY_ID, privateKey: pair.privateKey, algorithm: "rsa-sha256" },
              { scheme, now: NOW },
            );
            const original = signed[header];
            fc.pre(original !== undefined && original !== replacement);
            const tampered = { ...signed, [header]: replacement };
            await expectRejected({ method: "POST", url, headers: tampered, body });
          },
        ),
        fuzzParameters(),
      );
      // Control: untampered, the same set-up verifies (so the rejections above mean something).
      const url = "https://b.test/inbox";
      for (const scheme of ["draft-cavage-12", "rfc9421"] as const) {
        const headers = signRequest(
          { method: "POST", url, headers: {}, body },
          { keyId: KEY_ID, privateKey: pair.privateKey, algorithm: "rsa-sha256" },
          { scheme, now: NOW },
        );
        expect((await verifyRequest({ method: "POST", url, headers, body }, resolver, { now: NOW })).ok).toBe(
          true,
        );
      }
    },
    fuzzTimeout(10),
  );

  it(
    "the parsers throw nothing but SignatureFormatError, and checkDigest never throws",
    () => {
      fc.assert(
        fc.property(
          fc.oneof(cavageSignature, fc.string({ maxLength: 200 })),
          fc.oneof(
            rfc9421Fields,
            fc.record({ input: fc.string({ maxLength: 100 }), signature: fc.string({ maxLength: 100 }) }),
          ),
          digestValue,
          contentDigestValue,
          fc.option(fc.string({ maxLength: 100 }), { nil: undefined }),
          (cavage, fields, digest, contentDigest, body) => {
            for (const parse of [
              () => parseCavageSignature(cavage),
              () => parseRfc9421Signatures(fields.input, fields.signature),
            ]) {
              try {
                parse();
              } catch (error) {
                expect(error).toBeInstanceOf(SignatureFormatError);
              }
            }
            const check = checkDigest({ digest, "content-digest": contentDigest }, body);
            expect(typeof check.ok).toBe("boolean");
          },
        ),
        fuzzParameters(),
      );
    },
    fuzzTimeout(5),
  );
});
