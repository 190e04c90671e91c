/**
 * Recording captures with the probe: every POST a server makes to the probe's inboxes becomes a
 * `delivery` line and every document the probe fetches from another origin (keys, actors, objects)
 * a `document` line, in the order they happened, secrets removed. Optionally the recorder also
 * fetches what a delivery references without embedding (its actor, an object given by id), so the
 * capture can be replayed without the sender.
 * @module
 */
import { PROBE_SOFTWARE } from "../peer/documents.ts";
import type { FetchRecord, InboxEntry, Probe, ProbeActor } from "../peer/types.ts";
import {
  CAPTURE_VERSION,
  type CaptureActor,
  type CaptureDocument,
  CaptureWriter,
  type Json,
} from "./capture.ts";
import { originOf } from "./rewrite.ts";

/** Options of {@link createCaptureRecorder}. */
export interface CaptureRecorderOptions {
  /** File to write; created (or truncated) when the recorder is attached. */
  path: string;
  /** Written into the header. Default `fedicheck peer --record (fedicheck-probe <version>)`. */
  generator?: string;
  title?: string;
  description?: string;
  /**
   * After each delivery, fetch the sender's actor and any object the activity names only by id
   * (Create, Update, Announce) unless the capture already holds them. Default true.
   */
  fetchReferences?: boolean;
  /** Longest non-JSON body kept in a document line, in characters. Default 65 536. */
  maxTextBodyChars?: number;
}

/** A recorder: pass `onFetch` to `startProbe`, then `attach` the probe. */
export interface CaptureRecorder {
  /** The file being written. */
  readonly path: string;
  /** Events (deliveries and documents) written so far. */
  readonly count: number;
  /** Give this to `startProbe({ onFetch })`; fetches before `attach` are kept and written after the header. */
  readonly onFetch: (record: FetchRecord) => void;
  /**
   * Starts recording: writes the header naming the probe as the receiver with `actors` (default: none
   * named; replay infers them from the traffic), then follows the probe's inbox log.
   */
  attach(probe: Probe, actors?: readonly ProbeActor[]): void;
  /** Stops recording after the reference fetches in flight; idempotent. */
  close(): Promise<void>;
}

const ACTOR_TYPES = new Set(["Person", "Service", "Application", "Group", "Organization"]);

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function idOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  return isObject(value) && typeof value.id === "string" ? value.id : undefined;
}

function withoutFragment(url: string): string {
  const hash = url.indexOf("#");
  return hash < 0 ? url : url.slice(0, hash);
}

/** The capture-actor entry of a probe actor. */
function captureActor(actor: ProbeActor, origin: string): CaptureActor {
  return {
    name: actor.name,
    id: actor.id,
    inbox: actor.inbox,
    outbox: actor.outbox,
    followers: actor.followers,
    following: actor.following,
    sharedInbox: `${origin}/inbox`,
    keyId: actor.keyId,
  };
}

