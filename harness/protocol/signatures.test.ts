import { createHash, createSign, createVerify, KeyObject } from "node:crypto";
import {
  signRequest as fedifySign,
  verifyRequest as fedifyVerify,
  generateCryptoKeyPair,
} from "@fedify/fedify";
import { beforeAll, describe, expect, it } from "vitest";
import { generateSigningKeyPair, type SigningKeyPair } from "./keys.ts";
import { signRequest, verifyRequest } from "./signatures.ts";
import type { KeyResolver, ResolvedKey, SignableRequest, SignatureScheme, SigningKey } from "./types.ts";

const ACTOR = "https://b.test/users/bob";
const KEY_ID = `${ACTOR}#main-key`;
const INBOX = "https://a.test/users/alice/inbox";
const BODY = JSON.stringify({ type: "Create", actor: ACTOR, object: { type: "Note", content: "hi" } });
const NOW = new Date("2025-01-02T03:04:05Z");

let rsa: SigningKeyPair;
let ed: SigningKeyPair;

beforeAll(async () => {
  [rsa, ed] = await Promise.all([generateSigningKeyPair(), generateSigningKeyPair("ed25519")]);
});

function signing(pair: SigningKeyPair, algorithm: SigningKey["algorithm"] = "rsa-sha256"): SigningKey {
  return { keyId: KEY_ID, privateKey: pair.privateKey, algorithm };
}

/** A resolver serving fixed keys, counting calls; `rotated` is what a refresh returns. */
function staticResolver(
  key: Partial<ResolvedKey> & { publicKey: KeyObject },
  rotated?: KeyObject,
): KeyResolver & { calls: Array<boolean> } {
  const calls: boolean[] = [];
  return {
    calls,
    async resolve(keyId, options) {
      calls.push(options?.refresh ?? false);
      const publicKey = options?.refresh && rotated ? rotated : key.publicKey;
      return { keyId, ownerActorId: ACTOR, ...key, publicKey };
    },
  };
}

function signedPost(
  key: SigningKey,
  scheme: SignatureScheme,
  options: { now?: Date; lowercaseDigest?: boolean } = {},
) {
  const request: SignableRequest = {
    method: "POST",
    url: INBOX,
    headers: { "content-type": "application/activity+json" },
    body: BODY,
  };
  const headers = { ...request.headers, ...signRequest(request, key, { scheme, now: NOW, ...options }) };
  return { ...request, headers };
}

const verifyAt = { now: NOW };

describe("signRequest", () => {
  it("writes Mastodon's cavage form for a POST", () => {
    const headers = signRequest({ method: "POST", url: INBOX, headers: {}, body: BODY }, signing(rsa), {
      now: NOW,
    });
    expect(headers.host).toBe("a.test");
    expect(headers.date).toBe("Thu, 02 Jan 2025 03:04:05 GMT");
    expect(headers.digest).toBe(`SHA-256=${createHash("sha256").update(BODY).digest("base64")}`);
    expect(headers.signature).toMatch(
      /^keyId="https:\/\/b\.test\/users\/bob#main-key",algorithm="rsa-sha256",headers="\(request-target\) host date digest",signature="[A-Za-z0-9+/=]+"$/,
    );
    expect(headers["signature-input"]).toBeUndefined();
  });

  it("covers (request-target) host date on a GET and adds no digest", () => {
    const headers = signRequest({ method: "GET", url: ACTOR, headers: {} }, signing(rsa), { now: NOW });
    expect(headers.signature).toContain('headers="(request-target) host date"');
    expect(headers.digest).toBeUndefined();
  });

  it("writes RFC 9421 fields with created, keyid, alg and a Content-Digest", () => {
    const headers = signRequest({ method: "POST", url: INBOX, headers: {}, body: BODY }, signing(rsa), {
      scheme: "rfc9421",
      now: NOW,
    });
    const created = NOW.getTime() / 1000;
    expect(headers["signature-input"]).toBe(
      `sig1=("@method" "@target-uri" "content-digest");created=${created};keyid="${KEY_ID}";alg="rsa-v1_5-sha256"`,
    );
    expect(headers.signature).toMatch(/^sig1=:[A-Za-z0-9+/=]+:$/);
    expect(headers["content-digest"]).toBe(`sha-256=:${createHash("sha256").update(BODY).digest("base64")}:`);
    expect(headers.digest).toBeUndefined();
  });

  it("keeps the port in Host for non-default ports", () => {
    const headers = signRequest({ method: "GET", url: "http://127.0.0.1:8080/x", headers: {} }, signing(rsa));
    expect(headers.host).toBe("127.0.0.1:8080");
  });

  it("writes a lower-case digest prefix on request", () => {
    const headers = signRequest({ method: "POST", url: INBOX, headers: {}, body: BODY }, signing(rsa), {
      lowercaseDigest: true,
    });
    expect(headers.digest).toMatch(/^sha-256=/);
  });
});

