/**
 * Extractors of the support suite (issue 10): one per kind of group, each turning what a receiver
 * shows of a post ({@link PostView}) into a short descriptive outcome (`image`, `unknown`, `dropped
 * attachment`, `#test`, `reply to the parent`…) and its kind (kept, transformed, feature dropped, post
 * dropped). They compare with the object as sent, so they need no per-variant knowledge, and they
 * read only the normalised view (plus the raw answer where the view has no field, e.g. emoji, quotes).
 * @module
 */
import type { OutcomeKind } from "../core/model.ts";
import type { AttachmentView, PostView } from "../drivers/driver.ts";
import {
  attachmentKindFromMediaType,
  decodeEntities,
  htmlToText,
  normaliseHashtag,
} from "../drivers/normalise.ts";
import { asArray, idOf, isObject, typesOf } from "../protocol/as2.ts";
import type { Expectation, ExtractorName, Json, Variant } from "./inputs.ts";

/** What an extractor is given. */
export interface ExtractInput {
  variant: Variant;
  /** The object as it was sent (placeholders filled in). */
  sent: Json;
  /** What the receiver shows. */
  view: PostView;
  /** Actors and objects of the cell the variants refer to. */
  roles: { sender: string; receiver: string; parent?: string; other?: string };
}

/** A descriptive outcome. */
export interface Extracted {
  /** Short, table-sized: `image`, `unknown`, `dropped attachment`, `#test, #tag`… */
  value: string;
  kind: OutcomeKind;
  /** More words: the alt text chosen, the URL kept, the rewritten HTML… */
  detail?: string;
}

type Extractor = (input: ExtractInput) => Extracted;

/** The value every extractor gives when the receiver holds no copy. */
export const POST_DROPPED = "post dropped";

/** `text` cut to `max` characters with an ellipsis. */
export function short(text: string, max = 120): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

function quoted(text: string, max = 60): string {
  return `“${short(text, max)}”`;
}

/** The last path segment of a URL (for details: which of several files was kept). */
function fileOf(url: string): string {
  if (url.startsWith("data:")) return `${url.slice(0, 22)}…`;
  try {
    const path = new URL(url).pathname;
    return path.slice(path.lastIndexOf("/") + 1) || url;
  } catch {
    return short(url, 60);
  }
}

// ---------------------------------------------------------------------------------------------
// Attachments
// ---------------------------------------------------------------------------------------------

/** The kind a faithful receiver would show for a sent attachment. */
export function naturalKind(attachment: unknown): AttachmentView["kind"] {
  if (typeof attachment === "string") return "link";
  if (!isObject(attachment)) return "unknown";
  const first = asArray(attachment.url).find((u) => isObject(u) && typeof u.mediaType === "string");
  const mediaType =
    typeof attachment.mediaType === "string"
      ? attachment.mediaType
      : isObject(first)
        ? (first.mediaType as string)
        : undefined;
  const kind = attachmentKindFromMediaType(mediaType);
  if (kind !== "unknown") return kind;
  const types = typesOf(attachment);
  if (types.includes("Image")) return "image";
  if (types.includes("Video")) return "video";
  if (types.includes("Audio")) return "audio";
  if (types.includes("Link")) return "link";
  return "unknown";
}

function sentAttachments(sent: Json): unknown[] {
  return asArray(sent.attachment);
}

/** `image`, `2 × image`, `image, audio` — kinds in order, runs collapsed. */
function kindsText(kinds: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const k of kinds) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].map(([k, n]) => (n > 1 ? `${n} × ${k}` : k)).join(", ");
}

function describeAttachment(a: AttachmentView): string {
  return [a.kind, fileOf(a.url), a.mediaType, a.description === undefined ? "" : quoted(a.description, 40)]
    .filter(Boolean)
    .join(" ");
}

