/**
 * `fedicheck validate <file|url|->…`: validates AS2 documents, WebFinger JRDs and NodeInfo documents
 * from files, URLs or standard input, and prints the findings grouped by document and severity
 * (or as JSON with `--json`). Exit code: 0 no errors, 1 errors found, 2 usage or input problem.
 * @module
 */
import { readFile } from "node:fs/promises";
import { styleText } from "node:util";
import { Agent, request } from "undici";
import {
  type DocumentKind,
  type Finding,
  hasErrors,
  KINDS,
  type ValidationContext,
  validate,
} from "../validate/index.ts";
import { UsageError } from "./main.ts";

const HELP = `usage: fedicheck validate [options] <file|url|->…

Validates ActivityPub payloads offline: AS2 activities, objects, actors and collections (JSON-LD
expansion with known contexts, schemas, AS-01..AS-07 rules), WebFinger JRDs and NodeInfo documents.
A URL is fetched with an AS2 Accept header; - reads standard input.

options:
  --json              print [{input, findings}] as JSON instead of text
  --kind <kind>       expected kind: ${KINDS.join(", ")} (default: auto)
  --delivered         treat documents as delivered to an inbox (bto/bcc forbidden, ids required)
  --origin <origin>   origin that served or sent the documents (ids must be on it)
  --header 'N: v'     an HTTP header that came with the body (repeatable; enables digest checks)
  -h, --help          show this help

exit codes: 0 no errors, 1 errors found, 2 usage or input problem.`;

/** The AS2 Accept header ActivityPub prescribes for GETs. */
export const AS2_ACCEPT =
  'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"';

/** Options of {@link fetchDocument}. */
export interface FetchOptions {
  /** Redirects followed before giving up. Default: 3. */
  maxRedirects?: number;
  /** Largest body accepted, in bytes. Default: 5 MiB. */
  maxBytes?: number;
  /** Time allowed for the whole fetch, redirects included, in milliseconds. Default: 10 000. */
  timeoutMs?: number;
}

/** A fetched body and where it finally came from. */
export interface FetchedDocument {
  text: string;
  /** The URL after redirects. */
  url: string;
  contentType: string | undefined;
}

/** An input that could not be read, fetched or parsed; its message is one line for the user. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

/** Fetches a URL the way an ActivityPub server would (AS2 Accept), with redirect, size and time limits. */
export async function fetchDocument(url: string, options: FetchOptions = {}): Promise<FetchedDocument> {
  const maxRedirects = options.maxRedirects ?? 3;
  const maxBytes = options.maxBytes ?? 5 * 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const signal = AbortSignal.timeout(timeoutMs);
  const agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  try {
    let current = url;
    for (let redirects = 0; ; redirects++) {
      const target = parseHttpUrl(current);
      let response: Awaited<ReturnType<typeof request>>;
      try {
        response = await request(target, {
          method: "GET",
          headers: { accept: AS2_ACCEPT, "user-agent": "fedicheck/0.1 (validate)" },
          dispatcher: agent,
          signal,
        });
      } catch (error) {
        throw new InputError(`cannot fetch ${current}: ${fetchErrorText(error, timeoutMs)}`);
      }
      const { statusCode, headers, body } = response;
      // Destroying the body below makes undici emit an abort error on it; nobody needs to hear it.
      body.on("error", ignore);
      const location = headerText(headers.location);
      if (statusCode >= 300 && statusCode < 400 && location !== undefined) {
        await body.dump().catch(() => undefined);
        if (redirects >= maxRedirects) {
          throw new InputError(
            `cannot fetch ${url}: expected at most ${maxRedirects} redirects, found more (last to ${location})`,
          );
        }
        current = new URL(location, target).href;
        continue;
      }
      if (statusCode < 200 || statusCode >= 300) {
        await body.dump().catch(() => undefined);
        throw new InputError(
          `cannot fetch ${current}: expected HTTP 2xx with a JSON document, got HTTP ${statusCode}`,
        );
      }
      const declared = Number(headerText(headers["content-length"]));
      if (Number.isFinite(declared) && declared > maxBytes) {
        body.destroy();
        throw new InputError(
          `cannot fetch ${current}: expected at most ${maxBytes} bytes, the server announced ${declared}`,
        );
      }
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of body) {
          const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
          size += buffer.length;
          if (size > maxBytes) {
            body.destroy();
            throw new InputError(
              `cannot fetch ${current}: expected at most ${maxBytes} bytes, the body is larger`,
            );
          }
          chunks.push(buffer);
        }
      } catch (error) {
        if (error instanceof InputError) throw error;
        throw new InputError(`cannot fetch ${current}: ${fetchErrorText(error, timeoutMs)}`);
      }
      return {
        text: Buffer.concat(chunks).toString("utf8"),
        url: current,
        contentType: headerText(headers["content-type"]),
      };
    }
  } finally {
    await agent.close().catch(() => undefined);
  }
}

