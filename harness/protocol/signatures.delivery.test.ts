import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createHttpClient } from "./http-client.ts";
import { generateSigningKeyPair, type SigningKeyPair } from "./keys.ts";
import { deliverSigned, fetchSigned, verifyRequest } from "./signatures.ts";
import type { KeyResolver, SignatureScheme, SignatureVerdict, SigningKey } from "./types.ts";

const ACTOR = "https://b.test/users/bob";
let pair: SigningKeyPair;
let key: SigningKey;
let resolver: KeyResolver;

beforeAll(async () => {
  pair = await generateSigningKeyPair();
  key = { keyId: `${ACTOR}#main-key`, privateKey: pair.privateKey, algorithm: "rsa-sha256" };
  resolver = { resolve: async (keyId) => ({ keyId, publicKey: pair.publicKey, ownerActorId: ACTOR }) };
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** An inbox on loopback that verifies with our verifier and accepts only `accepts` schemes. */
async function inbox(accepts: SignatureScheme[]) {
  const verdicts: SignatureVerdict[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    const url = `http://${req.headers.host}${req.url}`;
    const verdict = await verifyRequest(
      { method: req.method!, url, headers, body: Buffer.concat(chunks) },
      resolver,
    );
    verdicts.push(verdict);
    res.statusCode = verdict.ok && verdict.scheme && accepts.includes(verdict.scheme) ? 202 : 401;
    res.end();
  }).listen(0, "127.0.0.1");
  await once(server, "listening");
  const client = createHttpClient();
  cleanups.push(async () => {
    await client.close();
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/inbox`, client, verdicts };
}

describe("deliverSigned", () => {
  it("delivers with cavage first by default", async () => {
    const { url, client, verdicts } = await inbox(["draft-cavage-12", "rfc9421"]);
    const result = await deliverSigned(client, url, { type: "Create", actor: ACTOR }, key);
    expect(result.response.status).toBe(202);
    expect(result.scheme).toBe("draft-cavage-12");
    expect(result.attempts).toHaveLength(1);
    expect(result.attempts[0]!.requestHeaders["content-type"]).toBe("application/activity+json");
    expect(verdicts[0]).toMatchObject({ ok: true, actorId: ACTOR });
  });

  it("double-knocks with RFC 9421 after a 401", async () => {
    const { url, client } = await inbox(["rfc9421"]);
    const result = await deliverSigned(client, url, '{"type":"Follow"}', key);
    expect(result.attempts.map((a) => [a.scheme, a.status])).toEqual([
      ["draft-cavage-12", 401],
      ["rfc9421", 202],
    ]);
    expect(result.scheme).toBe("rfc9421");
    expect(result.attempts[1]!.requestHeaders["signature-input"]).toMatch(/^sig1=/);
  });

  it("double-knocks with cavage when RFC 9421 goes first", async () => {
    const { url, client } = await inbox(["draft-cavage-12"]);
    const result = await deliverSigned(client, url, "{}", key, { firstKnock: "rfc9421" });
    expect(result.attempts.map((a) => a.scheme)).toEqual(["rfc9421", "draft-cavage-12"]);
    expect(result.response.status).toBe(202);
  });

  it("knocks once when double-knocking is off, and at most twice otherwise", async () => {
    const { url, client } = await inbox([]);
    const once = await deliverSigned(client, url, "{}", key, { doubleKnock: false });
    expect(once.attempts).toHaveLength(1);
    const twice = await deliverSigned(client, url, "{}", key);
    expect(twice.attempts).toHaveLength(2);
    expect(twice.response.status).toBe(401);
  });
});

describe("fetchSigned", () => {
  it("sends a GET the verifier accepts", async () => {
    const { url, client, verdicts } = await inbox(["rfc9421"]);
    const response = await fetchSigned(client, url, key, { scheme: "rfc9421" });
    expect(response.status).toBe(202);
    expect(verdicts[0]).toMatchObject({ ok: true, scheme: "rfc9421" });
  });
});
