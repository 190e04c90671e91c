/**
 * The probe's HTTP side: one handler that routes every request (WebFinger, NodeInfo, actors,
 * collections, hosted objects, inboxes), verifies signatures, and logs the request with its verdict,
 * findings and answer before the answer is written, so a sender that got its response can already
 * find the entry in the log.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { idOf, isObject, type Json, originOf, typeOf } from "../protocol/as2.ts";
import { verifyRequest } from "../protocol/signatures.ts";
import type { KeyResolver, SignatureVerdict } from "../protocol/types.ts";
import type { Finding } from "../validate/findings.ts";
import { INSTANCE_ACTOR, type LocalActor, localActorDocument } from "./actors.ts";
import {
  nodeinfoDocument,
  nodeinfoLinks,
  orderedCollection,
  pagedCollection,
  tombstoneDocument,
  webfingerDocument,
} from "./documents.ts";
import { AS2_MEDIA_TYPE, escapeHtml, readBody, wantsActivityJson } from "./http-util.ts";
import { type InboxRecorder, redactHeaders } from "./inbox-log.ts";
import { mediaAt } from "./media.ts";
import type { ProbeState } from "./state.ts";
import type { InboxEntry } from "./types.ts";
import { findingsFor } from "./validation.ts";

/** What the request handler needs from the probe. */
export interface RouteContext {
  /** Origin used in ids (the public origin when one is set). */
  origin: string;
  /** Scheme the server listens with. */
  scheme: "http" | "https";
  /** True when `origin` is a public origin rather than the listening address. */
  publicOrigin: boolean;
  state: ProbeState;
  log: InboxRecorder;
  actors: ReadonlyMap<string, LocalActor>;
  resolver: KeyResolver;
  requireSignatures: boolean;
  maxBodyBytes: number;
  skewSeconds: number;
  /** Applies a verified (or, without requireSignatures, unverified) activity to the probe's state. */
  apply(activity: Json): void;
}

/** A computed answer, logged before it is written. */
interface Reply {
  status: number;
  headers: Record<string, string>;
  /** Text, or bytes for media (issue 10). */
  body: string | Buffer;
  /** Close the connection after answering (the request body was not read). */
  close?: boolean;
}

/** What routing learned about a request, for the log. */
interface Observed {
  recipient?: string;
  body: string;
  activity?: Json;
  signature: SignatureVerdict;
  findings: Finding[];
}

const NOT_SIGNED: SignatureVerdict = { ok: false, reason: "The request carries no signature" };
const CORS = { "access-control-allow-origin": "*" };
const AS2_HEADERS = { "content-type": AS2_MEDIA_TYPE, vary: "Accept" };

function json(status: number, document: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { "content-type": AS2_MEDIA_TYPE, ...headers }, body: JSON.stringify(document) };
}

function text(status: number, message: string, headers: Record<string, string> = {}): Reply {
  return { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers }, body: message };
}

function rawHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** AS2 JSON, or a small HTML page when the client prefers HTML (hence `Vary: Accept`). */
function serve(document: Json, accept: string | undefined): Reply {
  if (wantsActivityJson(accept)) return { status: 200, headers: AS2_HEADERS, body: JSON.stringify(document) };
  const id = typeof document.id === "string" ? escapeHtml(document.id) : "";
  const html =
    `<!doctype html><title>${id}</title><p><a href="${id}">${id}</a></p>` +
    `<pre>${escapeHtml(JSON.stringify(document, null, 2))}</pre>`;
  return { status: 200, headers: { "content-type": "text/html; charset=utf-8", vary: "Accept" }, body: html };
}

