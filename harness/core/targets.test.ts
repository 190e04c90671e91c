import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { createFedifyRefDriver } from "../drivers/fedify-ref.ts";
import { createKeyPool, type KeyPool, useProbeKeyPool } from "../protocol/key-pool.ts";
import { resolveConfig } from "./config.ts";
import { startTargets } from "./targets.ts";

type FedifyRefDriver = ReturnType<typeof createFedifyRefDriver>;
interface KeyStats {
  handedOver: number;
  handedOverLeft: number;
  generated: number;
  kept: number;
}

let dir: string;
let originalPool: KeyPool | undefined;

/** Makes `pool` the probe's (the one startTargets shares out); afterAll puts the original back. */
function useTestPool(pool: KeyPool): void {
  const previous = useProbeKeyPool(pool);
  originalPool ??= previous;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedicheck-targets-test-"));
});

afterAll(async () => {
  if (originalPool) useProbeKeyPool(originalPool);
  await rm(dir, { recursive: true, force: true });
});

describe("startTargets", () => {
  it("hands each fedify-ref process an equal share of the key cache, enough for ~150 actors without generating", async () => {
    // One real key, 600 times: the pool hands out lines, and generating 600 keys would take a minute.
    const jwk = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
    const cacheFile = join(dir, "keys");
    await writeFile(cacheFile, `${JSON.stringify(jwk)}\n`.repeat(600), { mode: 0o600 });
    useTestPool(createKeyPool({ cacheFile, lowWater: 0 }));

    const run = await startTargets(
      resolveConfig({
        targets: [
          { id: "fedify-a", implementation: "fedify-ref", runtime: "process" },
          { id: "fedify-b", implementation: "fedify-ref", runtime: "process" },
        ],
        screenshots: "off",
        allure: false,
      }),
      { runId: `targets-test-${Date.now()}` },
    );
    try {
      const servers = run.targets.filter((t) => t.implementation === "fedify-ref");
      expect(servers).toHaveLength(2);
      const driver = servers[0]!.driver as FedifyRefDriver;
      // 1. Each of the two servers and the probe gets a third of what the probe's start-up left.
      const shares: number[] = [];
      for (const server of servers) {
        const info = (await (server.driver as FedifyRefDriver).control("GET", "info")) as { keys: KeyStats };
        shares.push(info.keys.handedOver);
      }
      expect(shares[0]).toBe(shares[1]);
      expect(shares[0]).toBeGreaterThanOrEqual(190);
      expect(shares[0]).toBeLessThanOrEqual(200);
      // 2. The default run makes ~150 actors on each server: all from the share, none generated.
      for (let i = 0; i < 150; i++) await driver.control("POST", "actors", { name: `share${i}` });
      const after = (await driver.control("GET", "info")) as { keys: KeyStats };
      expect(after.keys).toEqual({
        handedOver: shares[0],
        handedOverLeft: shares[0]! - 150,
        generated: 0,
        kept: 0,
      });
    } finally {
      await run.stop();
    }
  }, 60_000);

  it("keeps the keys a fedify-ref process had to generate in the cache, for the next run", async () => {
    const cacheFile = join(dir, "empty-keys");
    const pool = createKeyPool({ cacheFile, lowWater: 0 });
    useTestPool(pool);
    const run = await startTargets(
      resolveConfig({
        targets: [{ id: "fedify-a", implementation: "fedify-ref", runtime: "process" }],
        screenshots: "off",
        allure: false,
      }),
      { runId: `targets-test-${Date.now()}` },
    );
    let kept = 0;
    let generated = 0;
    try {
      const driver = run.targets.find((t) => t.id === "fedify-a")!.driver as FedifyRefDriver;
      // 1. An empty cache: the server generates its actors' keys (and a few ahead), and writes them out.
      for (let i = 0; i < 2; i++) await driver.control("POST", "actors", { name: `gen${i}` });
      const stats = async () => ((await driver.control("GET", "info")) as { keys: KeyStats }).keys;
      await expect.poll(async () => (await stats()).kept).toBeGreaterThanOrEqual(2);
      ({ kept, generated } = await stats());
    } finally {
      await run.stop();
    }
    // 2. After the run, the cache holds the server's keys besides the probe's own.
    const lines = (await readFile(cacheFile, "utf8")).split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(pool.stats().generated + kept);
    expect(lines.length).toBeLessThanOrEqual(pool.stats().generated + generated);
    // 3. A later run's pool reads them as keys.
    const next = createKeyPool({ cacheFile, lowWater: 0 });
    await next.take();
    expect(next.stats()).toMatchObject({ fromCache: 1, generated: 0 });
  }, 60_000);
});
