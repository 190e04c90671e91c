/**
 * node:http helpers of the probe's server: bounded body reading, content negotiation, replies.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** The AS2 media type the probe serves. */
export const AS2_MEDIA_TYPE = "application/activity+json";

/** Outcome of {@link readBody}. */
export type BodyResult = { ok: true; body: Buffer } | { ok: false; reason: "too-large" | "aborted" };

/**
 * Reads a request body, giving up as soon as it exceeds `limit` bytes: a declared Content-Length over
 * the limit is refused before reading anything, a longer chunked body stops at the limit.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.resolve({ ok: false, reason: "too-large" });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult): void => {
      if (done) return;
      done = true;
      req.off("data", onData);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        // Stop buffering; the caller answers 413 and closes the connection.
        req.pause();
        finish({ ok: false, reason: "too-large" });
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => finish({ ok: true, body: Buffer.concat(chunks) }));
    req.on("error", () => finish({ ok: false, reason: "aborted" }));
    req.on("close", () => finish({ ok: false, reason: "aborted" }));
  });
}

/**
 * Whether an Accept header asks for AS2 JSON rather than HTML. Both AS2 forms (`application/activity+json`
 * and `application/ld+json; profile="…activitystreams"`), plain JSON, wildcards and no header at all
 * count as AS2; only an explicit preference for HTML does not.
 */
export function wantsActivityJson(accept: string | undefined): boolean {
  if (!accept) return true;
  const types = accept.split(",").map((part) => part.split(";")[0]!.trim().toLowerCase());
  if (types.some((t) => t === AS2_MEDIA_TYPE || t === "application/ld+json" || t === "application/json")) {
    return true;
  }
  return !types.includes("text/html");
}

/** Sends a JSON reply with the given content type and extra headers. */
export function sendJson(
  res: ServerResponse,
  status: number,
  document: unknown,
  contentType = AS2_MEDIA_TYPE,
  headers: Record<string, string> = {},
): void {
  const body = Buffer.from(JSON.stringify(document));
  res.writeHead(status, { ...headers, "content-type": contentType, "content-length": String(body.length) });
  res.end(body);
}

/** Sends a short plain-text reply (errors, 202s). */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  const body = Buffer.from(text);
  res.writeHead(status, {
    ...headers,
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(body.length),
  });
  res.end(body);
}

/** Escapes text for inclusion in HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
