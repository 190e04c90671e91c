/**
 * The capture format (version 1): an ordered, self-describing JSON Lines file of what one server sent
 * another (inbox deliveries) and of the documents the receiver fetched from the sender. The probe
 * records captures (`fedicheck peer --record`), people assemble them by hand or export them from a
 * server's logs, and `fedicheck replay` plays them back. The JSON Schema of a line is
 * `capture-schema.json` beside this file; FORMAT.md explains the format for people.
 * @module
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import type { ErrorObject } from "ajv";
import { redactValue } from "../core/redact.ts";
import { lazyDraft2020Validator } from "../validate/ajv-cache.ts";
import schema from "./capture-schema.json" with { type: "json" };

/** The capture format version this code reads and writes. */
export const CAPTURE_VERSION = 1;

/** The JSON Schema (draft 2020-12) of one capture line, version 1. */
export const captureLineSchema: Readonly<Record<string, unknown>> = schema;

/** A JSON object as it crossed the wire. */
export type Json = Record<string, unknown>;

/** An actor of the receiving side, mapped to an account on the replay target. */
export interface CaptureActor {
  /** Local name, e.g. `bob`; the replay provisions an account with this name (or a suffixed one). */
  name: string;
  /** Actor id as the sender saw it. */
  id: string;
  inbox?: string;
  outbox?: string;
  followers?: string;
  following?: string;
  sharedInbox?: string;
  keyId?: string;
}

/** The first line: what the capture is and who received the traffic. Optional in hand-made captures. */
export interface CaptureHeader {
  version: 1;
  kind: "capture";
  /** ISO time the capture was started. */
  createdAt?: string;
  /** What wrote it, e.g. `fedicheck 0.1.0 peer --record`. */
  generator?: string;
  title?: string;
  description?: string;
  /** The receiving server: its origin and (ideally) its actors. */
  receiver?: { origin: string; actors?: CaptureActor[] };
}

/** What the receiver made of a delivery's signature when it was recorded. */
export interface CapturedSignature {
  ok: boolean;
  scheme?: string;
  keyId?: string;
  actorId?: string;
  reason?: string;
}

/** One POST the sender made to an inbox of the receiver. */
export interface CaptureDelivery {
  version: 1;
  kind: "delivery";
  /** Position in the capture as recorded (informational: file order is what counts). */
  seq?: number;
  /** ISO time of arrival; `--timing preserve` keeps the gaps between these. */
  at?: string;
  /** Inbox URL the request went to. */
  url?: string;
  /** Addressed actor's name, or `shared` for the shared inbox. */
  recipient?: string;
  /** Request headers, lower-case, secrets redacted. */
  headers?: Record<string, string>;
  /** The activity (parsed body). Required for a replay. */
  activity?: Json;
  /** The raw body, kept only when it was not a JSON object. */
  body?: string;
  /** What the receiver answered. */
  status?: number;
  signature?: CapturedSignature;
}

/** One document the receiver fetched from the sender (or one assembled by hand). */
export interface CaptureDocument {
  version: 1;
  kind: "document";
  seq?: number;
  at?: string;
  /** The URL fetched (may carry a fragment, e.g. a keyId). */
  url: string;
  /** Status of the answer. Default 200. */
  status?: number;
  /** Response headers, lower-case, secrets redacted. */
  headers?: Record<string, string>;
  /** The parsed JSON body. */
  document?: Json;
  /** The raw body, kept only when it was not a JSON object. */
  body?: string;
}

/** Any line of a capture (extension lines, `kind: "x-…"`, are skipped by the reader). */
export type CaptureLine = CaptureHeader | CaptureDelivery | CaptureDocument;

/** A capture as read: its header (synthesised when the file has none) and its events in order. */
export interface Capture {
  header: CaptureHeader;
  /** Deliveries and documents in file order. */
  events: Array<CaptureDelivery | CaptureDocument>;
  /** Where it was read from, for messages. */
  source?: string;
}

/** A capture that cannot be read; `problems` holds one `line N: …` entry per problem. */
export class CaptureFormatError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    const shown = problems.slice(0, 10);
    const more = problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : "";
    super(
      `${source} is not a readable fedicheck capture (format version ${CAPTURE_VERSION}):\n  ${shown.join("\n  ")}${more}\n` +
        "See harness/replay/FORMAT.md for the format.",
    );
    this.name = "CaptureFormatError";
  }
}

// Loaded from the disk cache when an earlier process compiled it (see ajv-cache.ts).
const lineValidator = lazyDraft2020Validator(schema, { strict: false, formats: ["date-time", "uri"] });

function describeError(error: ErrorObject): string {
  const where = error.instancePath === "" ? "the line" : error.instancePath;
  if (error.keyword === "additionalProperties" && "additionalProperty" in error.params) {
    return `${where} has an unknown member '${String(error.params.additionalProperty)}'`;
  }
  if (error.keyword === "const" && "allowedValue" in error.params) {
    return `${where} must be ${JSON.stringify(error.params.allowedValue)}`;
  }
  return `${where} ${error.message ?? error.keyword}`;
}

