import { describe, expect, it } from "vitest";
import type { AttachmentView, PostView } from "../drivers/driver.ts";
import { type ExtractInput, extractOutcome, htmlOutcome, naturalKind, requirementHolds } from "./extract.ts";
import type { ExtractorName, Json, Variant } from "./inputs.ts";

const SENDER = "https://probe.test/users/alice";
const PARENT = "https://probe.test/objects/parent";

function view(fields: Partial<PostView> = {}): PostView {
  return {
    uri: "https://probe.test/objects/1",
    author: SENDER,
    text: "",
    html: "",
    sensitive: false,
    attachments: [],
    mentions: [],
    hashtags: [],
    links: [],
    raw: {},
    ...fields,
  };
}

function variant(fields: Partial<Variant> = {}): Variant {
  return { id: "g.v", local: "v", group: "g", title: "v", override: {}, remove: [], phase: 1, ...fields };
}

function run(name: ExtractorName, sent: Json, shown: PostView | null, extra: Partial<ExtractInput> = {}) {
  return extractOutcome(name, {
    variant: variant(),
    sent,
    view: shown,
    roles: {
      sender: SENDER,
      receiver: "https://r.test/users/bob",
      parent: PARENT,
      other: "https://probe.test/users/carol",
    },
    ...extra,
  });
}

const image = (fields: Partial<AttachmentView> = {}): AttachmentView => ({
  kind: "image",
  url: "https://probe.test/media/x/a.png",
  ...fields,
});

describe("every extractor", () => {
  it("says `post dropped` when the receiver holds no copy", () => {
    expect(run("image", {}, null)).toEqual({ value: "post dropped", kind: "post-dropped" });
    expect(run("html", {}, null).kind).toBe("post-dropped");
  });
});

describe("attachments", () => {
  it("names the kinds and tells kept from transformed and dropped", () => {
    const sent = {
      attachment: [
        { type: "Image", mediaType: "image/png", url: "a" },
        { type: "Audio", url: "b" },
      ],
    };
    expect(
      run("attachments", sent, view({ attachments: [image(), image({ kind: "audio" })] })),
    ).toMatchObject({
      value: "image, audio",
      kind: "kept",
    });
    expect(run("attachments", sent, view({ attachments: [image(), image({ kind: "unknown" })] })).kind).toBe(
      "transformed",
    );
    expect(run("attachments", sent, view({ attachments: [image()] })).value).toBe("1 of 2: image");
    expect(run("attachments", sent, view())).toEqual({
      value: "dropped attachment",
      kind: "feature-dropped",
    });
  });

  it("counts runs of one kind", () => {
    const sent = { attachment: Array.from({ length: 10 }, () => ({ type: "Image", url: "a" })) };
    const shown = view({ attachments: Array.from({ length: 4 }, () => image()) });
    expect(run("attachments", sent, shown).value).toBe("4 of 10: 4 × image");
  });

  it("derives the natural kind from mediaType, a Link's mediaType, or the type", () => {
    expect(naturalKind({ type: "Document", mediaType: "audio/mpeg" })).toBe("audio");
    expect(
      naturalKind({ type: "Document", url: [{ type: "Link", mediaType: "video/mp4", href: "v" }] }),
    ).toBe("video");
    expect(naturalKind({ type: "Link", href: "x" })).toBe("link");
    expect(naturalKind("https://x")).toBe("link");
    expect(naturalKind({ type: "Document" })).toBe("unknown");
  });
});

describe("image", () => {
  it("reports the kind assigned and which of several urls was kept", () => {
    const sent = {
      attachment: [{ type: "Image", url: [{ href: "https://p/a.png" }, { href: "https://p/b.jpg" }] }],
    };
    expect(run("image", sent, view({ attachments: [image({ url: "https://p/b.jpg" })] }))).toMatchObject({
      value: "image (url 2 of 2)",
      kind: "kept",
    });
    expect(run("image", sent, view({ attachments: [image({ kind: "unknown" })] }))).toMatchObject({
      value: "unknown",
      kind: "transformed",
    });
  });
});

