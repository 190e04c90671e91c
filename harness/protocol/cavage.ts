/**
 * draft-cavage-http-signatures-12 as the Fediverse uses it (Mastodon's profile): the signing string,
 * the `Signature` header's syntax, and its algorithms. Policy (what must be covered, clock skew)
 * lives in verify.ts.
 * @module
 */
import { constants, createSign, type KeyObject, sign, verify } from "node:crypto";
import type { SignableRequest, SigningKey } from "./types.ts";

/** Headers Mastodon signs on a GET. */
export const CAVAGE_GET_HEADERS: readonly string[] = ["(request-target)", "host", "date"];
/** Headers Mastodon signs on a POST. */
export const CAVAGE_POST_HEADERS: readonly string[] = ["(request-target)", "host", "date", "digest"];

/** A parsed `Signature` (or `Authorization: Signature …`) value. */
export interface CavageSignature {
  keyId: string;
  /** As written (`rsa-sha256`, `hs2019`, …); undefined when absent. */
  algorithm?: string;
  /** Covered headers, lower-case, in order. Defaults to `["date"]` as the draft says. */
  headers: string[];
  signature: Buffer;
  /** `created` / `expires` parameters, Unix seconds, when present. */
  created?: number;
  expires?: number;
}

/** Thrown when a value needed for the signing string is missing or malformed. */
export class SignatureFormatError extends Error {
  override name = "SignatureFormatError";
}

/** `(request-target)`: lower-case method, space, path and query. */
export function requestTarget(request: SignableRequest): string {
  const url = new URL(request.url);
  return `${request.method.toLowerCase()} ${url.pathname}${url.search}`;
}

/**
 * Builds the signing string over `headerNames`. `params` supplies `(created)`/`(expires)`.
 * Throws {@link SignatureFormatError} naming a covered header the request lacks.
 */
export function cavageSigningString(
  request: SignableRequest,
  headerNames: readonly string[],
  params: { created?: number; expires?: number } = {},
): string {
  return headerNames
    .map((name) => {
      if (name === "(request-target)") return `${name}: ${requestTarget(request)}`;
      if (name === "(created)" || name === "(expires)") {
        const value = name === "(created)" ? params.created : params.expires;
        if (value === undefined)
          throw new SignatureFormatError(`${name} is covered but the signature has no value for it`);
        return `${name}: ${value}`;
      }
      const value = request.headers[name];
      if (value === undefined)
        throw new SignatureFormatError(`covered header '${name}' is missing from the request`);
      return `${name}: ${value.trim()}`;
    })
    .join("\n");
}

/** The `algorithm` value written for a key: `rsa-sha256` for RSA (as Mastodon), `hs2019` for Ed25519. */
export function cavageAlgorithmFor(key: SigningKey): string {
  return key.algorithm === "ed25519" ? "hs2019" : "rsa-sha256";
}

/**
 * Signs the request over `headerNames` and returns the `Signature` header value. `algorithmName`
 * replaces the written `algorithm` (e.g. `hs2019` for an RSA key, as many servers send it); the
 * signature bytes stay those of the key's own algorithm.
 */
export function signCavage(
  request: SignableRequest,
  key: SigningKey,
  headerNames: readonly string[],
  algorithmName: string = cavageAlgorithmFor(key),
): string {
  const data = Buffer.from(cavageSigningString(request, headerNames), "utf8");
  const signature =
    key.algorithm === "ed25519"
      ? sign(null, data, key.privateKey)
      : createSign("sha256").update(data).sign(key.privateKey);
  return [
    `keyId="${key.keyId}"`,
    `algorithm="${algorithmName}"`,
    `headers="${headerNames.join(" ")}"`,
    `signature="${signature.toString("base64")}"`,
  ].join(",");
}

/**
 * Parses a `Signature` header value (or the part after `Signature ` in `Authorization`).
 * Throws {@link SignatureFormatError} when keyId or signature is missing.
 */
export function parseCavageSignature(value: string): CavageSignature {
  const params = new Map<string, string>();
  const text = value.trim().replace(/,$/, "");
  const pattern = /\s*([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)/y;
  while (pattern.lastIndex < text.length) {
    const at = pattern.lastIndex;
    const match = pattern.exec(text);
    if (!match) throw new SignatureFormatError(`Signature header is malformed near "${text.slice(at)}"`);
    params.set(match[1]!.toLowerCase(), match[2]?.replace(/\\(.)/g, "$1") ?? match[3] ?? "");
  }
  const keyId = params.get("keyid");
  const signature = params.get("signature");
  if (!keyId) throw new SignatureFormatError(`Signature header has no keyId: ${value}`);
  if (!signature) throw new SignatureFormatError(`Signature header has no signature value: ${value}`);
  const result: CavageSignature = {
    keyId,
    headers: (params.get("headers") ?? "date").toLowerCase().split(/\s+/).filter(Boolean),
    signature: Buffer.from(signature, "base64"),
  };
  const algorithm = params.get("algorithm");
  if (algorithm) result.algorithm = algorithm;
  const created = params.get("created");
  const expires = params.get("expires");
  if (created !== undefined && /^\d+$/.test(created)) result.created = Number(created);
  if (expires !== undefined && /^\d+(\.\d+)?$/.test(expires)) result.expires = Number(expires);
  return result;
}

/**
 * Verifies bytes for a cavage `algorithm` (case-insensitive). `hs2019` and a missing algorithm take
 * the key's type: RSA tries PKCS#1 v1.5 SHA-256 (Mastodon) and then PSS SHA-512 (the draft's hs2019).
 * Returns a reason when the algorithm does not fit the key.
 */
export function verifyCavageBytes(
  algorithm: string | undefined,
  key: KeyObject,
  data: Buffer,
  signature: Buffer,
): { ok: boolean; reason?: string } {
  const alg = (algorithm ?? "hs2019").toLowerCase();
  const type = key.asymmetricKeyType;
  const mismatch = (expected: string) => ({
    ok: false,
    reason: `algorithm "${algorithm}" needs ${expected} key, but the key is ${type}`,
  });
  if (alg === "rsa-sha256" || alg === "rsa-sha512") {
    if (type !== "rsa") return mismatch("an RSA");
    return { ok: verify(alg === "rsa-sha256" ? "sha256" : "sha512", data, key, signature) };
  }
  if (alg === "ed25519") {
    if (type !== "ed25519") return mismatch("an Ed25519");
    return { ok: verify(null, data, key, signature) };
  }
  if (alg === "hs2019") {
    if (type === "rsa") {
      if (verify("sha256", data, key, signature)) return { ok: true };
      const pss = { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 };
      return { ok: verify("sha512", data, pss, signature) };
    }
    if (type === "ed25519") return { ok: verify(null, data, key, signature) };
    if (type === "ec") return { ok: verify("sha256", data, key, signature) };
    return { ok: false, reason: `hs2019 with a ${type} key is not supported` };
  }
  return { ok: false, reason: `unsupported signature algorithm "${algorithm}"` };
}
