/**
 * HTTP signatures for the harness: signing, verifying, key resolution, and signed delivery with
 * double-knocking. The entry point other layers import.
 * @module
 */
import { AS2_ACCEPT } from "./key-resolver.ts";
import { signRequest } from "./sign.ts";
import type { HttpClient, HttpResponse, SignatureScheme, SigningKey } from "./types.ts";

export {
  AS2_ACCEPT,
  type CachingKeyResolver,
  createKeyResolver,
  type KeyResolverOptions,
} from "./key-resolver.ts";
export { type SignOptions, signRequest } from "./sign.ts";
export { type VerifyOptions, verifyRequest } from "./verify.ts";

/** Options of {@link deliverSigned}. */
export interface DeliverOptions {
  /** Scheme tried first. Default `draft-cavage-12`. */
  firstKnock?: SignatureScheme;
  /** After a 400/401/403, retry once with the other scheme. Default true. */
  doubleKnock?: boolean;
  /** Default `application/activity+json`. */
  contentType?: string;
  /** Per-attempt timeout in ms. Default: the client's. */
  timeoutMs?: number;
  /** Extra request headers (e.g. `accept`), signed over only where the scheme covers them. */
  headers?: Record<string, string>;
  /** Clock for Date/created. Default: the current time. */
  now?: Date;
  /** Write the cavage Digest prefix as `sha-256=`. Default false. */
  lowercaseDigest?: boolean;
}

/** One knock of {@link deliverSigned}. */
export interface DeliveryAttempt {
  scheme: SignatureScheme;
  status: number;
  /** Headers as sent, lower-case. */
  requestHeaders: Record<string, string>;
}

/** Result of {@link deliverSigned}: the last response and every attempt. */
export interface SignedDelivery {
  response: HttpResponse;
  /** Scheme of the last attempt (the accepted one, when it was accepted). */
  scheme: SignatureScheme;
  attempts: DeliveryAttempt[];
}

const DOUBLE_KNOCK_STATUSES = new Set([400, 401, 403]);

function otherScheme(scheme: SignatureScheme): SignatureScheme {
  return scheme === "rfc9421" ? "draft-cavage-12" : "rfc9421";
}

/**
 * POSTs `body` (JSON-serialised when it is an object) to `url`, signed with `key`. When the first
 * knock gets 400/401/403 and `doubleKnock` is on, signs again with the other scheme and retries
 * once. Network failures reject with the client's HttpClientError.
 */
export async function deliverSigned(
  client: HttpClient,
  url: string,
  body: string | Uint8Array | object,
  key: SigningKey,
  options: DeliverOptions = {},
): Promise<SignedDelivery> {
  const bytes =
    typeof body === "string" || body instanceof Uint8Array ? body : Buffer.from(JSON.stringify(body), "utf8");
  const base = { ...options.headers, "content-type": options.contentType ?? "application/activity+json" };
  const attempts: DeliveryAttempt[] = [];
  let scheme = options.firstKnock ?? "draft-cavage-12";
  for (;;) {
    const signOptions = {
      scheme,
      lowercaseDigest: options.lowercaseDigest ?? false,
      ...(options.now && { now: options.now }),
    };
    const headers = {
      ...base,
      ...signRequest({ method: "POST", url, headers: base, body: bytes }, key, signOptions),
    };
    const response = await client.request(url, {
      method: "POST",
      headers,
      body: bytes,
      followRedirects: false,
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    });
    attempts.push({ scheme, status: response.status, requestHeaders: headers });
    const retry =
      options.doubleKnock !== false && attempts.length === 1 && DOUBLE_KNOCK_STATUSES.has(response.status);
    if (!retry) return { response, scheme, attempts };
    scheme = otherScheme(scheme);
  }
}

/** Options of {@link fetchSigned}. */
export interface FetchSignedOptions {
  /** Default `draft-cavage-12` (what authorized-fetch servers verify most widely). */
  scheme?: SignatureScheme;
  /** Default: the AS2 media types. */
  accept?: string;
  timeoutMs?: number;
  now?: Date;
}

/** GETs `url` signed with `key` (authorized fetch, SIG-09). Rejects with HttpClientError on network failure. */
export async function fetchSigned(
  client: HttpClient,
  url: string,
  key: SigningKey,
  options: FetchSignedOptions = {},
): Promise<HttpResponse> {
  const headers = { accept: options.accept ?? AS2_ACCEPT };
  const signOptions = {
    scheme: options.scheme ?? "draft-cavage-12",
    ...(options.now && { now: options.now }),
  };
  const signed = signRequest({ method: "GET", url, headers }, key, signOptions);
  return client.request(url, {
    headers: { ...headers, ...signed },
    // A redirect would invalidate the signature, which covers the request target.
    followRedirects: false,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
  });
}
