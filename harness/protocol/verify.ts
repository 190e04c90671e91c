/**
 * Verifying incoming requests signed with draft-cavage-12 or RFC 9421, with the policy Fediverse
 * servers apply: required coverage, clock skew, body digest, key refetch on failure, key ownership.
 * @module
 */
import type { KeyObject } from "node:crypto";
import {
  cavageSigningString,
  parseCavageSignature,
  SignatureFormatError,
  verifyCavageBytes,
} from "./cavage.ts";
import { checkDigest } from "./digest.ts";
import { parseRfc9421Signatures, signatureBase, verifyRfc9421Bytes } from "./rfc9421.ts";
import { lowerCaseHeaders } from "./sign.ts";
import type {
  KeyResolver,
  ResolvedKey,
  SignableRequest,
  SignatureScheme,
  SignatureVerdict,
} from "./types.ts";

/** Options of {@link verifyRequest}. */
export interface VerifyOptions {
  /** Accepted distance of Date/`created` from now, past or future, in seconds. Default 3600. */
  skewSeconds?: number;
  /** Clock. Default: the current time. */
  now?: Date;
  /** Require a covered, matching digest when the request has a non-empty body. Default true. */
  requireDigest?: boolean;
}

/** A resolver that can say why it last failed for a keyId (see key-resolver.ts); used for reasons. */
interface ExplainingResolver extends KeyResolver {
  failureReason(keyId: string): string | undefined;
}

function explains(resolver: KeyResolver): resolver is ExplainingResolver {
  return typeof (resolver as Partial<ExplainingResolver>).failureReason === "function";
}

/** One signature found on a request, scheme-independent. */
interface Candidate {
  scheme: SignatureScheme;
  /** `sig1` for RFC 9421, undefined for cavage. */
  label?: string;
  keyId?: string;
  covered: string[];
  created?: number;
  expires?: number;
  signature: Buffer;
  /** Builds the signing string / signature base; throws SignatureFormatError. */
  base(): string;
  check(key: KeyObject, data: Buffer): { ok: boolean; reason?: string };
}

class Rejection extends Error {
  override name = "Rejection";
}

function findCandidates(request: SignableRequest): Candidate[] {
  const headers = request.headers;
  const input = headers["signature-input"];
  if (input !== undefined) {
    const field = headers.signature;
    if (field === undefined)
      throw new Rejection("Signature-Input is present but the Signature header is missing");
    return parseRfc9421Signatures(input, field).map((sig) => {
      const candidate: Candidate = {
        scheme: "rfc9421",
        label: sig.label,
        covered: sig.components,
        signature: sig.signature,
        base: () => signatureBase(request, sig.input),
        check: (key, data) => verifyRfc9421Bytes(sig.alg, key, data, sig.signature),
      };
      if (sig.keyId !== undefined) candidate.keyId = sig.keyId;
      if (sig.created !== undefined) candidate.created = sig.created;
      if (sig.expires !== undefined) candidate.expires = sig.expires;
      return candidate;
    });
  }
  let value = headers.signature;
  const authorization = headers.authorization;
  if (value === undefined && authorization !== undefined && /^signature\s/i.test(authorization)) {
    value = authorization.replace(/^signature\s+/i, "");
  }
  if (value === undefined) {
    throw new Rejection(
      "The request is not signed (no Signature, Signature-Input or Authorization: Signature header)",
    );
  }
  const sig = parseCavageSignature(value);
  const params: { created?: number; expires?: number } = {};
  if (sig.created !== undefined) params.created = sig.created;
  if (sig.expires !== undefined) params.expires = sig.expires;
  return [
    {
      scheme: "draft-cavage-12",
      keyId: sig.keyId,
      covered: sig.headers,
      signature: sig.signature,
      ...params,
      base: () => cavageSigningString(request, sig.headers, params),
      check: (key, data) => verifyCavageBytes(sig.algorithm, key, data, sig.signature),
    },
  ];
}

function checkCoverage(candidate: Candidate, hasBody: boolean, requireDigest: boolean): void {
  const covers = (name: string) => candidate.covered.includes(name);
  const missing: string[] = [];
  let digestName: string;
  if (candidate.scheme === "draft-cavage-12") {
    for (const name of ["(request-target)", "host"]) if (!covers(name)) missing.push(name);
    if (!covers("date") && !covers("(created)")) missing.push("date");
    digestName = "digest";
  } else {
    for (const name of ["@method", "@target-uri"]) if (!covers(name)) missing.push(name);
    digestName = "content-digest";
  }
  if (hasBody && requireDigest && !covers("digest") && !covers("content-digest")) missing.push(digestName);
  const what = candidate.label ? `Signature ${candidate.label}` : "The signature";
  if (missing.length > 0) {
    throw new Rejection(
      `${what} does not cover ${missing.join(", ")} (it covers: ${candidate.covered.join(" ") || "nothing"})`,
    );
  }
  if (candidate.scheme === "rfc9421" && candidate.created === undefined) {
    throw new Rejection(`${what} has no created parameter`);
  }
}