const attachments: Extractor = ({ sent, view }) => {
  const sentList = sentAttachments(sent);
  const got = view.attachments;
  const detail = got.map(describeAttachment).join("; ") || undefined;
  if (sentList.length === 0) {
    return got.length === 0
      ? { value: "no attachment", kind: "kept" }
      : { value: kindsText(got.map((a) => a.kind)), kind: "transformed", ...(detail ? { detail } : {}) };
  }
  if (got.length === 0) return { value: "dropped attachment", kind: "feature-dropped" };
  const natural = sentList.map(naturalKind).sort();
  const shown = got.map((a) => a.kind).sort();
  const same = natural.length === shown.length && natural.every((k, i) => k === shown[i]);
  const value =
    got.length < sentList.length
      ? `${got.length} of ${sentList.length}: ${kindsText(got.map((a) => a.kind))}`
      : kindsText(got.map((a) => a.kind));
  return { value, kind: same ? "kept" : "transformed", ...(detail ? { detail } : {}) };
};

const image: Extractor = ({ sent, view }) => {
  const first = sentAttachments(sent)[0];
  const got = view.attachments[0];
  if (got === undefined) return { value: "dropped attachment", kind: "feature-dropped" };
  const sentUrls = asArray(isObject(first) ? (first.url ?? first.href) : first)
    .map(idOf)
    .filter((u): u is string => u !== undefined);
  const which =
    sentUrls.length > 1 && sentUrls.includes(got.url)
      ? ` (url ${sentUrls.indexOf(got.url) + 1} of ${sentUrls.length})`
      : "";
  return {
    value: `${got.kind}${which}`,
    kind: got.kind === "image" ? "kept" : "transformed",
    detail: describeAttachment(got),
  };
};

/** Alt-text candidates of a sent attachment, by property. */
function altSources(attachment: unknown): Array<[string, string]> {
  if (!isObject(attachment)) return [];
  const out: Array<[string, string]> = [];
  for (const key of ["name", "summary", "content"]) {
    const value = attachment[key];
    if (typeof value === "string" && value !== "") out.push([key, value]);
  }
  if (isObject(attachment.nameMap)) {
    for (const text of Object.values(attachment.nameMap))
      if (typeof text === "string") out.push(["nameMap", text]);
  }
  return out;
}

const description: Extractor = ({ sent, view }) => {
  const got = view.attachments[0];
  if (got === undefined) return { value: "dropped attachment", kind: "feature-dropped" };
  const sources = altSources(sentAttachments(sent)[0]);
  const alt = got.description;
  if (alt === undefined || alt === "") {
    return sources.length === 0
      ? { value: "no description", kind: "kept" }
      : { value: "no description", kind: "feature-dropped" };
  }
  const norm = (s: string) => htmlToText(s);
  const from = sources.find(([, text]) => text === alt || norm(text) === norm(alt));
  if (from !== undefined) {
    const truncated = alt.length < from[1].length;
    return { value: from[0], kind: "kept", detail: `${quoted(alt)}${truncated ? " (truncated)" : ""}` };
  }
  const prefix = sources.find(([, text]) => text.startsWith(alt) || norm(text).startsWith(norm(alt)));
  if (prefix !== undefined)
    return { value: `${prefix[0]} (truncated)`, kind: "transformed", detail: quoted(alt) };
  return { value: "other description", kind: "transformed", detail: quoted(alt) };
};

// ---------------------------------------------------------------------------------------------
// Content warnings, emoji, tags, mentions, quotes
// ---------------------------------------------------------------------------------------------

/** `sensitive + warning`, `sensitive, no warning`, `warning only` or `neither`. */
function cwValue(sensitive: boolean, warning: string | undefined): string {
  if (sensitive) return warning ? "sensitive + warning" : "sensitive, no warning";
  return warning ? "warning only" : "neither";
}

