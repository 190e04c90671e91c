/**
 * The harness's HTTP client on undici: host mapping that keeps Host and SNI, extra CAs, and limits
 * on time, size, redirects, JSON depth and hosts, so that a hostile or broken server can neither hang
 * nor flood a run.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { rootCertificates } from "node:tls";
import { Agent, buildConnector, type Dispatcher } from "undici";
import type {
  HostMapping,
  HttpClient,
  HttpClientOptions,
  HttpErrorCode,
  HttpRequestInit,
  HttpResponse,
} from "./types.ts";

/** A failed request; `code` is stable, the message names the URL and the limit involved. */
export class HttpClientError extends Error {
  override name = "HttpClientError";
  readonly code: HttpErrorCode;
  readonly url: string;

  constructor(code: HttpErrorCode, url: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.url = url;
  }
}

/** Options of {@link createHttpClient}: the contract's options plus tuning of the retry backoff. */
export interface CreateHttpClientOptions extends HttpClientOptions {
  /** First retry delay in ms, doubled each retry, with jitter (50–100 %). Default 250. */
  retryBaseDelayMs?: number;
}

const DEFAULTS = {
  timeoutMs: 10_000,
  maxBodyBytes: 5 * 1024 * 1024,
  maxRedirects: 3,
  retries: 0,
  maxJsonDepth: 64,
  userAgent: "fedicheck/0.1 (ActivityPub interoperability harness)",
  retryBaseDelayMs: 250,
};

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Largest response head (status line and headers) accepted, in bytes (issue 7: header floods). */
export const MAX_HEADER_BYTES = 16 * 1024;
// Decodes JSON bodies strictly: JSON must be UTF-8 (RFC 8259 §8.1), and a silent U+FFFD would hide it.
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });
// Headers that must not follow a redirect to another origin.
const CREDENTIAL_HEADERS = ["authorization", "cookie", "signature", "signature-input"];

/**
 * Depth of the deepest array/object nesting in JSON text, scanning iteratively (no recursion, so
 * a hostile document cannot exhaust the stack); stops early once `limit` is passed.
 */
