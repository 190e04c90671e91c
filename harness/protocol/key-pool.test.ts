import { createPrivateKey, createPublicKey, type JsonWebKey } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyPool, defaultKeyCacheFile, fillKeyCache } from "./key-pool.ts";
import { signRequest, verifyRequest } from "./signatures.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedicheck-key-pool-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fingerprint = (pem: string) => pem.replace(/\s/g, "");

describe("createKeyPool", () => {
  it("hands out distinct keys, generating them when there is no cache", async () => {
    const pool = createKeyPool({ lowWater: 0 });
    const keys = await Promise.all([pool.take(), pool.take(), pool.take()]);
    expect(new Set(keys.map((k) => fingerprint(k.publicKeyPem))).size).toBe(3);
    expect(pool.stats()).toMatchObject({ taken: 3, generated: 3, fromCache: 0 });
  });

  it("keeps what it generated in the cache file (0600), and a later pool reads it instead of generating", async () => {
    const file = join(dir, "a", "rsa.keys");
    const first = createKeyPool({ cacheFile: file, lowWater: 0 });
    const made = await Promise.all([first.take(), first.take()]);
    // Appends happen in the background; wait until both lines are there.
    for (let i = 0; i < 100 && (await readFile(file, "utf8").catch(() => "")).split("\n").length < 3; i++)
      await new Promise((r) => setImmediate(r));
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const second = createKeyPool({ cacheFile: file, lowWater: 0 });
    const again = await Promise.all([second.take(), second.take()]);
    expect(second.stats()).toMatchObject({ taken: 2, fromCache: 2, generated: 0, waitedFor: 0 });
    expect(new Set(again.map((k) => fingerprint(k.publicKeyPem)))).toEqual(
      new Set(made.map((k) => fingerprint(k.publicKeyPem))),
    );
    // A key from the cache signs and verifies like a fresh one.
    const [pair] = again;
    const request = { method: "POST", url: "https://a.test/inbox", headers: {}, body: "{}" };
    const key = {
      keyId: "https://b.test/u#k",
      privateKey: pair!.privateKey,
      algorithm: "rsa-sha256" as const,
    };
    const signed = { ...request, headers: signRequest(request, key, { scheme: "draft-cavage-12" }) };
    const verdict = await verifyRequest(signed, {
      resolve: async (keyId) => ({ keyId, publicKey: pair!.publicKey, ownerActorId: "https://b.test/u" }),
    });
    expect(verdict.ok).toBe(true);
  });

  it("never hands the same cached key out twice, through take or takeCached", async () => {
    const file = join(dir, "b.keys");
    expect(await fillKeyCache(file, 4)).toBe(4);
    expect(await fillKeyCache(file, 4)).toBe(0); // already full
    const pool = createKeyPool({ cacheFile: file, lowWater: 0 });
    expect(pool.cachedLeft()).toBe(4);
    const lines = pool.takeCached(2);
    expect(lines).toHaveLength(2);
    expect(pool.cachedLeft()).toBe(2);
    const taken = await Promise.all([pool.take(), pool.take(), pool.take()]);
    const handedOver = lines.map((l) =>
      fingerprint(
        createPublicKey(createPrivateKey({ key: JSON.parse(l) as JsonWebKey, format: "jwk" }))
          .export({ type: "spki", format: "pem" })
          .toString(),
      ),
    );
    const all = [...handedOver, ...taken.map((k) => fingerprint(k.publicKeyPem))];
    expect(new Set(all).size).toBe(5);
    expect(pool.stats()).toMatchObject({ fromCache: 2, generated: 1, handedOver: 2 });
    expect(pool.takeCached(10)).toEqual([]);
  });

  it("adopts keys other processes generated into the cache, up to its limit, not into this run", async () => {
    const file = join(dir, "e.keys");
    await fillKeyCache(file, 1);
    const line = (await readFile(file, "utf8")).trim();
    const pool = createKeyPool({ cacheFile: file, cacheLimit: 3, lowWater: 0 });
    expect(pool.cachedLeft()).toBe(1);
    // A damaged line is dropped; of three good ones, two fit under the limit.
    expect(await pool.adopt(["not a key", line, line, line])).toBe(2);
    expect(pool.cachedLeft()).toBe(1);
    expect((await readFile(file, "utf8")).trim().split("\n")).toEqual([line, line, line]);
    expect(await pool.adopt([line])).toBe(0);
    expect(await createKeyPool({ lowWater: 0 }).adopt([line])).toBe(0); // no cache file
  });

  it("skips damaged lines of the cache", async () => {
    const file = join(dir, "c.keys");
    await fillKeyCache(file, 1);
    const good = (await readFile(file, "utf8")).trim();
    await writeFile(file, `${"A".repeat(200)}\nnot base64 at all\n${good}\n${good.slice(0, 150)}`);
    const pool = createKeyPool({ cacheFile: file, lowWater: 0 });
    await pool.take();
    expect(pool.stats()).toMatchObject({ fromCache: 1, generated: 0 });
  });

  it("writes private JWKs and still reads the DER lines of older caches", async () => {
    const file = join(dir, "d.keys");
    await fillKeyCache(file, 1);
    const jwk = JSON.parse((await readFile(file, "utf8")).trim()) as JsonWebKey;
    expect(jwk).toMatchObject({ kty: "RSA" });
    expect(jwk.d).toBeDefined();
    const der = createPrivateKey({ key: jwk, format: "jwk" }).export({ type: "pkcs8", format: "der" });
    await writeFile(file, `${der.toString("base64")}\n`);
    const pool = createKeyPool({ cacheFile: file, lowWater: 0 });
    const pair = await pool.take();
    expect(pair.publicKey.export({ format: "jwk" }).n).toBe(jwk.n);
    expect(pool.stats()).toMatchObject({ fromCache: 1, generated: 0 });
  });

  it("has keys ready after prefill, so takers do not wait", async () => {
    const pool = createKeyPool({ lowWater: 0 });
    pool.prefill(2);
    for (let i = 0; i < 400 && pool.stats().generated < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await Promise.all([pool.take(), pool.take()]);
    expect(pool.stats()).toMatchObject({ taken: 2, generated: 2, waitedFor: 0 });
  });
});

describe("defaultKeyCacheFile", () => {
  it("is off, moved, or in the repository's node_modules cache", () => {
    expect(defaultKeyCacheFile({ FEDICHECK_KEY_CACHE: "off" })).toBeUndefined();
    expect(defaultKeyCacheFile({ FEDICHECK_KEY_CACHE: "/tmp/x.keys" })).toBe("/tmp/x.keys");
    expect(defaultKeyCacheFile({})).toMatch(/node_modules\/\.cache\/fedicheck\/rsa-2048\.keys$/);
  });
});
