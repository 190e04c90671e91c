/**
 * The probe's record of every request it received: append-only, queryable, and awaitable without
 * polling (waiters subscribe and are woken by the append that matches).
 * @module
 */
import type { InboxEntry, InboxLog } from "./types.ts";

/** The log as the probe's server sees it: an {@link InboxLog} it can append to. */
export interface InboxRecorder extends InboxLog {
  /** Appends an entry (its `seq` is assigned here), notifies subscribers, and returns it. */
  record(entry: Omit<InboxEntry, "seq">): InboxEntry;
  /** Rejects every pending `waitFor` (the probe is closing). */
  close(reason?: string): void;
}

/** Thrown by `waitFor` when nothing matched in time; names what was awaited. */
export class InboxWaitTimeoutError extends Error {
  constructor(
    readonly description: string,
    readonly timeoutMs: number,
    readonly seen: number,
  ) {
    super(
      `Timed out after ${timeoutMs} ms waiting for ${description}: ` +
        `none of the ${seen} request(s) the probe received matched.`,
    );
    this.name = "InboxWaitTimeoutError";
  }
}

/** Options of {@link createInboxLog}. */
export interface InboxLogOptions {
  /** Default `waitFor` timeout in ms. Default 10 000. */
  defaultTimeoutMs?: number;
}

/** Creates an empty inbox log. */
export function createInboxLog(options: InboxLogOptions = {}): InboxRecorder {
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 10_000;
  const entries: InboxEntry[] = [];
  const listeners = new Set<(entry: InboxEntry) => void>();
  const closers = new Set<(reason: string) => void>();
  let closed: string | undefined;

  function subscribe(listener: (entry: InboxEntry) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  return {
    all: () => entries.slice(),
    query: (predicate) => entries.filter(predicate),
    subscribe,
    record(partial) {
      const entry: InboxEntry = { seq: entries.length + 1, ...partial };
      entries.push(entry);
      // Copy first: a listener may unsubscribe (waitFor does) while we iterate.
      for (const listener of [...listeners]) {
        try {
          listener(entry);
        } catch {
          // A faulty subscriber must not break the server or the other subscribers.
        }
      }
      return entry;
    },
    waitFor(predicate, waitOptions = {}) {
      const timeoutMs = waitOptions.timeoutMs ?? defaultTimeoutMs;
      const description = waitOptions.description ?? "a matching request";
      const signal = waitOptions.signal;
      const found = entries.find(predicate);
      if (found) return Promise.resolve(found);
      if (closed !== undefined) {
        return Promise.reject(new Error(`Cannot wait for ${description}: ${closed}`));
      }
      if (signal?.aborted) return Promise.reject(abortError(signal, description));
      return new Promise<InboxEntry>((resolve, reject) => {
        const finish = (): void => {
          clearTimeout(timer);
          unsubscribe();
          closers.delete(onClose);
          signal?.removeEventListener("abort", onAbort);
        };
        const unsubscribe = subscribe((entry) => {
          let matched = false;
          try {
            matched = predicate(entry);
          } catch (error) {
            finish();
            reject(error);
            return;
          }
          if (matched) {
            finish();
            resolve(entry);
          }
        });
        const timer = setTimeout(() => {
          finish();
          reject(new InboxWaitTimeoutError(description, timeoutMs, entries.length));
        }, timeoutMs);
        const onAbort = (): void => {
          finish();
          reject(abortError(signal!, description));
        };
        const onClose = (reason: string): void => {
          finish();
          reject(new Error(`Stopped waiting for ${description}: ${reason}`));
        };
        closers.add(onClose);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
    close(reason = "the probe was closed") {
      closed = reason;
      for (const onClose of [...closers]) onClose(reason);
      listeners.clear();
    },
  };
}

function abortError(signal: AbortSignal, description: string): Error {
  const cause: unknown = signal.reason;
  const error = new Error(`Stopped waiting for ${description}: aborted`, { cause });
  error.name = "AbortError";
  return error;
}

/** Headers whose values are secrets and never kept in evidence. */
const SECRET_HEADERS = new Set(["cookie", "set-cookie", "proxy-authorization", "x-api-key", "x-auth-token"]);

/**
 * Lower-cases header names and redacts secrets: cookies and bearer/basic credentials. Signature
 * headers (`signature`, `signature-input`, `authorization: Signature …`) are evidence and are kept.
 */
export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, rawValue] of Object.entries(headers)) {
    if (rawValue === undefined) continue;
    const name = rawName.toLowerCase();
    const value = Array.isArray(rawValue) ? rawValue.join(", ") : rawValue;
    if (SECRET_HEADERS.has(name)) out[name] = "[redacted]";
    else if (name === "authorization") out[name] = redactAuthorization(value);
    else out[name] = value;
  }
  return out;
}

function redactAuthorization(value: string): string {
  const space = value.indexOf(" ");
  const scheme = space < 0 ? value : value.slice(0, space);
  // Early draft-cavage senders put the signature in Authorization: that is evidence, not a secret.
  if (scheme.toLowerCase() === "signature") return value;
  return space < 0 ? "[redacted]" : `${scheme} [redacted]`;
}