const cw: Extractor = ({ sent, view }) => {
  const sentSummary =
    typeof sent.summary === "string" && sent.summary !== ""
      ? sent.summary
      : isObject(sent.summaryMap)
        ? Object.values(sent.summaryMap).find((s): s is string => typeof s === "string")
        : undefined;
  const sentSensitive =
    sent.sensitive === true || sentAttachments(sent).some((a) => isObject(a) && a.sensitive === true);
  const warning = view.contentWarning;
  const value = cwValue(view.sensitive, warning);
  const detail = warning ? `warning ${quoted(warning)}` : undefined;
  const expected = cwValue(sentSensitive, sentSummary);
  if (value === expected && (warning ?? "") === (sentSummary ?? "")) {
    return { value, kind: "kept", ...(detail ? { detail } : {}) };
  }
  const lost = (sentSensitive && !view.sensitive) || (sentSummary !== undefined && warning === undefined);
  const gained = (view.sensitive && !sentSensitive) || (warning !== undefined && sentSummary === undefined);
  return { value, kind: lost && !gained ? "feature-dropped" : "transformed", ...(detail ? { detail } : {}) };
};

/** Objects anywhere in `value` (depth-limited), for reading raw answers. */
function objectsIn(value: unknown, depth = 6): Json[] {
  if (depth < 0) return [];
  if (Array.isArray(value)) return value.flatMap((v) => objectsIn(v, depth - 1));
  if (!isObject(value)) return [];
  return [value, ...Object.values(value).flatMap((v) => objectsIn(v, depth - 1))];
}

/** Shortcodes (without colons) of the Emoji tags sent. */
function sentEmoji(sent: Json): string[] {
  return asArray(sent.tag)
    .filter((t) => isObject(t) && (typesOf(t).includes("Emoji") || typesOf(t).length === 0))
    .map((t) => String((t as Json).name ?? "").replace(/^:|:$/g, ""))
    .filter((name) => name !== "");
}

const emoji: Extractor = ({ sent, view }) => {
  const names = sentEmoji(sent);
  const wanted = names.length > 0 ? names : ["fc_blob"];
  const found = objectsIn(view.raw).filter((o) => {
    const code =
      typeof o.shortcode === "string" ? o.shortcode : typeof o.name === "string" ? o.name : undefined;
    return code !== undefined && wanted.includes(code.replace(/^:|:$/g, ""));
  });
  const listed = wanted.filter((name) =>
    found.some((o) => String(o.shortcode ?? o.name).replace(/^:|:$/g, "") === name),
  );
  if (listed.length === 0) return { value: "emoji not listed", kind: "feature-dropped" };
  const withIcon = found.filter(
    (o) => o.icon !== undefined || o.url !== undefined || o.static_url !== undefined,
  );
  const value =
    listed.length < wanted.length
      ? `${listed.length} of ${wanted.length} emoji listed`
      : withIcon.length > 0
        ? "emoji listed"
        : "emoji listed, no icon";
  return {
    value,
    kind: value === "emoji listed" ? "kept" : "transformed",
    detail: listed.map((n) => `:${n}:`).join(" "),
  };
};

const hashtags: Extractor = ({ sent, view }) => {
  const sentNames = [
    ...new Set(
      asArray(sent.tag)
        .filter((t) => isObject(t) && typeof t.name === "string" && !typesOf(t).includes("Mention"))
        .map((t) => normaliseHashtag((t as Json).name as string)),
    ),
  ];
  const got = [...new Set(view.hashtags)].sort();
  if (got.length === 0)
    return { value: "no tags", kind: sentNames.length === 0 ? "kept" : "feature-dropped" };
  const value = got.map((t) => `#${t}`).join(", ");
  const same = got.length === sentNames.length && sentNames.every((t) => got.includes(t));
  return { value: short(value, 80), kind: same ? "kept" : "transformed" };
};

const mentions: Extractor = ({ sent, view }) => {
  const hrefs = asArray(sent.tag)
    .filter((t) => isObject(t) && (typesOf(t).length === 0 || typesOf(t).some((x) => /Mention$/.test(x))))
    .map(idOf)
    .filter((h): h is string => h !== undefined);
  const target = hrefs[0];
  if (target === undefined)
    return { value: view.mentions.length ? "mention added" : "no mention", kind: "kept" };
  if (view.mentions.includes(target)) {
    return { value: "mention recognised", kind: "kept", detail: `${view.mentions.length} mention(s)` };
  }
  if (view.mentions.length > 0)
    return { value: "other mention", kind: "transformed", detail: view.mentions.join(", ") };
  if (view.links.includes(target) || view.html.includes(target))
    return { value: "link only", kind: "transformed" };
  return { value: "mention dropped", kind: "feature-dropped" };
};

