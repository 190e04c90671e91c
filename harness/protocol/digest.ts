/**
 * Body digests: the RFC 3230 `Digest` header draft-cavage signatures cover, and the RFC 9530
 * `Content-Digest` header RFC 9421 signatures cover.
 * @module
 */
import { createHash } from "node:crypto";
import { isInnerList, parseDictionary, serializeDictionary } from "structured-headers";

/** A request or response body as signing and digests see it. */
export type Body = Uint8Array | string;

function bytesOf(body: Body | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array();
  return typeof body === "string" ? Buffer.from(body, "utf8") : body;
}

function hash(algorithm: "sha256" | "sha512", body: Body | undefined): Buffer {
  return createHash(algorithm).update(bytesOf(body)).digest();
}

/**
 * The `Digest` header value for a body: `SHA-256=<base64>`. `lowercase: true` (default false) writes
 * `sha-256=`, which RFC 3230 allows but some servers (Threads) reject; used to test receivers.
 */
export function digestHeader(body: Body | undefined, options: { lowercase?: boolean } = {}): string {
  const prefix = options.lowercase ? "sha-256" : "SHA-256";
  return `${prefix}=${hash("sha256", body).toString("base64")}`;
}

/** The RFC 9530 `Content-Digest` header value for a body: `sha-256=:<base64>:`. */
export function contentDigestHeader(body: Body | undefined): string {
  return serializeDictionary({ "sha-256": hash("sha256", body) });
}

/** Result of {@link checkDigest}. */
export interface DigestCheck {
  /** True when a digest header is present and every supported digest in it matches the body. */
  ok: boolean;
  /** Which header was checked; `content-digest` when both are present (both are then checked). */
  present: "digest" | "content-digest" | "none";
  /** Why the check failed, phrased for a person. */
  reason?: string;
  /** True when `Digest` used a lower-case `sha-256=` prefix (accepted, but worth a finding). */
  lowercasePrefix?: boolean;
}

const DIGEST_ALGORITHMS: Record<string, "sha256" | "sha512"> = { "sha-256": "sha256", "sha-512": "sha512" };

/** The hash of a digest algorithm name; own keys only, so `constructor=…` finds nothing (issue 7 fuzzing). */
function hashOf(name: string): "sha256" | "sha512" | undefined {
  return Object.hasOwn(DIGEST_ALGORITHMS, name) ? DIGEST_ALGORITHMS[name] : undefined;
}

function checkDigestField(
  value: string,
  body: Body | undefined,
): { reason?: string; lowercasePrefix: boolean } {
  let checked = 0;
  let lowercasePrefix = false;
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) return { reason: `Digest entry ${JSON.stringify(part.trim())} has no '='`, lowercasePrefix };
    const name = part.slice(0, eq).trim();
    const algorithm = hashOf(name.toLowerCase());
    if (!algorithm) continue;
    if (name !== name.toUpperCase()) lowercasePrefix = true;
    const expected = hash(algorithm, body).toString("base64");
    const found = part.slice(eq + 1).trim();
    if (found !== expected) {
      return {
        reason: `Digest ${name} does not match the body: header has ${found}, body hashes to ${expected}`,
        lowercasePrefix,
      };
    }
    checked++;
  }
  if (checked === 0) {
    return { reason: `Digest names no supported algorithm (SHA-256, SHA-512): ${value}`, lowercasePrefix };
  }
  return { lowercasePrefix };
}

function checkContentDigestField(value: string, body: Body | undefined): string | undefined {
  let dictionary: ReturnType<typeof parseDictionary>;
  try {
    dictionary = parseDictionary(value);
  } catch (error) {
    return `Content-Digest is not a structured-field dictionary (${(error as Error).message}): ${value}`;
  }
  let checked = 0;
  for (const [name, member] of dictionary) {
    const algorithm = hashOf(name);
    if (!algorithm) continue;
    const bytes = isInnerList(member) ? undefined : member[0];
    if (!(bytes instanceof ArrayBuffer)) {
      return `Content-Digest ${name} is not a byte sequence (expected ${name}=:<base64>:)`;
    }
    const found = Buffer.from(bytes);
    const expected = hash(algorithm, body);
    if (!found.equals(expected)) {
      return `Content-Digest ${name} does not match the body: header has ${found.toString("base64")}, body hashes to ${expected.toString("base64")}`;
    }
    checked++;
  }
  if (checked === 0) return `Content-Digest names no supported algorithm (sha-256, sha-512): ${value}`;
  return undefined;
}

/**
 * Checks the body against whichever digest headers are present (`digest` and/or `content-digest`,
 * names lower-case). A request with neither gives `{ ok: false, present: "none" }`.
 */
export function checkDigest(headers: Record<string, string>, body: Body | undefined): DigestCheck {
  const digest = headers.digest;
  const contentDigest = headers["content-digest"];
  if (digest === undefined && contentDigest === undefined) {
    return {
      ok: false,
      present: "none",
      reason: "The request has neither a Digest nor a Content-Digest header",
    };
  }
  let lowercasePrefix: boolean | undefined;
  if (digest !== undefined) {
    const result = checkDigestField(digest, body);
    lowercasePrefix = result.lowercasePrefix;
    if (result.reason) return { ok: false, present: "digest", reason: result.reason, lowercasePrefix };
  }
  if (contentDigest !== undefined) {
    const reason = checkContentDigestField(contentDigest, body);
    const verdict: DigestCheck = { ok: reason === undefined, present: "content-digest" };
    if (reason) verdict.reason = reason;
    if (lowercasePrefix !== undefined) verdict.lowercasePrefix = lowercasePrefix;
    return verdict;
  }
  return { ok: true, present: "digest", lowercasePrefix: lowercasePrefix ?? false };
}