describe("description", () => {
  const sent = { attachment: [{ type: "Image", url: "a", name: "in name", summary: "in summary" }] };
  it("names the property the alt text came from", () => {
    expect(
      run("description", sent, view({ attachments: [image({ description: "in summary" })] })),
    ).toMatchObject({
      value: "summary",
      kind: "kept",
    });
    expect(run("description", sent, view({ attachments: [image({ description: "in na" })] })).value).toBe(
      "name (truncated)",
    );
    expect(run("description", sent, view({ attachments: [image()] }))).toMatchObject({
      value: "no description",
      kind: "feature-dropped",
    });
    expect(run("description", sent, view({ attachments: [image({ description: "elsewhere" })] })).value).toBe(
      "other description",
    );
    expect(run("description", { attachment: [{ url: "a" }] }, view({ attachments: [image()] })).kind).toBe(
      "kept",
    );
  });
});

describe("cw", () => {
  it("reads the flag and the warning against what was sent", () => {
    const sent = { summary: "spoilers", sensitive: true };
    expect(run("cw", sent, view({ sensitive: true, contentWarning: "spoilers" }))).toMatchObject({
      value: "sensitive + warning",
      kind: "kept",
    });
    expect(run("cw", sent, view())).toMatchObject({ value: "neither", kind: "feature-dropped" });
    // Mastodon marks a post with a summary sensitive: something was added, nothing lost.
    expect(
      run("cw", { summary: "spoilers" }, view({ sensitive: true, contentWarning: "spoilers" })).kind,
    ).toBe("transformed");
    expect(run("cw", { attachment: [{ sensitive: true }] }, view({ sensitive: true })).value).toBe(
      "sensitive, no warning",
    );
  });
});

describe("emoji, hashtags, mentions, quotes", () => {
  it("finds emoji in the raw answer, with or without colons and icon", () => {
    const sent = { tag: [{ type: "Emoji", name: ":blob:" }] };
    expect(run("emoji", sent, view({ raw: { emojis: [{ shortcode: "blob", url: "u" }] } })).value).toBe(
      "emoji listed",
    );
    expect(run("emoji", sent, view({ raw: { tag: [{ name: ":blob:" }] } })).value).toBe(
      "emoji listed, no icon",
    );
    expect(run("emoji", sent, view({ raw: {} }))).toMatchObject({
      value: "emoji not listed",
      kind: "feature-dropped",
    });
  });

  it("lists hashtags as stored and compares them normalised", () => {
    const sent = { tag: [{ type: "Hashtag", name: "#FediCheck" }] };
    expect(run("hashtags", sent, view({ hashtags: ["fedicheck"] }))).toEqual({
      value: "#fedicheck",
      kind: "kept",
    });
    expect(run("hashtags", sent, view({ hashtags: ["fedi"] })).kind).toBe("transformed");
    expect(run("hashtags", sent, view())).toEqual({ value: "no tags", kind: "feature-dropped" });
  });

  it("tells a recognised mention from a link and a loss", () => {
    const href = "https://r.test/users/bob";
    const sent = { tag: [{ type: "as:Mention", href }] };
    expect(run("mentions", sent, view({ mentions: [href] })).value).toBe("mention recognised");
    expect(run("mentions", sent, view({ links: [href] })).value).toBe("link only");
    expect(run("mentions", sent, view()).value).toBe("mention dropped");
  });

  it("recognises a quote in any quote field or a quote Link tag of the raw answer", () => {
    expect(
      run("quote", {}, view({ raw: { quote: { state: "accepted", quoted_status: { uri: PARENT } } } })).value,
    ).toBe("quote recognised");
    expect(
      run(
        "quote",
        {},
        view({
          raw: { tag: [{ type: "Link", rel: "https://misskey-hub.net/ns#_misskey_quote", href: PARENT }] },
        }),
      ).detail,
    ).toBe("via a Link tag");
    expect(run("quote", {}, view({ links: [PARENT] })).value).toBe("link only");
    expect(run("quote", {}, view({ raw: { quote: "https://elsewhere/1" } })).value).toBe("quote dropped");
  });
});

