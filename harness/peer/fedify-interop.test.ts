/**
 * Proof against a real implementation: the probe federating with the fedify-ref server (Fedify 2.3.6)
 * over plain HTTP on loopback and over HTTPS with a per-run CA. Every outcome is confirmed through
 * the other side's state (Fedify's control API, the probe's own state), not only the status code;
 * absences are proven with a sentinel delivered afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../core/wait.ts";
import type { Account } from "../drivers/driver.ts";
import { createFedifyRefDriver } from "../drivers/fedify-ref.ts";
import { type FedifyRefProcess, startFedifyRefProcess } from "../runtime/process.ts";
import { createTestCa } from "../runtime/test-ca.ts";
import { startProbe } from "./probe.ts";
import type { Misbehaviour, Probe, ProbeActor } from "./types.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;

type FedifyDriver = ReturnType<typeof createFedifyRefDriver>;

interface Side {
  process: FedifyRefProcess;
  driver: FedifyDriver;
}

describe.each(["http", "https"] as const)("the probe and Fedify over %s", (mode) => {
  let probe: Probe;
  /** fedify-ref signing with draft-cavage first, and one signing with RFC 9421 first. */
  let fedify: Side;
  let fedify9421: Side;
  let alice: ProbeActor;
  let mallory: ProbeActor;
  let frank: Account;
  let frankInbox: string;

  async function startFedify(
    name: string,
    firstKnock: "draft-cavage-12" | "rfc9421",
    tls?: TlsMaterial,
  ): Promise<Side> {
    const process = await startFedifyRefProcess({
      name,
      firstKnock,
      ...(tls && { https: { certPem: tls.certPem, keyPem: tls.keyPem, caPem: tls.caPem } }),
    });
    const driver = createFedifyRefDriver({
      url: process.url,
      token: process.token,
      ...(tls && { ca: tls.caPem }),
    });
    return { process, driver };
  }

  interface TlsMaterial {
    certPem: string;
    keyPem: string;
    caPem: string;
  }

  beforeAll(async () => {
    let tls: TlsMaterial | undefined;
    if (mode === "https") {
      // Fedify resolves names itself (no host map), so certificates name the loopback address.
      const ca = await createTestCa();
      const probeCert = await ca.issue(["127.0.0.1", "localhost"]);
      const fedifyCert = await ca.issue(["127.0.0.1", "localhost"]);
      tls = { ...fedifyCert, caPem: ca.certPem };
      probe = await startProbe({
        tls: { cert: probeCert.certPem, key: probeCert.keyPem },
        client: { ca: [ca.certPem] },
      });
    } else {
      probe = await startProbe();
    }
    [fedify, fedify9421] = await Promise.all([
      startFedify(`fedify-${mode}`, "draft-cavage-12", tls),
      startFedify(`fedify9421-${mode}`, "rfc9421", tls),
    ]);
    alice = await probe.createActor("alice");
    mallory = await probe.createActor("mallory");
    frank = await fedify.driver.provisionAccount("frank");
    const document = await probe.resolveActor(frank.actorId);
    frankInbox = document?.inbox as string;
  });

  afterAll(async () => {
    await probe?.close();
    for (const side of [fedify, fedify9421]) {
      await side?.driver.close();
      await side?.process.stop();
    }
  });

  /** Polls Fedify's state (it has no events to subscribe to) within a budget. */
  function eventually<T>(description: string, condition: () => Promise<T | null | undefined | false>) {
    return waitUntil(description, condition, { timeoutMs: 10_000 });
  }

  function createNote(author: ProbeActor, content: string) {
    const noteId = probe.newId("notes");
    const document = {
      "@context": AS,
      id: probe.newId("activities"),
      type: "Create",
      actor: author.id,
      to: [frank.actorId],
      object: { id: noteId, type: "Note", attributedTo: author.id, to: [frank.actorId], content },
    };
    return { noteId, document };
  }

  /** Delivers a correct post and waits until Fedify holds it: everything sent before has been handled. */
  async function sentinel(): Promise<void> {
    const { noteId, document } = createNote(alice, "sentinel");
    const result = await probe.deliver(alice, frankInbox, document);
    expect(result.status).toBeLessThan(300);
    await eventually("the sentinel post on Fedify", () => fedify.driver.receivedPost(frank, noteId));
  }

  it("serves the probe over the expected scheme", () => {
    expect(new URL(probe.origin).protocol).toBe(`${mode}:`);
    expect(new URL(frank.actorId).protocol).toBe(`${mode}:`);
  });

  it("Fedify follows the probe, the probe accepts, and Fedify records it", async () => {
    await fedify.driver.follow(frank, alice.id);
    const entry = await probe.inbox.waitFor(
      (e) => e.activity?.type === "Follow" && e.activity.actor === frank.actorId,
    );
    expect(entry.signature).toMatchObject({ ok: true, scheme: "draft-cavage-12", actorId: frank.actorId });
    await eventually("Fedify following the probe", async () =>
      (await fedify.driver.followState(frank, alice.id)) === "following" ? true : null,
    );
    expect(probe.followers(alice)).toContain(frank.actorId);
  });

  it("the probe follows Fedify and Fedify accepts (both sides agree)", async () => {
    await probe.follow(alice, frank.actorId);
    const accept = await probe.inbox.waitFor(
      (e) => e.activity?.type === "Accept" && e.activity.actor === frank.actorId,
      { description: "Fedify's Accept" },
    );
    expect(accept.signature.ok).toBe(true);
    expect(probe.followState(alice, frank.actorId)).toBe("following");
    expect(await fedify.driver.followers(frank)).toContain(alice.id);
  });

  it("Fedify's posts, updates and deletes arrive at the probe, signed", async () => {
    const ref = await fedify.driver.post(frank, { content: "hello from Fedify" });
    const create = await probe.inbox.waitFor(
      (e) => e.activity?.type === "Create" && e.activity.actor === frank.actorId,
    );
    expect(create.signature.ok).toBe(true);
    expect(probe.receivedObject(ref.uri)?.content).toContain("hello from Fedify");
    await fedify.driver.update(frank, ref, { content: "edited by Fedify" });
    await probe.inbox.waitFor((e) => e.activity?.type === "Update" && e.activity.actor === frank.actorId);
    expect(probe.receivedObject(ref.uri)?.content).toContain("edited by Fedify");
    await fedify.driver.delete(frank, ref);
    const del = await probe.inbox.waitFor(
      (e) => e.activity?.type === "Delete" && e.activity.actor === frank.actorId,
    );
    expect(del.signature.ok).toBe(true);
    expect(probe.receivedObject(ref.uri)).toBeNull();
    expect(probe.deletedObjects()).toContain(ref.uri);
  });

  it("the probe's posts, updates and deletes arrive at Fedify", async () => {
    const create = await probe.post(
      alice,
      { content: "<p>hello Fedify</p>" },
      { to: [PUBLIC], cc: [alice.followers] },
    );
    const id = (create.object as { id: string }).id;
    const view = await eventually("the post on Fedify", () => fedify.driver.receivedPost(frank, id));
    expect(view.text).toBe("hello Fedify");
    await probe.update(alice, id, { content: "<p>edited by the probe</p>" });
    await eventually("the edit on Fedify", async () =>
      (await fedify.driver.receivedPost(frank, id))?.text === "edited by the probe" ? true : null,
    );
    await probe.delete(alice, id);
    await eventually("the deletion on Fedify", async () =>
      (await fedify.driver.receivedPost(frank, id)) === null ? true : null,
    );
  });

  it.each(["draft-cavage-12", "rfc9421"] as const)(
    "Fedify accepts the probe's %s signature (the post is stored)",
    async (scheme) => {
      const { noteId, document } = createNote(alice, `signed with ${scheme}`);
      const result = await probe.deliver(alice, frankInbox, document, { scheme });
      expect(result).toMatchObject({ status: 202, scheme });
      await eventually(`the ${scheme} post on Fedify`, () => fedify.driver.receivedPost(frank, noteId));
    },
  );

  it("the probe verifies Fedify's RFC 9421 signatures too", async () => {
    const gina = await fedify9421.driver.provisionAccount("gina");
    const ref = await fedify9421.driver.post(gina, {
      content: "signed the new way",
      visibility: "direct",
      mentions: [alice.id],
    });
    const entry = await probe.inbox.waitFor(
      (e) => e.activity?.type === "Create" && e.activity.actor === gina.actorId,
    );
    expect(entry.signature).toMatchObject({ ok: true, scheme: "rfc9421", actorId: gina.actorId });
    expect(entry.headers["signature-input"]).toBeDefined();
    expect(probe.receivedObject(ref.uri)).not.toBeNull();
  });

  describe("misbehaviour knobs against Fedify, confirmed through its state", () => {
    const rejected: Array<[string, () => Misbehaviour]> = [
      ["unsigned", () => ({ unsigned: true })],
      ["wrongKey", () => ({ wrongKey: true })],
      ["signAs (signer is another actor)", () => ({ signAs: mallory })],
      ["dateOffsetSeconds -7200 (stale)", () => ({ dateOffsetSeconds: -7200 })],
      ["dateOffsetSeconds +7200 (future)", () => ({ dateOffsetSeconds: 7200 })],
      ["digestMismatch (draft-cavage)", () => ({ digestMismatch: true, scheme: "draft-cavage-12" })],
      ["digestMismatch (rfc9421)", () => ({ digestMismatch: true, scheme: "rfc9421" })],
    ];

    it.each(rejected)("%s: Fedify refuses the post and the follow", async (name, knob) => {
      const { noteId, document } = createNote(alice, `must not arrive: ${name}`);
      const post = await probe.deliver(alice, frankInbox, document, knob());
      // A stranger whose Follow must not be recorded.
      const stranger = await probe.createActor(`stranger-${Math.random().toString(36).slice(2, 8)}`);
      const follow = {
        "@context": AS,
        id: probe.newId("follows"),
        type: "Follow",
        actor: stranger.id,
        object: frank.actorId,
      };
      const followResult = await probe.deliver(stranger, frankInbox, follow, knob());
      expect(post.status).toBe(401);
      expect(followResult.status).toBe(401);
      await sentinel();
      expect(await fedify.driver.receivedPost(frank, noteId)).toBeNull();
      expect(await fedify.driver.followers(frank)).not.toContain(stranger.id);
      expect(await fedify.driver.followRequests(frank)).not.toContain(stranger.id);
    });

    it("keyIdOverride: fedify-ref refuses a key document whose claimed owner does not list it (SIG-04b)", async () => {
      // Fedify 2.3.6's doesActorOwnKey() alone trusts the key document's own `owner` (GHSA-q9f8-5hc7-898f);
      // fedify-ref's inbox gate also requires the actor's document to list the key.
      const { keyId } = await probe.hostKeyDocument(alice.id);
      const { noteId, document } = createNote(alice, "signed with a key alice never published");
      const result = await probe.deliver(alice, frankInbox, document, {
        keyIdOverride: keyId,
        scheme: "draft-cavage-12",
      });
      expect(result.status).toBe(401);
      expect(result.request.headers.signature).toContain(keyId);
      await sentinel();
      expect(await fedify.driver.receivedPost(frank, noteId)).toBeNull();
    });

    it("lowercaseDigest: Fedify accepts a `sha-256=` Digest (RFC 3230 names are case-insensitive)", async () => {
      const { noteId, document } = createNote(alice, "lower-case digest");
      const result = await probe.deliver(alice, frankInbox, document, {
        lowercaseDigest: true,
        scheme: "draft-cavage-12",
      });
      expect(result.status).toBe(202);
      expect(result.request.headers.digest).toMatch(/^sha-256=/);
      await eventually("the lower-case-digest post on Fedify", () =>
        fedify.driver.receivedPost(frank, noteId),
      );
    });

    it("padToBytes: fedify-ref takes a body under its 1 MiB inbox limit and refuses a 2 MiB one", async () => {
      const small = createNote(alice, "padded");
      const result = await probe.deliver(alice, frankInbox, small.document, { padToBytes: 512 * 1024 });
      expect(Buffer.byteLength(result.request.body)).toBe(512 * 1024);
      expect(result.status).toBe(202);
      await eventually("the padded post on Fedify", () => fedify.driver.receivedPost(frank, small.noteId));
      // Over the limit: 413, or the connection cut while the rest of the body was on its way (SEC-03).
      const big = createNote(alice, "padded too much");
      const status = await probe
        .deliver(alice, frankInbox, big.document, { padToBytes: 2 * 1024 * 1024 })
        .then(
          (r) => r.status,
          () => 0,
        );
      expect([0, 413]).toContain(status);
      expect(await fedify.driver.receivedPost(frank, big.noteId)).toBeNull();
    });
  });
});
