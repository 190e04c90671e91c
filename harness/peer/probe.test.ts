import { Readable } from "node:stream";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProbe } from "./probe.ts";
import type { Probe, ProbeActor } from "./types.ts";

const AS2 = "application/activity+json";
const LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"';
const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

async function get(url: string, accept = AS2) {
  const response = await request(url, { headers: { accept } });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text, json: () => JSON.parse(text) };
}

describe("the probe's server", () => {
  let probe: Probe;
  let alice: ProbeActor;
  let carol: ProbeActor;

  beforeAll(async () => {
    probe = await startProbe({ maxBodyBytes: 4096 });
    alice = await probe.createActor("alice");
    carol = await probe.createActor("carol", { locked: true, type: "Service" });
  });
  afterAll(() => probe.close());

  describe("WebFinger", () => {
    it("serves a JRD with CORS and exactly one AS2-typed self link", async () => {
      const res = await get(`${probe.origin}/.well-known/webfinger?resource=acct:${alice.handle}`, "*/*");
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("application/jrd+json");
      expect(res.headers["access-control-allow-origin"]).toBe("*");
      const jrd = res.json();
      expect(jrd.subject).toBe(`acct:${alice.handle}`);
      const self = jrd.links.filter((l: { rel: string }) => l.rel === "self");
      expect(self).toEqual([{ rel: "self", type: AS2, href: alice.id }]);
    });

    it("resolves an actor URL given as resource", async () => {
      const res = await get(`${probe.origin}/.well-known/webfinger?resource=${encodeURIComponent(alice.id)}`);
      expect(res.status).toBe(200);
      expect(res.json().subject).toBe(`acct:${alice.handle}`);
    });

    it("answers 400 without resource and 404 for unknown accounts, both with CORS", async () => {
      const missing = await get(`${probe.origin}/.well-known/webfinger`);
      expect(missing.status).toBe(400);
      expect(missing.headers["access-control-allow-origin"]).toBe("*");
      const host = new URL(probe.origin).host;
      const unknown = await get(`${probe.origin}/.well-known/webfinger?resource=acct:nobody@${host}`);
      expect(unknown.status).toBe(404);
      expect(unknown.headers["access-control-allow-origin"]).toBe("*");
      const otherHost = await get(`${probe.origin}/.well-known/webfinger?resource=acct:alice@elsewhere.test`);
      expect(otherHost.status).toBe(404);
    });
  });

  describe("NodeInfo", () => {
    it("links 2.1 from the well-known document and serves a schema-shaped 2.1 document", async () => {
      const links = await get(`${probe.origin}/.well-known/nodeinfo`);
      expect(links.status).toBe(200);
      const link = links.json().links[0];
      expect(link.rel).toBe("http://nodeinfo.diaspora.software/ns/schema/2.1");
      const doc = await get(link.href);
      expect(doc.status).toBe(200);
      expect(doc.headers["content-type"]).toContain("nodeinfo.diaspora.software/ns/schema/2.1");
      const body = doc.json();
      expect(body.version).toBe("2.1");
      expect(body.software.name).toMatch(/^[a-z0-9-]+$/);
      expect(body.protocols).toContain("activitypub");
      expect(body.usage.users.total).toBe(2); // alice and carol; the instance actor is not a user
      expect(Object.keys(body).sort()).toEqual(
        ["metadata", "openRegistrations", "protocols", "services", "software", "usage", "version"].sort(),
      );
    });
  });

  describe("actor documents", () => {
    it.each([AS2, LD])("serves the actor as AS2 for Accept %s, with Vary: Accept", async (accept) => {
      const res = await get(alice.id, accept);
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe(AS2);
      expect(res.headers.vary).toBe("Accept");
      const doc = res.json();
      expect(doc["@context"]).toEqual(
        expect.arrayContaining(["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]),
      );
      expect(doc).toMatchObject({
        id: alice.id,
        type: "Person",
        preferredUsername: "alice",
        inbox: alice.inbox,
        outbox: alice.outbox,
        followers: alice.followers,
        following: alice.following,
        endpoints: { sharedInbox: `${probe.origin}/inbox` },
        manuallyApprovesFollowers: false,
        publicKey: { id: alice.keyId, owner: alice.id },
      });
      expect(doc.publicKey.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      for (const url of [doc.inbox, doc.outbox, doc.followers, doc.following]) {
        expect(new URL(url).origin).toBe(probe.origin);
      }
    });

    it("shows the locked flag and the actor type", async () => {
      const doc = (await get(carol.id)).json();
      expect(doc.type).toBe("Service");
      expect(doc.manuallyApprovesFollowers).toBe(true);
      probe.setLocked(carol, false);
      expect((await get(carol.id)).json().manuallyApprovesFollowers).toBe(false);
      expect(carol.locked).toBe(false);
      probe.setLocked(carol, true);
    });

    it("serves HTML to a browser, still varying on Accept", async () => {
      const res = await get(alice.id, "text/html,application/xhtml+xml");
      expect(res.headers["content-type"]).toContain("text/html");
      expect(res.headers.vary).toBe("Accept");
      expect(res.text).toContain(alice.id);
    });

    it("answers 404 for unknown actors and refuses bad or duplicate names", async () => {
      expect((await get(`${probe.origin}/users/nobody`)).status).toBe(404);
      await expect(probe.createActor("alice")).rejects.toThrow(/already/);
      await expect(probe.createActor("bad name")).rejects.toThrow(/not a usable actor name/);
      expect(() => probe.actor("nobody")).toThrow(/no actor named 'nobody'.*alice/);
    });
  });

  describe("collections and objects", () => {
    it("pages the outbox newest first with totalItems", async () => {
      const first = await probe.post(alice, { content: "first" }, { to: [PUBLIC] });
      const second = await probe.post(alice, { content: "second" }, { to: [PUBLIC] });
      const outbox = (await get(alice.outbox)).json();
      expect(outbox.type).toBe("OrderedCollection");
      expect(outbox.orderedItems).toBeUndefined();
      const page = (await get(outbox.first)).json();
      expect(page).toMatchObject({ type: "OrderedCollectionPage", partOf: alice.outbox });
      expect(outbox.totalItems).toBe(page.orderedItems.length);
      const ids = page.orderedItems.map((a: { id: string }) => a.id);
      expect(ids.indexOf(second.id)).toBeLessThan(ids.indexOf(first.id));
      expect(ids.indexOf(second.id)).toBe(0);
    });

    it("serves followers and following with totalItems", async () => {
      const followers = (await get(alice.followers)).json();
      expect(followers).toMatchObject({ type: "OrderedCollection", totalItems: 0, orderedItems: [] });
      const following = (await get(alice.following)).json();
      expect(following).toMatchObject({ type: "OrderedCollection", totalItems: 0 });
    });

    it("hosts posted objects and their Create at their ids", async () => {
      const create = await probe.post(
        alice,
        { content: "hosted", type: "Article", name: "A" },
        { to: [PUBLIC] },
      );
      const object = create.object as { id: string };
      const res = await get(object.id, LD);
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe(AS2);
      expect(res.json()).toMatchObject({
        id: object.id,
        type: "Article",
        attributedTo: alice.id,
        content: "hosted",
      });
      expect((await get(create.id as string)).json()).toMatchObject({ type: "Create", actor: alice.id });
    });

    it("answers 410 with a Tombstone after delete", async () => {
      const create = await probe.post(alice, { content: "doomed" }, { to: [PUBLIC] });
      const id = (create.object as { id: string }).id;
      await probe.delete(alice, id);
      const res = await get(id);
      expect(res.status).toBe(410);
      expect(res.headers["content-type"]).toBe(AS2);
      const tombstone = res.json();
      expect(tombstone).toMatchObject({ id, type: "Tombstone", formerType: "Note" });
      expect(Number.isNaN(Date.parse(tombstone.deleted))).toBe(false);
      await expect(probe.update(alice, id, { content: "zombie" })).rejects.toThrow(/no live object/);
    });

    it("hosts only objects on its own origin and mints ids there", () => {
      expect(probe.newId()).toMatch(new RegExp(`^${probe.origin}/objects/[0-9a-f-]{36}$`));
      expect(probe.newId("notes")).toMatch(new RegExp(`^${probe.origin}/notes/`));
      expect(() => probe.host({ id: "https://elsewhere.test/x", type: "Note" })).toThrow(/Only objects/);
    });

    it("serves a standalone key document claiming an owner", async () => {
      const { keyId, key } = await probe.hostKeyDocument(alice.id);
      expect(key.keyId).toBe(keyId);
      const doc = (await get(keyId)).json();
      expect(doc).toMatchObject({ id: keyId, type: "CryptographicKey", owner: alice.id });
      expect(doc.publicKeyPem).toMatch(/BEGIN PUBLIC KEY/);
      // alice's own document does not list it.
      expect(JSON.stringify((await get(alice.id)).json())).not.toContain(keyId);
    });

    it("answers 404 for anything else", async () => {
      expect((await get(`${probe.origin}/nothing/here`)).status).toBe(404);
    });
  });

  describe("inbox", () => {
    it("answers a GET on the inbox with an empty collection, logged with its recipient", async () => {
      const res = await get(alice.inbox);
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ type: "OrderedCollection", totalItems: 0 });
      const entry = await probe.inbox.waitFor((e) => e.method === "GET" && e.path === "/users/alice/inbox");
      expect(entry.recipient).toBe("alice");
    });

    it("logs plain GETs too, without recipient", async () => {
      await get(alice.id);
      const entry = await probe.inbox.waitFor((e) => e.method === "GET" && e.path === "/users/alice");
      expect(entry.recipient).toBeUndefined();
      expect(entry.status).toBe(200);
      expect(entry.headers.accept).toBe(AS2);
    });

    it("rejects an unsigned POST with 401 but logs it with the verdict", async () => {
      const note = { id: "http://elsewhere.test/n/1", type: "Note", attributedTo: "http://elsewhere.test/u" };
      const body = JSON.stringify({ type: "Create", actor: "http://elsewhere.test/u", object: note });
      const response = await request(alice.inbox, {
        method: "POST",
        body,
        headers: { "content-type": AS2, authorization: "Bearer token123" },
      });
      expect(response.statusCode).toBe(401);
      await response.body.text();
      const entry = probe.inbox.query((e) => e.method === "POST" && e.body === body)[0]!;
      expect(entry).toMatchObject({ recipient: "alice", status: 401, signature: { ok: false } });
      expect(entry.signature.reason).toMatch(/not signed/i);
      expect(entry.activity).toMatchObject({ type: "Create" });
      expect(entry.headers.authorization).toBe("Bearer [redacted]");
      expect(probe.receivedObject(note.id)).toBeNull();
    });

    it("answers 413 to a declared oversized body without reading it", async () => {
      const response = await request(`${probe.origin}/inbox`, {
        method: "POST",
        body: "x".repeat(100_000),
        headers: { "content-type": AS2 },
      });
      expect(response.statusCode).toBe(413);
      await response.body.text();
      const entry = probe.inbox.query((e) => e.status === 413 && e.recipient === "shared").at(-1)!;
      expect(entry.body).toBe("");
      expect(entry.signature.reason).toMatch(/exceeds 4096 bytes/);
    });

    it("answers 413 to an oversized chunked body, stopping at the limit", async () => {
      let sent = 0;
      async function* chunks() {
        for (let i = 0; i < 64; i++) {
          sent += 1024;
          yield Buffer.alloc(1024, 32);
        }
      }
      const response = await request(alice.inbox, {
        method: "POST",
        body: Readable.from(chunks()),
        headers: { "content-type": AS2 },
      });
      expect(response.statusCode).toBe(413);
      await response.body.text();
      expect(sent).toBeGreaterThan(4096);
    });

    it("refuses unknown inboxes and other methods", async () => {
      const unknown = await request(`${probe.origin}/users/nobody/inbox`, { method: "POST", body: "{}" });
      expect(unknown.statusCode).toBe(404);
      await unknown.body.text();
      const put = await request(alice.id, { method: "PUT", body: "{}" });
      expect(put.statusCode).toBe(405);
      await put.body.text();
    });
  });
});

describe("a probe with requireSignatures off", () => {
  it("processes unsigned activities but still records the failed verdict", async () => {
    const probe = await startProbe({ requireSignatures: false });
    try {
      const alice = await probe.createActor("alice");
      const author = "http://127.0.0.1:9/users/someone";
      const note = { id: "http://127.0.0.1:9/notes/1", type: "Note", attributedTo: author, content: "hi" };
      const response = await request(alice.inbox, {
        method: "POST",
        body: JSON.stringify({ id: "http://127.0.0.1:9/a/1", type: "Create", actor: author, object: note }),
        headers: { "content-type": AS2 },
      });
      expect(response.statusCode).toBe(202);
      await response.body.text();
      const entry = await probe.inbox.waitFor((e) => e.method === "POST");
      expect(entry.signature.ok).toBe(false);
      expect(probe.receivedObject(note.id)).toMatchObject({ content: "hi" });
    } finally {
      await probe.close();
    }
  });
});

describe("a probe with a public origin", () => {
  it("mints ids on that origin and reaches itself through it", async () => {
    const probe = await startProbe({ publicOrigin: "http://probe.test:8080" });
    try {
      const alice = await probe.createActor("alice");
      expect(alice.id).toBe("http://probe.test:8080/users/alice");
      expect(alice.handle).toBe("alice@probe.test:8080");
      const response = await probe.fetch(alice.id);
      expect(response.status).toBe(200);
      expect(JSON.parse(response.text()).id).toBe(alice.id);
    } finally {
      await probe.close();
    }
  });
});
