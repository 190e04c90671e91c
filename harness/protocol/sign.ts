/**
 * Signing outgoing requests with either scheme.
 * @module
 */
import { CAVAGE_GET_HEADERS, CAVAGE_POST_HEADERS, signCavage } from "./cavage.ts";
import { contentDigestHeader, digestHeader } from "./digest.ts";
import { signRfc9421 } from "./rfc9421.ts";
import type { SignableRequest, SignatureScheme, SigningKey } from "./types.ts";

/** Options of {@link signRequest}. */
export interface SignOptions {
  /** Default `draft-cavage-12`. */
  scheme?: SignatureScheme;
  /** Clock used for `Date` and `created`. Default: the current time. */
  now?: Date;
  /** Write the Digest prefix as `sha-256=` (cavage only). Default false. */
  lowercaseDigest?: boolean;
  /**
   * The `algorithm` written in a cavage `Signature` header, e.g. `hs2019`; the bytes are still signed
   * with the key's own algorithm (RSA keys: PKCS#1 v1.5 SHA-256, as Mastodon reads hs2019). Default:
   * `rsa-sha256` for RSA keys, `hs2019` for Ed25519.
   */
  algorithmName?: string;
}

/** Lower-cases header names (later names win), so callers may pass any casing. */
export function lowerCaseHeaders(headers: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) result[name.toLowerCase()] = value;
  return result;
}

/**
 * Signs a request and returns the headers to merge into it (lower-case names): `host`, `date`,
 * `digest` (cavage) or `content-digest` (RFC 9421) when there is a body, `signature`, and
 * `signature-input` for RFC 9421. Cavage covers `(request-target) host date [digest]` as Mastodon
 * does; RFC 9421 covers `@method @target-uri [content-digest]` with `created`, `keyid`, `alg`.
 * A body that is present but empty still gets a digest.
 */
export function signRequest(
  request: SignableRequest,
  key: SigningKey,
  options: SignOptions = {},
): Record<string, string> {
  const scheme = options.scheme ?? "draft-cavage-12";
  const now = options.now ?? new Date();
  const hasBody = request.body !== undefined;
  const added: Record<string, string> = { host: new URL(request.url).host, date: now.toUTCString() };
  if (scheme === "draft-cavage-12") {
    if (hasBody) added.digest = digestHeader(request.body, { lowercase: options.lowercaseDigest ?? false });
    const merged = { ...request, headers: { ...lowerCaseHeaders(request.headers), ...added } };
    const headerNames = hasBody ? CAVAGE_POST_HEADERS : CAVAGE_GET_HEADERS;
    added.signature = signCavage(merged, key, headerNames, options.algorithmName);
    return added;
  }
  if (hasBody) added["content-digest"] = contentDigestHeader(request.body);
  const merged = { ...request, headers: { ...lowerCaseHeaders(request.headers), ...added } };
  const components = hasBody ? ["@method", "@target-uri", "content-digest"] : ["@method", "@target-uri"];
  const created = Math.floor(now.getTime() / 1000);
  const { signatureInput, signature } = signRfc9421(merged, key, components, created);
  added["signature-input"] = signatureInput;
  added.signature = signature;
  return added;
}