describe("verifyRequest round trips", () => {
  const cases = [
    ["draft-cavage-12", "rsa-sha256"],
    ["draft-cavage-12", "ed25519"],
    ["rfc9421", "rsa-sha256"],
    ["rfc9421", "ed25519"],
  ] as const;
  for (const [scheme, algorithm] of cases) {
    it(`${scheme} with ${algorithm}: POST and GET verify`, async () => {
      const pair = algorithm === "ed25519" ? ed : rsa;
      const key = signing(pair, algorithm);
      const resolver = staticResolver({ publicKey: pair.publicKey });
      const post = await verifyRequest(signedPost(key, scheme), resolver, verifyAt);
      expect(post).toEqual({ ok: true, scheme, keyId: KEY_ID, actorId: ACTOR });
      const get: SignableRequest = {
        method: "GET",
        url: ACTOR,
        headers: { accept: "application/activity+json" },
      };
      get.headers = { ...get.headers, ...signRequest(get, key, { scheme, now: NOW }) };
      expect(await verifyRequest(get, resolver, verifyAt)).toMatchObject({ ok: true, scheme });
    });
  }

  it("accepts header names in any case", async () => {
    const request = signedPost(signing(rsa), "draft-cavage-12");
    const upper = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toUpperCase(), v]));
    const verdict = await verifyRequest(
      { ...request, headers: upper },
      staticResolver({ publicKey: rsa.publicKey }),
      verifyAt,
    );
    expect(verdict.ok).toBe(true);
  });

  it("accepts the signature in Authorization: Signature", async () => {
    const { signature, ...headers } = signedPost(signing(rsa), "draft-cavage-12").headers;
    const request = {
      method: "POST",
      url: INBOX,
      body: BODY,
      headers: { ...headers, authorization: `Signature ${signature}` },
    };
    const verdict = await verifyRequest(request, staticResolver({ publicKey: rsa.publicKey }), verifyAt);
    expect(verdict).toMatchObject({ ok: true, scheme: "draft-cavage-12" });
  });

  it("accepts a lower-case digest prefix", async () => {
    const request = signedPost(signing(rsa), "draft-cavage-12", { lowercaseDigest: true });
    expect(request.headers.digest).toMatch(/^sha-256=/);
    const verdict = await verifyRequest(request, staticResolver({ publicKey: rsa.publicKey }), verifyAt);
    expect(verdict.ok).toBe(true);
  });
});

