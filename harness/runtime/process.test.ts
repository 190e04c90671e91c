import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runningCount, startProcessTarget, stopAll } from "./process.ts";

let dir: string;

/** Writes a small child script and returns its path. */
async function script(name: string, source: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, source);
  return path;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedicheck-process-test-"));
});

afterAll(async () => {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
});

describe("startProcessTarget", () => {
  it("resolves on the ready line, keeps stderr, and stops the child", async () => {
    const path = await script(
      "ready.mjs",
      `process.on("SIGTERM", () => { process.stderr.write("bye\\n"); process.exit(0); });
       process.stderr.write("booting " + process.argv[2] + " " + process.env.GREETING + "\\n");
       process.stdout.write("some noise\\n");
       process.stdout.write(JSON.stringify({ ready: true, origin: "http://127.0.0.1:1234", port: 1234, extra: 7 }) + "\\n");
       setInterval(() => {}, 1000);`,
    );
    const target = await startProcessTarget({
      name: "ready",
      script: path,
      args: ["arg1"],
      env: { GREETING: "hi" },
    });
    expect(target.origin).toBe("http://127.0.0.1:1234");
    expect(target.port).toBe(1234);
    expect(target.ready.extra).toBe(7);
    expect(alive(target.pid)).toBe(true);
    expect(runningCount()).toBeGreaterThanOrEqual(1);
    await expect.poll(() => target.logs()).toContain("booting arg1 hi");
    await target.stop();
    expect(target.exited()).toBe(true);
    expect(alive(target.pid)).toBe(false);
    expect(target.logs()).toContain("bye");
    await target.stop(); // idempotent
  });

  it("rejects with the end of stderr when the child exits before it is ready", async () => {
    const path = await script("crash.mjs", `process.stderr.write("cannot bind port\\n"); process.exit(3);`);
    await expect(startProcessTarget({ name: "crash", script: path })).rejects.toThrow(
      /crash exited before it was ready \(code 3\)[\s\S]*cannot bind port/,
    );
  });

  it("times out, kills the child and leaves no orphan", async () => {
    const path = await script(
      "slow.mjs",
      `process.stderr.write("pid " + process.pid + "\\n"); setInterval(() => {}, 1000);`,
    );
    const before = runningCount();
    const error = await startProcessTarget({ name: "slow", script: path, readyTimeoutMs: 1_500 }).catch(
      (e) => e,
    );
    expect(String(error)).toMatch(/slow did not print its ready line within 1500 ms/);
    const pid = Number(/pid (\d+)/.exec(String(error))?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
    expect(runningCount()).toBe(before);
  });

  it("falls back to SIGKILL when SIGTERM is ignored", async () => {
    const path = await script(
      "stubborn.mjs",
      `process.on("SIGTERM", () => {});
       process.stdout.write(JSON.stringify({ ready: true, origin: "http://x", port: 1 }) + "\\n");
       setInterval(() => {}, 1000);`,
    );
    const target = await startProcessTarget({ name: "stubborn", script: path, stopTimeoutMs: 300 });
    const started = Date.now();
    await target.stop();
    expect(alive(target.pid)).toBe(false);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("keeps only the newest stderr bytes", async () => {
    const path = await script(
      "chatty.mjs",
      `for (let i = 0; i < 2000; i++) process.stderr.write("line " + i + "\\n");
       process.stderr.write("LAST\\n", () => {
         process.stdout.write(JSON.stringify({ ready: true, origin: "http://x", port: 1 }) + "\\n");
       });
       setInterval(() => {}, 1000);`,
    );
    const target = await startProcessTarget({ name: "chatty", script: path, logLimitBytes: 1_000 });
    await expect.poll(() => target.logs()).toContain("LAST");
    expect(target.logs().length).toBeLessThanOrEqual(1_000);
    expect(target.logs()).not.toContain("line 0\n");
    await target.stop();
  });

  it("leaves no orphan when the harness itself is killed with SIGKILL", async () => {
    const parentScript = await script(
      "parent.mts",
      `import { startFedifyRefProcess } from ${JSON.stringify(new URL("./process.ts", import.meta.url).pathname)};
       const target = await startFedifyRefProcess({ name: "orphan-check" });
       process.stdout.write(JSON.stringify({ ready: true, origin: target.origin, port: target.port, child: target.pid }) + "\\n");
       setInterval(() => {}, 1000);`,
    );
    const parent = await startProcessTarget({ name: "parent", script: parentScript, stopTimeoutMs: 100 });
    const child = Number(parent.ready.child);
    expect(alive(child)).toBe(true);
    process.kill(parent.pid, "SIGKILL");
    await expect.poll(() => alive(child), { timeout: 10_000 }).toBe(false);
    await parent.stop();
  });

  it("stopAll stops every registered child", async () => {
    const path = await script(
      "idle.mjs",
      `process.stdout.write(JSON.stringify({ ready: true, origin: "http://x", port: 1 }) + "\\n");
       setInterval(() => {}, 1000);`,
    );
    const targets = await Promise.all(
      [1, 2].map((i) => startProcessTarget({ name: `idle-${i}`, script: path })),
    );
    expect(targets.every((t) => alive(t.pid))).toBe(true);
    await stopAll();
    expect(targets.some((t) => alive(t.pid))).toBe(false);
    expect(runningCount()).toBe(0);
  });
});
