/**
 * Outgoing POSTs of the probe: signing (either scheme, with double knock) and the deliberate
 * violations of {@link Misbehaviour}, plus the addressing helpers delivery needs.
 * @module
 */
import { randomUUID } from "node:crypto";
import { idsOf, type Json } from "../protocol/as2.ts";
import { probeKeyPool } from "../protocol/key-pool.ts";
import { generateSigningKeyPair } from "../protocol/keys.ts";
import { signRequest } from "../protocol/signatures.ts";
import type { HttpClient, HttpResponse, SignatureScheme, SigningKey } from "../protocol/types.ts";
import { redactHeaders } from "./inbox-log.ts";
import type { DeliveryResult, Misbehaviour } from "./types.ts";

/** Content type of the probe's POSTs. */
export const POST_CONTENT_TYPE = "application/activity+json";

/** How the probe signs by default (from {@link ProbeOptions}). */
export interface SigningDefaults {
  firstKnock: SignatureScheme;
  doubleKnock: boolean;
}

/** Everything {@link postDocument} needs to sign as someone. */
export interface PostSigner {
  /** The sending actor's own key. */
  key: SigningKey;
  /** Key of `misbehaviour.signAs`, when set. */
  signAsKey?: SigningKey;
  /** Private key of a key document the probe hosts, for `keyIdOverride` pointing at one. */
  overrideKey?: SigningKey;
}

/** Answers after which the other scheme is tried (as protocol's deliverSigned does). */
const DOUBLE_KNOCK_STATUSES = new Set([400, 401, 403]);

function otherScheme(scheme: SignatureScheme): SignatureScheme {
  return scheme === "rfc9421" ? "draft-cavage-12" : "rfc9421";
}

/** Pads a JSON body with spaces before its closing brace (so it stays valid JSON) up to `bytes`. */
export function padBody(body: string, bytes: number): string {
  const missing = bytes - Buffer.byteLength(body);
  if (missing <= 0) return body;
  const close = body.lastIndexOf("}");
  if (close < 0) return body + " ".repeat(missing);
  return body.slice(0, close) + " ".repeat(missing) + body.slice(close);
}

/** The extension member the `nestedArrays` knob adds. */
export const NESTED_MEMBER = "https://fedicheck.test/ns#nested";

/**
 * Serialises `document` with {@link NESTED_MEMBER} holding `depth` nested arrays, on the embedded
 * object when there is one, else on the activity. The nesting is spliced in as text: JSON.stringify
 * (core-js's, once jsonld is loaded) overflows the stack long before 10 000 levels.
 */
export function withNestedArrays(document: Json, depth: number): string {
  const placeholder = `fedicheck-nested-${randomUUID()}`;
  const object = document.object;
  const marked =
    typeof object === "object" && object !== null && !Array.isArray(object)
      ? { ...document, object: { ...(object as Json), [NESTED_MEMBER]: placeholder } }
      : { ...document, [NESTED_MEMBER]: placeholder };
  return JSON.stringify(marked).replace(JSON.stringify(placeholder), "[".repeat(depth) + "]".repeat(depth));
}

/** Changes a JSON object body after signing: adds a member, so the digest no longer matches. */
export function tamperBody(body: string): string {
  const close = body.lastIndexOf("}");
  if (close < 0) return `${body} `;
  const head = body.slice(0, close).trimEnd();
  const separator = head.endsWith("{") ? "" : ",";
  return `${head}${separator}"https://fedicheck.test/ns#tampered":true}`;
}

