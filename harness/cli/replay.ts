/**
 * `fedicheck replay <capture> --to <target>`: plays recorded (or hand-made) federation traffic to a
 * target from the probe and reports, per captured activity, what the receiver made of it; with an
 * expectations sidecar the capture is a regression test whose checks decide the exit code.
 * Exit codes: 0 replayed (every expected check passed), 1 an expected check failed, 2 usage error,
 * 3 the target could not be started or reached, 130 interrupted.
 * @module
 */
import { existsSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { checkById } from "../../suites/catalogue.ts";
import { ConfigError, parseTargetSpec, resolveConfig, type TargetSpec } from "../core/config.ts";
import { startTargets } from "../core/targets.ts";
import { type CaptureFormatError, deliveriesOf, readCapture } from "../replay/capture.ts";
import {
  type CheckOutcome,
  type ExpectationsFile,
  evaluateExpectations,
  readExpectations,
  sidecarPathOf,
} from "../replay/expect.ts";
import { type ActivityReport, type ReplayReport, replayCapture, type TimingMode } from "../replay/replay.ts";
import { UsageError } from "./main.ts";

const HELP = `usage: fedicheck replay <capture.jsonl> --to <target> [options]

Replays a capture — recorded with 'fedicheck peer --record', exported from a server's logs, or
assembled by hand (format: harness/replay/FORMAT.md) — to a target: the captured senders' actors and
objects are re-hosted on the probe with every URL rewritten to the probe's origin, each delivery is
re-signed with fresh keys and sent in the captured order, and the target's state is read back through
its driver after each one. The report says, per activity: the post as the receiver shows it, whether
it is visible, updated or deleted, which attachments survived, how non-Note objects fell back.

options:
  --to SPEC         the receiving target: 'fedify-ref' (a local fedify-ref process), a bug-zoo one
                    'fedify-ref,defects=ignore-delete+drop-attachments', or a spec as for
                    'fedicheck run --target': id=implementation[,runtime=…][,origin=URL][,token=…]
  --timing MODE     compress (default: each delivery once the previous one's effect was read),
                    preserve (keep the captured gaps, at most --max-gap), or step (Enter delivers
                    the next activity, q stops)
  --max-gap MS      longest pause kept with --timing preserve (default 60000)
  --settle-ms MS    how long an activity's effect may take to show on the target (default 5000)
  --expect FILE     expectations sidecar (default: <capture>.expect.json beside the capture, if any)
  --no-expect       do not judge a sidecar even when there is one
  --json            print the report (and the check verdicts) as JSON on stdout
  --out FILE        also write that JSON to FILE
  --tls             serve the probe and a local target over HTTPS with a per-run CA
  --help            this text

exit codes: 0 replayed (and every expected check passed), 1 an expected check failed,
            2 usage error or unreadable capture, 3 the target could not start, 130 interrupted`;

const TIMINGS: readonly TimingMode[] = ["preserve", "compress", "step"];

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        to: { type: "string" },
        timing: { type: "string", default: "compress" },
        "max-gap": { type: "string" },
        "settle-ms": { type: "string" },
        expect: { type: "string" },
        "no-expect": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        out: { type: "string" },
        tls: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}. See 'fedicheck replay --help'.`);
  }
}

/**
 * The target of `--to`: a bare implementation (`fedify-ref`, `fedify-ref,defects=a+b`) gets the id
 * `target`; anything with `id=` is a full `--target` spec.
 */
export function parseReplayTarget(text: string): TargetSpec {
  const head = text.split(",")[0] ?? "";
  try {
    return parseTargetSpec(head.includes("=") ? text : `target=${text}`);
  } catch (error) {
    throw new UsageError(`--to: ${(error as Error).message}`);
  }
}

function wholeNumber(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--${name} expects a whole number of ms, got '${text}'`);
  return n;
}

/** Lines of a stream, one at a time; undefined once it ended (Ctrl-D, end of a pipe). */
function lineReader(input: NodeJS.ReadableStream): { next(): Promise<string | undefined>; close(): void } {
  const reader = createInterface({ input });
  const buffered: string[] = [];
  const waiting: Array<(line: string | undefined) => void> = [];
  let ended = false;
  // Lines that arrive before they are asked for are kept (piped input comes all at once).
  reader.on("line", (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter(line);
    else buffered.push(line);
  });
  reader.on("close", () => {
    ended = true;
    for (const waiter of waiting.splice(0)) waiter(undefined);
  });
  return {
    next() {
      if (buffered.length > 0) return Promise.resolve(buffered.shift());
      if (ended) return Promise.resolve(undefined);
      return new Promise((resolve) => waiting.push(resolve));
    },
    close: () => reader.close(),
  };
}

