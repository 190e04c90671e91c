/**
 * Key pairs for signing, PEM and Multikey (de)serialisation, and the key blocks an actor publishes.
 * @module
 */
import { createPublicKey, generateKeyPair, generateKeyPairSync, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import type { SigningKey } from "./types.ts";

/** Algorithm of a signing key, as named in {@link SigningKey}. */
export type KeyAlgorithm = SigningKey["algorithm"];

/** A freshly generated key pair with its public half as SPKI PEM. */
export interface SigningKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** `-----BEGIN PUBLIC KEY-----` (SPKI), the form actors publish in `publicKeyPem`. */
  publicKeyPem: string;
}

const generateKeyPairAsync = promisify(generateKeyPair);

function toPair(privateKey: KeyObject, publicKey: KeyObject): SigningKeyPair {
  const publicKeyPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  return { privateKey, publicKey, publicKeyPem };
}

/**
 * Generates a new key pair: RSA 2048 (`rsa-sha256`, the default) or Ed25519. Runs off the main
 * thread; nothing is cached or pooled, so every call gives a distinct key.
 */
export async function generateSigningKeyPair(
  algorithm: KeyAlgorithm = "rsa-sha256",
): Promise<SigningKeyPair> {
  if (algorithm === "ed25519") {
    const { privateKey, publicKey } = await generateKeyPairAsync("ed25519");
    return toPair(privateKey, publicKey);
  }
  const { privateKey, publicKey } = await generateKeyPairAsync("rsa", {
    modulusLength: 2048,
    publicExponent: 0x10001,
  });
  return toPair(privateKey, publicKey);
}

/** Synchronous {@link generateSigningKeyPair}, for setup code that cannot await. Blocks ~50–200 ms for RSA. */
export function generateSigningKeyPairSync(algorithm: KeyAlgorithm = "rsa-sha256"): SigningKeyPair {
  if (algorithm === "ed25519") {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    return toPair(privateKey, publicKey);
  }
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicExponent: 0x10001,
  });
  return toPair(privateKey, publicKey);
}

/** Parses a PEM public key (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`); throws on malformed input. */
export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey({ key: pem, format: "pem" });
}

/** The signing algorithm a key supports, or undefined for key types HTTP signatures here do not use. */
export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm | undefined {
  if (key.asymmetricKeyType === "rsa") return "rsa-sha256";
  if (key.asymmetricKeyType === "ed25519") return "ed25519";
  return undefined;
}

/** The `publicKey` block of an actor document, as Mastodon publishes it. */
export interface PublicKeyBlock {
  id: string;
  type: "CryptographicKey";
  owner: string;
  publicKeyPem: string;
}

/** Builds an actor's `publicKey` block. `keyId` is usually `<actorId>#main-key`. */
export function publicKeyBlock(options: {
  keyId: string;
  ownerId: string;
  publicKeyPem: string;
}): PublicKeyBlock {
  return {
    id: options.keyId,
    type: "CryptographicKey",
    owner: options.ownerId,
    publicKeyPem: options.publicKeyPem,
  };
}

/** A Multikey entry of an actor's `assertionMethod` (FEP-521a). */
export interface MultikeyBlock {
  id: string;
  type: "Multikey";
  controller: string;
  publicKeyMultibase: string;
}

/** Builds a Multikey block for `assertionMethod` (Ed25519 or RSA). */
export function multikeyBlock(options: {
  keyId: string;
  controller: string;
  publicKey: KeyObject;
}): MultikeyBlock {
  return {
    id: options.keyId,
    type: "Multikey",
    controller: options.controller,
    publicKeyMultibase: publicKeyToMultibase(options.publicKey),
  };
}

/** The JSON-LD contexts an actor needs for `publicKey` and Multikey terms. */
export const SECURITY_CONTEXTS: readonly string[] = [
  "https://w3id.org/security/v1",
  "https://w3id.org/security/multikey/v1",
];

// Multicodec prefixes (unsigned varints): ed25519-pub 0xed, rsa-pub 0x1205.
const ED25519_PREFIX = Uint8Array.of(0xed, 0x01);
const RSA_PREFIX = Uint8Array.of(0x85, 0x24);
const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

function base58Encode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  const digits: number[] = [];
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i]!;
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j]! << 8;
      digits[j] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = Math.floor(carry / 58);
    }
  }
  return (
    "1".repeat(zeros) +
    digits
      .reverse()
      .map((d) => BASE58[d])
      .join("")
  );
}

function base58Decode(text: string): Uint8Array {
  let zeros = 0;
  while (zeros < text.length && text[zeros] === "1") zeros++;
  const bytes: number[] = [];
  for (let i = zeros; i < text.length; i++) {
    let carry = BASE58.indexOf(text[i]!);
    if (carry < 0) throw new Error(`invalid base58 character ${JSON.stringify(text[i])}`);
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j]! * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  return Uint8Array.from([...new Array<number>(zeros).fill(0), ...bytes.reverse()]);
}

/** Encodes a public key as `publicKeyMultibase` (base58btc `z…`, multicodec-prefixed). */
export function publicKeyToMultibase(key: KeyObject): string {
  if (key.asymmetricKeyType === "ed25519") {
    const jwk = key.export({ format: "jwk" });
    const raw = Buffer.from(jwk.x ?? "", "base64url");
    return `z${base58Encode(Buffer.concat([ED25519_PREFIX, raw]))}`;
  }
  if (key.asymmetricKeyType === "rsa") {
    const der = key.export({ type: "pkcs1", format: "der" });
    return `z${base58Encode(Buffer.concat([RSA_PREFIX, der]))}`;
  }
  throw new Error(`unsupported key type for Multikey: ${key.asymmetricKeyType}`);
}

/** Decodes a `publicKeyMultibase` value (Ed25519 or RSA); throws on other encodings or key types. */
export function publicKeyFromMultibase(value: string): KeyObject {
  if (!value.startsWith("z")) throw new Error("publicKeyMultibase must be base58btc (start with 'z')");
  const bytes = base58Decode(value.slice(1));
  const startsWith = (prefix: Uint8Array) => prefix.every((b, i) => bytes[i] === b);
  if (startsWith(ED25519_PREFIX) && bytes.length === 34) {
    const x = Buffer.from(bytes.subarray(2)).toString("base64url");
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  }
  if (startsWith(RSA_PREFIX)) {
    return createPublicKey({ key: Buffer.from(bytes.subarray(2)), format: "der", type: "pkcs1" });
  }
  throw new Error("publicKeyMultibase holds neither an Ed25519 nor an RSA public key");
}
