/**
 * Whose fault an `errored` cell is. A check that could not be decided is `errored`; `blame` says why:
 * - `target`: the target broke a limit the harness enforces against hostile or broken servers
 *   (a response too slow, too large, nested too deep, not JSON, redirecting in circles or off the
 *   run), or the cell ran out of time while waiting on the target;
 * - `infrastructure`: something between harness and target failed (a connection refused, TLS, the run
 *   interrupted, a cell out of time while not waiting on any target);
 * - `harness`: any other error, i.e. a bug of fedicheck (or of a driver, a suite, the probe).
 * The rules are deliberately few; an error may also carry its own `blame` property (drivers and
 * runtimes can set one without importing core).
 * @module
 */
import { HttpClientError } from "../protocol/http-client.ts";
import type { HttpClient, HttpErrorCode, HttpRequestInit, HttpResponse } from "../protocol/types.ts";
import type { Blame, TargetInfo } from "./model.ts";

export type { Blame };

/** HTTP client error codes that only a misbehaving server can cause. */
export const TARGET_FAULT_CODES: ReadonlySet<HttpErrorCode> = new Set<HttpErrorCode>([
  "timeout",
  "too-large",
  "too-many-redirects",
  "forbidden-host",
  "invalid-json",
  "json-too-deep",
]);

/** Words for each limit, used in messages. */
const LIMIT_WORDS: Partial<Record<HttpErrorCode, string>> = {
  timeout: "the time limit",
  "too-large": "the size limit",
  "too-many-redirects": "the redirect limit",
  "forbidden-host": "the run's allow-list",
  "invalid-json": "well-formed JSON",
  "json-too-deep": "the JSON depth limit",
};

/** What the cell knew when it stopped, for {@link blameStop}. */
export interface BlameContext {
  /** The cell's sender and receiver. */
  targets: ReadonlyArray<Pick<TargetInfo, "id" | "origin">>;
  /** Origin of the harness's own probe: a fault there is the harness's. */
  probeOrigin?: string | undefined;
  /** What the cell was waiting on when it stopped (see {@link createActivityTracker}). */
  pending?: readonly PendingWork[];
  /** The run was interrupted (Ctrl-C): whatever stopped the cell is nobody's fault. */
  interrupted?: boolean;
}

/** One thing a cell was waiting on. */
export interface PendingWork {
  /** e.g. `GET http://…/actor` or `waiting for: the post arrives`. */
  description: string;
  /** Origin contacted, when the work is an HTTP request. */
  url?: string;
}

/** The blame and the one-line message of an error that stopped a cell. */
export interface BlameVerdict {
  blame: Blame;
  message: string;
}

