/**
 * Record and replay end to end, on loopback: a fedify-ref sender (A) posts, edits and deletes while
 * the recording probe and a live fedify-ref receiver (L) follow it. The capture is then replayed, from
 * a fresh probe, to a second fedify-ref (B) — which must end up in the state L was in after each step —
 * and to a bug-zoo fedify-ref (Z), whose defects the report must pin on the right activities.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FedifyRefServer, startFedifyRef } from "../../fixtures/fedify-ref/server.ts";
import { driverFor, eventually, type RefDriver } from "../../fixtures/fedify-ref/testing.ts";
import { encodePng } from "../core/png.ts";
import type { Account, PostRef, PostView } from "../drivers/driver.ts";
import { startProbe } from "../peer/probe.ts";
import type { Probe, ProbeActor } from "../peer/types.ts";
import { createHttpClient } from "../protocol/http-client.ts";
import type { HttpClient } from "../protocol/types.ts";
import { type Capture, deliveriesOf, documentsOf, readCapture } from "./capture.ts";
import { evaluateExpectations } from "./expect.ts";
import { createCaptureRecorder } from "./record.ts";
import { type ReplayOptions, type ReplayReport, replayCapture } from "./replay.ts";

/** The fields of a view that say what a reader sees (ids differ between receivers, so not `localId`). */
function seen(view: Omit<PostView, "raw"> | null | undefined) {
  if (!view) return null;
  return {
    uri: view.uri,
    author: view.author,
    text: view.text,
    html: view.html,
    sensitive: view.sensitive,
    contentWarning: view.contentWarning,
    visibility: view.visibility,
    attachments: view.attachments,
    hashtags: view.hashtags,
    mentions: view.mentions,
    links: view.links,
    editedAt: view.editedAt,
    language: view.language,
  };
}

const servers: FedifyRefServer[] = [];
let dir: string;
let capturePath: string;
let recordingProbe: Probe;
let bob: ProbeActor;
let A: RefDriver;
let L: RefDriver;
let alice: Account;
let carol: Account;
let post: PostRef;
/** What the live receiver L showed after each step. */
const live: {
  create?: PostView | null;
  update?: PostView | null;
  delete?: PostView | null;
  visible?: boolean;
} = {};
let capture: Capture;
let http: HttpClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "fedicheck-replay-"));
  capturePath = join(dir, "live.jsonl");
  const [a, l] = await Promise.all([startFedifyRef({ name: "a" }), startFedifyRef({ name: "l" })]);
  servers.push(a, l);
  A = driverFor({ url: a.url, token: a.controlToken });
  L = driverFor({ url: l.url, token: l.controlToken });

  const recorder = createCaptureRecorder({
    path: capturePath,
    title: "fedify-ref follow, post, edit, delete",
  });
  recordingProbe = await startProbe({ onFetch: recorder.onFetch });
  bob = await recordingProbe.createActor("bob");
  recorder.attach(recordingProbe, [bob]);

  alice = await A.provisionAccount("alice");
  carol = await L.provisionAccount("carol");
  await L.follow(carol, alice.actorId);
  await recordingProbe.follow(bob, alice.actorId);
  await eventually(
    "both follows accepted",
    async () =>
      (await L.followState(carol, alice.actorId)) === "following" &&
      recordingProbe.followState(bob, alice.actorId) === "following",
  );

  const image = encodePng({ width: 2, height: 2, data: new Uint8Array(16).fill(200) });
  post = await A.post(alice, {
    content: "Hello from the live exchange #replay",
    hashtags: ["replay"],
    attachments: [{ mediaType: "image/png", data: image, description: "a grey square" }],
  });
  const deliveredToProbe = (type: string) =>
    eventually(
      `the probe received the ${type}`,
      async () => recordingProbe.inbox.query((e) => e.activity?.type === type).length > 0,
    );
  live.create = await eventually("L holds the post", () => L.receivedPost(carol, post.uri));
  live.visible = (await L.timeline(carol)).some((v) => v.uri === post.uri);
  await deliveredToProbe("Create");

  await A.update(alice, post, {
    content: "Hello from the live exchange, edited #replay",
    hashtags: ["replay"],
  });
  live.update = await eventually("L shows the edit", async () => {
    const view = await L.receivedPost(carol, post.uri);
    return view?.text.includes("edited") ? view : null;
  });
  await deliveredToProbe("Update");

  await A.delete(alice, post);
  await eventually("L dropped the post", async () => (await L.receivedPost(carol, post.uri)) === null);
  live.delete = null;
  await deliveredToProbe("Delete");

  await recorder.close();
  await recordingProbe.close();
  capture = readCapture(capturePath);
  http = createHttpClient();
}, 60_000);

