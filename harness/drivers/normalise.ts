/**
 * Helpers that turn what servers show (HTML content, MFM text) into the parts of a
 * {@link PostView}: plain text, links, hashtags, mentions. Dependency-free and tolerant of the
 * sanitised HTML Fediverse servers emit; not a general HTML parser.
 * @module
 */
import { asArray, idOf, idsOf, isObject, type Json, PUBLIC_ADDRESSES, typesOf } from "../protocol/as2.ts";
import type { AttachmentView, Visibility } from "./driver.ts";

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  hellip: "…",
  mdash: "—",
  ndash: "–",
  laquo: "«",
  raquo: "»",
  copy: "©",
  reg: "®",
};

/** Decodes HTML character references (numeric ones and the common named ones). */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z][a-z0-9]*);/gi, (whole, ref: string) => {
    if (ref[0] === "#") {
      const code =
        ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return Number.isFinite(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Collapses every run of whitespace (newlines included) into one space and trims. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/gu, " ").trim();
}

/** True when the string contains an HTML tag (used to tell plain-text input from simple HTML). */
export function looksLikeHtml(text: string): boolean {
  return /<\/?[a-z][a-z0-9]*(\s[^<>]*)?\/?>/i.test(text);
}

const BLOCK_TAGS = /^(p|div|li|ul|ol|blockquote|pre|h[1-6]|tr|table|section|article|header|footer)$/i;

function stripNonContent(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<(script|style|template)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, "");
}

/**
 * Text of an HTML fragment, as {@link PostView.text} wants it: tags removed, entities decoded,
 * a space at line breaks and block boundaries, whitespace collapsed. Mastodon's `invisible`/`ellipsis`
 * spans in shortened links are kept, so the text holds the full URL.
 */
export function htmlToText(html: string): string {
  const spaced = stripNonContent(html)
    .replace(/<br\s*\/?>/gi, " ")
    .replace(/<\/?([a-z][a-z0-9]*)\b[^>]*>/gi, (_tag, name: string) => (BLOCK_TAGS.test(name) ? " " : ""));
  return collapseWhitespace(decodeEntities(spaced));
}

/** An `<a>` element found in HTML. */
export interface HtmlAnchor {
  /** Decoded `href`. */
  href: string;
  /** Text content, collapsed. */
  text: string;
  /** Values of the `class` attribute. */
  classes: string[];
  /** Values of the `rel` attribute. */
  rel: string[];
}

