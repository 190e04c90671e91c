/**
 * `fedicheck peer`: runs the probe standalone so an implementer can point a server at it and watch,
 * one line per request, what arrived, who signed it, and what the validator thinks of it.
 * @module
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startProbe } from "../peer/probe.ts";
import type { InboxEntry, ProbeActor, ProbeOptions } from "../peer/types.ts";
import { type CaptureRecorder, createCaptureRecorder } from "../replay/record.ts";
import { UsageError } from "./main.ts";

const HELP = `usage: fedicheck peer [options]

Runs the probe (the harness's instrumented ActivityPub server) until Ctrl-C and prints every
request it receives: method, path, status, activity type, actor, signature verdict, findings.

options:
  --port <n>          port to listen on (default 8080; 0 picks a free one)
  --host <addr>       address to listen on (default 127.0.0.1)
  --actors <a,b>      actors to create (default alice)
  --locked            make the actors locked (follow requests wait; nothing accepts them here)
  --origin <url>      public origin used in ids, e.g. https://probe.test (default: the listening address)
  --https             serve HTTPS; needs --cert and --key (PEM files)
  --cert <file>       certificate (PEM), with --https
  --key <file>        private key (PEM), with --https
  --ca <file>         extra CA certificate (PEM) to trust when fetching keys; repeatable
  --accept-unsigned   process activities whose signature fails (still logged with the verdict)
  --json              one JSON line per request on stdout (the banner goes to stderr)
  --record <file>     also write every delivery and every document the probe fetches to <file>
                      as a capture (JSON Lines, secrets removed; replay it with 'fedicheck replay')
  --help              this text`;

/** One readable line for a logged request. */
export function formatEntry(entry: InboxEntry): string {
  const time = entry.at.slice(11, 23);
  const parts = [`${time}  ${entry.method} ${entry.path} → ${entry.status}`];
  const activity = entry.activity;
  if (activity) {
    const type = typeof activity.type === "string" ? activity.type : "?";
    const object = activity.object as { type?: unknown } | null | undefined;
    const objectType =
      typeof object === "object" && object !== null && typeof object.type === "string"
        ? `(${object.type})`
        : "";
    const actor = typeof activity.actor === "string" ? activity.actor : "no actor";
    parts.push(`${type}${objectType} by ${actor}`);
  }
  const signed = entry.headers.signature !== undefined || entry.signature.keyId !== undefined;
  if (entry.signature.ok)
    parts.push(`sig ok (${entry.signature.scheme ?? "?"}, ${entry.signature.keyId ?? "?"})`);
  else if (signed || entry.method === "POST")
    parts.push(`sig FAILED: ${entry.signature.reason ?? "unknown"}`);
  else parts.push("unsigned");
  if (entry.findings.length > 0 || entry.method === "POST") {
    const count = (severity: string) => entry.findings.filter((f) => f.severity === severity).length;
    parts.push(`findings ${count("error")} error, ${count("warning")} warning, ${count("info")} info`);
  }
  return parts.join("  ");
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string", default: "8080" },
        host: { type: "string", default: "127.0.0.1" },
        actors: { type: "string", default: "alice" },
        locked: { type: "boolean", default: false },
        origin: { type: "string" },
        https: { type: "boolean", default: false },
        cert: { type: "string" },
        key: { type: "string" },
        ca: { type: "string", multiple: true },
        "accept-unsigned": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        record: { type: "string" },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}. See fedicheck peer --help.`);
  }
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read the ${what} file ${path}: ${(error as Error).message}`);
  }
}

/** Runs `fedicheck peer`; resolves with the exit code once stopped by SIGINT or SIGTERM. */
export async function run(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args.help) {
    console.log(HELP);
    return 0;
  }
  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port expects a number from 0 to 65535, got '${args.port}'`);
  }
  const names = args.actors
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError("--actors expects at least one name, e.g. --actors alice,bob");
  if (args.https !== (args.cert !== undefined && args.key !== undefined)) {
    throw new UsageError(
      args.https
        ? "--https needs --cert and --key (PEM files)"
        : "--cert and --key only make sense with --https",
    );
  }
  if (args.origin !== undefined && !/^https?:\/\/[^/]+\/?$/.test(args.origin)) {
    throw new UsageError(`--origin expects an origin like https://probe.test, got '${args.origin}'`);
  }

  const options: ProbeOptions = {
    host: args.host,
    port,
    requireSignatures: !args["accept-unsigned"],
  };
  if (args.https) {
    options.tls = { cert: readPem(args.cert!, "certificate"), key: readPem(args.key!, "key") };
  }
  if (args.origin) options.publicOrigin = args.origin;
  if (args.ca?.length) options.client = { ca: args.ca.map((file) => readPem(file, "CA")) };

  // The recorder must see the probe's first fetch, so it exists before the probe does.
  const recorder: CaptureRecorder | undefined = args.record
    ? createCaptureRecorder({ path: args.record })
    : undefined;
  if (recorder) options.onFetch = recorder.onFetch;

  const probe = await startProbe(options);
  // In --json mode stdout carries only entries, so the banner goes to stderr.
  const say = args.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  try {
    say(`fedicheck probe listening on ${probe.origin}  (shared inbox ${probe.origin}/inbox)`);
    const actors: ProbeActor[] = [];
    for (const name of names) {
      const actor = await probe.createActor(name, { locked: args.locked });
      actors.push(actor);
      say(`  ${actor.handle}  id ${actor.id}  inbox ${actor.inbox}${actor.locked ? "  (locked)" : ""}`);
    }
    if (recorder) {
      recorder.attach(probe, actors);
      say(`Recording a capture to ${recorder.path} (format: harness/replay/FORMAT.md).`);
    }
  } catch (error) {
    await probe.close();
    throw new UsageError((error as Error).message);
  }
  say("Waiting for requests; Ctrl-C stops.");
  const unsubscribe = probe.inbox.subscribe((entry) => {
    console.log(args.json ? JSON.stringify(entry) : formatEntry(entry));
  });

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  unsubscribe();
  if (recorder) {
    await recorder.close();
    say(`Recorded ${recorder.count} event(s) to ${recorder.path}.`);
  }
  await probe.close();
  say("Stopped.");
  return 0;
}
