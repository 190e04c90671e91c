import { describe, expect, it } from "vitest";
import {
  attachmentKindFromMediaType,
  decodeEntities,
  extractAnchors,
  extractHashtags,
  extractHashtagsFromText,
  extractLinks,
  extractMentionHrefs,
  extractUrlsFromText,
  htmlToPostText,
  htmlToText,
  looksLikeHtml,
  plainTextToHtml,
  withMentionsAndTags,
} from "./normalise.ts";

// Content as Mastodon renders it: a mention, a shortened link, hashtags.
const MASTODON_HTML =
  '<p><span class="h-card" translate="no"><a href="https://a.test/@alice" class="u-url mention">@<span>alice</span></a></span> ' +
  'see <a href="https://example.org/articles/42" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span>' +
  '<span class="ellipsis">example.org/articles/4</span><span class="invisible">2</span></a> &amp; more</p>' +
  '<p><a href="https://a.test/tags/Fedi" class="mention hashtag" rel="tag">#<span>Fedi</span></a> #Loose<br>end</p>';

describe("HTML", () => {
  it("turns content into collapsed text with full URLs", () => {
    expect(htmlToText(MASTODON_HTML)).toBe(
      "@alice see https://example.org/articles/42 & more #Fedi #Loose end",
    );
    expect(htmlToText("<p>a</p><p>b</p><script>x()</script>")).toBe("a b");
  });

  it("separates authored links from mention and hashtag links", () => {
    expect(extractLinks(MASTODON_HTML)).toEqual(["https://example.org/articles/42"]);
    expect(extractLinks(MASTODON_HTML, { includeMentions: true, includeHashtags: true })).toEqual([
      "https://a.test/@alice",
      "https://example.org/articles/42",
      "https://a.test/tags/Fedi",
    ]);
    expect(extractMentionHrefs(MASTODON_HTML)).toEqual(["https://a.test/@alice"]);
  });

  it("collects hashtags from links and plain text, lower-cased", () => {
    expect(extractHashtags(MASTODON_HTML)).toEqual(["fedi", "loose"]);
  });

  it("reads attributes in any quoting and decodes them", () => {
    const [a] = extractAnchors("<a class='x y' href=https://e.test/?a=1&amp;b=2>t</a>");
    expect(a).toEqual({ href: "https://e.test/?a=1&b=2", text: "t", classes: ["x", "y"], rel: [] });
  });

  it("decodes numeric and named entities, leaving unknown ones", () => {
    expect(decodeEntities("&#x1F600; &#233; &hellip; &bogus;")).toBe("😀 é … &bogus;");
  });

  it("tells HTML from plain text", () => {
    expect(looksLikeHtml("<p>hi</p>")).toBe(true);
    expect(looksLikeHtml("1 < 2 and 3 > 2")).toBe(false);
  });
});

describe("plain text and MFM", () => {
  it("finds URLs, MFM links and hashtags", () => {
    expect(
      extractUrlsFromText("see (https://e.test/a), [spec](https://w3.org/TR/x) and <https://e.test/b>."),
    ).toEqual(["https://w3.org/TR/x", "https://e.test/a", "https://e.test/b"]);
    expect(extractHashtagsFromText("#Fedi and #日本語, not #1 or a&#39; or https://x/#frag")).toEqual([
      "fedi",
      "日本語",
    ]);
  });

  it("renders text as simple HTML, linking URLs", () => {
    expect(plainTextToHtml("Hi <you>\nsee https://e.test/a.\n\nbye")).toBe(
      '<p>Hi &lt;you&gt;<br>see <a href="https://e.test/a">https://e.test/a</a>.</p><p>bye</p>',
    );
  });

  it("turns simple HTML input into text a client API takes", () => {
    expect(
      htmlToPostText(
        '<p>Read <a href="https://e.test/a">this</a> &amp; <a href="https://e.test/b">e.test/b</a></p><p>x<br>y</p>',
      ),
    ).toBe("Read this https://e.test/a & e.test/b\n\nx\ny");
  });

  it("adds only the mentions and tags the text lacks", () => {
    expect(withMentionsAndTags("hi @bob@b.test #Tag", ["@bob@b.test", "carol@c.test"], ["tag", "#new"])).toBe(
      "@carol@c.test hi @bob@b.test #Tag #new",
    );
    // @bob@b.test must not count as present because of @bob@b.test.example.
    expect(withMentionsAndTags("hi @bob@b.test.example", ["@bob@b.test"], [])).toBe(
      "@bob@b.test hi @bob@b.test.example",
    );
    expect(withMentionsAndTags("thanks @bob@b.test.", ["@bob@b.test"], [])).toBe("thanks @bob@b.test.");
  });

  it("maps media types to attachment kinds", () => {
    expect(
      ["image/png", "video/mp4", "audio/ogg", "application/pdf", undefined].map(attachmentKindFromMediaType),
    ).toEqual(["image", "video", "audio", "unknown", "unknown"]);
  });
});