describe("verifyRequest rejects", () => {
  const resolver = () => staticResolver({ publicKey: rsa.publicKey });

  it("an unsigned request", async () => {
    const verdict = await verifyRequest(
      { method: "POST", url: INBOX, headers: {}, body: BODY },
      resolver(),
      verifyAt,
    );
    expect(verdict.ok).toBe(false);
    expect(verdict.reason).toMatch(/not signed/);
  });

  for (const scheme of ["draft-cavage-12", "rfc9421"] as const) {
    it(`${scheme}: a bad signature`, async () => {
      const request = signedPost(signing(rsa), scheme);
      request.headers.signature =
        scheme === "rfc9421"
          ? request.headers.signature!.replace(/^sig1=:(.)/, (_, c) => `sig1=:${c === "A" ? "B" : "A"}`)
          : request.headers.signature!.replace(
              /signature="(.)/,
              (_, c) => `signature="${c === "A" ? "B" : "A"}`,
            );
      const verdict = await verifyRequest(request, resolver(), verifyAt);
      expect(verdict).toMatchObject({ ok: false, scheme, keyId: KEY_ID, refetched: true });
      expect(verdict.reason).toMatch(/does not verify with key .* also after refetching/);
    });

    it(`${scheme}: a signature by another key`, async () => {
      const other = await generateSigningKeyPair();
      const verdict = await verifyRequest(signedPost(signing(other), scheme), resolver(), verifyAt);
      expect(verdict.ok).toBe(false);
      expect(verdict.reason).toMatch(/does not verify/);
    });

    it(`${scheme}: a body altered after signing (digest mismatch)`, async () => {
      const request = { ...signedPost(signing(rsa), scheme), body: BODY.replace("hi", "ho") };
      const verdict = await verifyRequest(request, resolver(), verifyAt);
      expect(verdict.ok).toBe(false);
      expect(verdict.reason).toMatch(
        /Digest sha-256 does not match the body|Digest SHA-256 does not match the body/,
      );
    });

    it(`${scheme}: a stale clock (2 h in the past)`, async () => {
      const request = signedPost(signing(rsa), scheme, { now: new Date(NOW.getTime() - 7200_000) });
      const verdict = await verifyRequest(request, resolver(), verifyAt);
      expect(verdict.ok).toBe(false);
      const what = scheme === "rfc9421" ? "created" : "Date";
      expect(verdict.reason).toBe(`${what} is 7200 s in the past; the window is 3600 s`);
    });

    it(`${scheme}: a clock in the future beyond the window`, async () => {
      const request = signedPost(signing(rsa), scheme, { now: new Date(NOW.getTime() + 3700_000) });
      const verdict = await verifyRequest(request, resolver(), verifyAt);
      expect(verdict.reason).toMatch(/is 3700 s in the future; the window is 3600 s$/);
    });

    it(`${scheme}: a key whose owner is not confirmed`, async () => {
      const unowned = staticResolver({ publicKey: rsa.publicKey, ownerActorId: null, claimedOwner: ACTOR });
      const verdict = await verifyRequest(signedPost(signing(rsa), scheme), unowned, verifyAt);
      expect(verdict.ok).toBe(false);
      expect(verdict.reason).toBe(
        `Key ${KEY_ID} claims owner ${ACTOR}, but that actor's document does not list the key`,
      );
    });
  }

  it("a skew inside a custom window passes, outside fails", async () => {
    const request = signedPost(signing(rsa), "draft-cavage-12", { now: new Date(NOW.getTime() - 600_000) });
    expect((await verifyRequest(request, resolver(), { now: NOW, skewSeconds: 900 })).ok).toBe(true);
    expect((await verifyRequest(request, resolver(), { now: NOW, skewSeconds: 300 })).reason).toBe(
      "Date is 600 s in the past; the window is 300 s",
    );
  });

  it("cavage: a signature that does not cover host", async () => {
    const request = signedPost(signing(rsa), "draft-cavage-12");
    const data = [
      `(request-target): post /users/alice/inbox`,
      `date: ${request.headers.date}`,
      `digest: ${request.headers.digest}`,
    ].join("\n");
    const sig = createSign("sha256").update(data).sign(rsa.privateKey, "base64");
    request.headers.signature = `keyId="${KEY_ID}",algorithm="rsa-sha256",headers="(request-target) date digest",signature="${sig}"`;
    const verdict = await verifyRequest(request, resolver(), verifyAt);
    expect(verdict.reason).toBe(
      "The signature does not cover host (it covers: (request-target) date digest)",
    );
  });

  it("cavage: a POST whose signature does not cover digest", async () => {
    const request = signedPost(signing(rsa), "draft-cavage-12");
    const data = [
      `(request-target): post /users/alice/inbox`,
      "host: a.test",
      `date: ${request.headers.date}`,
    ].join("\n");
    const sig = createSign("sha256").update(data).sign(rsa.privateKey, "base64");
    request.headers.signature = `keyId="${KEY_ID}",algorithm="rsa-sha256",headers="(request-target) host date",signature="${sig}"`;
    expect((await verifyRequest(request, resolver(), verifyAt)).reason).toMatch(/does not cover digest/);
    expect((await verifyRequest(request, resolver(), { ...verifyAt, requireDigest: false })).ok).toBe(true);
  });

  it("rfc9421: a POST whose signature does not cover content-digest", async () => {
    const request: SignableRequest = { method: "POST", url: INBOX, headers: {}, body: BODY };
    const { "content-digest": _digest, ...signed } = signRequest(
      { ...request, body: undefined },
      signing(rsa),
      {
        scheme: "rfc9421",
        now: NOW,
      },
    );
    const verdict = await verifyRequest({ ...request, headers: signed }, resolver(), verifyAt);
    expect(verdict.reason).toBe(
      "Signature sig1 does not cover content-digest (it covers: @method @target-uri)",
    );
  });

  it("cavage: a covered header missing from the request", async () => {
    const request = signedPost(signing(rsa), "draft-cavage-12");
    delete request.headers.date;
    expect((await verifyRequest(request, resolver(), verifyAt)).reason).toBe(
      "covered header 'date' is missing from the request",
    );
  });

  it("a keyId the resolver cannot find", async () => {
    const none: KeyResolver = { resolve: async () => null };
    const verdict = await verifyRequest(signedPost(signing(rsa), "rfc9421"), none, verifyAt);
    expect(verdict).toMatchObject({ ok: false, reason: `Could not resolve key ${KEY_ID}` });
  });

  it("a resolver that throws, without throwing itself", async () => {
    const failing: KeyResolver = {
      resolve: async () => {
        throw new Error("connection refused");
      },
    };
    const verdict = await verifyRequest(signedPost(signing(rsa), "draft-cavage-12"), failing, verifyAt);
    expect(verdict.reason).toBe(`Could not fetch key ${KEY_ID}: connection refused`);
  });

  it("garbage in the signature headers, each with its own reason", async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ signature: "nonsense" }, /Signature header is malformed near "nonsense"/],
      [{ signature: 'keyId="x"' }, /Signature header has no signature value/],
      [
        { "signature-input": "sig1=(", signature: "sig1=:AA==:" },
        /Signature-Input is not a valid structured field/,
      ],
      [
        { "signature-input": 'sig1=("@method");created=1', signature: "sig2=:AA==:" },
        /Signature has no value labelled sig1/,
      ],
      [{ "signature-input": 'sig1=("@method");created=1' }, /Signature header is missing/],
      [
        { signature: 'keyId="x",signature="AA=="' },
        /does not cover \(request-target\), host \(it covers: date\)/,
      ],
    ];
    for (const [headers, reason] of cases) {
      const verdict = await verifyRequest({ method: "GET", url: ACTOR, headers }, resolver(), verifyAt);
      expect(verdict.ok).toBe(false);
      expect(verdict.reason).toMatch(reason);
    }
  });

  it("an ed25519 key presented with algorithm rsa-sha256", async () => {
    const request = signedPost(signing(ed, "ed25519"), "draft-cavage-12");
    request.headers.signature = request.headers.signature!.replace(
      'algorithm="hs2019"',
      'algorithm="rsa-sha256"',
    );
    const verdict = await verifyRequest(request, staticResolver({ publicKey: ed.publicKey }), verifyAt);
    expect(verdict.reason).toMatch(/^algorithm "rsa-sha256" needs an RSA key, but the key is ed25519/);
  });
});