describe("language, text, url, reply, author, visibility", () => {
  it("says which text and language the receiver chose", () => {
    const sent = { content: "<p>Hello</p>", contentMap: { de: "<p>Hallo</p>" } };
    expect(run("language", sent, view({ text: "Hallo", language: "de" })).value).toBe("de · contentMap.de");
    expect(run("language", sent, view({ text: "Hello" })).value).toBe("no language · content");
    expect(run("language", sent, view({ text: "Bonjour" })).kind).toBe("transformed");
  });

  it("lists which of name, summary, content and url a receiver shows", () => {
    const sent = {
      name: "The name",
      summary: "The summary",
      content: "<p>The content</p>",
      url: "https://p/page",
    };
    expect(
      run("text", sent, view({ text: "The name The content", links: ["https://p/page"] })),
    ).toMatchObject({
      value: "name + content + link",
      kind: "transformed",
    });
    expect(
      run("text", sent, view({ text: "The name The content", contentWarning: "The summary" })).kind,
    ).toBe("kept");
    expect(run("text", sent, view({ text: "nothing" })).kind).toBe("feature-dropped");
  });

  it("says which url was kept", () => {
    const sent = { url: ["https://p/a", { type: "Link", href: "https://p/b" }] };
    expect(run("url", sent, view({ webUrl: "https://p/b" })).value).toBe("second of 2");
    expect(run("url", { url: "https://p/a" }, view({ webUrl: "https://p/a" })).value).toBe("kept");
    expect(run("url", sent, view({ webUrl: "https://probe.test/objects/1" })).value).toBe("the id, no url");
    expect(run("url", {}, view()).value).toBe("no url");
  });

  it("recognises the reply, the author and the visibility", () => {
    expect(run("reply", {}, view({ inReplyTo: PARENT })).value).toBe("reply to the parent");
    expect(run("reply", {}, view()).value).toBe("not a reply");
    expect(run("author", {}, view()).value).toBe("the sender");
    expect(run("author", {}, view({ author: "https://probe.test/users/carol" })).value).toBe(
      "the other actor",
    );
    expect(run("visibility", { to: ["as:Public"] }, view({ visibility: "public" })).kind).toBe("kept");
    expect(run("visibility", { cc: ["Public"] }, view({ visibility: "public" })).kind).toBe("transformed");
  });
});

describe("HTML", () => {
  it("tells unchanged, rewritten, removed tags and removed text apart", () => {
    expect(htmlOutcome("<b>bold</b>", "<p>x</p><b>bold</b>").value).toBe("unchanged");
    expect(htmlOutcome("line<br>two", "line<br />two").value).toBe("unchanged");
    expect(htmlOutcome("<b>bold</b>", '<b class="x">bold</b> more').value).toBe("tag kept, rewritten");
    expect(htmlOutcome('<span onclick="x()">t</span>', "<span>t</span>")).toMatchObject({
      value: "tag kept, attributes changed",
      kind: "transformed",
    });
    expect(htmlOutcome("<ul><li>one</li><li>two</li></ul>", "<p>onetwo</p>").value).toBe(
      "tag removed, text kept",
    );
    expect(htmlOutcome("<script>alert(1)</script>", "<p>label</p>").value).toBe("text removed");
    expect(htmlOutcome('<img src="https://p/i.png">', '<a href="https://p/i.png">i</a>').value).toBe(
      "became a link",
    );
    expect(htmlOutcome("<hr>", "<p>x</p>").value).toBe("tag removed");
    expect(htmlOutcome("<b>x</b>", undefined).value).toBe("field dropped");
  });

  it("compares each attribute of a link", () => {
    const fragment = '<a href="https://p/a" rel="nofollow" target="_blank">anchor text</a>';
    const a = (html: string) =>
      extractOutcome("anchor", {
        variant: variant({ fragment }),
        sent: {},
        view: view({ html, text: "anchor text" }),
        roles: { sender: SENDER, receiver: "r" },
      });
    expect(a(fragment).value).toBe("unchanged");
    expect(a('<a href="https://p/a" rel="nofollow noopener">anchor text</a>')).toMatchObject({
      value: "attributes changed",
      detail: "rel=“nofollow noopener”; target dropped",
    });
    expect(a('<a href="https://elsewhere/a" rel="nofollow" target="_blank">anchor text</a>').value).toBe(
      "href rewritten",
    );
    expect(a("<p>anchor text</p>").value).toBe("link removed, text kept");
  });
});

describe("requirementHolds", () => {
  it("reads post, feature, kept and value lists", () => {
    const kept = { value: "image", kind: "kept" as const };
    const dropped = { value: "dropped attachment", kind: "feature-dropped" as const };
    const gone = { value: "post dropped", kind: "post-dropped" as const };
    expect(requirementHolds("post", dropped)).toBe(true);
    expect(requirementHolds("post", gone)).toBe(false);
    expect(requirementHolds("feature", dropped)).toBe(false);
    expect(requirementHolds("kept", { value: "unknown", kind: "transformed" })).toBe(false);
    expect(requirementHolds(["image", "gifv"], kept)).toBe(true);
    expect(requirementHolds("post", { value: "x", kind: "errored" })).toBe(false);
  });
});
