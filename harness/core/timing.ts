/**
 * Where a run's time goes, measured honestly: per cell, wall time split (without double counting
 * overlapping work) into waiting for conditions, calls into a target's API, and the rest; per run,
 * the CPU time the harness process itself used and, where the runtime can tell, each target's.
 * @module
 */
import { readFileSync } from "node:fs";
import type { Target } from "./model.ts";

/**
 * Splits one cell's wall time into `waitingMs` (inside `waitFor`), `targetMs` (inside calls that go
 * to a target, outside waits: driver calls, the probe's deliveries and fetches, the harness's HTTP
 * requests) and the rest (harness work in the cell: validation, scenario logic, event-loop delays).
 * Intervals are attributed once: a call made by a wait's condition is waiting, and two overlapping
 * calls count their union.
 */
export class CellClock {
  #waits = 0;
  #calls = 0;
  #since = performance.now();
  #waitingMs = 0;
  #targetMs = 0;

  /** Time inside waits so far, in ms. */
  get waitingMs(): number {
    this.#tick();
    return this.#waitingMs;
  }

  /** Time inside target calls (outside waits) so far, in ms. */
  get targetMs(): number {
    this.#tick();
    return this.#targetMs;
  }

  #tick(): void {
    const now = performance.now();
    const elapsed = now - this.#since;
    this.#since = now;
    if (this.#waits > 0) this.#waitingMs += elapsed;
    else if (this.#calls > 0) this.#targetMs += elapsed;
  }

  /** Runs `work` counted as waiting. */
  async waiting<T>(work: () => Promise<T>): Promise<T> {
    this.#tick();
    this.#waits++;
    try {
      return await work();
    } finally {
      this.#tick();
      this.#waits--;
    }
  }

  /** Runs `work` counted as a call into a target (unless a wait is running). */
  async calling<T>(work: () => Promise<T>): Promise<T> {
    this.#tick();
    this.#calls++;
    try {
      return await work();
    } finally {
      this.#tick();
      this.#calls--;
    }
  }

  /** The target with a driver whose asynchronous methods are timed as target calls (see {@link timedCalls}). */
  timed(target: Target): Target {
    return { ...target, driver: this.timedCalls(target.driver) };
  }

  /**
   * `object` with its asynchronous methods timed as target calls: a driver, the probe (its
   * deliveries and fetches wait on the target that answers them), the harness's HTTP client.
   * Properties and synchronous methods pass through unchanged; methods run with the real object as
   * `this` (drivers may be classes with private fields).
   */
  timedCalls<T extends object>(object: T): T {
    // Stand-ins in unit tests may lack a driver or client: nothing to time then.
    if (typeof object !== "object" || object === null) return object;
    return new Proxy(object, {
      get: (real, property) => {
        const value: unknown = Reflect.get(real, property, real);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(real, args);
          // Synchronous methods (and their throws) pass through; only the awaited part is timed.
          return result instanceof Promise ? this.calling(() => result) : result;
        };
      },
    });
  }
}

/** CPU time (user + system, all threads) this process has used, in ms. */
export function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * CPU time (user + system) process `pid` has used, in ms, read from `/proc` (Linux); undefined
 * where that cannot be read (another OS, the process gone).
 */
export function pidCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command (which may hold spaces) start after the last ')'; utime and stime
    // are fields 14 and 15 of the line, in clock ticks (100 per second on Linux).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}