function checkTime(candidate: Candidate, request: SignableRequest, now: Date, skew: number): void {
  const nowSeconds = now.getTime() / 1000;
  let what: string;
  let at: number;
  if (candidate.scheme === "draft-cavage-12" && candidate.covered.includes("date")) {
    const date = request.headers.date ?? "";
    const parsed = Date.parse(date);
    if (Number.isNaN(parsed))
      throw new Rejection(`Date header ${JSON.stringify(date)} is not a valid HTTP date`);
    what = "Date";
    at = parsed / 1000;
  } else {
    what = "created";
    at = candidate.created ?? Number.NaN;
  }
  const offset = Math.round(nowSeconds - at);
  if (offset > skew) throw new Rejection(`${what} is ${offset} s in the past; the window is ${skew} s`);
  if (-offset > skew) throw new Rejection(`${what} is ${-offset} s in the future; the window is ${skew} s`);
  if (candidate.expires !== undefined && candidate.expires < nowSeconds) {
    throw new Rejection(`The signature expired ${Math.round(nowSeconds - candidate.expires)} s ago`);
  }
}

async function resolveKey(
  resolver: KeyResolver,
  keyId: string,
  refresh: boolean,
): Promise<ResolvedKey | { failure: string }> {
  try {
    const key = await resolver.resolve(keyId, refresh ? { refresh: true } : undefined);
    if (key) return key;
  } catch (error) {
    return { failure: `Could not fetch key ${keyId}: ${(error as Error).message}` };
  }
  const detail = explains(resolver) ? resolver.failureReason(keyId) : undefined;
  return { failure: `Could not resolve key ${keyId}${detail ? `: ${detail}` : ""}` };
}

async function verifyCandidate(
  candidate: Candidate,
  request: SignableRequest,
  resolver: KeyResolver,
  options: Required<Pick<VerifyOptions, "skewSeconds" | "requireDigest">> & { now: Date },
): Promise<SignatureVerdict> {
  const verdict: SignatureVerdict = { ok: false, scheme: candidate.scheme };
  if (candidate.keyId !== undefined) verdict.keyId = candidate.keyId;
  try {
    const keyId = candidate.keyId;
    if (keyId === undefined) throw new Rejection(`Signature ${candidate.label} has no keyid parameter`);
    const bodyLength = request.body === undefined ? 0 : request.body.length;
    checkCoverage(candidate, bodyLength > 0, options.requireDigest);
    const data = Buffer.from(candidate.base(), "utf8");
    checkTime(candidate, request, options.now, options.skewSeconds);
    const digestCovered =
      candidate.covered.includes("digest") || candidate.covered.includes("content-digest");
    if (bodyLength > 0 || digestCovered) {
      const digest = checkDigest(request.headers, request.body);
      if (digest.present !== "none" && !digest.ok) throw new Rejection(digest.reason ?? "digest mismatch");
    }
    let key = await resolveKey(resolver, keyId, false);
    if ("failure" in key) throw new Rejection(key.failure);
    let result = candidate.check(key.publicKey, data);
    if (!result.ok) {
      // The key may have been rotated since we cached it: refetch once.
      const fresh = await resolveKey(resolver, keyId, true);
      if ("failure" in fresh)
        throw new Rejection(`${result.reason ?? "The signature does not verify"}; ${fresh.failure}`);
      key = fresh;
      result = candidate.check(key.publicKey, data);
      verdict.refetched = true;
      if (!result.ok) {
        throw new Rejection(
          `${result.reason ? `${result.reason}: ` : ""}the signature does not verify with key ${keyId}, also after refetching it`,
        );
      }
    }
    if (key.ownerActorId === null) {
      throw new Rejection(
        key.claimedOwner
          ? `Key ${keyId} claims owner ${key.claimedOwner}, but that actor's document does not list the key`
          : `No actor document confirms who owns key ${keyId}`,
      );
    }
    verdict.ok = true;
    verdict.actorId = key.ownerActorId;
    return verdict;
  } catch (error) {
    if (!(error instanceof Rejection || error instanceof SignatureFormatError)) throw error;
    verdict.reason = error.message;
    return verdict;
  }
}

/**
 * Verifies a request's signature (draft-cavage-12, also via `Authorization: Signature`, or RFC 9421
 * when `Signature-Input` is present). Never throws: failures come back as `{ ok: false, reason }`.
 * On success `actorId` is the actor confirmed to own the key; the caller compares it with the
 * activity's actor. With several RFC 9421 signatures, the first that verifies wins.
 */
export async function verifyRequest(
  request: SignableRequest,
  resolver: KeyResolver,
  options: VerifyOptions = {},
): Promise<SignatureVerdict> {
  const normalised: SignableRequest = { ...request, headers: lowerCaseHeaders(request.headers) };
  const settings = {
    skewSeconds: options.skewSeconds ?? 3600,
    requireDigest: options.requireDigest ?? true,
    now: options.now ?? new Date(),
  };
  // A hostile Host header can make the URL the receiver rebuilds unparsable: a rejection, not a fault.
  if (!URL.canParse(normalised.url)) {
    return {
      ok: false,
      reason: `The request URL ${JSON.stringify(normalised.url)} is not a valid URL (check the Host header)`,
    };
  }
  try {
    const candidates = findCandidates(normalised);
    let first: SignatureVerdict | undefined;
    for (const candidate of candidates) {
      const verdict = await verifyCandidate(candidate, normalised, resolver, settings);
      if (verdict.ok) return verdict;
      first ??= verdict;
    }
    return first ?? { ok: false, reason: "The request carries no usable signature" };
  } catch (error) {
    if (error instanceof Rejection || error instanceof SignatureFormatError)
      return { ok: false, reason: error.message };
    return { ok: false, reason: `Verification failed unexpectedly: ${(error as Error).message}` };
  }
}
