/**
 * Consistent URL rewriting for replays: every URL of a captured origin moves under the probe (keeping
 * its path, query and fragment), every URL of the capture's receiving actors becomes the matching URL
 * of an account on the replay target. The same rules apply everywhere a URL can hide: ids and
 * references, `url`, attachment and tag hrefs, collections, and inside strings such as HTML `content`
 * (plain and percent-encoded). `@context` is left alone: a context URL is a vocabulary, not a
 * reference. Rules can be inverted, so what a target reports maps back to the capture's URLs.
 * @module
 */

/** One mapping of a rewrite. */
export interface RewriteRule {
  /** The URL (or URL prefix) as captured, e.g. `https://mastodon.example`. */
  from: string;
  /** What it becomes, e.g. `http://127.0.0.1:4000/replay/k3x/1`. */
  to: string;
  /**
   * `prefix`: `from` and everything under it (`/path`, `?query`, `#fragment`) is rewritten, the rest
   * kept; `exact`: only `from` itself, optionally followed by `?query` or `#fragment`.
   */
  match: "prefix" | "exact";
}

/** Rewrites values with a fixed set of rules (see {@link createRewriter}). */
export interface Rewriter {
  readonly rules: readonly RewriteRule[];
  /** A deep copy of a JSON value with every mapped URL replaced; `@context` members are copied as they are. */
  rewrite<T>(value: T): T;
  /** Every mapped URL in a string replaced (URLs inside HTML, text, percent-encoded URLs). */
  rewriteString(text: string): string;
  /** The inverse of {@link rewrite}. */
  restore<T>(value: T): T;
  /** The inverse of {@link rewriteString}. */
  restoreString(text: string): string;
}

// What may follow a URL (prefix) without extending its last segment: `/`, `?`, `#`, the end, or
// anything that cannot be part of a URL (quote, space, `<`). A `.` ends it only at a sentence end.
const AFTER_PREFIX = "(?![A-Za-z0-9_~:@+=-]|\\.[A-Za-z0-9]|%(?!2[Ff]|3[Ff]|23|20|22|3[Cc]))";
// An exact URL must not continue with a path either.
const AFTER_EXACT = `${AFTER_PREFIX}(?!/|%2[Ff])`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

interface Compiled {
  pattern: RegExp | undefined;
  replacements: Map<string, string>;
}

function compile(rules: readonly RewriteRule[]): Compiled {
  const variants: Array<{ from: string; to: string; exact: boolean }> = [];
  for (const rule of rules) {
    if (rule.from === "" || rule.from === rule.to) continue;
    variants.push({ from: rule.from, to: rule.to, exact: rule.match === "exact" });
    const encodedFrom = encodeURIComponent(rule.from);
    if (encodedFrom !== rule.from) {
      variants.push({ from: encodedFrom, to: encodeURIComponent(rule.to), exact: rule.match === "exact" });
    }
  }
  // Longest first: at one position the most specific rule wins (an actor's followers URL before the
  // actor, the actor before its origin).
  variants.sort((a, b) => b.from.length - a.from.length);
  const replacements = new Map<string, string>();
  const alternatives: string[] = [];
  for (const variant of variants) {
    if (replacements.has(variant.from)) continue;
    replacements.set(variant.from, variant.to);
    alternatives.push(`${escapeRegExp(variant.from)}${variant.exact ? AFTER_EXACT : AFTER_PREFIX}`);
  }
  return {
    pattern: alternatives.length > 0 ? new RegExp(alternatives.join("|"), "g") : undefined,
    replacements,
  };
}

function replaceAll(text: string, compiled: Compiled): string {
  if (!compiled.pattern) return text;
  return text.replace(compiled.pattern, (match) => compiled.replacements.get(match) ?? match);
}

function walk(value: unknown, rewriteText: (text: string) => string): unknown {
  if (typeof value === "string") return rewriteText(value);
  if (Array.isArray(value)) return value.map((item) => walk(item, rewriteText));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    out[key] = key === "@context" ? structuredClone(member) : walk(member, rewriteText);
  }
  return out;
}

/**
 * A rewriter for `rules`. Rules are applied in one pass, longest `from` first, so a URL is rewritten
 * at most once and a rule's output is never rewritten again by another rule.
 */
export function createRewriter(rules: readonly RewriteRule[]): Rewriter {
  const forward = compile(rules);
  const backward = compile(rules.map((r) => ({ from: r.to, to: r.from, match: r.match })));
  const rewriteString = (text: string) => replaceAll(text, forward);
  const restoreString = (text: string) => replaceAll(text, backward);
  return {
    rules,
    rewrite: <T>(value: T) => walk(value, rewriteString) as T,
    rewriteString,
    restore: <T>(value: T) => walk(value, restoreString) as T,
    restoreString,
  };
}

/** The origin of a URL, or undefined when it is not an absolute http(s) URL. */
export function originOf(url: unknown): string | undefined {
  if (typeof url !== "string" || !/^https?:\/\//i.test(url) || !URL.canParse(url)) return undefined;
  return new URL(url).origin;
}