/** One line per activity for people. */
export function formatActivity(activity: ActivityReport): string {
  const status = activity.replayed.status ?? (activity.replayed.error ? "ERR" : "—");
  const head = `${String(activity.index).padStart(3)}  ${activity.type.padEnd(24)} → ${String(status).padEnd(3)}  ${activity.outcome.padEnd(15)} ${activity.summary}`;
  const lines = [head];
  if (activity.objectId) lines.push(`       object ${activity.objectId}`);
  if (activity.view) lines.push(`       text   ${JSON.stringify(activity.view.text.slice(0, 160))}`);
  if (activity.media && activity.media.lost.length > 0)
    lines.push(`       lost   ${activity.media.lost.join(", ")}`);
  if (activity.fallback) {
    const f = activity.fallback;
    const bits = [
      `${f.objectType}: ${f.readable ? "readable" : "not readable"}`,
      f.linkToUrl === undefined ? "" : f.linkToUrl ? "linked" : "no link to its url",
      f.optionsMissing?.length ? `options missing: ${f.optionsMissing.join(", ")}` : "",
    ].filter(Boolean);
    lines.push(`       fallback ${bits.join("; ")}`);
  }
  for (const note of activity.notes) lines.push(`       note   ${note}`);
  return lines.join("\n");
}

/** The check verdicts for people. */
export function formatChecks(outcomes: CheckOutcome[]): string {
  return outcomes
    .map((o) => {
      let title = "";
      try {
        title = ` ${checkById(o.check).title}`;
      } catch {
        // A check the catalogue lacks is still reported by id.
      }
      const mark = o.verdict === "passed" ? "✓" : o.verdict === "skipped" ? "-" : "✗";
      const detail =
        o.verdict === "passed"
          ? o.message
          : `${o.message}\n        expected: ${o.expected}\n        observed: ${o.observed}`;
      return `  ${mark} ${o.check}${title}\n        ${detail}`;
    })
    .join("\n");
}

/** Runs `fedicheck replay`; resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  const { values: args, positionals } = parse(argv);
  if (args.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `expected exactly one capture file, got ${positionals.length === 0 ? "none" : positionals.join(" ")}. See 'fedicheck replay --help'.`,
    );
  }
  const capturePath = positionals[0]!;
  if (!args.to)
    throw new UsageError("--to is required, e.g. --to fedify-ref. See 'fedicheck replay --help'.");
  const timing = args.timing as TimingMode;
  if (!TIMINGS.includes(timing)) {
    throw new UsageError(`--timing expects ${TIMINGS.join(", ")}, got '${args.timing}'`);
  }
  const maxGapMs = wholeNumber("max-gap", args["max-gap"]);
  const settleMs = wholeNumber("settle-ms", args["settle-ms"]);
  const spec = parseReplayTarget(args.to);

  let capture: ReturnType<typeof readCapture>;
  try {
    capture = readCapture(capturePath);
  } catch (error) {
    throw new UsageError((error as CaptureFormatError).message);
  }
  let sidecar: ExpectationsFile | undefined;
  const sidecarPath = args.expect ?? sidecarPathOf(capturePath);
  if (!args["no-expect"] && (args.expect !== undefined || existsSync(sidecarPath))) {
    try {
      sidecar = readExpectations(sidecarPath);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }

  let config: ReturnType<typeof resolveConfig>;
  try {
    config = resolveConfig({ targets: [spec], tls: args.tls });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  // In --json mode stdout carries only the JSON document; progress goes to stderr.
  const say = args.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const runTargets = await startTargets(config, { runId: `replay-${Date.now()}`, signal: controller.signal });
  const stdin = timing === "step" ? lineReader(process.stdin) : undefined;
  try {
    const target = runTargets.targets.find((t) => t.id === spec.id)!;
    const deliveries = deliveriesOf(capture);
    say(
      `replaying ${capturePath} (${deliveries.length} deliveries, ${capture.events.length - deliveries.length} documents) ` +
        `to ${target.id} (${target.implementation}, ${target.origin}) from the probe ${runTargets.probe.origin}, timing ${timing}`,
    );
    let report: ReplayReport;
    try {
      report = await replayCapture({
        capture,
        probe: runTargets.probe,
        target,
        http: runTargets.http,
        timing,
        ...(maxGapMs !== undefined ? { maxGapMs } : {}),
        ...(settleMs !== undefined ? { settleMs } : {}),
        signal: controller.signal,
        onActivity: (activity) => say(formatActivity(activity)),
        ...(stdin
          ? {
              onStep: async ({ index, total, delivery }) => {
                const type = typeof delivery.activity?.type === "string" ? delivery.activity.type : "?";
                process.stderr.write(`[${index}/${total}] ${type}: Enter delivers, q stops > `);
                const answer = await stdin.next();
                if (answer === undefined) say("\nend of input: stopping here");
                return answer !== undefined && answer.trim().toLowerCase() !== "q";
              },
            }
          : {}),
      });
    } catch (error) {
      if (controller.signal.aborted) {
        say("interrupted; stopping the target");
        return 130;
      }
      throw error;
    }
    const checks = sidecar ? evaluateExpectations(report, sidecar) : undefined;
    if (!args.json) {
      say(`after the last delivery (${report.durationMs} ms):`);
      for (const object of report.objects) {
        say(`  ${object.objectId}: ${object.held ? `held${object.visible ? ", visible" : ""}` : "not held"}`);
      }
      if (checks) say(`checks (${args.expect ?? sidecarPath}):\n${formatChecks(checks)}`);
    }
    const document = { report, ...(checks ? { checks } : {}) };
    if (args.json) console.log(JSON.stringify(document, null, 2));
    if (args.out) writeFileSync(args.out, `${JSON.stringify(document, null, 2)}\n`);
    return checks?.some((c) => c.verdict === "failed") ? 1 : 0;
  } finally {
    stdin?.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await runTargets.stop();
  }
}