export function jsonNestingDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/** The body as UTF-8 text for `json()`; throws `invalid-json` naming the first bad byte's offset. */
function decodeJsonText(bytes: Buffer, url: string): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch (error) {
    // Find the offset for the message: the longest valid prefix (cheap next to the request itself).
    let offset = 0;
    while (offset < bytes.length) {
      const step = utf8SequenceLength(bytes, offset);
      if (step === 0) break;
      offset += step;
    }
    throw new HttpClientError(
      "invalid-json",
      url,
      `${url}: body is not valid JSON (invalid UTF-8 at byte ${offset} of ${bytes.length})`,
      { cause: error },
    );
  }
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when it is invalid. */
function utf8SequenceLength(bytes: Buffer, i: number): number {
  const b = bytes[i]!;
  const cont = (k: number) => i + k < bytes.length && (bytes[i + k]! & 0xc0) === 0x80;
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    const second = bytes[i + 1] ?? 0;
    if ((b === 0xe0 && second < 0xa0) || (b === 0xed && second > 0x9f)) return 0;
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const second = bytes[i + 1] ?? 0;
    if ((b === 0xf0 && second < 0x90) || (b === 0xf4 && second > 0x8f)) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

function parseJson(text: string, url: string, maxDepth: number): unknown {
  const depth = jsonNestingDepth(text, maxDepth);
  if (depth > maxDepth) {
    throw new HttpClientError(
      "json-too-deep",
      url,
      `${url}: JSON nests deeper than the limit of ${maxDepth} levels`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpClientError(
      "invalid-json",
      url,
      `${url}: body is not valid JSON (${(error as Error).message})`,
      {
        cause: error,
      },
    );
  }
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

/** Milliseconds a `Retry-After` value asks for (seconds or HTTP date), or undefined. */
function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|EPROTO|HANDSHAKE/i;

function errorCodeOf(error: unknown): string {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === "string" ? code : "";
}

/**
 * Creates the client. Defaults: timeout 10 s per attempt (headers and body), 5 MiB bodies,
 * 3 redirects (GET/HEAD only), no retries, JSON depth 64, no host restriction.
 * `hostMap` sends connections for a name (or `name:port`) to another address and port while Host
 * and TLS SNI/certificate checks keep the name. `ca` is added to Node's root certificates.
 * Retries (connection errors, 5xx, 429) back off exponentially with jitter and honour Retry-After
 * when it fits within the timeout; the last 5xx/429 response is returned, not thrown.
 */
export function createHttpClient(options: CreateHttpClientOptions = {}): HttpClient {
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const hostMap = new Map<string, HostMapping>(
    Object.entries(options.hostMap ?? {}).map(([name, mapping]) => [name.toLowerCase(), mapping]),
  );
  const connector = buildConnector(options.ca?.length ? { ca: [...rootCertificates, ...options.ca] } : {});

  const agent = new Agent({
    maxHeaderSize: MAX_HEADER_BYTES,
    connect(connectOptions, callback) {
      const port = connectOptions.port || (connectOptions.protocol === "https:" ? "443" : "80");
      const name = connectOptions.hostname.toLowerCase();
      const mapping = hostMap.get(`${name}:${port}`) ?? hostMap.get(name);
      if (!mapping) return connector(connectOptions, callback);
      // `host` stays the original name:port, from which undici derives SNI (and Node the name checked
      // against the certificate); only the TCP destination changes.
      return connector(
        {
          ...connectOptions,
          host: connectOptions.host ?? `${connectOptions.hostname}:${port}`,
          hostname: mapping.address,
          port: String(mapping.port),
        },
        callback,
      );
    },
  });

  function checkHost(url: URL, href: string): void {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new HttpClientError("forbidden-host", href, `${href}: only http and https URLs can be fetched`);
    }
    // Read on every request (issue 7): the run can add the probe's origin once it listens.
    if (!options.allowHosts) return;
    const allowHosts = options.allowHosts.map((h) => h.toLowerCase());
    const hostname = url.hostname.toLowerCase();
    const port = url.port || (url.protocol === "https:" ? "443" : "80");
    const allowed = allowHosts.some(
      (entry) =>
        entry === hostname ||
        entry === `${hostname}:${port}` ||
        (entry.startsWith("*.") && hostname.endsWith(entry.slice(1))),
    );
    if (!allowed) {
      throw new HttpClientError(
        "forbidden-host",
        href,
        `${href}: host ${hostname} is not in the allowed hosts (${allowHosts.join(", ")}); no connection was made`,
      );
    }
  }

  async function attempt(
    href: string,
    method: string,
    headers: Record<string, string>,
    body: Uint8Array | string | undefined,
    limits: { timeoutMs: number; maxBodyBytes: number; signal: AbortSignal | undefined },
  ): Promise<HttpResponse> {
    let url: URL;
    try {
      url = new URL(href);
    } catch (error) {
      throw new HttpClientError("forbidden-host", href, `${href} is not a valid URL`, { cause: error });
    }
    checkHost(url, href);
    if (limits.signal?.aborted) throw new HttpClientError("aborted", href, `${method} ${href} was aborted`);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, limits.timeoutMs);
    const onAbort = () => controller.abort();
    limits.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const response = await agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: method as Dispatcher.HttpMethod,
        headers: { "user-agent": settings.userAgent, ...headers },
        body: body ?? null,
        signal: controller.signal,
      });
      const tooLarge = () =>
        new HttpClientError(
          "too-large",
          href,
          `${method} ${href}: response body exceeds the limit of ${limits.maxBodyBytes} bytes`,
        );
      const declared = Number(response.headers["content-length"]);
      if (declared > limits.maxBodyBytes) {
        discard(response.body);
        throw tooLarge();
      }
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of response.body) {
        total += (chunk as Buffer).length;
        if (total > limits.maxBodyBytes) {
          discard(response.body);
          throw tooLarge();
        }
        chunks.push(chunk as Buffer);
      }
      const bytes = Buffer.concat(chunks);
      return {
        status: response.statusCode,
        headers: flattenHeaders(response.headers),
        body: bytes,
        url: href,
        text: () => bytes.toString("utf8"),
        json: () => parseJson(decodeJsonText(bytes, href), href, settings.maxJsonDepth),
      };
    } catch (error) {
      if (error instanceof HttpClientError) throw error;
      if (timedOut) {
        throw new HttpClientError(
          "timeout",
          href,
          `${method} ${href} took longer than ${limits.timeoutMs} ms`,
          {
            cause: error,
          },
        );
      }
      if (limits.signal?.aborted) {
        throw new HttpClientError("aborted", href, `${method} ${href} was aborted`, { cause: error });
      }
      const code = errorCodeOf(error);
      const message = (error as Error).message;
      if (code === "UND_ERR_HEADERS_OVERFLOW") {
        throw new HttpClientError(
          "too-large",
          href,
          `${method} ${href}: response headers exceed the limit of ${MAX_HEADER_BYTES} bytes`,
          { cause: error },
        );
      }
      if (/TIMEOUT/.test(code)) {
        throw new HttpClientError("timeout", href, `${method} ${href} timed out (${code})`, { cause: error });
      }
      if (TLS_CODE.test(code) || /certificate|tls|ssl/i.test(message)) {
        throw new HttpClientError(
          "tls",
          href,
          `TLS with ${url.host} failed for ${href}: ${code || message}`,
          {
            cause: error,
          },
        );
      }
      throw new HttpClientError(
        "connect",
        href,
        `Could not connect to ${url.host} for ${href}: ${code || message}`,
        {
          cause: error,
        },
      );
    } finally {
      clearTimeout(timer);
      limits.signal?.removeEventListener("abort", onAbort);
    }
  }

  async function withRetries(
    run: () => Promise<HttpResponse>,
    href: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    for (let retry = 0; ; retry++) {
      const backoff = Math.min(settings.retryBaseDelayMs * 2 ** retry, timeoutMs) * (0.5 + Math.random() / 2);
      let delay: number;
      try {
        const response = await run();
        if (retry >= settings.retries || (response.status < 500 && response.status !== 429)) return response;
        delay = retryAfterMs(response.headers["retry-after"]) ?? backoff;
        // A server asking us to wait longer than a whole attempt may take gets its answer as is.
        if (delay > timeoutMs) return response;
      } catch (error) {
        if (retry >= settings.retries || !(error instanceof HttpClientError) || error.code !== "connect")
          throw error;
        delay = backoff;
      }
      try {
        await sleep(delay, undefined, signal ? { signal } : undefined);
      } catch {
        throw new HttpClientError("aborted", href, `${href}: aborted while waiting to retry`);
      }
    }
  }

  return {
    async request(url: string, init: HttpRequestInit = {}): Promise<HttpResponse> {
      const method = (init.method ?? "GET").toUpperCase();
      const limits = {
        timeoutMs: init.timeoutMs ?? settings.timeoutMs,
        maxBodyBytes: init.maxBodyBytes ?? settings.maxBodyBytes,
        signal: init.signal,
      };
      const follow = (init.followRedirects ?? true) && (method === "GET" || method === "HEAD");
      let headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
      let current = url;
      for (let redirects = 0; ; redirects++) {
        const hop = current;
        const response = await withRetries(
          () => attempt(hop, method, headers, init.body, limits),
          hop,
          limits.timeoutMs,
          init.signal,
        );
        const location = response.headers.location;
        if (!follow || !REDIRECT_STATUSES.has(response.status) || location === undefined) return response;
        if (redirects >= settings.maxRedirects) {
          throw new HttpClientError(
            "too-many-redirects",
            url,
            `${url}: more than ${settings.maxRedirects} redirects (last to ${location})`,
          );
        }
        const next = new URL(location, current);
        const sameOrigin = next.origin === new URL(current).origin;
        // Host must follow the new URL; credentials must not leave their origin.
        const { host: _host, ...rest } = headers;
        headers = sameOrigin ? rest : dropHeaders(rest, CREDENTIAL_HEADERS);
        current = next.href;
      }
    },
    close: () => agent.close(),
  };
}

/** Destroys a body we will not read; undici then emits an abort error nobody needs to see. */
function discard(body: Dispatcher.ResponseData["body"]): void {
  body.on("error", () => {});
  body.destroy();
}

function dropHeaders(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name)));
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
