/**
 * The HTTP client the API drivers (Mastodon family, Misskey family) and the provisioning executors share:
 * JSON/form/multipart bodies, bearer tokens, waits on 429 as the server asks (bounded), and errors that
 * name the endpoint, the status and what the server said.
 * @module
 */
import { Agent, type Dispatcher, type FormData, request } from "undici";
import { registerSecret } from "../core/redact.ts";

/** How a driver copes with rate limits. */
export interface RateLimitOptions {
  /** Most time (ms) one call may spend waiting on 429 answers before it fails. Default 60 000. */
  maxWaitMs?: number;
  /** Most retries of one call after 429 answers. Default 5. */
  maxRetries?: number;
  /** Wait (ms) when a 429 carries no hint at all. Default 1 000. */
  defaultWaitMs?: number;
}

/** A query parameter value; arrays are sent as `name[]=a&name[]=b` (Rails and Go servers read that). */
export type QueryValue = string | number | boolean | undefined | null | ReadonlyArray<string | number>;

/** One API call. */
export interface ApiRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path below the origin, starting with `/`. */
  path: string;
  query?: Record<string, QueryValue>;
  /** Sent as `application/x-www-form-urlencoded` (arrays as `name[]`). */
  form?: Record<string, QueryValue>;
  /** Sent as `application/json`. */
  json?: unknown;
  /** Sent as `multipart/form-data`. */
  multipart?: FormData;
  /** Bearer token for the `Authorization` header. */
  token?: string;
  headers?: Record<string, string>;
  /** Statuses returned as answers instead of thrown as {@link ApiError} (e.g. 404 on lookups). */
  accept?: readonly number[];
}

/** What the server answered. */
export interface ApiResponse {
  status: number;
  /** Header names lower-case; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** Parsed JSON when the answer is JSON, else the text; null when empty. */
  body: unknown;
}

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  /** Implementation id, used in error messages (e.g. `mastodon`). */
  implementation: string;
  /** e.g. `https://a.test`; paths are resolved against it. */
  origin: string;
  /** undici dispatcher (host mapping, test CA). Default: an Agent the client owns and closes. */
  dispatcher?: Dispatcher;
  rateLimit?: RateLimitOptions;
  /** Per-request timeout for headers and body, in ms. Default 30 000. */
  timeoutMs?: number;
  /** Headers sent on every request. */
  headers?: Record<string, string>;
  /** Pulls the server's error text out of an error body. Default: {@link defaultErrorText}. */
  errorText?: (body: unknown) => string | undefined;
  /** A wait hint (ms) read from a 429 body, consulted before the headers (Misskey's `resetMs`). */
  rateLimitHint?: (body: unknown, now: number) => number | undefined;
  /** Sleeps; replaceable in tests. Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** A call the server answered with an unexpected status. */
export class ApiError extends Error {
  constructor(
    readonly implementation: string,
    readonly method: string,
    /** The path called, without the query (never holds secrets). */
    readonly endpoint: string,
    readonly status: number,
    /** The server's own error text (`error` field), when it gave one. */
    readonly serverError: string | undefined,
    readonly body: unknown,
    detail?: string,
  ) {
    super(
      `${implementation} ${method} ${endpoint} answered ${status}` +
        (serverError ? `: ${serverError}` : "") +
        (detail ? ` (${detail})` : ""),
    );
    this.name = "ApiError";
  }
}

/** The `error` (and `error_description`) of a Mastodon-style error body, or a string body. */
export function defaultErrorText(body: unknown): string | undefined {
  if (typeof body === "string") return body.trim().slice(0, 300) || undefined;
  if (body == null || typeof body !== "object") return undefined;
  const record = body as Record<string, unknown>;
  const error = record.error;
  const description = record.error_description;
  if (typeof error === "string") {
    return typeof description === "string" && description !== error ? `${error}: ${description}` : error;
  }
  return undefined;
}

const SKEW_TOLERANCE_MS = 5_000;

/**
 * How long (ms) a 429 asks the client to wait, from `Retry-After` (seconds or HTTP date) or
 * `X-RateLimit-Reset` (ISO 8601 as Mastodon sends it, or epoch seconds/ms, or a delta in seconds).
 * Absolute times are read against the server's `Date` when the clocks disagree by more than 5 s.
 * Returns undefined when the headers give no hint.
 */