/** Whether `value` names `uri`: the string, an id/href/uri/url, or a nested object that does. */
function names(value: unknown, uri: string, depth = 3): boolean {
  if (typeof value === "string") return value === uri;
  if (depth < 0) return false;
  if (Array.isArray(value)) return value.some((v) => names(v, uri, depth - 1));
  if (!isObject(value)) return false;
  return Object.values(value).some((v) => names(v, uri, depth - 1));
}

const quote: Extractor = ({ view, roles }) => {
  const target = roles.parent;
  if (target === undefined) return { value: "no quoted post", kind: "errored" };
  // Quote fields of any spelling (quote, quoteUri, quoteUrl, _misskey_quote, quote_id, quoted_status…).
  const viaField = objectsIn(view.raw).some((o) =>
    Object.entries(o).some(([key, value]) => /quote/i.test(key) && names(value, target)),
  );
  const viaTag = objectsIn(view.raw).some(
    (o) => typeof o.rel === "string" && /quote/i.test(o.rel) && idOf(o) === target,
  );
  if (viaField || viaTag)
    return {
      value: "quote recognised",
      kind: "kept",
      detail: viaTag ? "via a Link tag" : "via a quote field",
    };
  if (view.links.includes(target) || view.html.includes(target))
    return { value: "link only", kind: "transformed" };
  return { value: "quote dropped", kind: "feature-dropped" };
};

// ---------------------------------------------------------------------------------------------
// Text, language, url, reply, author, arrival, visibility
// ---------------------------------------------------------------------------------------------

function plain(html: unknown): string {
  return typeof html === "string" ? htmlToText(html) : "";
}

const language: Extractor = ({ sent, view }) => {
  const candidates: Array<[string, string]> = [];
  if (typeof sent.content === "string") candidates.push(["content", plain(sent.content)]);
  if (isObject(sent.contentMap)) {
    for (const [lang, text] of Object.entries(sent.contentMap))
      candidates.push([`contentMap.${lang}`, plain(text)]);
  }
  const shown = view.text;
  const match = candidates.find(([, text]) => text !== "" && shown.includes(text));
  const lang = view.language ?? "no language";
  if (match === undefined)
    return { value: `${lang} · other text`, kind: "transformed", detail: quoted(shown) };
  return { value: `${lang} · ${match[0]}`, kind: "kept", detail: quoted(shown) };
};

const text: Extractor = ({ sent, view }) => {
  const shown = `${view.text} ${view.contentWarning ?? ""} ${htmlToText(view.html)}`;
  const parts: string[] = [];
  const has = (value: unknown) => {
    const t = plain(value);
    return t !== "" && shown.includes(t);
  };
  if (has(sent.name)) parts.push("name");
  if (has(sent.summary)) parts.push("summary");
  if (has(sent.content)) parts.push("content");
  const url = idOf(asArray(sent.url)[0]);
  if (url !== undefined && (view.links.includes(url) || view.webUrl === url || view.html.includes(url)))
    parts.push("link");
  if (parts.length === 0)
    return { value: "nothing readable", kind: "feature-dropped", detail: quoted(view.text) };
  const kept = ["name", "summary", "content"].every((p) => sent[p] === undefined || parts.includes(p));
  return { value: parts.join(" + "), kind: kept ? "kept" : "transformed", detail: quoted(view.text) };
};

const url: Extractor = ({ sent, view }) => {
  const urls = asArray(sent.url)
    .map(idOf)
    .filter((u): u is string => u !== undefined);
  const shown = view.webUrl;
  if (shown === undefined || shown === view.uri) {
    return urls.length === 0
      ? { value: "no url", kind: "kept" }
      : { value: shown === undefined ? "no url" : "the id, no url", kind: "feature-dropped" };
  }
  const index = urls.indexOf(shown);
  if (index < 0) return { value: "other url", kind: "transformed", detail: shown };
  if (urls.length === 1) return { value: "kept", kind: "kept", detail: shown };
  const ordinal = ["first", "second", "third"][index] ?? `#${index + 1}`;
  return { value: `${ordinal} of ${urls.length}`, kind: "transformed", detail: shown };
};

