/**
 * Keeping secrets (API tokens, control tokens, passwords, cookies, private keys) out of everything a
 * run writes: evidence, messages, logs and reports. Drivers and runtimes register the secret values
 * they hold with {@link registerSecret}; the runner passes every cell result through
 * {@link redactCellResult} before handing it on, so no renderer ever sees a secret.
 *
 * Besides registered values, some shapes are always redacted: PEM `PRIVATE KEY` blocks, JWT-like
 * tokens, `Bearer`/`Basic` credentials, credential headers and JSON members named like credentials.
 * HTTP signature headers (`Signature`, `Signature-Input`, `Authorization: Signature …`) are kept:
 * they are evidence, and a signature reveals nothing that lets anyone sign.
 * @module
 */
import type { CellResult, Evidence, HttpMessage } from "./model.ts";

/** What a redacted value is replaced with. */
export const REDACTED = "[redacted]";
/** What a private key block is replaced with (deliberately not containing `PRIVATE KEY`). */
export const REDACTED_KEY = "[redacted: private key]";

/** Values shorter than this are not registered: redacting them would mangle ordinary text. */
export const MIN_SECRET_LENGTH = 6;

/** Deepest nesting {@link redactValue} copies; deeper values are replaced by a note (see there). */
export const MAX_EVIDENCE_DEPTH = 64;

const registry = new Set<string>();

/**
 * Registers a secret value (a token, a password, a private key PEM) so that it is redacted from
 * everything the run writes, in its raw, JSON-escaped and URL-encoded forms (and, for a PEM, its
 * base64 body on one line). Values shorter than {@link MIN_SECRET_LENGTH} characters, empty or
 * undefined are ignored. Registering twice is harmless.
 */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== "string" || value.trim().length < MIN_SECRET_LENGTH) return;
  for (const variant of variantsOf(value)) registry.add(variant);
}

/** Every registered secret, in every form it is looked for (longest first). */
export function registeredSecrets(): string[] {
  return [...registry].sort((a, b) => b.length - a.length);
}

/** Forgets every registered secret (tests; a new run in the same process). */
export function forgetSecrets(): void {
  registry.clear();
}

function variantsOf(value: string): string[] {
  const variants = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
  if (value.includes("-----BEGIN")) {
    // The key material alone, as it shows up when a PEM is re-wrapped or logged on one line.
    const body = value
      .split(/\r?\n/)
      .filter((line) => line.trim() !== "" && !line.startsWith("-----"))
      .join("");
    if (body.length >= MIN_SECRET_LENGTH) variants.add(body);
  }
  return [...variants].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

// A PEM private key block (RSA, EC, PKCS#8, encrypted…), also one cut short by truncation.
const PEM_PRIVATE_KEY =
  /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$(?![\s\S]))/g;
// Three base64url segments, the first two JSON objects (`eyJ` is `{"`).
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
// `Bearer xyz` anywhere in text (logs, messages, error texts).
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=:-]{6,}/gi;
// `Basic <base64 of user:password>`; only when it decodes to something with a colon, so prose survives.
const BASIC = /\b(Basic\s+)([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])/g;
// Member and parameter names whose values are credentials.
const SECRET_NAME =
  "(?:password|passwd|secret|client_secret|access_token|refresh_token|id_token|api_?key|token|private_?key(?:_?pem)?|privateKeyPem|authorization|cookie)";
