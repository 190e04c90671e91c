import { EventEmitter } from "node:events";
import { expect, test } from "vitest";
import { WaitTimeoutError } from "./scenario.ts";
import { waitUntil } from "./wait.ts";

test("resolves with the first truthy value and stops polling", async () => {
  let calls = 0;
  const value = await waitUntil("third call", async () => (++calls >= 3 ? "done" : null), {
    initialIntervalMs: 1,
  });
  expect(value).toBe("done");
  expect(calls).toBe(3);
});

test("times out with an error naming the condition", async () => {
  const error = await waitUntil("the post arrives", async () => false, { timeoutMs: 50 }).catch((e) => e);
  expect(error).toBeInstanceOf(WaitTimeoutError);
  expect(String(error.message)).toContain("the post arrives");
});

test("an event wakes the wait long before the next poll", async () => {
  const events = new EventEmitter();
  let ready = false;
  const started = Date.now();
  const pending = waitUntil("event", async () => ready, {
    initialIntervalMs: 5_000,
    maxIntervalMs: 5_000,
    wakeOn: (listener) => {
      events.on("entry", listener);
      return () => events.off("entry", listener);
    },
  });
  setTimeout(() => {
    ready = true;
    events.emit("entry");
  }, 30);
  await expect(pending).resolves.toBe(true);
  // Without the wake-up the second evaluation would come 5 s later.
  expect(Date.now() - started).toBeLessThan(2_000);
  expect(events.listenerCount("entry")).toBe(0);
});

test("an aborted signal stops the wait with its reason", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("interrupted")), 20);
  await expect(waitUntil("never", async () => false, { signal: controller.signal })).rejects.toThrow(
    "interrupted",
  );
});