/** The first HttpClientError in an error's `cause` chain (a scenario may wrap one), if any. */
export function httpClientErrorIn(error: unknown): HttpClientError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (current instanceof HttpClientError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function hostOf(url: string | undefined): string | undefined {
  if (url === undefined || !URL.canParse(url)) return undefined;
  return new URL(url).host.toLowerCase();
}

/** The cell's targets other than the probe, whose origin's host matches `url` (all of them when none matches). */
function culprits(url: string | undefined, context: BlameContext): { ids: string[]; matched: boolean } {
  const probeHost = hostOf(context.probeOrigin);
  const others = [...new Map(context.targets.map((t) => [t.id, t])).values()].filter(
    (t) => hostOf(t.origin) !== probeHost,
  );
  const host = hostOf(url);
  const matching = others.filter((t) => host !== undefined && hostOf(t.origin) === host);
  return matching.length > 0
    ? { ids: matching.map((t) => t.id), matched: true }
    : { ids: others.map((t) => t.id), matched: false };
}

function named(ids: string[]): string {
  return ids.length === 1 ? `target ${ids[0]}` : `target ${ids.join(" or ")}`;
}

function ownBlame(error: unknown): Blame | undefined {
  const blame = (error as { blame?: unknown } | null | undefined)?.blame;
  return blame === "target" || blame === "harness" || blame === "infrastructure" ? blame : undefined;
}

/**
 * Blames an HTTP client error. Target-fault codes are the target's when the URL is on one of the
 * cell's targets, or off the run (a target's document or redirect led there); on the probe's origin
 * they are the harness's. `connect` and `tls` failures are the infrastructure's; `aborted` too.
 */
export function blameHttpError(error: HttpClientError, context: BlameContext): BlameVerdict {
  const probeHost = hostOf(context.probeOrigin);
  const onProbe = probeHost !== undefined && hostOf(error.url) === probeHost;
  if (TARGET_FAULT_CODES.has(error.code) && !onProbe) {
    const { ids } = culprits(error.url, context);
    if (ids.length > 0) {
      return {
        blame: "target",
        message: `${named(ids)} broke ${LIMIT_WORDS[error.code] ?? "a limit"} (${error.code}): ${error.message}`,
      };
    }
  }
  if (TARGET_FAULT_CODES.has(error.code)) {
    return { blame: "harness", message: `the probe broke a limit (${error.code}): ${error.message}` };
  }
  if (error.code === "aborted") return { blame: "infrastructure", message: error.message };
  return { blame: "infrastructure", message: `infrastructure error (${error.code}): ${error.message}` };
}

/**
 * Blames an error that stopped a cell and phrases its message (see the module doc for the rules).
 * `CellTimeoutError`-like errors (name `CellTimeoutError`) are the target's when the cell was waiting
 * on a target, else the infrastructure's.
 */
export function blameStop(error: unknown, context: BlameContext): BlameVerdict {
  const message = error instanceof Error ? error.message : String(error);
  if (context.interrupted) return { blame: "infrastructure", message: `not decided: ${message}` };
  const own = ownBlame(error);
  if (own) return { blame: own, message };
  if (error instanceof Error && error.name === "CellTimeoutError") {
    // A wait polls the targets; a request counts unless it went to the probe.
    const probeHost = hostOf(context.probeOrigin);
    const onTargets = (context.pending ?? []).filter(
      (work) => work.url === undefined || probeHost === undefined || hostOf(work.url) !== probeHost,
    );
    const first = onTargets[0];
    if (first) {
      const ids = culprits(first.url, context).ids;
      const who = ids.length > 0 ? named(ids) : "a target";
      return { blame: "target", message: `${message} while waiting on ${who}: ${first.description}` };
    }
    return { blame: "infrastructure", message: `${message} (not waiting on any target)` };
  }
  const http = httpClientErrorIn(error);
  if (http) {
    const verdict = blameHttpError(http, context);
    // Keep the scenario's own words when it wrapped the client's error.
    return http === error ? verdict : { ...verdict, message: `${verdict.message} (${message})` };
  }
  return { blame: "harness", message: `harness or infrastructure error: ${message}` };
}

/** Tracks what a cell is waiting on, so a cell that runs out of time can say on what. */
export interface ActivityTracker {
  /** Runs `work`, listed as pending until it settles. */
  track<T>(work: PendingWork, run: () => Promise<T>): Promise<T>;
  /** Work still pending, oldest first. */
  pending(): PendingWork[];
  /**
   * `client` with every request tracked, and aborted with `signal` when the request has no signal
   * of its own (so requests of a cell that ran out of time do not linger).
   */
  http(client: HttpClient, signal: AbortSignal): HttpClient;
}

/** Creates an {@link ActivityTracker}. */
export function createActivityTracker(): ActivityTracker {
  const pending = new Set<PendingWork>();
  const track = async <T>(work: PendingWork, run: () => Promise<T>): Promise<T> => {
    pending.add(work);
    try {
      return await run();
    } finally {
      pending.delete(work);
    }
  };
  return {
    track,
    pending: () => [...pending],
    http: (client, signal) => ({
      request(url: string, init: HttpRequestInit = {}): Promise<HttpResponse> {
        const work = { description: `${(init.method ?? "GET").toUpperCase()} ${url}`, url };
        return track(work, () => client.request(url, init.signal ? init : { ...init, signal }));
      },
      // The client belongs to the run, not to the cell.
      close: () => Promise.resolve(),
    }),
  };
}