function ignore(): void {}

function parseHttpUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(`cannot fetch ${value}: expected an absolute http(s) URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InputError(`cannot fetch ${value}: expected an http or https URL, found ${url.protocol}`);
  }
  return url;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function fetchErrorText(error: unknown, timeoutMs: number): string {
  const name = error instanceof Error ? error.name : "";
  const code = (error as { code?: unknown } | null)?.code;
  if (
    name === "TimeoutError" ||
    name === "AbortError" ||
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT"
  ) {
    return `no complete answer within ${timeoutMs / 1000} s; check the URL or the server`;
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return `${cause ?? message} (is the server up and the host right?)`;
}

/** Parsed command-line options. */
interface Options {
  json: boolean;
  inputs: string[];
  context: ValidationContext;
}

function parseArgs(argv: string[]): Options | "help" {
  const options: Options = { json: false, inputs: [], context: {} };
  const headers: Record<string, string> = {};
  let onlyInputs = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (onlyInputs || arg === "-" || !arg.startsWith("-")) {
      options.inputs.push(arg);
      continue;
    }
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? splitOnce(arg, "=") : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} expects a value; see fedicheck validate --help`);
      return v;
    };
    switch (flag) {
      case "--":
        onlyInputs = true;
        break;
      case "-h":
      case "--help":
        return "help";
      case "--json":
        options.json = true;
        break;
      case "--delivered":
        options.context.delivered = true;
        break;
      case "--kind": {
        const kind = value();
        if (!(KINDS as readonly string[]).includes(kind)) {
          throw new UsageError(`--kind expects one of ${KINDS.join(", ")}, found '${kind}'`);
        }
        options.context.kind = kind as DocumentKind | "auto";
        break;
      }
      case "--origin":
        options.context.origin = value();
        break;
      case "--header": {
        const header = value();
        const colon = header.indexOf(":");
        if (colon <= 0) throw new UsageError(`--header expects 'Name: value', found '${header}'`);
        headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
        break;
      }
      default:
        throw new UsageError(`unknown option '${arg}'; see fedicheck validate --help`);
    }
  }
  if (Object.keys(headers).length > 0) options.context.headers = headers;
  if (options.inputs.length === 0) {
    throw new UsageError(
      "expected at least one file, URL or - (standard input); see fedicheck validate --help",
    );
  }
  return options;
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return [text.slice(0, at), text.slice(at + separator.length)];
}

/** One input read and parsed, with the context it brings (origin for URLs, raw body). */
interface LoadedInput {
  document: unknown;
  context: ValidationContext;
}