afterAll(async () => {
  await http?.close();
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** Replays the capture from a fresh probe to a fresh fedify-ref with these defects. */
async function replayTo(
  name: string,
  defects: string[] = [],
  extra: Partial<ReplayOptions> = {},
): Promise<{ report: ReplayReport; driver: RefDriver }> {
  const server = await startFedifyRef({ name, defects });
  servers.push(server);
  const driver = driverFor({ url: server.url, token: server.controlToken });
  const probe = await startProbe();
  try {
    const report = await replayCapture({
      capture,
      probe,
      target: { id: name, driver },
      http,
      settleMs: 1_500,
      ...extra,
    });
    return { report, driver };
  } finally {
    await probe.close();
  }
}

describe("recording", () => {
  it("writes an ordered capture: the sender's actor, then Accept, Create, Update, Delete", () => {
    const types = deliveriesOf(capture).map((d) => d.activity?.type);
    expect(types).toEqual(["Accept", "Create", "Update", "Delete"]);
    expect(capture.header.receiver?.origin).toBe(recordingProbe.origin);
    expect(capture.header.receiver?.actors?.map((a) => a.id)).toEqual([bob.id]);
    const actorDoc = documentsOf(capture).find((d) => d.document?.id === alice.actorId);
    expect(actorDoc?.status).toBe(200);
    // The actor document was fetched (to verify the first signature) before that delivery was logged.
    const lines = readFileSync(capturePath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const actorLine = lines.findIndex((l) => l.kind === "document" && l.document?.id === alice.actorId);
    const acceptLine = lines.findIndex((l) => l.kind === "delivery" && l.activity?.type === "Accept");
    expect(actorLine).toBeGreaterThan(0);
    expect(actorLine).toBeLessThan(acceptLine);
    expect(lines.map((l) => l.seq).filter((s) => s !== undefined)).toEqual(
      lines.slice(1).map((_, i) => i + 1),
    );
    // Signature headers stay as evidence; each delivery says how the probe judged it.
    for (const delivery of deliveriesOf(capture)) {
      expect(delivery.headers?.signature ?? delivery.headers?.["signature-input"]).toBeDefined();
      expect(delivery.signature?.ok).toBe(true);
      expect(delivery.status).toBe(202);
    }
  });
});

describe("replay to a conformant fedify-ref", () => {
  let report: ReplayReport;
  let B: RefDriver;
  beforeAll(async () => {
    ({ report, driver: B } = await replayTo("b"));
  }, 60_000);

  it("reports each captured activity with the outcome the live receiver had", () => {
    expect(report.activities.map((a) => [a.type, a.outcome])).toEqual([
      ["Accept(Follow)", "following"],
      ["Create(Note)", "stored"],
      ["Update(Note)", "updated"],
      ["Delete", "deleted"],
    ]);
    for (const activity of report.activities) expect(activity.replayed.status).toBe(202);
  });

  it("gives the same receiver state as the live exchange, step by step", () => {
    const [, create, update, del] = report.activities;
    expect(seen(create!.view)).toEqual(seen(live.create));
    expect(create!.visible).toBe(live.visible);
    expect(create!.media?.kept).toHaveLength(1);
    expect(create!.media?.lost).toEqual([]);
    expect(seen(update!.view)).toEqual(seen(live.update));
    expect(update!.updated).toBe(true);
    expect(del!.deleted).toBe(true);
    expect(del!.view).toBeUndefined();
    expect(report.objects).toEqual([expect.objectContaining({ objectId: post.uri, held: false })]);
  });

  it("ends with the same follow relation as the live receiver", async () => {
    const replayedAlice = report.mapping.find((r) => alice.actorId.startsWith(r.from))!;
    const account = report.accounts[0]!.account;
    const replayedId = alice.actorId.replace(replayedAlice.from, replayedAlice.to);
    expect(await B.followState(account, replayedId)).toBe(await L.followState(carol, alice.actorId));
  });
});

describe("replay to a bug-zoo fedify-ref", () => {
  let report: ReplayReport;
  beforeAll(async () => {
    ({ report } = await replayTo("zoo", ["ignore-delete", "drop-attachments"]));
  }, 60_000);

  it("pins each defect on the activity that shows it", () => {
    const [accept, create, update, del] = report.activities;
    expect(accept!.outcome).toBe("following");
    expect(create!.outcome).toBe("stored");
    expect(create!.media).toMatchObject({
      kept: [],
      lost: [expect.stringContaining(new URL(alice.actorId).origin)],
    });
    expect(create!.summary).toContain("0 of 1 attachment(s) kept");
    expect(update!.outcome).toBe("updated");
    expect(del!.outcome).toBe("delete-ignored");
    expect(del!.summary).toContain("still holds");
  });

  it("turns into failed checks on the right activities with an expectations sidecar", () => {
    const results = evaluateExpectations(report, {
      version: 1,
      checks: [
        { check: "FOL-03", activity: 1, expect: { outcome: "following" } },
        { check: "MED-01", activity: 2, expect: { stored: true, attachments: 1, descriptions: true } },
        { check: "PST-09", activity: 3, expect: { outcome: "updated", textIncludes: "edited" } },
        { check: "DEL-01", activity: 4, expect: { deleted: true } },
      ],
    });
    expect(results.map((r) => [r.check, r.verdict])).toEqual([
      ["FOL-03", "passed"],
      ["MED-01", "failed"],
      ["PST-09", "passed"],
      ["DEL-01", "failed"],
    ]);
    expect(results[1]!.message).toMatch(/activity 2 \(Create\(Note\)/);
    expect(results[3]!.observed).toMatch(/delete-ignored/);
  });
});

describe("timing", () => {
  /** The client, logging when each POST went out. */
  function timedClient(): { client: HttpClient; posts: number[] } {
    const posts: number[] = [];
    return {
      posts,
      client: {
        request(url, init) {
          if (init?.method === "POST") posts.push(Date.now());
          return http.request(url, init);
        },
        close: async () => {},
      },
    };
  }

  it("preserve keeps the captured gaps, capped by maxGapMs", async () => {
    const start = Date.parse("2024-01-01T00:00:00Z");
    const spaced: Capture = {
      ...capture,
      events: capture.events.map((event, i) =>
        event.kind === "delivery" ? { ...event, at: new Date(start + i * 10_000).toISOString() } : event,
      ),
    };
    const { client, posts } = timedClient();
    const server = await startFedifyRef({ name: "slow" });
    servers.push(server);
    const probe = await startProbe();
    try {
      const report = await replayCapture({
        capture: spaced,
        probe,
        target: { id: "slow", driver: driverFor({ url: server.url, token: server.controlToken }) },
        http: client,
        timing: "preserve",
        maxGapMs: 400,
        settleMs: 1_000,
      });
      expect(report.timing).toBe("preserve");
      expect(report.activities.map((a) => a.outcome)).toEqual(["following", "stored", "updated", "deleted"]);
    } finally {
      await probe.close();
    }
    expect(posts).toHaveLength(4);
    for (let i = 1; i < posts.length; i++) expect(posts[i]! - posts[i - 1]!).toBeGreaterThanOrEqual(390);
  });

  it("step asks before each delivery and stops where told, reporting the rest as skipped", async () => {
    const asked: number[] = [];
    const { report } = await replayTo("stepped", [], {
      timing: "step",
      onStep: async ({ index, total }) => {
        asked.push(index);
        expect(total).toBe(4);
        return index < 3;
      },
    });
    expect(asked).toEqual([1, 2, 3]);
    expect(report.activities.map((a) => a.outcome)).toEqual(["following", "stored", "skipped", "skipped"]);
    expect(report.objects).toEqual([expect.objectContaining({ objectId: post.uri, held: true })]);
  });
});
