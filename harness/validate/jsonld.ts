/**
 * The JSON-LD stage: expands a document with the offline contexts (AS2 assumed underneath, as AS2 Core
 * §2.1 asks) and reports a missing AS2 context, unknown remote contexts, invalid JSON-LD and terms the
 * contexts do not define.
 * @module
 */
import jsonld from "jsonld";
import { finding } from "./catalogue.ts";
import {
  AS_CONTEXT,
  createOfflineLoader,
  type DocumentLoader,
  isAs2ContextUrl,
  isLitepubUrl,
} from "./contexts.ts";
import type { Finding } from "./findings.ts";
import { asArray, errorText, isObject, type JsonObject, type JsonValue, pointerJoin } from "./util.ts";

/** One event jsonld reports while expanding (the subset this module reads). */
interface JsonLdEvent {
  code: string;
  details?: { property?: unknown; type?: unknown };
}

/** The options of `jsonld.expand` this module uses (its published typings lack some of them). */
interface ExpandOptions {
  documentLoader: DocumentLoader;
  expandContext?: string;
  eventHandler?: (arg: { event: JsonLdEvent; next: () => void }) => void;
}

// The published typings do not know `eventHandler` or the loader's `tag`: narrow once, here.
const expandRaw = jsonld.expand as unknown as (input: unknown, options: ExpandOptions) => Promise<unknown>;

/** Options of {@link expandOffline}. */
export interface ExpandOfflineOptions {
  /** Called with each unknown remote context URL. Default: none. */
  onUnknownContext?: (url: string) => void;
  /** Called with each jsonld warning event. Default: none. */
  onEvent?: (event: JsonLdEvent) => void;
}

/**
 * Expands a document through the offline loader with the AS2 context underneath. Rejects (like
 * `jsonld.expand`) on invalid JSON-LD; never fetches anything.
 */
export function expandOffline(document: unknown, options: ExpandOfflineOptions = {}): Promise<unknown> {
  const loaderOptions = options.onUnknownContext ? { onUnknown: options.onUnknownContext } : {};
  const expandOptions: ExpandOptions = {
    documentLoader: createOfflineLoader(loaderOptions),
    expandContext: AS_CONTEXT,
  };
  if (options.onEvent) expandOptions.eventHandler = forwardEvent.bind(options.onEvent);
  return expandRaw(document, expandOptions);
}

function forwardEvent(this: (event: JsonLdEvent) => void, arg: { event: JsonLdEvent }): void {
  this(arg.event);
}

function recordDroppedProperty(this: Set<string>, event: JsonLdEvent): void {
  if (event.code === "invalid property" && typeof event.details?.property === "string") {
    this.add(event.details.property);
  }
}

// Prefixes of extension vocabularies whose terms turn up undefined in the wild without harm.
const KNOWN_PREFIXES = new Set([
  "as",
  "toot",
  "misskey",
  "litepub",
  "ostatus",
  "schema",
  "sc",
  "gts",
  "lemmy",
  "pt",
  "sec",
  "fedibird",
  "firefish",
  "sharkey",
  "vcard",
  "ldp",
  "xsd",
  "mastodon",
  "pixelfed",
  "funkwhale",
  "sm",
  "dfrn",
  "diaspora",
  "fep",
]);

