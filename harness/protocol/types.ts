/**
 * Contracts of the protocol layer: signing keys, signature verdicts, and the HTTP client the whole
 * harness uses. Implementations live beside this file (signatures.ts, digest.ts, http-client.ts…).
 * @module
 */
import type { KeyObject } from "node:crypto";

/** The two HTTP signature schemes in use on the Fediverse. */
export type SignatureScheme = "draft-cavage-12" | "rfc9421";

/** A private key that signs requests on behalf of an actor. */
export interface SigningKey {
  /** The key's id as published in the actor document, e.g. `https://a.test/users/alice#main-key`. */
  keyId: string;
  privateKey: KeyObject;
  algorithm: "rsa-sha256" | "ed25519";
}

/** A public key as resolved for verification. */
export interface ResolvedKey {
  keyId: string;
  publicKey: KeyObject;
  /** Actor id whose document lists this key; null when no actor document confirms ownership. */
  ownerActorId: string | null;
  /** Owner as the key document claims it (may disagree with ownerActorId). */
  claimedOwner?: string;
}

/** Finds the public key for a keyId; `refresh` bypasses the cache (used once after a failure). */
export interface KeyResolver {
  resolve(keyId: string, options?: { refresh?: boolean }): Promise<ResolvedKey | null>;
}

/** Outcome of verifying a request's signature. */
export interface SignatureVerdict {
  ok: boolean;
  scheme?: SignatureScheme;
  keyId?: string;
  /** Actor id confirmed to own the key. */
  actorId?: string;
  /** Why verification failed, phrased for a person. */
  reason?: string;
  /** True when the key was refetched after a first failure (key rotation). */
  refetched?: boolean;
}

/** A request in the shape signing and verification work on. */
export interface SignableRequest {
  method: string;
  url: string;
  /** Header names lower-case. */
  headers: Record<string, string>;
  body?: Uint8Array | string;
}

/** Where a hostname really lives: connect there, but keep Host and SNI as the name. */
export interface HostMapping {
  address: string;
  port: number;
}

/** Options of {@link HttpClient}; every limit has a default so a hostile server cannot hang or flood us. */
export interface HttpClientOptions {
  /** Extra CA certificates (PEM) to trust besides the system store. */
  ca?: string[];
  /** hostname (or hostname:port) → where to connect. */
  hostMap?: Record<string, HostMapping>;
  /**
   * Only these hostnames (or `hostname:port`) may be contacted, checked before connecting, also on
   * every redirect; undefined = no restriction. The array is read on every request, so entries added
   * later (the probe's origin, known once it listens) take effect. See harness/core/allow-list.ts.
   */
  allowHosts?: string[];
  /** Per-request timeout in ms. Default 10 000. */
  timeoutMs?: number;
  /** Largest response body accepted, in bytes. Default 5 MiB. */
  maxBodyBytes?: number;
  /** Redirects followed at most. Default 3. */
  maxRedirects?: number;
  /** Retries on connection errors and 5xx/429 with exponential backoff. Default 0. */
  retries?: number;
  /** Deepest JSON nesting accepted by `json()`. Default 64. */
  maxJsonDepth?: number;
  userAgent?: string;
}

/** One HTTP request through {@link HttpClient}. */
export interface HttpRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  signal?: AbortSignal;
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** Follow redirects (GET only). Default true. */
  followRedirects?: boolean;
}

/** A fully read response. */
export interface HttpResponse {
  status: number;
  /** Header names lower-case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** URL after redirects. */
  url: string;
  text(): string;
  /**
   * Parses the body (strict UTF-8), enforcing the depth cap; throws HttpClientError(code
   * 'invalid-json'|'json-too-deep'). `text()` stays lenient (invalid bytes become U+FFFD).
   */
  json(): unknown;
}

/** Why a request failed, as a stable code callers can branch on. */
export type HttpErrorCode =
  | "timeout"
  | "too-large"
  | "too-many-redirects"
  | "forbidden-host"
  | "connect"
  | "tls"
  | "invalid-json"
  | "json-too-deep"
  | "aborted";

/** The harness's HTTP client (undici underneath). */
export interface HttpClient {
  request(url: string, init?: HttpRequestInit): Promise<HttpResponse>;
  close(): Promise<void>;
}
