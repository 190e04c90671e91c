/**
 * Two probes federating with each other, over plain HTTP on loopback and over HTTPS with a per-run
 * CA and real-looking hostnames (mapped to loopback in each probe's client). Every misbehaviour knob
 * is checked against the receiving probe's own verifier: rejected, logged with a reason, no state change.
 */
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestCa } from "../runtime/test-ca.ts";
import { startProbe } from "./probe.ts";
import type { InboxEntry, Misbehaviour, Probe, ProbeActor } from "./types.ts";

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";
const AS = "https://www.w3.org/ns/activitystreams";

/** A free loopback port (the HTTPS probes must know each other's port before they start). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startPair(mode: "http" | "https"): Promise<[Probe, Probe]> {
  if (mode === "http") return [await startProbe(), await startProbe({ maxBodyBytes: 64 * 1024 })];
  const ca = await createTestCa();
  const [portA, portB] = [await freePort(), await freePort()];
  const hostMap = {
    "a.test": { address: "127.0.0.1", port: portA },
    "b.test": { address: "127.0.0.1", port: portB },
  };
  const client = { ca: [ca.certPem], hostMap };
  const a = await startProbe({
    port: portA,
    tls: await issue(ca, "a.test"),
    publicOrigin: "https://a.test",
    client,
  });
  const b = await startProbe({
    port: portB,
    tls: await issue(ca, "b.test"),
    publicOrigin: "https://b.test",
    client,
    maxBodyBytes: 64 * 1024,
  });
  return [a, b];
}

async function issue(ca: Awaited<ReturnType<typeof createTestCa>>, name: string) {
  const { certPem, keyPem } = await ca.issue([name]);
  return { cert: certPem, key: keyPem };
}

function objectId(activity: Record<string, unknown>): string {
  return (activity.object as { id: string }).id;
}

describe.each(["http", "https"] as const)("two probes federating over %s", (mode) => {
  let A: Probe;
  let B: Probe;
  let alice: ProbeActor;
  let alice2: ProbeActor;
  let mallory: ProbeActor;
  let bob: ProbeActor;
  let locked: ProbeActor;
  let dave: ProbeActor;

  beforeAll(async () => {
    [A, B] = await startPair(mode);
    alice = await A.createActor("alice");
    alice2 = await A.createActor("alice2");
    mallory = await A.createActor("mallory");
    bob = await B.createActor("bob");
    locked = await B.createActor("locked", { locked: true });
    dave = await B.createActor("dave", { locked: true });
  });
  afterAll(async () => {
    await A?.close();
    await B?.close();
  });

  it("uses the expected origins", () => {
    expect(A.origin).toBe(mode === "https" ? "https://a.test" : A.origin);
    expect(new URL(bob.id).protocol).toBe(`${mode}:`);
  });

  it("follows with an automatic Accept that embeds the Follow", async () => {
    const follow = await A.follow(alice, bob.id);
    const accept = await A.inbox.waitFor((e) => e.activity?.type === "Accept", {
      description: "bob's Accept",
    });
    expect(accept.signature).toMatchObject({ ok: true, actorId: bob.id });
    expect(accept.activity?.object).toMatchObject({ id: follow.id, type: "Follow" });
    expect(A.followState(alice, bob.id)).toBe("following");
    expect(B.followers(bob)).toEqual([alice.id]);
    const collection = JSON.parse((await A.fetch(bob.followers)).text());
    expect(collection).toMatchObject({ totalItems: 1, orderedItems: [alice.id] });
    const following = JSON.parse((await B.fetch(alice.following)).text());
    expect(following.orderedItems).toEqual([bob.id]);
    expect(A.backgroundErrors()).toEqual([]);
    expect(B.backgroundErrors()).toEqual([]);
  });

  it("holds a follow to a locked actor until an id-only Accept, and Reject leaves it rejected", async () => {
    const follow = await A.follow(alice, locked.id);
    const request = await B.inbox.waitFor((e) => e.activity?.id === follow.id);
    expect(request.status).toBe(202);
    expect(A.followState(alice, locked.id)).toBe("pending");
    expect(B.followRequests(locked).map((f) => f.id)).toEqual([follow.id]);
    expect(B.followers(locked)).toEqual([]);

    await B.accept(locked, B.followRequests(locked)[0]!, { embed: false });
    const accept = await A.inbox.waitFor(
      (e) => e.activity?.type === "Accept" && e.activity.actor === locked.id,
    );
    expect(accept.activity?.object).toBe(follow.id);
    expect(A.followState(alice, locked.id)).toBe("following");
    expect(B.followers(locked)).toEqual([alice.id]);

    const second = await A.follow(alice2, locked.id);
    await B.inbox.waitFor((e) => e.activity?.id === second.id);
    await B.reject(locked, B.followRequests(locked)[0]!);
    await A.inbox.waitFor((e) => e.activity?.type === "Reject");
    expect(A.followState(alice2, locked.id)).toBe("rejected");
    expect(B.followers(locked)).toEqual([alice.id]);
  });

  it("does not complete a follow on an Accept without object, or from someone else", async () => {
    const follow = await A.follow(alice, dave.id);
    await B.inbox.waitFor((e) => e.activity?.id === follow.id);
    const noObject = await B.deliver(dave, alice.inbox, {
      "@context": AS,
      id: B.newId("activities"),
      type: "Accept",
      actor: dave.id,
    });
    expect(noObject.status).toBe(202);
    const wrongActor = await B.deliver(bob, alice.inbox, {
      "@context": AS,
      id: B.newId("activities"),
      type: "Accept",
      actor: bob.id,
      object: follow.id,
    });
    expect(wrongActor.status).toBe(202);
    expect(A.followState(alice, dave.id)).toBe("pending");
    // Positive control: the real Accept completes it.
    await B.accept(dave, follow);
    await A.inbox.waitFor(
      (e) => e.activity?.type === "Accept" && e.activity.actor === dave.id && !!e.activity.object,
    );
    expect(A.followState(alice, dave.id)).toBe("following");
  });

  it("delivers a public post once per shared inbox, signed, and the copy is stored", async () => {
    await A.follow(alice2, bob.id);
    await A.inbox.waitFor(
      (e) => e.activity?.type === "Accept" && JSON.stringify(e.activity).includes(alice2.id),
    );
    expect(B.followers(bob).sort()).toEqual([alice.id, alice2.id].sort());
    const create = await B.post(bob, { content: "<p>hello</p>" }, { to: [PUBLIC], cc: [bob.followers] });
    const entry = await A.inbox.waitFor((e) => e.activity?.id === create.id);
    expect(entry).toMatchObject({
      recipient: "shared",
      status: 202,
      signature: { ok: true, actorId: bob.id },
    });
    expect(entry.headers.signature).toBeDefined();
    expect(A.receivedObject(objectId(create))).toMatchObject({
      content: "<p>hello</p>",
      attributedTo: bob.id,
    });
    // A sentinel proves no second copy arrives later.
    const sentinel = await B.post(bob, { content: "sentinel" }, { to: [PUBLIC], cc: [bob.followers] });
    await A.inbox.waitFor((e) => e.activity?.id === sentinel.id);
    expect(A.inbox.query((e) => e.activity?.id === create.id)).toHaveLength(1);
  });

  it("strips bto and bcc before delivery and from the hosted copy", async () => {
    const create = await B.post(bob, { content: "secret" }, { bcc: [alice.id], bto: [alice2.id] });
    const entry = await A.inbox.waitFor((e) => e.activity?.id === create.id);
    expect(entry.body).not.toMatch(/"bcc"|"bto"/);
    expect(A.receivedObject(objectId(create))).toBeTruthy();
    const hosted = (await A.fetch(objectId(create))).text();
    expect(hosted).not.toMatch(/"bcc"|"bto"/);
  });

  it("sends Update and Delete to the audience: the copy changes, then goes", async () => {
    const create = await B.post(bob, { content: "v1" }, { to: [PUBLIC], cc: [bob.followers] });
    const id = objectId(create);
    await A.inbox.waitFor((e) => e.activity?.id === create.id);
    const update = await B.update(bob, id, { content: "v2" });
    await A.inbox.waitFor((e) => e.activity?.id === update.id);
    expect(A.receivedObject(id)).toMatchObject({ content: "v2" });
    expect(typeof A.receivedObject(id)?.updated).toBe("string");
    const del = await B.delete(bob, id);
    await A.inbox.waitFor((e) => e.activity?.id === del.id);
    expect(A.receivedObject(id)).toBeNull();
    expect(A.deletedObjects()).toContain(id);
    expect((await A.fetch(id)).status).toBe(410);
  });

  it("ignores Update and Delete of an object by someone who does not own it", async () => {
    const create = await B.post(bob, { content: "mine" }, { to: [PUBLIC], cc: [bob.followers] });
    const id = objectId(create);
    await A.inbox.waitFor((e) => e.activity?.id === create.id);
    const forged = {
      "@context": AS,
      type: "Update",
      actor: dave.id,
      object: { id, type: "Note", content: "forged" },
    };
    await B.deliver(dave, alice.inbox, { ...forged, id: B.newId("activities") });
    await B.deliver(dave, alice.inbox, {
      "@context": AS,
      id: B.newId("activities"),
      type: "Delete",
      actor: dave.id,
      object: id,
    });
    expect(A.receivedObject(id)).toMatchObject({ content: "mine" });
  });

  it("likes, announces and undoes, addressed to the author", async () => {
    const create = await A.post(alice, { content: "like me" }, { to: [PUBLIC] });
    const id = objectId(create);
    const like = await B.like(bob, id);
    const announce = await B.announce(bob, id);
    const likeEntry = await A.inbox.waitFor((e) => e.activity?.id === like.id);
    await A.inbox.waitFor((e) => e.activity?.id === announce.id);
    expect(likeEntry.activity).toMatchObject({ type: "Like", object: id, to: [alice.id] });
    const undo = await B.undo(bob, like);
    const undoEntry = await A.inbox.waitFor((e) => e.activity?.id === undo.id);
    expect(undoEntry.activity?.object).toMatchObject({ id: like.id, type: "Like" });
    const undoById = await B.undo(bob, announce, undefined, { byId: true });
    const byIdEntry = await A.inbox.waitFor((e) => e.activity?.id === undoById.id);
    expect(byIdEntry.activity?.object).toBe(announce.id);
  });

  it("rotates a key (same key id, then a new one): the follower refetches and keeps verifying", async () => {
    const rotating = await A.createActor(`rotating-${mode}`);
    const follower = await B.createActor(`follower-${mode}`);
    await B.follow(follower, rotating.id);
    // The follower verified the Accept, so it holds the first key.
    await B.inbox.waitFor((e) => e.activity?.type === "Accept" && e.activity.actor === rotating.id);
    const firstKey = JSON.parse((await B.fetch(rotating.id)).text()).publicKey;
    for (const sameKeyId of [true, false]) {
      const rotation = await A.rotateKey(rotating, { sameKeyId });
      expect(rotation.failures).toEqual([]);
      expect(rotation.keyId === firstKey.id).toBe(sameKeyId);
      expect(rotating.keyId).toBe(rotation.keyId);
      const served = JSON.parse((await B.fetch(rotating.id)).text()).publicKey;
      expect(served.id).toBe(rotation.keyId);
      expect(served.publicKeyPem).not.toBe(firstKey.publicKeyPem);
      expect(rotation.update).toMatchObject({ type: "Update", object: { id: rotating.id } });
      const update = await B.inbox.waitFor((e) => e.activity?.id === rotation.update.id);
      expect(update.signature).toMatchObject({ ok: true, keyId: rotation.keyId });
    }
  });

  it("deletes an actor: its document and WebFinger answer 410, its Delete is still signed", async () => {
    const doomed = await A.createActor(`doomed-${mode}`);
    const del = A.deleteActor(doomed);
    expect(del).toMatchObject({ type: "Delete", actor: doomed.id, object: doomed.id });
    const actor = await B.fetch(doomed.id);
    expect(actor.status).toBe(410);
    expect(JSON.parse(actor.text())).toMatchObject({
      id: doomed.id,
      type: "Tombstone",
      formerType: "Person",
    });
    const webfinger = await B.fetch(`${A.origin}/.well-known/webfinger?resource=acct:${doomed.handle}`);
    expect(webfinger.status).toBe(410);
    // The receiving probe cannot fetch the key any more, so it refuses the Delete.
    const result = await A.deliver(doomed, bob.inbox, del, { scheme: "draft-cavage-12" });
    expect(result.request.headers.signature).toContain(doomed.keyId);
    expect(result.status).toBe(401);
  });

  it("unfollows with an embedded Follow and by bare id", async () => {
    const embedded = await A.unfollow(alice2, bob.id);
    await B.inbox.waitFor((e) => e.activity?.id === embedded.id);
    expect(B.followers(bob)).toEqual([alice.id]);
    expect(A.followState(alice2, bob.id)).toBe("none");
    const byId = await A.unfollow(alice, dave.id, { byId: true });
    const entry = await B.inbox.waitFor((e) => e.activity?.id === byId.id);
    expect(typeof entry.activity?.object).toBe("string");
    expect(B.followers(dave)).toEqual([]);
    await expect(A.unfollow(alice2, bob.id)).rejects.toThrow(/nothing to undo/);
  });

  describe("misbehaviour knobs, judged by the receiving probe's own verifier", () => {
    function createNote(content: string) {
      const noteId = A.newId("notes");
      const document = {
        "@context": AS,
        id: A.newId("activities"),
        type: "Create",
        actor: alice.id,
        to: [bob.id],
        object: { id: noteId, type: "Note", attributedTo: alice.id, to: [bob.id], content },
      };
      return { noteId, document };
    }

    async function entriesFor(activityId: string): Promise<InboxEntry[]> {
      await B.inbox.waitFor((e) => e.activity?.id === activityId);
      return B.inbox.query((e) => e.activity?.id === activityId);
    }

    const rejected: Array<[string, () => Misbehaviour | Promise<Misbehaviour>, RegExp]> = [
      ["unsigned", () => ({ unsigned: true }), /not signed/i],
      ["wrongKey", () => ({ wrongKey: true }), /does not verify/i],
      ["signAs", () => ({ signAs: mallory }), /belongs to .*mallory.*actor is .*alice/],
      [
        "keyIdOverride (key document claiming alice)",
        async () => ({ keyIdOverride: (await A.hostKeyDocument(alice.id)).keyId }),
        /own|list|confirm/i,
      ],
      ["dateOffsetSeconds -7200 (stale)", () => ({ dateOffsetSeconds: -7200 }), /past/i],
      ["dateOffsetSeconds +7200 (future)", () => ({ dateOffsetSeconds: 7200 }), /future/i],
      ["digestMismatch", () => ({ digestMismatch: true }), /does not match the body/i],
      [
        "digestMismatch with cavage only",
        () => ({ digestMismatch: true, scheme: "draft-cavage-12" }),
        /Digest/,
      ],
    ];

    it.each(rejected)(
      "%s is rejected with 401, a reason, and no state change",
      async (_name, knob, reason) => {
        const { noteId, document } = createNote("should not arrive");
        const result = await A.deliver(alice, bob.inbox, document, await knob());
        expect(result.status).toBe(401);
        const entries = await entriesFor(document.id);
        expect(entries.length).toBeGreaterThanOrEqual(1);
        for (const entry of entries) {
          expect(entry.status).toBe(401);
          expect(entry.recipient).toBe("bob");
          expect(entry.signature.ok).toBe(false);
          expect(entry.signature.reason).toMatch(reason);
        }
        expect(B.receivedObject(noteId)).toBeNull();
      },
    );

    it("keyIdOverride names the key and scheme in the evidence", async () => {
      const { keyId } = await A.hostKeyDocument(alice.id);
      const { document } = createNote("x");
      const result = await A.deliver(alice, bob.inbox, document, { keyIdOverride: keyId, scheme: "rfc9421" });
      expect(result.scheme).toBe("rfc9421");
      expect(result.request.headers["signature-input"]).toContain(keyId);
    });

    it("a correctly signed delivery with either scheme is accepted (positive control)", async () => {
      for (const scheme of ["draft-cavage-12", "rfc9421"] as const) {
        const { noteId, document } = createNote(`signed with ${scheme}`);
        const result = await A.deliver(alice, bob.inbox, document, { scheme });
        expect(result).toMatchObject({ status: 202, scheme });
        const [entry] = await entriesFor(document.id);
        expect(entry?.signature).toMatchObject({ ok: true, scheme, actorId: alice.id });
        expect(B.receivedObject(noteId)).toMatchObject({ content: `signed with ${scheme}` });
      }
    });

    it("lowercaseDigest is accepted (RFC 3230 names are case-insensitive) and visible in the headers", async () => {
      const { noteId, document } = createNote("lower-case digest");
      const result = await A.deliver(alice, bob.inbox, document, {
        lowercaseDigest: true,
        scheme: "draft-cavage-12",
      });
      expect(result.status).toBe(202);
      expect(result.request.headers.digest).toMatch(/^sha-256=/);
      const [entry] = await entriesFor(document.id);
      expect(entry?.headers.digest).toMatch(/^sha-256=/);
      expect(B.receivedObject(noteId)).toBeTruthy();
    });

    it("padToBytes past the receiver's limit gets 413 and nothing is stored", async () => {
      const { noteId, document } = createNote("padded");
      const result = await A.deliver(alice, bob.inbox, document, { padToBytes: 200 * 1024 });
      expect(result.status).toBe(413);
      expect(Buffer.byteLength(result.request.body)).toBe(200 * 1024);
      expect(JSON.parse(result.request.body).id).toBe(document.id);
      const entry = await B.inbox.waitFor((e) => e.status === 413 && e.recipient === "bob");
      expect(entry.body).toBe("");
      expect(B.receivedObject(noteId)).toBeNull();
    });

    it("attaches validator findings to what arrived (bcc left in by a raw delivery)", async () => {
      const { document } = createNote("raw with bcc");
      const result = await A.deliver(alice, bob.inbox, { ...document, bcc: [bob.id] });
      expect(result.status).toBe(202);
      const [entry] = await entriesFor(document.id);
      expect(entry?.findings.map((f) => f.ruleId)).toContain("AS-06");
      const clean = await B.inbox.waitFor((e) => e.status === 202 && e.activity?.type === "Create");
      expect(clean.findings.filter((f) => f.severity === "error")).toEqual([]);
    });

    it("cavageAlgorithm writes hs2019 over RSA-SHA256 bytes, which a verifier accepts", async () => {
      const { noteId, document } = createNote("hs2019");
      const result = await A.deliver(alice, bob.inbox, document, {
        scheme: "draft-cavage-12",
        cavageAlgorithm: "hs2019",
      });
      expect(result.status).toBe(202);
      expect(result.request.headers.signature).toMatch(/algorithm="hs2019"/);
      const [entry] = await entriesFor(document.id);
      expect(entry?.signature).toMatchObject({ ok: true, scheme: "draft-cavage-12" });
      expect(B.receivedObject(noteId)).toBeTruthy();
    });

    it("nestedArrays adds a member nested that deep to the object, signed as sent", async () => {
      const { noteId, document } = createNote("nested");
      const result = await A.deliver(alice, bob.inbox, document, { nestedArrays: 50 });
      expect(result.status).toBe(202);
      expect(result.request.body).toContain(`${"[".repeat(50)}${"]".repeat(50)}`);
      let depth = 0;
      const stored = B.receivedObject(noteId) ?? {};
      for (let v: unknown = stored["https://fedicheck.test/ns#nested"]; Array.isArray(v); v = v[0]) depth++;
      expect(depth).toBe(50);
    });

    it("a replay is the same document delivered twice; the probe logs both", async () => {
      const { document } = createNote("twice");
      expect((await A.deliver(alice, bob.inbox, document)).status).toBe(202);
      expect((await A.deliver(alice, bob.inbox, document)).status).toBe(202);
      expect(await entriesFor(document.id)).toHaveLength(2);
    });
  });
});

describe("actor documents fetched during a follow", () => {
  it("each probe GETs the other's actor once: key lookups and deliveries share the document", async () => {
    const fetched: Record<string, string[]> = { A: [], B: [] };
    const A = await startProbe({ onFetch: (r) => fetched.A!.push(r.url) });
    const B = await startProbe({ onFetch: (r) => fetched.B!.push(r.url) });
    try {
      const followee = await A.createActor("followee");
      const follower = await B.createActor("follower");
      // 1. B delivers the Follow (resolving A's actor), A verifies it (B's key) and answers Accept.
      await B.follow(follower, followee.id);
      // 2. Wait until B has verified the Accept, signed with a key A's actor lists.
      const accept = await B.inbox.waitFor((e) => e.activity?.type === "Accept");
      expect(accept.signature).toMatchObject({ ok: true });
      // 3. Each side fetched the other's actor document exactly once.
      expect(fetched.B).toEqual([followee.id]);
      expect(fetched.A).toEqual([follower.id]);
    } finally {
      await Promise.all([A.close(), B.close()]);
    }
  });
});
