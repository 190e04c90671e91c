import { beforeAll, describe, expect, it } from "vitest";
import { createKeyResolver } from "./key-resolver.ts";
import { generateSigningKeyPair, multikeyBlock, publicKeyBlock, type SigningKeyPair } from "./keys.ts";
import { signRequest, verifyRequest } from "./signatures.ts";
import type { HttpClient, HttpRequestInit, HttpResponse } from "./types.ts";

const ACTOR = "https://b.test/users/bob";
const KEY_ID = `${ACTOR}#main-key`;

/** An HttpClient answering from a table of URL → JSON document (or status), recording requests. */
function fakeClient(routes: Record<string, unknown>) {
  const requests: Array<{ url: string; init?: HttpRequestInit }> = [];
  const client: HttpClient = {
    async request(url, init) {
      requests.push({ url, ...(init && { init }) });
      const route = routes[url];
      const status =
        typeof route === "function" ? (route as (i?: HttpRequestInit) => number)(init) : route ? 200 : 404;
      const body = Buffer.from(route && typeof route === "object" ? JSON.stringify(route) : "{}");
      const response: HttpResponse = {
        status,
        headers: { "content-type": "application/activity+json" },
        body,
        url,
        text: () => body.toString(),
        json: () => JSON.parse(body.toString()),
      };
      return response;
    },
    close: async () => {},
  };
  return { client, requests };
}

let rsa: SigningKeyPair;
let ed: SigningKeyPair;

beforeAll(async () => {
  [rsa, ed] = await Promise.all([generateSigningKeyPair(), generateSigningKeyPair("ed25519")]);
});

function actor(extra: Record<string, unknown> = {}) {
  return {
    id: ACTOR,
    type: "Person",
    inbox: `${ACTOR}/inbox`,
    publicKey: publicKeyBlock({ keyId: KEY_ID, ownerId: ACTOR, publicKeyPem: rsa.publicKeyPem }),
    ...extra,
  };
}

