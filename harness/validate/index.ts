/**
 * Validates a payload that crossed the wire (an AS2 activity, object, actor or collection, a WebFinger
 * JRD or a NodeInfo document) and returns findings. Validation is offline (JSON-LD contexts are known
 * locally) and never throws: a fault of the validator itself becomes a `VALIDATOR-FAULT` finding.
 * @module
 */
import { finding, RULES, type RuleId, type RuleInfo } from "./catalogue.ts";
import type { Finding, Severity } from "./findings.ts";
import { checkHeaders } from "./headers.ts";
import { checkJsonLd } from "./jsonld.ts";
import { type DocumentKind, detectKind } from "./kinds.ts";
import { checkAs2Rules, checkJrdRules } from "./rules.ts";
import { checkAs2Schemas, checkJrdSchema, checkNodeInfoSchema } from "./schema.ts";
import { errorText, isObject, type JsonObject, jsonType, preview, scanDocument } from "./util.ts";

export { type FindingOverrides, finding, RULES, type RuleId, type RuleInfo } from "./catalogue.ts";
export { AS_CONTEXT, createOfflineLoader, knownContextUrls } from "./contexts.ts";
export type { Finding, InteropImpact, Severity, SpecLevel } from "./findings.ts";
export { expandOffline } from "./jsonld.ts";
export type { DocumentKind } from "./kinds.ts";
export { precompileSchemas } from "./schema.ts";

/** How the document was met; every field is optional. */
export interface ValidationContext {
  /** HTTP headers that came with the document (names in any case). Enables Digest/Content-Digest rules. */
  headers?: Record<string, string>;
  /** The raw body the document was parsed from; digests are checked against it. Default: none. */
  body?: string;
  /** The origin (`https://host[:port]`) that served or sent the document; ids must be on it. Default: unknown. */
  origin?: string;
  /** The document was delivered to an inbox (bto/bcc forbidden, activities need ids). Default: false. */
  delivered?: boolean;
  /** What the document is expected to be. Default: `"auto"` (picked from its shape and type). */
  kind?: DocumentKind | "auto";
}

/** The kinds `ValidationContext.kind` accepts. */
export const KINDS: readonly (DocumentKind | "auto")[] = [
  "auto",
  "activity",
  "object",
  "actor",
  "collection",
  "webfinger",
  "nodeinfo",
];

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/**
 * Findings kept per rule; the rest are summed up in one more finding of that rule. A hostile
 * document with 100 000 undefined terms would otherwise put 100 000 findings into the evidence.
 */
export const MAX_FINDINGS_PER_RULE = 50;

/**
 * Validates one parsed document and returns its findings, errors first. Never throws and never
 * touches the network, whatever `document` and `context` hold.
 */
export async function validate(document: unknown, context?: ValidationContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  try {
    await run(document, normaliseContext(context), findings);
  } catch (error) {
    findings.push(fault("validation", error));
  }
  return finish(findings);
}

/** True when any finding is an error (what makes `fedicheck validate` exit 1). */
export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === "error");
}

interface NormalContext {
  headers?: Record<string, string>;
  body?: string;
  origin?: string;
  delivered: boolean;
  kind: DocumentKind | "auto";
}

// The context comes from callers in plain JavaScript too: keep only well-typed fields.
function normaliseContext(context: unknown): NormalContext {
  const out: NormalContext = { delivered: false, kind: "auto" };
  if (!isObject(context)) return out;
  if (isObject(context.headers)) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(context.headers)) if (typeof v === "string") headers[k] = v;
    out.headers = headers;
  }
  if (typeof context.body === "string") out.body = context.body;
  if (typeof context.origin === "string") out.origin = context.origin;
  if (context.delivered === true) out.delivered = true;
  if (typeof context.kind === "string" && (KINDS as readonly string[]).includes(context.kind)) {
    out.kind = context.kind as DocumentKind | "auto";
  }
  return out;
}

function fault(stage: string, error: unknown): Finding {
  return finding(
    "VALIDATOR-FAULT",
    "",
    `the ${stage} stage failed inside fedicheck (not the document's fault): ${errorText(error)}`,
  );
}