describe("key rotation", () => {
  for (const scheme of ["draft-cavage-12", "rfc9421"] as const) {
    it(`${scheme}: refetches the key once and then verifies`, async () => {
      const fresh = await generateSigningKeyPair();
      const resolver = staticResolver({ publicKey: rsa.publicKey }, fresh.publicKey);
      const verdict = await verifyRequest(signedPost(signing(fresh), scheme), resolver, verifyAt);
      expect(verdict).toMatchObject({ ok: true, refetched: true, actorId: ACTOR });
      expect(resolver.calls).toEqual([false, true]);
    });
  }

  it("does not refetch when the cached key verifies", async () => {
    const resolver = staticResolver({ publicKey: rsa.publicKey });
    const verdict = await verifyRequest(signedPost(signing(rsa), "draft-cavage-12"), resolver, verifyAt);
    expect(verdict.refetched).toBeUndefined();
    expect(resolver.calls).toEqual([false]);
  });
});

describe("known answers from an independent computation", () => {
  it("verifies a cavage signature computed by hand with node:crypto", async () => {
    const date = "Thu, 02 Jan 2025 03:04:05 GMT";
    const digest = `SHA-256=${createHash("sha256").update(BODY, "utf8").digest("base64")}`;
    const signingString = `(request-target): post /users/alice/inbox\nhost: a.test\ndate: ${date}\ndigest: ${digest}`;
    const signature = createSign("RSA-SHA256").update(signingString).sign(rsa.privateKey).toString("base64");
    const headers = {
      host: "a.test",
      date,
      digest,
      "content-type": "application/activity+json",
      signature: `keyId="${KEY_ID}",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="${signature}"`,
    };
    const verdict = await verifyRequest(
      { method: "POST", url: INBOX, headers, body: BODY },
      staticResolver({ publicKey: rsa.publicKey }),
      verifyAt,
    );
    expect(verdict).toEqual({ ok: true, scheme: "draft-cavage-12", keyId: KEY_ID, actorId: ACTOR });
  });

  it("accepts hs2019 as rsa-sha256 (SIG-07)", async () => {
    const date = NOW.toUTCString();
    const signingString = `(request-target): get /users/bob\nhost: b.test\ndate: ${date}`;
    const signature = createSign("RSA-SHA256").update(signingString).sign(rsa.privateKey).toString("base64");
    const headers = {
      host: "b.test",
      date,
      signature: `keyId="${KEY_ID}",algorithm="hs2019",headers="(request-target) host date",signature="${signature}"`,
    };
    const verdict = await verifyRequest(
      { method: "GET", url: ACTOR, headers },
      staticResolver({ publicKey: rsa.publicKey }),
      verifyAt,
    );
    expect(verdict).toMatchObject({ ok: true, scheme: "draft-cavage-12" });
  });

  it("signs exactly the string an independent computation verifies", () => {
    const headers = signRequest({ method: "POST", url: INBOX, headers: {}, body: BODY }, signing(rsa), {
      now: NOW,
    });
    const signature = /signature="([^"]+)"/.exec(headers.signature!)![1]!;
    const signingString = `(request-target): post /users/alice/inbox\nhost: a.test\ndate: ${NOW.toUTCString()}\ndigest: ${headers.digest}`;
    const ok = createVerify("RSA-SHA256").update(signingString).verify(rsa.publicKey, signature, "base64");
    expect(ok).toBe(true);
  });
});

