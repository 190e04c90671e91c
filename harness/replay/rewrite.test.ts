import { describe, expect, it } from "vitest";
import { createRewriter, originOf, type RewriteRule } from "./rewrite.ts";

const P = "http://127.0.0.1:4000/replay/t1";
const RULES: RewriteRule[] = [
  { from: "https://mastodon.example", to: `${P}/1`, match: "prefix" },
  { from: "https://receiver.example/users/bob", to: "https://target.test/users/bob", match: "exact" },
  {
    from: "https://receiver.example/users/bob/followers",
    to: "https://target.test/users/bob/fans",
    match: "exact",
  },
  { from: "https://receiver.example", to: `${P}/0`, match: "prefix" },
];
const rw = createRewriter(RULES);

describe("createRewriter", () => {
  it("rewrites ids and references, keeping path, query and fragment", () => {
    const note = rw.rewrite({
      id: "https://mastodon.example/users/alice/statuses/1",
      attributedTo: "https://mastodon.example/users/alice",
      inReplyTo: "https://mastodon.example/users/alice/statuses/0?page=true#frag",
      to: ["https://www.w3.org/ns/activitystreams#Public"],
      cc: ["https://mastodon.example/users/alice/followers", "https://receiver.example/users/bob"],
    });
    expect(note).toEqual({
      id: `${P}/1/users/alice/statuses/1`,
      attributedTo: `${P}/1/users/alice`,
      inReplyTo: `${P}/1/users/alice/statuses/0?page=true#frag`,
      to: ["https://www.w3.org/ns/activitystreams#Public"],
      cc: [`${P}/1/users/alice/followers`, "https://target.test/users/bob"],
    });
  });

  it("rewrites inside HTML content, plain and percent-encoded", () => {
    const html =
      '<p>See <a href="https://mastodon.example/tags/cats" rel="tag">#cats</a> and ' +
      '<a href="https://receiver.example/users/bob" class="mention">@bob</a>, ' +
      "share: https://other.example/share?u=https%3A%2F%2Fmastodon.example%2F%40alice%2F1 " +
      "or visit https://mastodon.example.</p>";
    expect(rw.rewriteString(html)).toBe(
      `<p>See <a href="${P}/1/tags/cats" rel="tag">#cats</a> and ` +
        '<a href="https://target.test/users/bob" class="mention">@bob</a>, ' +
        `share: https://other.example/share?u=${encodeURIComponent(`${P}/1`)}%2F%40alice%2F1 ` +
        `or visit ${P}/1.</p>`,
    );
  });

  it("does not touch look-alike hosts, other ports or longer paths of an exact rule", () => {
    expect(rw.rewriteString("https://mastodon.example.evil/x")).toBe("https://mastodon.example.evil/x");
    expect(rw.rewriteString("https://mastodon.examples/x")).toBe("https://mastodon.examples/x");
    expect(rw.rewriteString("https://mastodon.example:8443/x")).toBe("https://mastodon.example:8443/x");
    expect(rw.rewriteString("http://mastodon.example/x")).toBe("http://mastodon.example/x");
    // Not bob himself, so it goes with the receiver's origin rule.
    expect(rw.rewriteString("https://receiver.example/users/bobby")).toBe(`${P}/0/users/bobby`);
    expect(rw.rewriteString("https://receiver.example/users/bob/statuses/9")).toBe(
      `${P}/0/users/bob/statuses/9`,
    );
    // An exact rule keeps a fragment (a keyId) and prefers the most specific mapping.
    expect(rw.rewriteString("https://receiver.example/users/bob#main-key")).toBe(
      "https://target.test/users/bob#main-key",
    );
    expect(rw.rewriteString("https://receiver.example/users/bob/followers")).toBe(
      "https://target.test/users/bob/fans",
    );
  });

  it("rewrites arrays of Links, attachment and tag hrefs, collections and nested pages", () => {
    const object = rw.rewrite({
      url: [
        { type: "Link", mediaType: "text/html", href: "https://mastodon.example/@alice/1" },
        { type: "Link", mediaType: "video/mp4", href: "https://mastodon.example/media/1.mp4" },
      ],
      attachment: [
        { type: "Document", url: [{ type: "Link", href: "https://mastodon.example/media/a.jpg" }] },
      ],
      tag: [
        { type: "Mention", href: "https://receiver.example/users/bob", name: "@bob@receiver.example" },
        { type: "Hashtag", href: "https://mastodon.example/tags/x", name: "#x" },
      ],
      replies: {
        id: "https://mastodon.example/users/alice/statuses/1/replies",
        type: "Collection",
        first: {
          type: "CollectionPage",
          next: "https://mastodon.example/users/alice/statuses/1/replies?page=true",
          partOf: "https://mastodon.example/users/alice/statuses/1/replies",
          items: ["https://mastodon.example/users/alice/statuses/2"],
        },
      },
    });
    expect(object).toEqual({
      url: [
        { type: "Link", mediaType: "text/html", href: `${P}/1/@alice/1` },
        { type: "Link", mediaType: "video/mp4", href: `${P}/1/media/1.mp4` },
      ],
      attachment: [{ type: "Document", url: [{ type: "Link", href: `${P}/1/media/a.jpg` }] }],
      tag: [
        // A handle is not a URL: it is left as it was.
        { type: "Mention", href: "https://target.test/users/bob", name: "@bob@receiver.example" },
        { type: "Hashtag", href: `${P}/1/tags/x`, name: "#x" },
      ],
      replies: {
        id: `${P}/1/users/alice/statuses/1/replies`,
        type: "Collection",
        first: {
          type: "CollectionPage",
          next: `${P}/1/users/alice/statuses/1/replies?page=true`,
          partOf: `${P}/1/users/alice/statuses/1/replies`,
          items: [`${P}/1/users/alice/statuses/2`],
        },
      },
    });
  });

  it("leaves @context alone (a context URL on a captured origin is a vocabulary)", () => {
    const context = [
      "https://www.w3.org/ns/activitystreams",
      "https://mastodon.example/schemas/litepub-0.1.jsonld",
    ];
    const out = rw.rewrite({ "@context": context, id: "https://mastodon.example/objects/1" });
    expect(out["@context"]).toEqual(context);
    expect(out["@context"]).not.toBe(context);
    expect(out.id).toBe(`${P}/1/objects/1`);
  });

  it("rewrites each URL once, even when an output looks like another rule's input", () => {
    const chained = createRewriter([
      { from: "https://a.example", to: "https://b.example", match: "prefix" },
      { from: "https://b.example", to: "https://c.example", match: "prefix" },
    ]);
    expect(chained.rewriteString("https://a.example/1 https://b.example/2")).toBe(
      "https://b.example/1 https://c.example/2",
    );
  });

  it("restores what it rewrote, so reports speak in captured URLs", () => {
    const original = {
      id: "https://mastodon.example/users/alice/statuses/1",
      content: '<a href="https://receiver.example/users/bob">@bob</a> https://mastodon.example/tags/x',
      cc: ["https://receiver.example/users/bob/followers", "https://receiver.example/objects/7"],
    };
    expect(rw.restore(rw.rewrite(original))).toEqual(original);
  });

  it("leaves values that are not strings as they are", () => {
    expect(rw.rewrite({ n: 1, b: true, z: null, list: [1, "https://mastodon.example"] })).toEqual({
      n: 1,
      b: true,
      z: null,
      list: [1, `${P}/1`],
    });
  });
});

describe("originOf", () => {
  it("gives origins of absolute http(s) URLs only", () => {
    expect(originOf("https://a.example:8443/x?y#z")).toBe("https://a.example:8443");
    expect(originOf("as:Public")).toBeUndefined();
    expect(originOf("mailto:x@y")).toBeUndefined();
    expect(originOf(42)).toBeUndefined();
  });
});
