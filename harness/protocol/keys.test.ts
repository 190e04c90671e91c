import { createPublicKey, sign, verify } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  generateSigningKeyPair,
  generateSigningKeyPairSync,
  keyAlgorithmOf,
  multikeyBlock,
  publicKeyBlock,
  publicKeyFromMultibase,
  publicKeyFromPem,
  publicKeyToMultibase,
} from "./keys.ts";

describe("keys", () => {
  it("generates distinct RSA 2048 pairs with an SPKI PEM", async () => {
    const [a, b] = await Promise.all([generateSigningKeyPair(), generateSigningKeyPair("rsa-sha256")]);
    expect(a.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(a.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(a.publicKeyPem).not.toBe(b.publicKeyPem);
    expect(keyAlgorithmOf(a.publicKey)).toBe("rsa-sha256");
    expect(publicKeyFromPem(a.publicKeyPem).equals(a.publicKey)).toBe(true);
  });

  it("generates Ed25519 pairs, also synchronously", () => {
    const pair = generateSigningKeyPairSync("ed25519");
    expect(keyAlgorithmOf(pair.publicKey)).toBe("ed25519");
    const signature = sign(null, Buffer.from("x"), pair.privateKey);
    expect(verify(null, Buffer.from("x"), publicKeyFromPem(pair.publicKeyPem), signature)).toBe(true);
  });

  it("reads PKCS#1 RSA PEMs too and rejects garbage", async () => {
    const pair = await generateSigningKeyPair();
    const pkcs1 = pair.publicKey.export({ type: "pkcs1", format: "pem" }).toString();
    expect(pkcs1).toMatch(/BEGIN RSA PUBLIC KEY/);
    expect(publicKeyFromPem(pkcs1).equals(pair.publicKey)).toBe(true);
    expect(() => publicKeyFromPem("not a key")).toThrow();
  });

  it("builds the actor key blocks", async () => {
    const pair = await generateSigningKeyPair("ed25519");
    expect(
      publicKeyBlock({ keyId: "https://a.test/u#k", ownerId: "https://a.test/u", publicKeyPem: "PEM" }),
    ).toEqual({
      id: "https://a.test/u#k",
      type: "CryptographicKey",
      owner: "https://a.test/u",
      publicKeyPem: "PEM",
    });
    const block = multikeyBlock({
      keyId: "https://a.test/u#e",
      controller: "https://a.test/u",
      publicKey: pair.publicKey,
    });
    expect(block).toMatchObject({ type: "Multikey", controller: "https://a.test/u" });
    expect(block.publicKeyMultibase).toMatch(/^z6Mk/); // every Ed25519 Multikey starts so
  });

  it("round-trips Multikey encodings for Ed25519 and RSA", async () => {
    for (const algorithm of ["ed25519", "rsa-sha256"] as const) {
      const pair = await generateSigningKeyPair(algorithm);
      const decoded = publicKeyFromMultibase(publicKeyToMultibase(pair.publicKey));
      expect(decoded.equals(pair.publicKey)).toBe(true);
    }
  });

  it("decodes a published Ed25519 Multikey value (did:key example)", () => {
    const key = publicKeyFromMultibase("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2");
    expect(key.asymmetricKeyType).toBe("ed25519");
    expect(publicKeyToMultibase(key)).toBe("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2");
  });

  it("rejects non-base58btc and unknown codecs", () => {
    expect(() => publicKeyFromMultibase("uAAAA")).toThrow(/base58btc/);
    expect(() => publicKeyFromMultibase("z0OIl")).toThrow(/invalid base58/);
    expect(() => publicKeyFromMultibase("z111")).toThrow(/neither/);
  });

  it("round-trips any 32-byte Ed25519 public key through base58 (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (raw) => {
        const x = Buffer.from(raw).toString("base64url");
        // Node imports any 32 bytes as an Ed25519 public key without checking the point.
        const original = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
        const key = publicKeyFromMultibase(publicKeyToMultibase(original));
        expect(Buffer.from(key.export({ format: "jwk" }).x!, "base64url").equals(Buffer.from(raw))).toBe(
          true,
        );
      }),
      { numRuns: 50 },
    );
  });
});
