import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProbe } from "../peer/probe.ts";
import { createHttpClient } from "../protocol/http-client.ts";
import { generateSigningKeyPair } from "../protocol/keys.ts";
import { deliverSigned } from "../protocol/signatures.ts";
import type { HttpClient, SigningKey } from "../protocol/types.ts";
import { deliveriesOf, documentsOf, readCapture } from "./capture.ts";
import { createCaptureRecorder } from "./record.ts";

/** A tiny sender origin: serves an actor and a note, and signs as that actor. */
let sender: Server;
let origin: string;
let key: SigningKey;
let http: HttpClient;
let dir: string;
const docs = new Map<string, Record<string, unknown>>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "fedicheck-record-"));
  sender = createServer((req, res) => {
    const doc = docs.get(req.url ?? "");
    res.writeHead(doc ? 200 : 404, {
      "content-type": "application/activity+json",
      "set-cookie": "sid=topsecret42",
    });
    res.end(doc ? JSON.stringify(doc) : "{}");
  });
  await new Promise<void>((resolve) => sender.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(sender.address() as AddressInfo).port}`;
  const pair = await generateSigningKeyPair();
  key = { keyId: `${origin}/users/s#main-key`, privateKey: pair.privateKey, algorithm: "rsa-sha256" };
  docs.set("/users/s", {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
    id: `${origin}/users/s`,
    type: "Person",
    preferredUsername: "s",
    inbox: `${origin}/users/s/inbox`,
    outbox: `${origin}/users/s/outbox`,
    publicKey: { id: key.keyId, owner: `${origin}/users/s`, publicKeyPem: pair.publicKeyPem },
  });
  docs.set("/notes/1", {
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${origin}/notes/1`,
    type: "Note",
    attributedTo: `${origin}/users/s`,
    content: "by reference",
  });
  http = createHttpClient();
});

afterAll(async () => {
  await http.close();
  await new Promise<void>((resolve) => sender.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe("createCaptureRecorder", () => {
  it("records deliveries, the documents fetched to verify them, and what they name by id", async () => {
    const path = join(dir, "ref.jsonl");
    const recorder = createCaptureRecorder({ path });
    const probe = await startProbe({ onFetch: recorder.onFetch });
    try {
      const bob = await probe.createActor("bob");
      recorder.attach(probe, [bob]);
      await probe.fetch(`${probe.origin}/users/bob`); // the probe reading itself is not traffic
      const result = await deliverSigned(
        http,
        bob.inbox,
        {
          "@context": "https://www.w3.org/ns/activitystreams",
          id: `${origin}/notes/1/activity`,
          type: "Create",
          actor: `${origin}/users/s`,
          object: `${origin}/notes/1`,
        },
        key,
        { headers: { cookie: "session=hunter2hunter2", authorization: "Bearer sk-live-0123456789" } },
      );
      expect(result.response.status).toBe(202);
      await recorder.close();
      expect(recorder.count).toBe(3);
    } finally {
      await probe.close();
    }
    const capture = readCapture(path);
    expect(capture.events.map((e) => e.kind)).toEqual(["document", "delivery", "document"]);
    const [actor, note] = documentsOf(capture);
    expect(actor!.url).toBe(`${origin}/users/s`); // fetched to resolve the keyId
    expect(actor!.document?.id).toBe(`${origin}/users/s`);
    expect(note!.document?.content).toBe("by reference");
    const [delivery] = deliveriesOf(capture);
    expect(delivery).toMatchObject({
      recipient: "bob",
      status: 202,
      signature: { ok: true, scheme: "draft-cavage-12" },
    });
    expect(delivery!.headers?.cookie).toBe("[redacted]");
    expect(delivery!.headers?.signature).toContain(key.keyId);
    const text = JSON.stringify(capture);
    for (const secret of ["hunter2hunter2", "sk-live-0123456789", "topsecret42"])
      expect(text).not.toContain(secret);
  });

  it("keeps fetches made before it was attached, after the header", async () => {
    const path = join(dir, "early.jsonl");
    const recorder = createCaptureRecorder({ path, fetchReferences: false, title: "early" });
    const probe = await startProbe({ onFetch: recorder.onFetch });
    try {
      await probe.fetch(`${origin}/users/s`);
      await probe.fetch(`${origin}/missing`);
      recorder.attach(probe);
      await recorder.close();
      await probe.fetch(`${origin}/notes/1`); // after close: not recorded
    } finally {
      await probe.close();
    }
    const capture = readCapture(path);
    expect(capture.header).toMatchObject({
      title: "early",
      receiver: { origin: expect.any(String), actors: [] },
    });
    expect(documentsOf(capture).map((d) => [d.url.replace(origin, ""), d.status])).toEqual([
      ["/users/s", 200],
      ["/missing", 404],
    ]);
  });

  it("refuses to attach twice", async () => {
    const recorder = createCaptureRecorder({ path: join(dir, "twice.jsonl") });
    const probe = await startProbe({ onFetch: recorder.onFetch });
    try {
      recorder.attach(probe);
      expect(() => recorder.attach(probe)).toThrow(/already attached/);
      await recorder.close();
    } finally {
      await probe.close();
    }
  });
});