/** The key the request is signed with, after `signAs`, `wrongKey` and `keyIdOverride`. */
async function signingKeyFor(signer: PostSigner, misbehaviour: Misbehaviour): Promise<SigningKey> {
  let key = misbehaviour.signAs && signer.signAsKey ? signer.signAsKey : signer.key;
  if (misbehaviour.keyIdOverride) {
    key = signer.overrideKey ?? { ...key, keyId: misbehaviour.keyIdOverride };
  }
  if (misbehaviour.wrongKey) {
    // Same keyId, a private key no actor of the run has: the signature cannot verify. (The pool
    // hands each key out once, so a pooled RSA key is as unknown as a fresh one, and free.)
    const fresh =
      key.algorithm === "rsa-sha256"
        ? await probeKeyPool().take()
        : await generateSigningKeyPair(key.algorithm);
    key = { ...key, privateKey: fresh.privateKey };
  }
  return key;
}

/**
 * POSTs `document` to `url` as the signer, applying `misbehaviour`. Without `misbehaviour.scheme`, a
 * 4xx answer to the first scheme is retried once with the other one (double knock), the violation kept.
 */
export async function postDocument(
  client: HttpClient,
  url: string,
  document: Json,
  signer: PostSigner,
  defaults: SigningDefaults,
  misbehaviour: Misbehaviour = {},
): Promise<DeliveryResult> {
  let body =
    misbehaviour.nestedArrays === undefined
      ? JSON.stringify(document)
      : withNestedArrays(document, misbehaviour.nestedArrays);
  if (misbehaviour.padToBytes !== undefined) body = padBody(body, misbehaviour.padToBytes);
  const key = misbehaviour.unsigned ? undefined : await signingKeyFor(signer, misbehaviour);
  const first = misbehaviour.scheme ?? defaults.firstKnock;
  const schemes: SignatureScheme[] =
    !key || misbehaviour.scheme || !defaults.doubleKnock ? [first] : [first, otherScheme(first)];

  let last: DeliveryResult | undefined;
  for (const scheme of schemes) {
    const now = new Date(Date.now() + (misbehaviour.dateOffsetSeconds ?? 0) * 1000);
    let headers: Record<string, string> = {
      "content-type": POST_CONTENT_TYPE,
      accept: "application/activity+json, application/ld+json",
      date: now.toUTCString(),
    };
    let sent = body;
    if (key) {
      const signed = signRequest({ method: "POST", url, headers, body }, key, {
        scheme,
        now,
        lowercaseDigest: misbehaviour.lowercaseDigest ?? false,
        ...(misbehaviour.cavageAlgorithm ? { algorithmName: misbehaviour.cavageAlgorithm } : {}),
      });
      headers = { ...headers, ...signed };
      if (misbehaviour.digestMismatch) sent = tamperBody(body);
    }
    const response = await client.request(url, { method: "POST", headers, body: sent });
    last = toResult(url, headers, sent, response, key ? scheme : undefined);
    if (!DOUBLE_KNOCK_STATUSES.has(response.status)) break;
  }
  return last!;
}

function toResult(
  url: string,
  headers: Record<string, string>,
  body: string,
  response: HttpResponse,
  scheme: SignatureScheme | undefined,
): DeliveryResult {
  const result: DeliveryResult = {
    status: response.status,
    request: { method: "POST", url, headers: redactHeaders(headers), body },
    response: { status: response.status, headers: redactHeaders(response.headers), body: response.text() },
  };
  if (scheme) result.scheme = scheme;
  return result;
}

/** Every address of a document: to, cc, bto, bcc and audience, de-duplicated, in order. */
export function audienceOf(document: Json): string[] {
  const ids = ["to", "cc", "bto", "bcc", "audience"].flatMap((field) => idsOf(document[field]));
  return [...new Set(ids)];
}

/** A copy without `bto`/`bcc`, on the activity and on its embedded object (AP §6.1 says remove them). */
export function withoutHiddenRecipients(activity: Json): Json {
  const { bto: _bto, bcc: _bcc, ...rest } = activity;
  const object = rest.object;
  if (typeof object === "object" && object !== null && !Array.isArray(object)) {
    const { bto: _b, bcc: _c, ...objectRest } = object as Json;
    rest.object = objectRest;
  }
  return rest;
}
