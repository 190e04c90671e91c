import { describe, expect, it } from "vitest";
import type { Driver } from "../drivers/driver.ts";
import type { Target } from "./model.ts";
import { CellClock, pidCpuMs, processCpuMs } from "./timing.ts";

/** Resolves after `ms` on a timer (the clock measures wall time, so the test needs some to pass). */
const resolveAfter = <T>(ms: number, value: T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe("CellClock", () => {
  it("counts waits and target calls apart, overlapping calls once, and a call inside a wait as waiting", async () => {
    const clock = new CellClock();
    const timedFor = async (work: () => Promise<unknown>) => {
      const started = performance.now();
      await work();
      return performance.now() - started;
    };
    // Two overlapping calls: their union (the longer one), not their sum.
    const durations = await Promise.all([
      timedFor(() => clock.calling(() => resolveAfter(60, 1))),
      timedFor(() => clock.calling(() => resolveAfter(60, 2))),
    ]);
    const union = Math.max(...durations);
    expect(clock.targetMs).toBeGreaterThanOrEqual(union - 2);
    expect(clock.targetMs).toBeLessThan(union + 15);
    // A wait whose condition makes a call: all of it waiting, none of it a target call.
    const targetBefore = clock.targetMs;
    const waited = await timedFor(() => clock.waiting(() => clock.calling(() => resolveAfter(60, 3))));
    expect(clock.waitingMs).toBeGreaterThanOrEqual(waited - 2);
    expect(clock.waitingMs).toBeLessThan(waited + 15);
    expect(clock.targetMs).toBeLessThan(targetBefore + 2);
  });

  it("times a driver's asynchronous methods, passes the rest through, and keeps `this` (private fields)", async () => {
    class FakeDriver {
      readonly capabilities = ["follow"];
      #secret = 7;
      sync(): number {
        return this.#secret;
      }
      async slow(): Promise<number> {
        return await resolveAfter(50, this.#secret);
      }
      boom(): never {
        throw new Error("sync throw");
      }
    }
    const clock = new CellClock();
    const target = { id: "a", driver: new FakeDriver() as unknown as Driver } as Target;
    const timed = clock.timed(target);
    const driver = timed.driver as unknown as FakeDriver;
    expect(timed.id).toBe("a");
    expect(driver.capabilities).toEqual(["follow"]);
    expect(driver.sync()).toBe(7);
    expect(() => driver.boom()).toThrow("sync throw");
    expect(await driver.slow()).toBe(7);
    expect(clock.targetMs).toBeGreaterThanOrEqual(45);
    expect(clock.waitingMs).toBe(0);
    // The original target is untouched.
    expect(target.driver).toBeInstanceOf(FakeDriver);
  });

  it("lets rejections through and still stops the clock", async () => {
    const clock = new CellClock();
    const timed = clock.timedCalls({
      fail: () => resolveAfter(30, 0).then(() => Promise.reject(new Error("no"))),
    });
    await expect(timed.fail()).rejects.toThrow("no");
    const settled = clock.targetMs;
    await resolveAfter(40, 0);
    expect(clock.targetMs).toBe(settled); // nothing still counting
  });
});

describe("CPU time", () => {
  it("reads this process's CPU time, and a pid's from /proc where there is one", () => {
    const before = processCpuMs();
    let x = 0;
    for (let i = 0; i < 3e6; i++) x += Math.sqrt(i);
    expect(x).toBeGreaterThan(0);
    expect(processCpuMs()).toBeGreaterThan(before);
    const own = pidCpuMs(process.pid);
    if (process.platform === "linux") expect(own).toBeGreaterThan(0);
    expect(pidCpuMs(2 ** 22 + 12345)).toBeUndefined();
  });
});