/** Runs one synchronous stage; a throw becomes a VALIDATOR-FAULT finding and the other stages go on. */
function stage<A extends unknown[]>(
  name: string,
  out: Finding[],
  body: (...args: A) => Finding[],
  ...args: A
): void {
  try {
    for (const f of body(...args)) out.push(f);
  } catch (error) {
    out.push(fault(name, error));
  }
}

async function run(input: unknown, context: NormalContext, out: Finding[]): Promise<void> {
  if (context.headers) {
    stage("header", out, checkHeaders, context.headers, { body: context.body, delivered: context.delivered });
  }
  let document = input;
  let scan = scanDocument(document);
  if (scan.problem) {
    out.push(finding(scan.problem.rule, scan.problem.pointer, scan.problem.message));
    return;
  }
  if (scan.hasUndefined) {
    // `undefined` members mean "absent" to JavaScript callers; validate what JSON would carry.
    document = JSON.parse(JSON.stringify(document));
    scan = scanDocument(document);
  }
  if (!isObject(document)) {
    out.push(
      finding(
        "DOC-NOT-OBJECT",
        "",
        `expected a JSON object, found ${jsonType(document)} ${preview(document)}`,
      ),
    );
    return;
  }
  const doc: JsonObject = document;
  const detected = detectKind(doc);
  const kind = context.kind === "auto" ? detected : context.kind;
  if (kind === "webfinger") {
    stage("WebFinger schema", out, checkJrdSchema, doc);
    stage("WebFinger rule", out, checkJrdRules, doc);
    return;
  }
  if (kind === "nodeinfo") {
    stage("NodeInfo schema", out, checkNodeInfoSchema, doc);
    return;
  }
  if (!kindMatches(kind, detected)) {
    out.push(
      finding(
        "DOC-KIND",
        "/type",
        `expected ${article(kind)} ${kind}, found ${doc.type === undefined ? "no type" : `type ${preview(doc.type)}`}`,
      ),
    );
  }
  // Expansion first: jsonld's garbage is gone before the synchronous stages allocate theirs.
  try {
    for (const f of (await checkJsonLd(doc)).findings) out.push(f);
  } catch (error) {
    out.push(fault("JSON-LD", error));
  }
  stage("schema", out, checkAs2Schemas, scan.nodes, { delivered: context.delivered });
  stage("rule", out, checkAs2Rules, doc, scan.nodes, {
    delivered: context.delivered,
    origin: context.origin,
  });
}

function kindMatches(expected: DocumentKind, detected: DocumentKind): boolean {
  if (expected === detected) return true;
  return expected === "object" && (detected === "actor" || detected === "collection");
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an" : "a";
}

/**
 * Drops duplicates, keeps at most {@link MAX_FINDINGS_PER_RULE} per rule (plus one saying how many
 * more there were), and orders findings by severity, keeping discovery order within a severity.
 */
function finish(findings: Finding[]): Finding[] {
  if (findings.length < 2) return findings;
  const seen = new Set<string>();
  const perRule = new Map<string, { kept: number; dropped: number; last: Finding }>();
  const unique = findings.filter((f) => {
    const key = `${f.ruleId}\u0000${f.pointer}\u0000${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    const count = perRule.get(f.ruleId) ?? { kept: 0, dropped: 0, last: f };
    perRule.set(f.ruleId, count);
    if (count.kept >= MAX_FINDINGS_PER_RULE) {
      count.dropped++;
      return false;
    }
    count.kept++;
    count.last = f;
    return true;
  });
  for (const [ruleId, count] of perRule) {
    if (count.dropped === 0) continue;
    unique.push({
      ...count.last,
      pointer: "",
      message: `…and ${count.dropped} more ${ruleId} finding(s) like the above (only the first ${MAX_FINDINGS_PER_RULE} per rule are listed)`,
    });
  }
  return unique
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.i - b.i)
    .map(({ f }) => f);
}

/** The catalogue entry for a rule id, or undefined for an id the validator does not emit. */
export function ruleInfo(ruleId: string): RuleInfo | undefined {
  return Object.hasOwn(RULES, ruleId) ? RULES[ruleId as RuleId] : undefined;
}
