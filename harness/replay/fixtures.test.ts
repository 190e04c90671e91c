/**
 * The capture fixtures (fixtures/captures): every capture reads, every sidecar names real activities
 * and catalogue checks, and replayed to a conformant fedify-ref each check ends as recorded below —
 * passed, or failed for a documented gap of the reference server.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FedifyRefServer, startFedifyRef } from "../../fixtures/fedify-ref/server.ts";
import { driverFor } from "../../fixtures/fedify-ref/testing.ts";
import { checkById } from "../../suites/catalogue.ts";
import { startProbe } from "../peer/probe.ts";
import type { Probe } from "../peer/types.ts";
import { createHttpClient } from "../protocol/http-client.ts";
import type { HttpClient } from "../protocol/types.ts";
import { deliveriesOf, readCapture } from "./capture.ts";
import { evaluateExpectations, readExpectations, sidecarPathOf } from "./expect.ts";
import { planReplay } from "./plan.ts";
import { replayCapture } from "./replay.ts";

const DIR = join(import.meta.dirname, "..", "..", "fixtures", "captures");
const NAMES = readdirSync(DIR)
  .filter((f) => f.endsWith(".jsonl"))
  .map((f) => f.replace(/\.jsonl$/, ""))
  .sort();

/**
 * Where the conformant fedify-ref falls short on a capture (capture → check → why). The verdicts stay
 * honest; this list says which failures are the reference's, so a new failure (or a fix) shows.
 */
const REFERENCE_GAPS: Record<string, Record<string, string>> = {};

describe("capture fixtures", () => {
  it("are the seven real-shaped flows", () => {
    expect(NAMES).toEqual([
      "lemmy-follow-page-update-delete",
      "mastodon-follow-post-update-delete",
      "mastodon-poll",
      "misskey-follow-post-update-delete",
      "peertube-follow-video-update-delete",
      "threads-audio-transcript",
      "threads-follow-post-update-delete",
    ]);
  });

  for (const name of NAMES) {
    it(`${name}: reads, plans, and its sidecar names catalogue checks and existing activities`, () => {
      const capture = readCapture(join(DIR, `${name}.jsonl`));
      const sidecar = readExpectations(sidecarPathOf(join(DIR, `${name}.jsonl`)));
      expect(sidecar.capture).toBe(`${name}.jsonl`);
      const deliveries = deliveriesOf(capture);
      for (const entry of sidecar.checks) {
        expect(() => checkById(entry.check), entry.check).not.toThrow();
        expect(typeof entry.activity === "number" ? entry.activity <= deliveries.length : true).toBe(true);
      }
      const plan = planReplay(capture);
      expect(plan.receiverOrigin).toBe("https://receiver.example");
      expect(plan.receiverActors.map((a) => a.name)).toEqual(["bob"]);
      expect(plan.senderOrigins.length).toBeGreaterThan(0);
      expect(plan.senderOrigins).not.toContain("https://receiver.example");
    });
  }
});

describe("capture fixtures replayed to a conformant fedify-ref", () => {
  let server: FedifyRefServer;
  let probe: Probe;
  let http: HttpClient;
  beforeAll(async () => {
    [server, probe] = await Promise.all([startFedifyRef({ name: "ref" }), startProbe()]);
    http = createHttpClient();
  });
  afterAll(async () => {
    await http.close();
    await probe.close();
    await server.close();
  });

  for (const name of NAMES) {
    it(`${name}: each check passes, or fails for a documented reference gap`, async () => {
      const path = join(DIR, `${name}.jsonl`);
      const driver = driverFor({ url: server.url, token: server.controlToken });
      let n = 0;
      const report = await replayCapture({
        capture: readCapture(path),
        probe,
        target: { id: "ref", driver },
        http,
        // One fedify-ref serves every capture: each replay gets accounts of its own.
        account: (actor) =>
          driver.provisionAccount(`${actor}${name.replace(/[^a-z]/g, "").slice(0, 8)}${++n}`),
        settleMs: 1_000,
      });
      for (const activity of report.activities) {
        expect(activity.replayed.status, `${activity.type}: ${activity.replayed.body}`).toBe(202);
      }
      const results = evaluateExpectations(report, readExpectations(sidecarPathOf(path)));
      const gaps = REFERENCE_GAPS[name] ?? {};
      const verdicts = Object.fromEntries(results.map((r) => [r.check, r.verdict]));
      const wanted = Object.fromEntries(results.map((r) => [r.check, r.check in gaps ? "failed" : "passed"]));
      expect(verdicts, results.map((r) => `${r.check} ${r.verdict}: ${r.message}`).join("\n")).toEqual(
        wanted,
      );
    });
  }
});
