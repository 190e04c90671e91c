/**
 * The checks of the support suite (issue 10): one per group of input variants, so the matrix keeps
 * one readable row per group while the per-variant outcomes go to the support tables. A group's check
 * fails when a variant that exercises a catalogue requirement (its `check`, e.g. MED-05) does not meet
 * it; groups without such variants are descriptive and end `inapplicable`. Ids are published: never
 * renumber them. No imports but types, so the catalogue can include these without a cycle.
 * @module
 */
import type { CheckDefinition } from "../harness/core/model.ts";

const PASTURE = "fediverse-pasture support tables (https://funfedi.dev/support_tables/)";

function support(id: string, title: string, what: string, source = PASTURE): CheckDefinition {
  return {
    id,
    suite: "support",
    title,
    requirement:
      `${what} Every variant whose shape a catalogue requirement covers (its check id in ` +
      "fixtures/inputs) meets it; every other variant is recorded as a descriptive outcome (kept, " +
      "transformed, feature dropped, post dropped) in the support tables.",
    source,
    level: "SHOULD",
    impact: "DEGRADED",
    requires: { sender: ["raw-post"], receiver: ["follow"] },
  };
}

/** Every support check, in the order of fixtures/inputs/manifest.json. */
export const SUPPORT_CHECKS: readonly CheckDefinition[] = [
  support(
    "SUP-ATTACH",
    "Support: kinds of attachment",
    "Attachments of every kind arrive as media or links.",
  ),
  support(
    "SUP-IMAGE",
    "Support: image formats and url shapes",
    "Images arrive whatever their format, mediaType or url shape.",
  ),
  support(
    "SUP-ALT",
    "Support: where alt text lives",
    "An image's description is read from name (and summary).",
  ),
  support(
    "SUP-RECOMMENDED",
    "Support: complete attachment metadata (FEP-1311)",
    "Attachments with complete metadata arrive and keep it.",
    `${PASTURE}; FEP-1311`,
  ),
  support("SUP-CW", "Support: content warnings", "The sensitive flag and the warning text arrive."),
  support(
    "SUP-EMOJI",
    "Support: Emoji tag shapes",
    "A post with an Emoji tag arrives, whatever the tag's shape.",
  ),
  support("SUP-HASHTAG", "Support: hashtag names", "Hashtags arrive with their names normalised."),
  support(
    "SUP-HASHTAG-LD",
    "Support: Hashtag JSON-LD strictness",
    "Hashtags arrive however their type is spelled.",
  ),
  support("SUP-MENTION", "Support: Mention tag shapes", "Mentions are recognised whatever the tag's shape."),
  support(
    "SUP-QUOTE",
    "Support: quote encodings",
    "Quotes are recognised in every encoding in use.",
    `${PASTURE}; FEP-044f; FEP-e232`,
  ),
  support(
    "SUP-LANG",
    "Support: natural-language values",
    "The receiver shows a text and a language for content and contentMap.",
  ),
  support(
    "SUP-TYPES",
    "Support: top-level object types",
    "Objects of every type arrive readable (Note, or a fallback to text and a link).",
  ),
  support("SUP-URL", "Support: url values", "A post's url survives in every shape."),
  support("SUP-REPLY", "Support: inReplyTo shapes", "A reply is recognised as one."),
  support(
    "SUP-AUTHOR",
    "Support: attributedTo shapes",
    "The author is shown whatever the shape of attributedTo.",
  ),
  support("SUP-NECESSARY", "Support: missing properties", "What a post can lack and still arrive."),
  support("SUP-PUBLIC", "Support: spellings of Public", "Public addressing is read in all three spellings."),
  support("SUP-CONTEXT", "Support: @context values", "Posts arrive whatever their @context."),
  support("SUP-HTML", "Support: HTML in content", "HTML in content is kept or sanitised sanely."),
  support("SUP-HTML-SUMMARY", "Support: HTML in summary", "HTML in a summary (content warning) is handled."),
  support(
    "SUP-HTML-ARTICLE",
    "Support: HTML in an Article",
    "HTML in an Article's content is kept or sanitised sanely.",
  ),
  support("SUP-ANCHOR", "Support: link attributes", "Links in content survive with sane attributes."),
];
