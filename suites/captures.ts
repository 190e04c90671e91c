/**
 * The captures suite: real-world federation traffic as regression tests. Every capture in
 * fixtures/captures that has an expectations sidecar (`<name>.jsonl` + `<name>.expect.json`) is one
 * scenario: the probe replays the capture to the receiver (the captured senders re-hosted on the
 * probe, every URL rewritten, every delivery re-signed, see harness/replay), then each check the
 * sidecar names is decided by what the receiver made of the activity the sidecar points at.
 *
 * Checks are catalogue ids (a capture is one more story that decides DEL-01, MED-01…), so a capture
 * needs no new catalogue entries and reports show it next to the crafted scenarios of the same check.
 * Captures are sent by the probe only (`probeSenderOnly`): it is the one sender that can replay them.
 * @module
 */
import { existsSync, readdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Capability } from "../harness/core/model.ts";
import type { Scenario } from "../harness/core/scenario.ts";
import { readCapture } from "../harness/replay/capture.ts";
import { evaluateExpectations, readExpectations, sidecarPathOf } from "../harness/replay/expect.ts";
import { replayCapture } from "../harness/replay/replay.ts";
import { checkById } from "./catalogue.ts";

/** Where the shipped captures live. */
export const CAPTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "captures");

/** Options of {@link captureScenario}. */
export interface CaptureScenarioOptions {
  /** The sidecar. Default: `<capture without .jsonl>.expect.json`. */
  sidecar?: string;
  /** How long each activity's effect may take to show on the receiver, in ms. Default 8 000. */
  settleMs?: number;
  /** Budget of the whole cell, in ms. Default 120 000. */
  timeoutMs?: number;
}

/**
 * The scenario of one capture with its sidecar. Reads both files now (so a broken fixture fails when
 * the suite loads, naming the file) and again when it runs.
 */
export function captureScenario(capturePath: string, options: CaptureScenarioOptions = {}): Scenario {
  const sidecarPath = options.sidecar ?? sidecarPathOf(capturePath);
  const capture = readCapture(capturePath);
  const sidecar = readExpectations(sidecarPath);
  const name = basename(capturePath).replace(/\.jsonl$/, "");
  const checks = [...new Set(sidecar.checks.map((c) => c.check))];
  const receiver = new Set<Capability>(sidecar.requires ?? []);
  for (const id of checks) {
    let requires: Capability[] | undefined;
    try {
      requires = checkById(id).requires?.receiver;
    } catch (error) {
      throw new Error(`${sidecarPath}: ${(error as Error).message}`);
    }
    for (const capability of requires ?? []) receiver.add(capability);
  }
  const settleMs = options.settleMs ?? 8_000;
  return {
    id: `captures.${name}`,
    suite: "captures",
    title: capture.header.title ?? `Replay of ${name}`,
    shape: "pair",
    checks,
    probeSenderOnly: true,
    ...(receiver.size > 0 ? { requires: { receiver: [...receiver] } } : {}),
    timeoutMs: options.timeoutMs ?? 120_000,
    async run(ctx) {
      // 1. The captured senders are re-hosted on the probe; the capture's receivers become accounts here.
      // 2. Each delivery goes to the receiver in the captured order, re-signed; 3. its effect is read back.
      const report = await replayCapture({
        capture: readCapture(capturePath),
        probe: ctx.probe,
        target: ctx.receiver,
        http: ctx.http,
        account: (actor) => ctx.account(ctx.receiver, actor),
        wait: (description, condition, timeoutMs) => ctx.waitFor(description, condition, { timeoutMs }),
        settleMs,
        signal: ctx.signal,
      });
      ctx.evidence(undefined, {
        kind: "note",
        label: `replay of ${name}`,
        text: report.activities.map((a) => `${a.index}. ${a.type} → ${a.outcome}: ${a.summary}`).join("\n"),
      });
      // 4. Each check: did the activity the sidecar names end as expected?
      for (const outcome of evaluateExpectations(report, readExpectations(sidecarPath))) {
        ctx.record(outcome.check, outcome.verdict, outcome.message, {
          expected: outcome.expected,
          observed: outcome.observed,
          evidence: outcome.activities.map((index) => ({
            kind: "view" as const,
            label: `replayed activity ${index}: ${report.activities[index - 1]?.type ?? "?"}`,
            view: report.activities[index - 1],
          })),
        });
      }
    },
  };
}

/** A scenario per capture in `dir` that has a sidecar, sorted by name. */
export function captureScenarios(
  dir: string = CAPTURES_DIR,
  options: Omit<CaptureScenarioOptions, "sidecar"> = {},
): Scenario[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith(".jsonl"))
    .sort()
    .map((file) => join(dir, file))
    .filter((path) => existsSync(sidecarPathOf(path)))
    .map((path) => captureScenario(path, options));
}

/** The suite's scenarios: the shipped captures. */
export const scenarios: Scenario[] = captureScenarios();
