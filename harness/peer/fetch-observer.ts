/**
 * Lets someone watch the probe's outgoing fetches (for recording captures) without touching how they
 * are made: a wrapper around the HTTP client that reports every GET and HEAD after it finished.
 * @module
 */
import type { HttpClient } from "../protocol/types.ts";
import { redactHeaders } from "./inbox-log.ts";
import type { FetchRecord } from "./types.ts";

/**
 * The client itself when `onFetch` is undefined; otherwise a client that calls `onFetch` once per
 * GET/HEAD with the redacted exchange (POSTs pass unobserved). A throwing observer is ignored: it must
 * not break the probe's work.
 */
export function observeFetches(
  client: HttpClient,
  onFetch: ((record: FetchRecord) => void) | undefined,
): HttpClient {
  if (!onFetch) return client;
  const report = (record: FetchRecord) => {
    try {
      onFetch(record);
    } catch {
      // An observer's fault is not the probe's.
    }
  };
  return {
    async request(url, init = {}) {
      const method = (init.method ?? "GET").toUpperCase();
      if (method !== "GET" && method !== "HEAD") return client.request(url, init);
      const base = {
        at: new Date().toISOString(),
        method,
        url,
        requestHeaders: redactHeaders(init.headers ?? {}),
      };
      try {
        const response = await client.request(url, init);
        report({
          ...base,
          status: response.status,
          headers: redactHeaders(response.headers),
          body: response.text(),
          ...(response.url !== url ? { finalUrl: response.url } : {}),
        });
        return response;
      } catch (error) {
        report({ ...base, error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
    },
    close: () => client.close(),
  };
}