// `"password": "…"`-style members in JSON text, and `access_token=…` in URLs and forms.
const JSON_MEMBER = new RegExp(`("${SECRET_NAME}"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, "gi");
// Also after a comma: `--target a=mastodon,token=…` on a command line.
const QUERY_PARAM = new RegExp(`([?&;,\\s]${SECRET_NAME}=)[^&,\\s"'<>]+`, "gi");
/** Names of object members whose string values are credentials. */
const SECRET_KEY = new RegExp(`^${SECRET_NAME}$`, "i");

/** Registered secrets plus `extra`, de-duplicated, longest first (so a secret inside another goes second). */
function secretList(extra: readonly string[]): string[] {
  const all = new Set(registry);
  for (const secret of extra) if (secret.length >= MIN_SECRET_LENGTH) all.add(secret);
  return [...all].sort((a, b) => b.length - a.length);
}

/**
 * Replaces every registered secret (and `secrets`, when given) in `text`, plus PEM private key
 * blocks, JWT-like tokens, `Bearer …`/`Basic …` credentials, JSON members named like credentials
 * (`"password": "…"`, `"access_token": "…"`) and credential query parameters (`?access_token=…`).
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  return scrub(text, secretList(secrets));
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  if (out.includes("PRIVATE KEY")) out = out.replace(PEM_PRIVATE_KEY, REDACTED_KEY);
  if (out.includes("eyJ")) out = out.replace(JWT, REDACTED);
  out = out.replace(BEARER, `$1${REDACTED}`);
  out = out.replace(BASIC, (match, prefix: string, encoded: string) =>
    Buffer.from(encoded, "base64").toString("latin1").includes(":") ? `${prefix}${REDACTED}` : match,
  );
  if (out.includes('"')) out = out.replace(JSON_MEMBER, `$1"${REDACTED}"`);
  if (out.includes("=")) out = out.replace(QUERY_PARAM, `$1${REDACTED}`);
  return out;
}

/** Request and response headers whose whole value is a credential. */
const CREDENTIAL_HEADERS = new Set([
  "cookie",
  "set-cookie",
  "proxy-authorization",
  "x-api-key",
  "api-key",
  "apikey",
  "x-auth-token",
  "x-access-token",
  "x-csrf-token",
  "x-xsrf-token",
  "private-token",
  "x-control-token",
  "x-fedicheck-token",
]);
const CREDENTIAL_HEADER_PATTERN = /(token|secret|password|api-?key|session)/i;

/**
 * Redacts credential headers, keeping the evidence: `Authorization: Bearer x` becomes
 * `Bearer [redacted]` while `Authorization: Signature …` is kept whole; cookies, `X-Api-Key` and any
 * header named like a token, secret, password, API key or session become `[redacted]`; `Signature`,
 * `Signature-Input`, `Digest` and `Content-Digest` are kept. Every other value still goes through
 * {@link redactText}. Names are lower-cased; repeated headers are joined with ", ".
 */
export function redactHeaders(
  headers: Readonly<Record<string, string | readonly string[] | number | undefined>>,
  secrets: readonly string[] = [],
): Record<string, string> {
  return headersWith(headers, secretList(secrets));
}

function headersWith(
  headers: Readonly<Record<string, string | readonly string[] | number | undefined>>,
  secrets: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, rawValue] of Object.entries(headers)) {
    if (rawValue === undefined) continue;
    const name = rawName.toLowerCase();
    const value = Array.isArray(rawValue) ? rawValue.join(", ") : String(rawValue);
    out[name] = headerValue(name, value, secrets);
  }
  return out;
}

function headerValue(name: string, value: string, secrets: readonly string[]): string {
  if (name === "signature" || name === "signature-input" || name === "digest" || name === "content-digest") {
    return value; // evidence, not secrets
  }
  if (name === "authorization") {
    if (/^signature\s/i.test(value)) return value;
    const scheme = /^([A-Za-z][A-Za-z0-9_-]*)\s+\S/.exec(value);
    return scheme ? `${scheme[1]} ${REDACTED}` : REDACTED;
  }
  if (CREDENTIAL_HEADERS.has(name) || CREDENTIAL_HEADER_PATTERN.test(name)) return REDACTED;
  return scrub(value, secrets);
}

/**
 * A redacted deep copy of a JSON-like value: strings through {@link redactText}, members named like
 * credentials (`password`, `access_token`, `privateKeyPem`…) replaced, `headers` objects through
 * {@link redactHeaders}. It also makes the value safe to serialise: nesting deeper than
 * {@link MAX_EVIDENCE_DEPTH} and cycles are replaced by a note, functions and symbols dropped,
 * so a hostile document kept as evidence cannot crash the results writer.
 */
export function redactValue<T>(value: T, secrets: readonly string[] = []): T {
  return copy(value, secretList(secrets), 0, new Set()) as T;
}