const reply: Extractor = ({ view, roles }) => {
  const parent = view.inReplyTo;
  if (parent === undefined) return { value: "not a reply", kind: "feature-dropped" };
  if (parent === roles.parent) return { value: "reply to the parent", kind: "kept" };
  return { value: "reply to another post", kind: "transformed", detail: quoted(parent, 100) };
};

const author: Extractor = ({ view, roles }) => {
  if (view.author === roles.sender) return { value: "the sender", kind: "kept" };
  if (roles.other !== undefined && view.author === roles.other)
    return { value: "the other actor", kind: "transformed" };
  return {
    value: view.author === "" ? "no author" : "another author",
    kind: "transformed",
    detail: view.author,
  };
};

const arrival: Extractor = ({ view }) => ({ value: "post kept", kind: "kept", detail: quoted(view.text) });

const PUBLIC = new Set(["https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"]);

/** The visibility Mastodon reads from to/cc. */
function sentVisibility(sent: Json): string {
  const to = asArray(sent.to).map(idOf);
  const cc = asArray(sent.cc).map(idOf);
  if (to.some((a) => a !== undefined && PUBLIC.has(a))) return "public";
  if (cc.some((a) => a !== undefined && PUBLIC.has(a))) return "unlisted";
  return to.length + cc.length > 0 ? "followers" : "direct";
}

const visibility: Extractor = ({ sent, view }) => {
  const got = view.visibility ?? "unknown visibility";
  return { value: got, kind: got === sentVisibility(sent) ? "kept" : "transformed" };
};

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

/** Attributes of an HTML start tag's attribute text, names lower-cased. */
export function parseAttributes(attrs: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (const m of attrs.matchAll(re))
    out.set(m[1]!.toLowerCase(), decodeEntities(m[2] ?? m[3] ?? m[4] ?? ""));
  return out;
}

/** The first start tag of an HTML fragment: its name and attributes. */
function firstTag(html: string): { name: string; attributes: Map<string, string> } | undefined {
  const m = /<([a-z][a-z0-9]*)\b([^>]*)>/i.exec(html);
  return m ? { name: m[1]!.toLowerCase(), attributes: parseAttributes(m[2] ?? "") } : undefined;
}

/** Text of HTML with every tag removed (script and style text kept, unlike htmlToText). */
function tagText(html: string): string {
  return decodeEntities(html.replace(/<[^>]*>/g, " "))
    .replace(/\s+/g, " ")
    .trim();
}

function squash(html: string): string {
  return html
    .replace(/\s+/g, " ")
    .replace(/'/g, '"')
    .replace(/\s*\/>/g, ">")
    .trim()
    .toLowerCase();
}

/** What became of an HTML fragment in the HTML (or text) the receiver keeps. */
export function htmlOutcome(fragment: string, observed: string | undefined): Extracted {
  if (observed === undefined || observed === "") return { value: "field dropped", kind: "feature-dropped" };
  const excerpt = (needle: string): string => {
    const at = needle === "" ? -1 : observed.indexOf(needle);
    return short(at < 0 ? observed : observed.slice(Math.max(0, at - 40), at + needle.length + 80), 160);
  };
  if (squash(observed).includes(squash(fragment))) return { value: "unchanged", kind: "kept" };
  const tag = firstTag(fragment);
  const words = tagText(fragment);
  if (tag !== undefined) {
    const re = new RegExp(`<${tag.name}\\b([^>]*)>`, "i");
    const kept = re.exec(observed);
    if (kept) {
      const attributes = parseAttributes(kept[1] ?? "");
      const changed = [...tag.attributes]
        .filter(([name, value]) => attributes.get(name) !== value)
        .map(([n]) => n);
      if (changed.length > 0)
        return {
          value: "tag kept, attributes changed",
          kind: "transformed",
          detail: `${changed.join(", ")} · ${excerpt(`<${tag.name}`)}`,
        };
      return { value: "tag kept, rewritten", kind: "transformed", detail: excerpt(`<${tag.name}`) };
    }
  }
  const observedText = tagText(observed);
  // Block tags removed may glue words together ("one itemanother item"): compare without spaces.
  const bare = (t: string) => t.replace(/\s+/g, "");
  if (words !== "" && bare(observedText).includes(bare(words)))
    return {
      value: "tag removed, text kept",
      kind: "feature-dropped",
      detail: excerpt(words.split(" ")[0] ?? ""),
    };
  if (words !== "") return { value: "text removed", kind: "feature-dropped", detail: short(observed, 160) };
  const src = tag?.attributes.get("src");
  if (src !== undefined && observed.includes(src))
    return { value: "became a link", kind: "transformed", detail: excerpt(src) };
  return { value: "tag removed", kind: "feature-dropped", detail: short(observed, 160) };
}

const html: Extractor = ({ variant, view }) => htmlOutcome(variant.fragment ?? "", view.html);

const htmlSummary: Extractor = ({ variant, view }) =>
  htmlOutcome(variant.fragment ?? "", view.contentWarning);

/** Every `<a …>` start tag of some HTML with its attributes and text. */
function anchorsIn(html: string): Array<{ attributes: Map<string, string>; text: string }> {
  const out: Array<{ attributes: Map<string, string>; text: string }> = [];
  for (const m of html.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a\s*>/gi)) {
    out.push({ attributes: parseAttributes(m[1] ?? ""), text: htmlToText(m[2] ?? "") });
  }
  return out;
}