// Extension terms that servers commonly send without defining (Mastodon, Misskey, Pleroma, GoToSocial,
// PeerTube, Lemmy, Fedibird and FEP vocabularies).
const KNOWN_EXTENSION_TERMS = new Set([
  // toot:
  "Emoji",
  "IdentityProof",
  "featured",
  "featuredTags",
  "focalPoint",
  "blurhash",
  "discoverable",
  "indexable",
  "memorial",
  "suspended",
  "votersCount",
  "attributionDomains",
  "devices",
  "Device",
  // ostatus:, schema:, as: extensions
  "atomUri",
  "inReplyToAtomUri",
  "conversation",
  "PropertyValue",
  "value",
  "sensitive",
  "manuallyApprovesFollowers",
  "movedTo",
  "Hashtag",
  // misskey, firefish, sharkey, fedibird, FEP-044f quotes
  "isCat",
  "speakAsCat",
  "quoteUri",
  "quoteUrl",
  "quote",
  "quoteAuthorization",
  "searchableBy",
  "backgroundUrl",
  // litepub
  "ChatMessage",
  "EmojiReact",
  "directMessage",
  "listMessage",
  "invisible",
  "capabilities",
  "acceptsChatMessages",
  "oauthRegistrationEndpoint",
  "formerRepresentations",
  // gotosocial
  "interactionPolicy",
  "canLike",
  "canReply",
  "canAnnounce",
  "canQuote",
  "always",
  "approvalRequired",
  "automaticApproval",
  "manualApproval",
  "approvedBy",
  // peertube, lemmy
  "uuid",
  "commentsEnabled",
  "stickied",
  "moderators",
  "postingRestrictedToMods",
  "distinguished",
  "matrixUserId",
  "language",
  "identifier",
]);

/** True when an undefined term belongs to a known extension family (reported as info, not warning). */
export function isKnownExtensionTerm(term: string): boolean {
  if (term.startsWith("_misskey_")) return true;
  if (KNOWN_EXTENSION_TERMS.has(term)) return true;
  const colon = term.indexOf(":");
  return colon > 0 && KNOWN_PREFIXES.has(term.slice(0, colon));
}

/** Result of {@link checkJsonLd}. */
export interface JsonLdResult {
  findings: Finding[];
  /** The expanded form, or undefined when expansion failed. */
  expanded?: unknown;
}

/** Runs the JSON-LD stage over an AS2 document (already known to be a plain JSON object). */
export async function checkJsonLd(doc: JsonObject): Promise<JsonLdResult> {
  const findings: Finding[] = [];
  const context = doc["@context"];
  if (context === undefined) {
    findings.push(
      finding(
        "AS-01",
        "",
        `no @context: read with the AS2 context (expected @context to name ${AS_CONTEXT})`,
      ),
    );
  } else if (!referencesAs2(context)) {
    findings.push(
      finding(
        "AS-01",
        "/@context",
        `@context does not name ${AS_CONTEXT}: read with the AS2 context underneath, as AS2 Core §2.1 asks`,
      ),
    );
  }

  const unknown = new Set<string>();
  const droppedKeys = new Set<string>();
  let expanded: unknown;
  try {
    expanded = await expandOffline(doc, {
      onUnknownContext: unknown.add.bind(unknown),
      onEvent: recordDroppedProperty.bind(droppedKeys),
    });
  } catch (error) {
    findings.push(
      finding("JSONLD-INVALID", "", `expected JSON-LD that expands, found: ${jsonLdErrorText(error)}`),
    );
  }

  for (const url of unknown) {
    findings.push(
      finding(
        "JSONLD-UNKNOWN-CONTEXT",
        contextPointer(doc, url),
        `unknown remote @context ${url} (not fetched): expected one of the contexts fedicheck knows offline; ` +
          "terms it would define are treated as undefined",
      ),
    );
  }

  if (expanded !== undefined) {
    const undefinedTerms = new Map<string, "property" | "type">();
    for (const key of droppedKeys) undefinedTerms.set(key, "property");
    collectUndefined(expanded, undefinedTerms);
    if (undefinedTerms.size > 0) {
      const pointers = locateTerms(doc, undefinedTerms);
      for (const [term, role] of undefinedTerms) {
        const known = isKnownExtensionTerm(term);
        const severity = known || unknown.size > 0 ? "info" : "warning";
        const why = known
          ? " (a known extension term: add its definition to @context)"
          : unknown.size > 0
            ? " (perhaps defined by the unknown context)"
            : "";
        const what = role === "type" ? "type" : "term";
        findings.push(
          finding(
            "JSONLD-UNDEFINED-TERM",
            pointers.get(term) ?? "",
            `expected every ${what} to be defined by the @context, found "${term}" undefined${why}; ` +
              "JSON-LD consumers drop it",
            { severity },
          ),
        );
      }
    }
  }
  return expanded === undefined ? { findings } : { findings, expanded };
}