export function rateLimitWaitMs(
  headers: Record<string, string>,
  now: number = Date.now(),
): number | undefined {
  const serverDate = headers.date ? Date.parse(headers.date) : Number.NaN;
  // Compare absolute times with the server's clock only when ours is clearly off: Date has 1 s resolution.
  const base =
    Number.isFinite(serverDate) && Math.abs(serverDate - now) > SKEW_TOLERANCE_MS ? serverDate : now;
  const retryAfter = headers["retry-after"]?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.max(0, Number(retryAfter) * 1000);
    const at = Date.parse(retryAfter);
    if (Number.isFinite(at)) return Math.max(0, at - base);
  }
  const reset = headers["x-ratelimit-reset"]?.trim();
  if (reset) {
    if (/^\d+(\.\d+)?$/.test(reset)) {
      const n = Number(reset);
      if (n > 1e12) return Math.max(0, n - base);
      if (n > 1e9) return Math.max(0, n * 1000 - base);
      return n * 1000;
    }
    const at = Date.parse(reset);
    if (Number.isFinite(at)) return Math.max(0, at - base);
  }
  return undefined;
}

/** Encodes parameters the way Rails/Go/Elixir servers read them: `a=1&ids[]=x&ids[]=y`. */
export function encodeParams(params: Record<string, QueryValue>): string {
  const out = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) out.append(`${name}[]`, String(item));
    } else {
      out.append(name, String(value));
    }
  }
  return out.toString();
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === "") return null;
  if (contentType?.includes("json") || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** A small API client bound to one origin. */
export class ApiClient {
  readonly origin: string;
  readonly implementation: string;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #options: ApiClientOptions;

  constructor(options: ApiClientOptions) {
    this.origin = options.origin.replace(/\/+$/, "");
    this.implementation = options.implementation;
    this.#options = options;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000 });
  }

  /** Sends a request; retries on 429 as the server asks, within the rate-limit budget. */
  async send(req: ApiRequest): Promise<ApiResponse> {
    const maxWaitMs = this.#options.rateLimit?.maxWaitMs ?? 60_000;
    const maxRetries = this.#options.rateLimit?.maxRetries ?? 5;
    const defaultWaitMs = this.#options.rateLimit?.defaultWaitMs ?? 1_000;
    const sleep = this.#options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      const res = await this.#sendOnce(req);
      if (res.status === 429) {
        const now = Date.now();
        const wait = Math.ceil(
          this.#options.rateLimitHint?.(res.body, now) ?? rateLimitWaitMs(res.headers, now) ?? defaultWaitMs,
        );
        if (attempt >= maxRetries || waited + wait > maxWaitMs) {
          throw this.#error(
            req,
            res,
            attempt >= maxRetries
              ? `still rate-limited after ${attempt} retries`
              : `rate-limited; the server asks for ${wait} ms more, beyond the ${maxWaitMs} ms budget ` +
                  `(rateLimit.maxWaitMs); lift the target's limits or raise the budget`,
          );
        }
        await sleep(wait);
        waited += wait;
        continue;
      }
      if ((res.status >= 200 && res.status < 300) || req.accept?.includes(res.status)) return res;
      throw this.#error(req, res);
    }
  }

  /** Sends and returns the body, typed by the caller (the servers' documented shapes). */
  async call<T>(req: ApiRequest): Promise<T> {
    return (await this.send(req)).body as T;
  }

  #closed = false;

  /** Releases the connection pool when this client created it; later calls do nothing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  #error(req: ApiRequest, res: ApiResponse, detail?: string): ApiError {
    const errorText = (this.#options.errorText ?? defaultErrorText)(res.body);
    const hint =
      detail ??
      (res.status === 401 || res.status === 403
        ? "check that the token is valid and has the scopes the call needs"
        : undefined);
    return new ApiError(this.implementation, req.method, req.path, res.status, errorText, res.body, hint);
  }

  async #sendOnce(req: ApiRequest): Promise<ApiResponse> {
    const query = req.query ? encodeParams(req.query) : "";
    const url = `${this.origin}${req.path}${query ? `?${query}` : ""}`;
    const headers: Record<string, string> = { accept: "application/json", ...this.#options.headers };
    let body: string | FormData | undefined;
    if (req.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(req.json);
    } else if (req.form !== undefined) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = encodeParams(req.form);
    } else if (req.multipart !== undefined) {
      body = req.multipart; // undici sets the multipart content type with its boundary
    }
    if (req.token) {
      // Issue 7: a token in use is a secret the run's output must never show.
      registerSecret(req.token);
      headers.authorization = `Bearer ${req.token}`;
    }
    Object.assign(headers, req.headers);
    const timeout = this.#options.timeoutMs ?? 30_000;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: req.method,
        headers,
        body,
        dispatcher: this.#dispatcher,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new Error(`${this.implementation} ${req.method} ${req.path} failed: ${reason}`, { cause });
    }
    const responseHeaders = flattenHeaders(res.headers);
    const text = await res.body.text();
    return {
      status: res.statusCode,
      headers: responseHeaders,
      body: parseBody(text, responseHeaders["content-type"]),
    };
  }
}