function copy(value: unknown, secrets: readonly string[], depth: number, ancestors: Set<object>): unknown {
  if (typeof value === "string") return scrub(value, secrets);
  if (value === null || typeof value !== "object") {
    if (typeof value === "function" || typeof value === "symbol") return undefined;
    // JSON has no bigint; keep the digits rather than let JSON.stringify throw.
    return typeof value === "bigint" ? value.toString() : value;
  }
  if (depth >= MAX_EVIDENCE_DEPTH) return `[truncated: nested deeper than ${MAX_EVIDENCE_DEPTH} levels]`;
  if (ancestors.has(value)) return "[truncated: cycle]";
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => copy(item, secrets, depth + 1, ancestors) ?? null);
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      if (typeof member === "string" && SECRET_KEY.test(key) && !/^signature\s/i.test(member)) {
        out[key] = REDACTED;
      } else if (key === "headers" && isStringRecord(member)) {
        out[key] = headersWith(member, secrets);
      } else {
        const copied = copy(member, secrets, depth + 1, ancestors);
        if (copied !== undefined) out[key] = copied;
      }
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string")
  );
}

function messageWith(message: HttpMessage, secrets: readonly string[]): HttpMessage {
  const out: HttpMessage = { ...message, headers: headersWith(message.headers ?? {}, secrets) };
  if (message.url !== undefined) out.url = scrub(message.url, secrets);
  if (message.body !== undefined) out.body = scrub(String(message.body), secrets);
  return out;
}

/** A redacted copy of one piece of evidence (see {@link redactValue} for documents and views). */
export function redactEvidence(evidence: Evidence, secrets: readonly string[] = []): Evidence {
  return evidenceWith(evidence, secretList(secrets));
}

function evidenceWith(evidence: Evidence, secrets: readonly string[]): Evidence {
  const label = scrub(evidence.label, secrets);
  switch (evidence.kind) {
    case "http": {
      const out: Evidence = { ...evidence, label, request: messageWith(evidence.request, secrets) };
      if (evidence.response) out.response = messageWith(evidence.response, secrets);
      if (evidence.signature)
        out.signature = copy(evidence.signature, secrets, 0, new Set()) as typeof evidence.signature;
      return out;
    }
    case "payload":
      return {
        ...evidence,
        label,
        document: copy(evidence.document, secrets, 0, new Set()),
        findings: copy(evidence.findings, secrets, 0, new Set()) as typeof evidence.findings,
      };
    case "view":
      return { ...evidence, label, view: copy(evidence.view, secrets, 0, new Set()) };
    case "log":
    case "note":
      return { ...evidence, label, text: scrub(evidence.text, secrets) };
    case "screenshot":
      return { ...evidence, label };
    default:
      // Evidence of a kind this module does not know yet: copy it generically rather than pass it raw.
      return copy(evidence, secrets, 0, new Set()) as Evidence;
  }
}

/** Cell fields {@link redactCellResult} handles one by one (or that hold no text). */
const KNOWN_CELL_FIELDS = new Set([
  "checkId",
  "scenarioId",
  "suite",
  "sender",
  "receiver",
  "verdict",
  "flaky",
  "blame",
  "message",
  "expected",
  "observed",
  "evidence",
  "startedAt",
  "durationMs",
  "waitingMs",
  "attempts",
  "expectation",
  "reproduce",
]);

/** {@link evidenceWith} that never throws: evidence that cannot be copied safely is replaced by a note. */
function safeEvidence(evidence: Evidence, secrets: readonly string[]): Evidence {
  try {
    return evidenceWith(evidence, secrets);
  } catch (error) {
    // Never fall back to the raw evidence: it may hold a secret.
    return {
      kind: "note",
      label: "evidence dropped",
      text: `a piece of evidence could not be made safe to keep (${scrub(String((error as Error)?.message ?? error), secrets)})`,
    };
  }
}

/**
 * A redacted copy of a cell result: message, expected, observed, reproduce command and every piece
 * of evidence. The runner applies it to every result before anyone else sees it.
 */
export function redactCellResult(result: CellResult, secrets: readonly string[] = []): CellResult {
  const list = secretList(secrets);
  // Fields added to CellResult later (e.g. `support`) are copied redacted too, not passed on raw.
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(result)) {
    if (!KNOWN_CELL_FIELDS.has(key)) rest[key] = copy(value, list, 0, new Set());
  }
  const out: CellResult = {
    ...result,
    ...rest,
    message: scrub(result.message, list),
    reproduce: scrub(result.reproduce, list),
    evidence: result.evidence.map((e) => safeEvidence(e, list)),
  };
  if (result.expected !== undefined) out.expected = scrub(result.expected, list);
  if (result.observed !== undefined) out.observed = scrub(result.observed, list);
  if (result.expectation !== undefined)
    out.expectation = copy(result.expectation, list, 0, new Set()) as typeof result.expectation;
  return out;
}