function attribute(attrs: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`, "i").exec(attrs);
  if (!match) return undefined;
  return decodeEntities(match[1] ?? match[2] ?? match[3] ?? "");
}

/** Every `<a href>` of an HTML fragment, in document order. */
export function extractAnchors(html: string): HtmlAnchor[] {
  const anchors: HtmlAnchor[] = [];
  const source = stripNonContent(html);
  const re = /<a\b([^>]*)>([\s\S]*?)<\/a\s*>/gi;
  for (let m = re.exec(source); m !== null; m = re.exec(source)) {
    const attrs = m[1] ?? "";
    const href = attribute(attrs, "href");
    if (href === undefined) continue;
    anchors.push({
      href,
      text: htmlToText(m[2] ?? ""),
      classes: (attribute(attrs, "class") ?? "").split(/\s+/).filter(Boolean),
      rel: (attribute(attrs, "rel") ?? "").toLowerCase().split(/\s+/).filter(Boolean),
    });
  }
  return anchors;
}

/** A hashtag link as Mastodon, GoToSocial, Akkoma and Misskey render them (`class="hashtag"` or `rel="tag"`). */
export function isHashtagAnchor(anchor: HtmlAnchor): boolean {
  return anchor.classes.includes("hashtag") || anchor.rel.includes("tag") || anchor.text.startsWith("#");
}

/** A mention link (`class="mention"` / `u-url mention`, or text starting with `@`), hashtags excluded. */
export function isMentionAnchor(anchor: HtmlAnchor): boolean {
  if (isHashtagAnchor(anchor)) return false;
  return anchor.classes.includes("mention") || /^@[^\s@]+(@[^\s@]+)?$/.test(anchor.text);
}

/** Options of {@link extractLinks}. */
export interface ExtractLinksOptions {
  /** Keep mention links. Default false. */
  includeMentions?: boolean;
  /** Keep hashtag links. Default false. */
  includeHashtags?: boolean;
}

/**
 * hrefs of the links in HTML content, without duplicates, for {@link PostView.links}. Mention and
 * hashtag links are left out unless asked for: they are rendered by the server, not written by the author.
 */
export function extractLinks(html: string, options: ExtractLinksOptions = {}): string[] {
  const links: string[] = [];
  for (const anchor of extractAnchors(html)) {
    if (!options.includeHashtags && isHashtagAnchor(anchor)) continue;
    if (!options.includeMentions && isMentionAnchor(anchor)) continue;
    if (!links.includes(anchor.href)) links.push(anchor.href);
  }
  return links;
}

/** hrefs of the mention links in HTML content (profile URLs, not necessarily actor ids). */
export function extractMentionHrefs(html: string): string[] {
  return [
    ...new Set(
      extractAnchors(html)
        .filter(isMentionAnchor)
        .map((a) => a.href),
    ),
  ];
}

/** A hashtag name as {@link PostView.hashtags} holds it: no `#`, NFC, lower-case. */
export function normaliseHashtag(name: string): string {
  return name.replace(/^#+/, "").normalize("NFC").toLowerCase();
}

const HASHTAG_IN_TEXT = /(?:^|[^\p{L}\p{N}_&/#])#([\p{L}\p{N}_][\p{L}\p{N}_\p{M}·]*)/gu;

/** Hashtags written as `#name` in plain text (or MFM), normalised, without duplicates. */
export function extractHashtagsFromText(text: string): string[] {
  const tags = new Set<string>();
  for (const m of text.matchAll(HASHTAG_IN_TEXT)) {
    const name = m[1];
    // A tag of digits only is not a hashtag on any of these servers (e.g. "#1").
    if (name && !/^\d+$/.test(name)) tags.add(normaliseHashtag(name));
  }
  return [...tags];
}

/** Hashtags of HTML content: the hashtag links' text plus any `#name` left as text. */
export function extractHashtags(html: string): string[] {
  const tags = new Set<string>();
  for (const anchor of extractAnchors(html)) {
    if (isHashtagAnchor(anchor) && anchor.text.startsWith("#")) tags.add(normaliseHashtag(anchor.text));
  }
  const withoutAnchors = stripNonContent(html).replace(/<a\b[^>]*>[\s\S]*?<\/a\s*>/gi, " ");
  for (const tag of extractHashtagsFromText(htmlToText(withoutAnchors))) tags.add(tag);
  return [...tags];
}

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/giu;

function trimUrlPunctuation(url: string): string {
  let out = url.replace(/[.,;:!?…]+$/u, "");
  // Drop a closing bracket that has no opening partner inside the URL, e.g. "(see https://x/y)".
  for (const [open, close] of [
    ["(", ")"],
    ["[", "]"],
  ] as const) {
    while (out.endsWith(close) && out.split(open).length < out.split(close).length) out = out.slice(0, -1);
  }
  return out;
}

/**
 * URLs written in plain text or MFM: bare `https://…`, MFM links `[label](url)` / `?[label](url)`
 * and `<https://…>`. Without duplicates, in order of appearance.
 */
export function extractUrlsFromText(text: string): string[] {
  const urls: string[] = [];
  const add = (url: string) => {
    if (!urls.includes(url)) urls.push(url);
  };
  const mfmLink = /\??\[[^\]\n]*\]\((https?:\/\/[^\s)]+)\)/giu;
  for (const m of text.matchAll(mfmLink)) if (m[1]) add(m[1]);
  const rest = text.replace(mfmLink, " ");
  for (const m of rest.matchAll(URL_IN_TEXT)) add(trimUrlPunctuation(m[0].replace(/>$/, "")));
  return urls;
}

/** Options of {@link plainTextToHtml}. */
export interface PlainTextToHtmlOptions {
  /** Turn bare URLs into links. Default true. */
  linkify?: boolean;
}

/** Renders plain text as simple HTML: paragraphs at blank lines, `<br>` at line breaks, URLs linked. */
export function plainTextToHtml(text: string, options: PlainTextToHtmlOptions = {}): string {
  const linkify = options.linkify ?? true;
  const renderLine = (line: string): string => {
    if (!linkify) return escapeHtml(line);
    let out = "";
    let last = 0;
    for (const m of line.matchAll(URL_IN_TEXT)) {
      const url = trimUrlPunctuation(m[0]);
      const at = m.index ?? 0;
      out += escapeHtml(line.slice(last, at));
      out += `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`;
      last = at + url.length;
    }
    return out + escapeHtml(line.slice(last));
  };
  return text
    .replace(/\r\n?/g, "\n")
    .split(/\n{2,}/)
    .map((para) => para.trim())
    .filter(Boolean)
    .map((para) => `<p>${para.split("\n").map(renderLine).join("<br>")}</p>`)
    .join("");
}

/**
 * Turns simple HTML input (what {@link PostInput.content} may hold) into the plain text a client API
 * takes: line breaks kept, links written as their URL (`label url` when the label is not the URL).
 */
export function htmlToPostText(html: string): string {
  const withLinks = stripNonContent(html).replace(
    /<a\b([^>]*)>([\s\S]*?)<\/a\s*>/gi,
    (_whole, attrs: string, inner: string) => {
      const href = attribute(attrs, "href");
      const label = htmlToText(inner);
      if (!href) return label;
      const bare = (u: string) => u.replace(/^https?:\/\//i, "").replace(/\/$/, "");
      return !label || bare(label) === bare(href) || label.startsWith("#") || label.startsWith("@")
        ? label || href
        : `${label} ${href}`;
    },
  );
  const lines = withLinks
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(p|div|li|blockquote|h[1-6])\s*>/gi, "\n\n")
    .replace(/<[^>]+>/g, "");
  return decodeEntities(lines)
    .split("\n")
    .map((line) => line.replace(/[ \t\u00a0]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** The attachment kind for a MIME type (Misskey files, raw AS2 attachments). */
export function attachmentKindFromMediaType(mediaType: string | undefined | null): AttachmentView["kind"] {
  const type = (mediaType ?? "").toLowerCase();
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("video/")) return "video";
  if (type.startsWith("audio/")) return "audio";
  return "unknown";
}

/** Adds `@handle` mentions and `#tags` that the text lacks, the way a person would type them. */
export function withMentionsAndTags(
  text: string,
  handles: readonly string[],
  tags: readonly string[],
): string {
  const lower = text.toLowerCase();
  const missingHandles = handles
    .map((h) => (h.startsWith("@") ? h : `@${h}`))
    .filter((h) => !new RegExp(`(^|\\s)${escapeRegExp(h.toLowerCase())}(?![\\w@-]|\\.\\w)`).test(lower));
  const present = new Set(extractHashtagsFromText(text));
  const missingTags = tags
    .map((t) => t.replace(/^#+/, ""))
    .filter((t) => t && !present.has(normaliseHashtag(t)));
  let out = text;
  if (missingHandles.length > 0) out = `${missingHandles.join(" ")} ${out}`;
  if (missingTags.length > 0) out = `${out} ${missingTags.map((t) => `#${t}`).join(" ")}`;
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * How an AS2 attachment shows: its kind from the media type, else from its type. `url` may be a
 * string, a Link, or an array of Links (mastodon #34979): the first usable one is taken.
 */
export function attachmentViewOf(value: unknown): AttachmentView | undefined {
  if (typeof value === "string") return { kind: "link", url: value };
  if (!isObject(value)) return undefined;
  const types = typesOf(value);
  const links = asArray(value.url ?? value.href);
  const first = links.find((link) => idOf(link) !== undefined);
  const url = idOf(first);
  if (url === undefined) return undefined;
  const mediaType =
    (typeof value.mediaType === "string" && value.mediaType) ||
    (isObject(first) && typeof first.mediaType === "string" && first.mediaType) ||
    undefined;
  let kind = attachmentKindFromMediaType(mediaType);
  if (kind === "unknown") {
    if (types.includes("Image")) kind = "image";
    else if (types.includes("Video")) kind = "video";
    else if (types.includes("Audio")) kind = "audio";
    else if (types.includes("Link")) kind = "link";
  }
  const view: AttachmentView = { kind, url };
  if (mediaType) view.mediaType = mediaType;
  const description =
    (typeof value.name === "string" && value.name) || (typeof value.summary === "string" && value.summary);
  if (description) view.description = description;
  return view;
}

/** Visibility as Mastodon reads addressing: Public in to, Public in cc, some collection, only mentions. */
export function visibilityFromAddressing(object: Json, mentions: string[]): Visibility {
  const to = idsOf(object.to);
  const cc = idsOf(object.cc);
  if (to.some((a) => PUBLIC_ADDRESSES.has(a))) return "public";
  if (cc.some((a) => PUBLIC_ADDRESSES.has(a))) return "unlisted";
  if ([...to, ...cc].some((a) => !mentions.includes(a))) return "followers";
  return "direct";
}

/** Where senders put the id of a quoted post: FEP-044f, Misskey, Fedibird and `as:quoteUrl`, in that order. */
export const QUOTE_PROPERTIES = ["quote", "_misskey_quote", "quoteUri", "quoteUrl"] as const;

/** The id of the post an AS2 object quotes, from the first quote property it carries. */
export function quoteOf(object: Json): string | undefined {
  for (const property of QUOTE_PROPERTIES) {
    const id = idOf(asArray(object[property])[0]);
    if (id !== undefined) return id;
  }
  return undefined;
}

/** The first string of a natural-language map (`contentMap`, `summaryMap`, `nameMap`), with its language. */
export function fromLanguageMap(map: unknown): { language: string; text: string } | undefined {
  if (!isObject(map)) return undefined;
  for (const [language, text] of Object.entries(map)) if (typeof text === "string") return { language, text };
  return undefined;
}