/** Creates the node:http request listener of a probe. */
export function createRequestHandler(ctx: RouteContext): (req: IncomingMessage, res: ServerResponse) => void {
  const { origin, state, actors } = ctx;

  function localById(id: string): LocalActor | undefined {
    for (const entry of actors.values()) if (entry.actor.id === id) return entry;
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = new Date().toISOString();
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", origin);
    const observed: Observed = { body: "", signature: NOT_SIGNED, findings: [] };
    let reply: Reply;
    try {
      reply = await route(req, method, url, observed);
    } catch (error) {
      reply = text(500, `The probe failed on this request: ${(error as Error).message}`);
    }
    const entry: Omit<InboxEntry, "seq"> = {
      at,
      method,
      path: `${url.pathname}${url.search}`,
      headers: redactHeaders(req.headers),
      body: observed.body,
      signature: observed.signature,
      findings: observed.findings,
      status: reply.status,
    };
    if (observed.recipient !== undefined) entry.recipient = observed.recipient;
    if (observed.activity !== undefined) entry.activity = observed.activity;
    ctx.log.record(entry);
    const body = Buffer.from(reply.body);
    const headers: Record<string, string> = { ...reply.headers, "content-length": String(body.length) };
    if (reply.close) headers.connection = "close";
    res.writeHead(reply.status, headers);
    res.end(method === "HEAD" ? undefined : body);
    if (reply.close) {
      // The unread body is not buffered: drop the connection once the answer is out.
      res.once("finish", () => req.socket.destroySoon());
    }
  }

  async function route(req: IncomingMessage, method: string, url: URL, observed: Observed): Promise<Reply> {
    const path = url.pathname;
    const parts = path.split("/").filter(Boolean);
    if (path === "/inbox" || path === `/users/${INSTANCE_ACTOR}/inbox`) {
      observed.recipient = "shared";
      return method === "POST" ? receive(req, url, observed) : inboxGet(method, url);
    }
    if (parts[0] === "users" && parts[1] !== undefined && parts[2] === "inbox" && parts.length === 3) {
      const name = decodeURIComponent(parts[1]);
      observed.recipient = name;
      if (!actors.has(name)) return text(404, `No actor named '${name}' on this probe.`);
      return method === "POST" ? receive(req, url, observed) : inboxGet(method, url);
    }
    if (method === "OPTIONS") {
      return { status: 204, headers: { ...CORS, allow: "GET, HEAD, POST, OPTIONS" }, body: "" };
    }
    if (method !== "GET" && method !== "HEAD") {
      return text(405, `${method} is not allowed on ${path}.`, { allow: "GET, HEAD" });
    }
    await verifyIfSigned(req, url, observed);
    if (path === "/.well-known/webfinger") return webfinger(url);
    if (path === "/.well-known/nodeinfo") {
      return json(200, nodeinfoLinks(origin), { ...CORS, "content-type": "application/json" });
    }
    if (path === "/nodeinfo/2.1") return nodeinfo();
    const accept = req.headers.accept;
    if (parts[0] === "users" && parts[1] !== undefined) {
      const entry = actors.get(decodeURIComponent(parts[1]));
      if (!entry) return text(404, `No actor named '${parts[1]}' on this probe.`, { vary: "Accept" });
      if (state.deletedActors.has(entry.actor.name)) {
        // A deleted actor, its key and collections are gone (DEL-06).
        const gone = tombstoneDocument(entry.actor.id, entry.type, new Date().toISOString());
        return { ...json(410, gone), headers: AS2_HEADERS };
      }
      if (parts.length === 2) return serve(localActorDocument(entry, origin), accept);
      const collection = parts.length === 3 ? actorCollection(entry, parts[2]!, url) : undefined;
      if (collection) return serve(collection, accept);
    }
    // Issue 10: media samples for crafted attachments (harness/peer/media.ts).
    const media = parts[0] === "media" ? mediaAt(path) : undefined;
    if (media)
      return { status: 200, headers: { "content-type": media.mediaType, ...CORS }, body: media.bytes };
    const hosted = state.hosted.get(`${origin}${path}${url.search}`) ?? state.hosted.get(`${origin}${path}`);
    if (hosted?.kind === "tombstone") return { ...json(410, hosted.document), headers: AS2_HEADERS };
    if (hosted) return serve(hosted.document, accept);
    return text(404, `Nothing is hosted at ${path}.`, { vary: "Accept" });
  }

  function actorCollection(entry: LocalActor, which: string, url: URL): Json | undefined {
    const id = `${entry.actor.id}/${which}`;
    const name = entry.actor.name;
    if (which === "outbox") {
      // Paged, newest first (COL-01); `?page=n` serves page n.
      const page = url.searchParams.get("page");
      const n = page === null ? undefined : Math.max(1, Number.parseInt(page, 10) || 1);
      return pagedCollection(id, [...(state.outboxes.get(name) ?? [])].reverse(), n);
    }
    if (which === "followers") return orderedCollection(id, [...(state.followers.get(name)?.keys() ?? [])]);
    if (which === "following") {
      const following = [...state.outgoing.entries()]
        .filter(([key, f]) => key.startsWith(`${name}\n`) && f.state === "following")
        .map(([, f]) => idOf(f.follow.object));
      return orderedCollection(id, following);
    }
    return undefined;
  }

  function nodeinfo(): Reply {
    const users = [...actors.keys()].filter((n) => n !== INSTANCE_ACTOR).length;
    const localPosts = [...state.outboxes.values()].flat().filter((a) => typeOf(a) === "Create").length;
    return json(200, nodeinfoDocument({ users, localPosts }), {
      ...CORS,
      "content-type": 'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"',
    });
  }

  function inboxGet(method: string, url: URL): Reply {
    if (method !== "GET" && method !== "HEAD") {
      return text(405, `${method} is not allowed here.`, { allow: "GET, POST" });
    }
    // The inbox's contents are private; an empty collection is the sane public answer.
    return {
      status: 200,
      headers: AS2_HEADERS,
      body: JSON.stringify(orderedCollection(`${origin}${url.pathname}`, [])),
    };
  }

  function webfinger(url: URL): Reply {
    const resource = url.searchParams.get("resource");
    if (!resource)
      return text(400, "WebFinger needs a 'resource' query parameter, e.g. acct:alice@host.", CORS);
    const { host, hostname } = new URL(origin);
    const acct = /^acct:([^@]+)@(.+)$/.exec(resource);
    const entry = acct
      ? acct[2] === host || acct[2] === hostname
        ? actors.get(acct[1]!)
        : undefined
      : localById(resource);
    if (!entry || entry.actor.name === INSTANCE_ACTOR)
      return text(404, `No actor matches ${resource}.`, CORS);
    if (state.deletedActors.has(entry.actor.name)) return text(410, `${resource} was deleted.`, CORS);
    return json(200, webfingerDocument(entry.actor), { ...CORS, "content-type": "application/jrd+json" });
  }

  /** The URL the sender signed: our scheme, its Host header, the path. */
  function signedUrl(req: IncomingMessage, url: URL): string {
    const protocol = ctx.publicOrigin ? new URL(origin).protocol : `${ctx.scheme}:`;
    return `${protocol}//${req.headers.host ?? new URL(origin).host}${url.pathname}${url.search}`;
  }

  async function verifyIfSigned(req: IncomingMessage, url: URL, observed: Observed): Promise<void> {
    const headers = rawHeaders(req);
    const signed =
      headers.signature !== undefined || headers.authorization?.toLowerCase().startsWith("signature ");
    if (!signed) return;
    observed.signature = await verifyRequest(
      { method: req.method ?? "GET", url: signedUrl(req, url), headers },
      ctx.resolver,
      { skewSeconds: ctx.skewSeconds },
    );
  }

  async function receive(req: IncomingMessage, url: URL, observed: Observed): Promise<Reply> {
    const read = await readBody(req, ctx.maxBodyBytes);
    if (!read.ok) {
      if (read.reason === "too-large") {
        observed.signature = {
          ok: false,
          reason: `The body exceeds ${ctx.maxBodyBytes} bytes and was not read`,
        };
        return {
          ...text(413, `The body exceeds the probe's limit of ${ctx.maxBodyBytes} bytes.`),
          close: true,
        };
      }
      return { ...text(400, "The request body could not be read."), close: true };
    }
    const body = read.body.toString("utf8");
    observed.body = body;
    const headers = rawHeaders(req);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    const activity = isObject(parsed) ? parsed : undefined;
    if (activity) observed.activity = activity;
    const verdict = await verifyRequest(
      { method: "POST", url: signedUrl(req, url), headers, body: read.body },
      ctx.resolver,
      { skewSeconds: ctx.skewSeconds },
    );
    const actorId = activity ? idOf(activity.actor) : undefined;
    // A valid signature only counts when its key's owner is the activity's actor (SIG-04).
    observed.signature =
      verdict.ok && activity && verdict.actorId !== actorId
        ? {
            ...verdict,
            ok: false,
            reason: `The key ${verdict.keyId} belongs to ${verdict.actorId}, but the activity's actor is ${actorId ?? "missing"}`,
          }
        : verdict;
    if (activity) {
      const senderOrigin = actorId ? originOf(actorId) : undefined;
      observed.findings = await findingsFor(activity, {
        headers,
        body,
        ...(senderOrigin !== undefined && { origin: senderOrigin }),
      });
    }
    if (!observed.signature.ok && ctx.requireSignatures) {
      return text(401, `Signature rejected: ${observed.signature.reason ?? "unknown reason"}`);
    }
    if (!activity) return text(400, "The body is not a JSON object.");
    ctx.apply(activity);
    return text(202, "Accepted");
  }

  return (req, res) => void handle(req, res);
}