/** Problems with one parsed line, phrased for a person; empty when it is valid. */
export function lineProblems(line: unknown): string[] {
  if (typeof line !== "object" || line === null || Array.isArray(line)) return ["is not a JSON object"];
  const record = line as Json;
  if (record.version !== CAPTURE_VERSION) {
    return typeof record.version === "number" && record.version > CAPTURE_VERSION
      ? [`has format version ${record.version}; this fedicheck reads version ${CAPTURE_VERSION}: upgrade it`]
      : [`needs "version": ${CAPTURE_VERSION}`];
  }
  const kind = record.kind;
  if (typeof kind === "string" && kind.startsWith("x-")) return [];
  if (kind !== "capture" && kind !== "delivery" && kind !== "document") {
    return [
      `has kind ${JSON.stringify(kind)}; expected "capture", "delivery", "document" or an "x-" extension`,
    ];
  }
  const validate = lineValidator();
  if (validate(line)) return [];
  // oneOf reports every branch; keep the errors of the branch the line's kind selects.
  const branch = `#/$defs/${kind === "capture" ? "header" : kind}`;
  const errors = (validate.errors ?? []).filter((e) => e.schemaPath.startsWith(branch));
  const described = (errors.length > 0 ? errors : (validate.errors ?? [])).map(describeError);
  return [...new Set(described)];
}

/**
 * Reads a capture from JSON Lines text. Blank lines are allowed; a header, when present, must come
 * first. Throws {@link CaptureFormatError} listing every problem with its line number.
 */
export function parseCapture(text: string, source = "the capture"): Capture {
  const problems: string[] = [];
  let header: CaptureHeader | undefined;
  const events: Capture["events"] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const number = index + 1;
    if (raw.trim() === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      problems.push(`line ${number}: not JSON (${(error as Error).message})`);
      return;
    }
    const found = lineProblems(parsed);
    if (found.length > 0) {
      problems.push(...found.map((p) => `line ${number}: ${p}`));
      return;
    }
    const line = parsed as Json;
    if (typeof line.kind === "string" && line.kind.startsWith("x-")) return;
    if (line.kind === "capture") {
      if (header !== undefined || events.length > 0) {
        problems.push(`line ${number}: the "capture" header must be the first line, and only one`);
      } else header = line as unknown as CaptureHeader;
      return;
    }
    events.push(line as unknown as CaptureDelivery | CaptureDocument);
  });
  if (problems.length > 0) throw new CaptureFormatError(source, problems);
  return { header: header ?? { version: CAPTURE_VERSION, kind: "capture" }, events, source };
}

/** Reads a capture file (see {@link parseCapture}). */
export function readCapture(path: string): Capture {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new CaptureFormatError(path, [`cannot be read: ${(error as Error).message}`]);
  }
  return parseCapture(text, path);
}

/** The deliveries of a capture, in order. */
export function deliveriesOf(capture: Capture): CaptureDelivery[] {
  return capture.events.filter((e): e is CaptureDelivery => e.kind === "delivery");
}

/** The documents of a capture, in order. */
export function documentsOf(capture: Capture): CaptureDocument[] {
  return capture.events.filter((e): e is CaptureDocument => e.kind === "document");
}

/**
 * One line of JSON Lines text for `line`, with secrets removed first: credential headers, cookies,
 * bearer tokens, private keys and members named like credentials (see harness/core/redact.ts).
 * Signature headers are kept: they are evidence and let nobody sign.
 */
export function formatLine(line: CaptureLine): string {
  return JSON.stringify(redactValue(line));
}

/** The whole capture as JSON Lines text (header first), secrets removed. */
export function formatCapture(capture: Capture): string {
  return [capture.header, ...capture.events].map((line) => `${formatLine(line)}\n`).join("");
}

/**
 * Appends capture lines to a file as they happen, so an interrupted recording keeps everything up to
 * the last event. The file is created (truncated) with the header.
 */
export class CaptureWriter {
  #seq = 0;
  constructor(
    readonly path: string,
    header: CaptureHeader,
  ) {
    writeFileSync(path, `${formatLine(header)}\n`);
  }

  /** Number of events written so far. */
  get count(): number {
    return this.#seq;
  }

  /** Appends an event, numbering it (`seq`) in arrival order. */
  append(event: Omit<CaptureDelivery, "seq"> | Omit<CaptureDocument, "seq">): void {
    this.#seq += 1;
    const { version, kind, ...rest } = event;
    const line = { version, kind, seq: this.#seq, ...rest } as CaptureDelivery | CaptureDocument;
    appendFileSync(this.path, `${formatLine(line)}\n`);
  }
}