describe("createKeyResolver", () => {
  it("resolves a key listed in the actor and confirms the owner", async () => {
    const { client, requests } = fakeClient({ [ACTOR]: actor() });
    const key = await createKeyResolver(client).resolve(KEY_ID);
    expect(key?.ownerActorId).toBe(ACTOR);
    expect(key?.publicKey.equals(rsa.publicKey)).toBe(true);
    expect(requests[0]?.url).toBe(ACTOR);
    expect(requests[0]?.init?.headers?.accept).toContain("application/activity+json");
  });

  it("finds the key in a publicKey array", async () => {
    const other = publicKeyBlock({ keyId: `${ACTOR}#other`, ownerId: ACTOR, publicKeyPem: ed.publicKeyPem });
    const { client } = fakeClient({ [ACTOR]: actor({ publicKey: [other, actor().publicKey] }) });
    const key = await createKeyResolver(client).resolve(KEY_ID);
    expect(key?.publicKey.equals(rsa.publicKey)).toBe(true);
  });

  it("resolves an Ed25519 Multikey from assertionMethod", async () => {
    const keyId = `${ACTOR}#ed25519-key`;
    const multikey = multikeyBlock({ keyId, controller: ACTOR, publicKey: ed.publicKey });
    const { client } = fakeClient({ [ACTOR]: actor({ assertionMethod: [multikey] }) });
    const key = await createKeyResolver(client).resolve(keyId);
    expect(key?.publicKey.equals(ed.publicKey)).toBe(true);
    expect(key?.ownerActorId).toBe(ACTOR);
  });

  it("confirms a separate key document through the owner's actor document", async () => {
    const keyUrl = `${ACTOR}/main-key`;
    const keyDoc = publicKeyBlock({ keyId: keyUrl, ownerId: ACTOR, publicKeyPem: rsa.publicKeyPem });
    const { client } = fakeClient({ [keyUrl]: keyDoc, [ACTOR]: actor({ publicKey: keyUrl }) });
    const key = await createKeyResolver(client).resolve(keyUrl);
    expect(key).toMatchObject({ ownerActorId: ACTOR, claimedOwner: ACTOR });
  });

  it("does not confirm a key hosted elsewhere whose claimed owner does not list it (GHSA-q9f8-5hc7-898f)", async () => {
    const evilKey = "https://evil.test/keys/1";
    const keyDoc = publicKeyBlock({ keyId: evilKey, ownerId: ACTOR, publicKeyPem: rsa.publicKeyPem });
    const { client } = fakeClient({ [evilKey]: keyDoc, [ACTOR]: actor() });
    const resolver = createKeyResolver(client);
    const key = await resolver.resolve(evilKey);
    expect(key).toMatchObject({ ownerActorId: null, claimedOwner: ACTOR });

    // And a request signed with it is rejected for that reason.
    const url = "https://a.test/inbox";
    const request = { method: "POST", url, headers: {}, body: "{}" };
    const headers = signRequest(request, {
      keyId: evilKey,
      privateKey: rsa.privateKey,
      algorithm: "rsa-sha256",
    });
    const verdict = await verifyRequest({ ...request, headers }, resolver);
    expect(verdict).toMatchObject({ ok: false, keyId: evilKey });
    expect(verdict.reason).toBe(
      `Key ${evilKey} claims owner ${ACTOR}, but that actor's document does not list the key`,
    );
  });

  it("does not trust an actor document that claims an id on another origin", async () => {
    const keyId = "https://evil.test/bob#main-key";
    const forged = actor({ publicKey: { ...actor().publicKey, id: keyId } });
    const { client } = fakeClient({ "https://evil.test/bob": forged });
    const resolver = createKeyResolver(client);
    expect(await resolver.resolve(keyId)).toBeNull();
    expect(resolver.failureReason(keyId)).toBe(
      `https://evil.test/bob serves an actor whose id ${ACTOR} is on another origin`,
    );
  });

  it("returns null with a reason for a missing document or key", async () => {
    const { client } = fakeClient({ [ACTOR]: actor() });
    const resolver = createKeyResolver(client);
    expect(await resolver.resolve("https://b.test/users/nobody#main-key")).toBeNull();
    expect(resolver.failureReason("https://b.test/users/nobody#main-key")).toBe(
      "GET https://b.test/users/nobody answered 404",
    );
    expect(await resolver.resolve(`${ACTOR}#other-key`)).toBeNull();
    expect(resolver.failureReason(`${ACTOR}#other-key`)).toMatch(
      /neither lists .*#other-key nor is a key document/,
    );
  });

  it("caches for ttlMs, and refresh bypasses the cache", async () => {
    let clock = 0;
    const { client, requests } = fakeClient({ [ACTOR]: actor() });
    const resolver = createKeyResolver(client, { ttlMs: 1000, now: () => clock });
    await resolver.resolve(KEY_ID);
    await resolver.resolve(KEY_ID);
    expect(requests).toHaveLength(1);
    await resolver.resolve(KEY_ID, { refresh: true });
    expect(requests).toHaveLength(2);
    clock = 1500;
    await resolver.resolve(KEY_ID);
    expect(requests).toHaveLength(3);
  });

  it("shares one fetch between concurrent lookups", async () => {
    const { client, requests } = fakeClient({ [ACTOR]: actor() });
    const resolver = createKeyResolver(client);
    await Promise.all([resolver.resolve(KEY_ID), resolver.resolve(KEY_ID)]);
    expect(requests).toHaveLength(1);
  });

  it("retries a 401 signed when given a signer (authorized fetch)", async () => {
    const doc = actor();
    const routes: Record<string, unknown> = {};
    const { client, requests } = fakeClient(routes);
    routes[ACTOR] = doc;
    const original = client.request;
    client.request = async (url, init) => {
      if (!init?.headers?.signature) {
        requests.push({ url });
        return { ...(await original(url, init)), status: 401 };
      }
      return original(url, init);
    };
    const signer = {
      keyId: "https://a.test/actor#main-key",
      privateKey: ed.privateKey,
      algorithm: "ed25519" as const,
    };
    const key = await createKeyResolver(client, { signer }).resolve(KEY_ID);
    expect(key?.ownerActorId).toBe(ACTOR);
    expect(requests.at(-1)?.init?.headers?.signature).toContain('keyId="https://a.test/actor#main-key"');
  });

  it("uses a recent document that lists the key instead of a GET, but not on refresh", async () => {
    const { client, requests } = fakeClient({ [ACTOR]: actor() });
    const resolver = createKeyResolver(client, {
      recentDocument: (url) => (url === ACTOR ? actor() : undefined),
    });
    const key = await resolver.resolve(KEY_ID);
    expect(key?.publicKey.equals(rsa.publicKey)).toBe(true);
    expect(requests).toEqual([]);
    await resolver.resolve(KEY_ID, { refresh: true });
    expect(requests.map((r) => r.url)).toEqual([ACTOR]);
  });

  it("fetches when the recent document does not list the key (a rotated key id)", async () => {
    const rotated = `${ACTOR}#key-2`;
    const current = actor({
      publicKey: publicKeyBlock({ keyId: rotated, ownerId: ACTOR, publicKeyPem: ed.publicKeyPem }),
    });
    const { client, requests } = fakeClient({ [ACTOR]: current });
    const key = await createKeyResolver(client, { recentDocument: () => actor() }).resolve(rotated);
    expect(key?.publicKey.equals(ed.publicKey)).toBe(true);
    expect(requests.map((r) => r.url)).toEqual([ACTOR]);
  });

  it("hands the actor documents it vouched for to onActor, and not one on another origin", async () => {
    const seen: unknown[] = [];
    const { client } = fakeClient({ [ACTOR]: actor() });
    await createKeyResolver(client, { onActor: (doc) => seen.push(doc.id) }).resolve(KEY_ID);
    expect(seen).toEqual([ACTOR]);
    const elsewhere = fakeClient({ [ACTOR]: actor({ id: "https://evil.test/users/bob" }) });
    await createKeyResolver(elsewhere.client, { onActor: (doc) => seen.push(doc.id) }).resolve(KEY_ID);
    expect(seen).toEqual([ACTOR]);
  });
});