describe("interop with Fedify 2.3.6", () => {
  const specs = [
    ["draft-cavage-12", "draft-cavage-http-signatures-12"],
    ["rfc9421", "rfc9421"],
  ] as const;
  let fedifyPair: Awaited<ReturnType<typeof generateCryptoKeyPair>>;
  let actorDoc: Record<string, unknown>;

  beforeAll(async () => {
    fedifyPair = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
    actorDoc = {
      "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
      id: ACTOR,
      type: "Person",
      inbox: `${ACTOR}/inbox`,
      publicKey: { id: KEY_ID, type: "CryptographicKey", owner: ACTOR, publicKeyPem: rsa.publicKeyPem },
    };
  });

  for (const [ours, theirs] of specs) {
    it(`${ours}: Fedify signs, we verify`, async () => {
      const request = new Request(INBOX, {
        method: "POST",
        body: BODY,
        headers: { "content-type": "application/activity+json" },
      });
      const signed = await fedifySign(request, fedifyPair.privateKey, new URL(KEY_ID), { spec: theirs });
      const verdict = await verifyRequest(
        {
          method: "POST",
          url: INBOX,
          headers: Object.fromEntries(signed.headers),
          body: await signed.text(),
        },
        staticResolver({ publicKey: KeyObject.from(fedifyPair.publicKey) }),
      );
      expect(verdict).toEqual({ ok: true, scheme: ours, keyId: KEY_ID, actorId: ACTOR });
    });

    it(`${ours}: we sign, Fedify verifies`, async () => {
      const headers = signRequest({ method: "POST", url: INBOX, headers: {}, body: BODY }, signing(rsa), {
        scheme: ours,
      });
      const request = new Request(INBOX, { method: "POST", body: BODY, headers });
      const documentLoader = async (url: string) => ({
        contextUrl: null,
        document: actorDoc,
        documentUrl: url,
      });
      const key = await fedifyVerify(request, { documentLoader, spec: theirs });
      expect(key?.id?.href).toBe(KEY_ID);
    });

    it(`${ours}: Fedify rejects what we sign with another key`, async () => {
      const other = await generateSigningKeyPair();
      const headers = signRequest({ method: "POST", url: INBOX, headers: {}, body: BODY }, signing(other), {
        scheme: ours,
      });
      const request = new Request(INBOX, { method: "POST", body: BODY, headers });
      const documentLoader = async (url: string) => ({
        contextUrl: null,
        document: actorDoc,
        documentUrl: url,
      });
      expect(await fedifyVerify(request, { documentLoader, spec: theirs })).toBeNull();
    });
  }
});