const STDIN_LIMIT = 5 * 1024 * 1024;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > STDIN_LIMIT)
      throw new InputError(`standard input: expected at most ${STDIN_LIMIT} bytes, found more`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function load(input: string, base: ValidationContext): Promise<LoadedInput> {
  let text: string;
  const context: ValidationContext = { ...base };
  if (input === "-") {
    text = await readStdin();
  } else if (/^https?:\/\//i.test(input)) {
    const fetched = await fetchDocument(input);
    text = fetched.text;
    context.origin ??= new URL(fetched.url).origin;
  } else {
    try {
      text = await readFile(input, "utf8");
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      const why =
        code === "ENOENT"
          ? "no such file"
          : code === "EISDIR"
            ? "it is a directory"
            : code === "EACCES"
              ? "permission denied"
              : error instanceof Error
                ? error.message
                : String(error);
      throw new InputError(
        `cannot read ${input}: ${why}; expected a JSON file, an http(s) URL or - for standard input`,
      );
    }
  }
  const name = input === "-" ? "standard input" : input;
  if (text.trim() === "") {
    throw new InputError(`${name} is empty: expected one JSON document (AS2, WebFinger JRD or NodeInfo)`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new InputError(
      `${name} is not JSON (${detail}): expected one JSON document; check the file or the response`,
    );
  }
  if (context.headers) context.body = text;
  return { document, context };
}

/** Result of validating one input. */
interface Report {
  input: string;
  findings: Finding[];
}

const COLOURS = { error: "red", warning: "yellow", info: "cyan" } as const;
const HEADINGS = { error: "errors", warning: "warnings", info: "notes" } as const;

function colourEnabled(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}

function paint(format: Parameters<typeof styleText>[0], text: string, colour: boolean): string {
  return colour ? styleText(format, text) : text;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function renderText(reports: Report[], colour: boolean): string {
  const lines: string[] = [];
  for (const { input, findings } of reports) {
    const counts = { error: 0, warning: 0, info: 0 };
    for (const f of findings) counts[f.severity]++;
    const status =
      counts.error > 0 ? paint(["bold", "red"], "FAIL", colour) : paint(["bold", "green"], "ok", colour);
    lines.push(
      `${paint("bold", input, colour)}: ${status} (${plural(counts.error, "error")}, ${plural(counts.warning, "warning")}, ` +
        `${plural(counts.info, "note")})`,
    );
    for (const severity of ["error", "warning", "info"] as const) {
      const group = findings.filter((f) => f.severity === severity);
      if (group.length === 0) continue;
      lines.push(`  ${paint(COLOURS[severity], HEADINGS[severity], colour)}:`);
      for (const f of group) {
        const where = f.pointer === "" ? "(document)" : f.pointer;
        lines.push(
          `    ${paint(COLOURS[severity], f.ruleId, colour)} ${paint("dim", where, colour)} ${f.message}`,
        );
        lines.push(`      ${paint("dim", `${f.level}, ${f.impact}; ${f.source}`, colour)}`);
      }
    }
  }
  if (reports.length > 1) {
    const failed = reports.filter((r) => hasErrors(r.findings)).length;
    lines.push(
      "",
      `${plural(reports.length, "document")}: ${failed} with errors, ${reports.length - failed} without`,
    );
  }
  return lines.join("\n");
}

/** Runs `fedicheck validate` with the arguments after the command name; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (parsed === "help") {
    console.log(HELP);
    return 0;
  }
  const reports: Report[] = [];
  let inputProblem = false;
  for (const input of parsed.inputs) {
    let loaded: LoadedInput;
    try {
      loaded = await load(input, parsed.context);
    } catch (error) {
      inputProblem = true;
      const message = error instanceof InputError ? error.message : `cannot read ${input}: ${String(error)}`;
      console.error(`fedicheck validate: ${message}`);
      continue;
    }
    reports.push({
      input: input === "-" ? "-" : input,
      findings: await validate(loaded.document, loaded.context),
    });
  }
  if (parsed.json) {
    console.log(JSON.stringify(reports, null, 2));
  } else if (reports.length > 0) {
    console.log(renderText(reports, colourEnabled()));
  }
  if (inputProblem) return 2;
  return reports.some((r) => hasErrors(r.findings)) ? 1 : 0;
}
