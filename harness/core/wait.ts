/**
 * Federation-aware waiting: poll a condition with exponential backoff, waking early on events (the
 * probe's inbox), within a budget. Never a fixed sleep; time spent is accounted as waiting.
 * @module
 */
import { WaitTimeoutError } from "./scenario.ts";

/** Options of {@link waitUntil}. */
export interface WaitUntilOptions {
  /** Budget in ms. Default 10 000. */
  timeoutMs?: number;
  /** First poll interval in ms, doubled up to `maxIntervalMs`. Default 20. */
  initialIntervalMs?: number;
  /** Default 500. */
  maxIntervalMs?: number;
  /** Re-evaluate immediately when this fires (returns an unsubscribe function). */
  wakeOn?: (listener: () => void) => () => void;
  signal?: AbortSignal;
}

/**
 * Resolves with the first value of `condition()` that is not undefined, null or false. Throws
 * {@link WaitTimeoutError} naming `description` when the budget runs out, or the signal's reason
 * when aborted. Errors thrown by the condition propagate at once.
 */
export async function waitUntil<T>(
  description: string,
  condition: () => Promise<T | undefined | null | false>,
  options: WaitUntilOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let interval = options.initialIntervalMs ?? 20;
  const maxInterval = options.maxIntervalMs ?? 500;
  let last: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    const value = await condition();
    if (value !== undefined && value !== null && value !== false) return value;
    last = value;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new WaitTimeoutError(description, timeoutMs, last);
    await pause(Math.min(interval, remaining), options);
    interval = Math.min(interval * 2, maxInterval);
  }
}

/** Waits `ms`, or less when woken by an event or aborted. */
function pause(ms: number, options: WaitUntilOptions): Promise<void> {
  return new Promise((resolve) => {
    let unsubscribe: (() => void) | undefined;
    const done = () => {
      clearTimeout(timer);
      unsubscribe?.();
      options.signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    unsubscribe = options.wakeOn?.(done);
    options.signal?.addEventListener("abort", done, { once: true });
  });
}