const anchor: Extractor = ({ variant, view }) => {
  const sent = anchorsIn(variant.fragment ?? "")[0];
  if (sent === undefined) return { value: "no anchor sent", kind: "errored" };
  const href = sent.attributes.get("href");
  const found = anchorsIn(view.html).filter((a) =>
    href === undefined ? a.text === sent.text : a.attributes.get("href") === href,
  );
  const match = found[0] ?? anchorsIn(view.html).find((a) => a.text === sent.text);
  if (match === undefined) {
    return view.text.includes(sent.text)
      ? { value: "link removed, text kept", kind: "feature-dropped" }
      : { value: "removed", kind: "feature-dropped" };
  }
  const changes: string[] = [];
  for (const [name, value] of sent.attributes) {
    const got = match.attributes.get(name);
    if (got === undefined) changes.push(`${name} dropped`);
    else if (got !== value) changes.push(`${name}=“${short(got, 40)}”`);
  }
  for (const [name, value] of match.attributes) {
    if (!sent.attributes.has(name)) changes.push(`${name}=“${short(value, 40)}” added`);
  }
  if (changes.length === 0) return { value: "unchanged", kind: "kept" };
  const hrefChanged = match.attributes.get("href") !== href;
  return {
    value: hrefChanged ? "href rewritten" : "attributes changed",
    kind: "transformed",
    detail: changes.join("; "),
  };
};

/** Every extractor, by the name a group file gives. */
export const EXTRACTORS: Readonly<Record<ExtractorName, Extractor>> = {
  attachments,
  image,
  description,
  cw,
  emoji,
  hashtags,
  mentions,
  quote,
  language,
  text,
  url,
  reply,
  author,
  arrival,
  visibility,
  html,
  "html-summary": htmlSummary,
  anchor,
};

/** Runs a group's extractor; no copy held is `post dropped` whatever the group. */
export function extractOutcome(
  name: ExtractorName,
  input: Omit<ExtractInput, "view"> & { view: PostView | null },
): Extracted {
  if (input.view === null) return { value: POST_DROPPED, kind: "post-dropped" };
  return EXTRACTORS[name]({ ...input, view: input.view });
}

/** Whether an outcome satisfies a variant's requirement. */
export function requirementHolds(expect: Expectation, outcome: Extracted): boolean {
  if (outcome.kind === "errored") return false;
  if (expect === "post") return outcome.kind !== "post-dropped";
  if (expect === "feature") return outcome.kind === "kept" || outcome.kind === "transformed";
  if (expect === "kept") return outcome.kind === "kept";
  return expect.includes(outcome.value);
}