/** Creates a recorder writing to `options.path` (see {@link CaptureRecorder}). */
export function createCaptureRecorder(options: CaptureRecorderOptions): CaptureRecorder {
  const maxText = options.maxTextBodyChars ?? 65_536;
  const fetchReferences = options.fetchReferences ?? true;
  let writer: CaptureWriter | undefined;
  let probe: Probe | undefined;
  let unsubscribe: (() => void) | undefined;
  let closed = false;
  const early: FetchRecord[] = [];
  const pending = new Set<Promise<unknown>>();
  /** URLs (without fragment) and ids the capture already holds a document for. */
  const held = new Set<string>();
  const requested = new Set<string>();

  function writeDocument(record: FetchRecord): void {
    if (!writer || !probe || record.status === undefined) return;
    if (originOf(record.url) === probe.origin) return; // the probe reading itself is not traffic
    const line: Omit<CaptureDocument, "seq"> = {
      version: CAPTURE_VERSION,
      kind: "document",
      at: record.at,
      url: record.url,
      status: record.status,
      ...(record.headers ? { headers: record.headers } : {}),
    };
    let parsed: unknown;
    try {
      parsed = record.body ? JSON.parse(record.body) : undefined;
    } catch {
      parsed = undefined;
    }
    if (isObject(parsed)) line.document = parsed;
    else if (record.body) line.body = record.body.slice(0, maxText);
    writer.append(line);
    if (record.status === 200) {
      held.add(withoutFragment(record.url));
      const id = idOf(parsed);
      if (id) held.add(id);
    }
  }

  function onFetch(record: FetchRecord): void {
    if (closed) return;
    if (!writer) early.push(record);
    else writeDocument(record);
  }

  /** Fetches a referenced document so it lands in the capture (through onFetch). */
  function fetchReference(url: string, as: ProbeActor | undefined): void {
    const key = withoutFragment(url);
    if (!probe || held.has(key) || requested.has(key) || originOf(url) === probe.origin) return;
    if (originOf(url) === undefined) return;
    requested.add(key);
    const current = probe;
    const task = (async () => {
      const response = await current.fetch(url);
      // Authorized-fetch servers refuse unsigned GETs: ask again signed as the addressed actor.
      if ((response.status === 401 || response.status === 403) && as) {
        await current.fetch(url, { signedAs: as });
      }
    })().catch(() => {
      // A reference that cannot be fetched is simply absent from the capture.
    });
    pending.add(task);
    void task.finally(() => pending.delete(task));
  }

  function onEntry(entry: InboxEntry): void {
    if (!writer || !probe || entry.method !== "POST" || entry.recipient === undefined) return;
    writer.append({
      version: CAPTURE_VERSION,
      kind: "delivery",
      at: entry.at,
      url: `${probe.origin}${entry.path}`,
      recipient: entry.recipient,
      headers: entry.headers,
      ...(entry.activity ? { activity: entry.activity } : { body: entry.body }),
      status: entry.status,
      signature: {
        ok: entry.signature.ok,
        ...(entry.signature.scheme ? { scheme: entry.signature.scheme } : {}),
        ...(entry.signature.keyId ? { keyId: entry.signature.keyId } : {}),
        ...(entry.signature.actorId ? { actorId: entry.signature.actorId } : {}),
        ...(entry.signature.reason ? { reason: entry.signature.reason } : {}),
      },
    });
    const activity = entry.activity;
    if (!fetchReferences || !activity) return;
    const as =
      entry.recipient !== "shared"
        ? (() => {
            try {
              return probe.actor(entry.recipient!);
            } catch {
              return undefined;
            }
          })()
        : undefined;
    const actorId = idOf(activity.actor);
    if (actorId) fetchReference(actorId, as);
    const type = typeof activity.type === "string" ? activity.type : undefined;
    if (
      (type === "Create" || type === "Update" || type === "Announce") &&
      typeof activity.object === "string"
    ) {
      fetchReference(activity.object, as);
    }
    // An embedded actor (Update of a profile) is held as delivered; its document is still worth having.
    if (isObject(activity.object) && ACTOR_TYPES.has(String(activity.object.type))) {
      const id = idOf(activity.object);
      if (id) fetchReference(id, as);
    }
  }

  return {
    path: options.path,
    get count() {
      return writer?.count ?? 0;
    },
    onFetch,
    attach(target, actors = []) {
      if (writer) throw new Error("The recorder is already attached to a probe.");
      probe = target;
      writer = new CaptureWriter(options.path, {
        version: CAPTURE_VERSION,
        kind: "capture",
        createdAt: new Date().toISOString(),
        generator:
          options.generator ?? `fedicheck peer --record (${PROBE_SOFTWARE.name} ${PROBE_SOFTWARE.version})`,
        ...(options.title ? { title: options.title } : {}),
        ...(options.description ? { description: options.description } : {}),
        receiver: { origin: target.origin, actors: actors.map((a) => captureActor(a, target.origin)) },
      });
      for (const record of early.splice(0)) writeDocument(record);
      unsubscribe = target.inbox.subscribe(onEntry);
    },
    async close() {
      if (closed) return;
      unsubscribe?.();
      while (pending.size > 0) await Promise.all([...pending]);
      closed = true;
    },
  };
}