/** True when a @context value names AS2 (directly, or through LitePub, which includes it). */
function referencesAs2(context: JsonValue): boolean {
  for (const entry of asArray(context)) {
    if (typeof entry === "string" && (isAs2ContextUrl(entry) || isLitepubUrl(entry))) return true;
  }
  return false;
}

/** A one-line explanation of a jsonld error, with its JSON-LD error code. */
function jsonLdErrorText(error: unknown): string {
  const code =
    isObject(error) || error instanceof Error
      ? (error as { details?: { code?: unknown } }).details?.code
      : undefined;
  const text = errorText(error);
  return typeof code === "string" ? `${code}: ${text}` : text;
}

/** Where in the document a context URL is named ("/@context" when it is not found at the top). */
function contextPointer(doc: JsonObject, url: string): string {
  const context = doc["@context"];
  if (context === url) return "/@context";
  if (Array.isArray(context)) {
    const index = context.indexOf(url);
    if (index >= 0) return `/@context/${index}`;
  }
  return "/@context";
}

// Walks expanded JSON-LD: AS2's `@vocab: "_:"` turns undefined terms into blank-node keys and types.
function collectUndefined(value: unknown, out: Map<string, "property" | "type">): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === "object" && item !== null) collectUndefined(item, out);
    }
    return;
  }
  const node = value as Record<string, unknown>;
  if (node["@value"] !== undefined) return;
  for (const key in node) {
    const child = node[key];
    if (key === "@type") {
      if (Array.isArray(child)) for (const t of child) undefinedType(t, out);
      else undefinedType(child, out);
      continue;
    }
    if (key.charCodeAt(0) === 95 /* _ */ && key.startsWith("_:")) out.set(key.slice(2), "property");
    else if (key.charCodeAt(0) !== 64 /* @ */ && hasKnownPrefixScheme(key)) out.set(key, "property");
    if (typeof child === "object" && child !== null) collectUndefined(child, out);
  }
}

function undefinedType(t: unknown, out: Map<string, "property" | "type">): void {
  if (typeof t !== "string") return;
  if (t.startsWith("_:")) out.set(t.slice(2), "type");
  else if (hasKnownPrefixScheme(t)) out.set(t, "type");
}

// A compact IRI whose prefix was never declared stays as "toot:foo" after expansion.
function hasKnownPrefixScheme(iri: string): boolean {
  const colon = iri.indexOf(":");
  // Full IRIs (http://…) are the common case: their scheme is never a known prefix.
  if (colon <= 0 || iri.startsWith("//", colon + 1)) return false;
  return KNOWN_PREFIXES.has(iri.slice(0, colon));
}

/** Finds, for each undefined term, the first place the original document uses it (key or type). */
function locateTerms(doc: JsonObject, terms: Map<string, "property" | "type">): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (value: JsonValue, pointer: string): void => {
    if (found.size === terms.size) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        visit(item, pointerJoin(pointer, i));
      });
      return;
    }
    if (!isObject(value)) return;
    for (const key of Object.keys(value)) {
      if (key === "@context") continue;
      const child = value[key] as JsonValue;
      const here = pointerJoin(pointer, key);
      if (terms.get(key) === "property" && !found.has(key)) found.set(key, here);
      if (key === "type" || key === "@type") {
        asArray(child).forEach((t, i) => {
          if (typeof t === "string" && terms.get(t) === "type" && !found.has(t)) {
            found.set(t, Array.isArray(child) ? pointerJoin(here, i) : here);
          }
        });
      }
      visit(child, here);
    }
  };
  visit(doc, "");
  return found;
}
