import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FedifyRefServer, startFedifyRef } from "../../fixtures/fedify-ref/server.ts";
import { createTestCa } from "../runtime/test-ca.ts";
import {
  createFedifyRefDriver,
  FEDIFY_REF_CAPABILITIES,
  FedifyRefError,
  type FedifyRefPostRecord,
  postViewOf,
} from "./fedify-ref.ts";
import { attachmentViewOf } from "./normalise.ts";

function record(
  object: Record<string, unknown>,
  extra: Partial<FedifyRefPostRecord> = {},
): FedifyRefPostRecord {
  return { uri: String(object.id), local: false, object, likes: 0, announces: 0, ...extra };
}

describe("postViewOf", () => {
  it("normalises text, hashtags, mentions, links, warning and language", () => {
    const view = postViewOf(
      record(
        {
          id: "https://b.test/objects/1",
          type: "Note",
          attributedTo: "https://b.test/users/bob",
          content:
            '<p><span class="h-card"><a href="https://a.test/users/alice" class="u-url mention">@<span>alice</span></a></span>  Hello\n<br>see <a href="https://example.com/page">this</a> <a href="https://b.test/tags/fedi" class="mention hashtag" rel="tag">#<span>Fedi</span></a></p>',
          contentMap: { en: "<p>Hello</p>" },
          summary: "a warning",
          sensitive: true,
          tag: [
            { type: "Mention", href: "https://a.test/users/alice", name: "@alice@a.test" },
            { type: "Hashtag", href: "https://b.test/tags/fedi", name: "#Fedi" },
            { type: "Hashtag", href: "https://b.test/tags/more", name: "#MORE" },
          ],
          inReplyTo: { id: "https://a.test/objects/0", type: "Note" },
          updated: "2024-05-01T10:00:00Z",
          to: "as:Public",
        },
        { likes: 2, announces: 1, webUrl: "https://b.test/@bob/1", localId: "1" },
      ),
    );
    expect(view).toMatchObject({
      uri: "https://b.test/objects/1",
      localId: "1",
      author: "https://b.test/users/bob",
      text: "@alice Hello see this #Fedi",
      contentWarning: "a warning",
      sensitive: true,
      visibility: "public",
      mentions: ["https://a.test/users/alice"],
      links: ["https://example.com/page"],
      inReplyTo: "https://a.test/objects/0",
      editedAt: "2024-05-01T10:00:00Z",
      language: "en",
      likes: 2,
      announces: 1,
      webUrl: "https://b.test/@bob/1",
    });
    expect(view.hashtags.sort()).toEqual(["fedi", "more"]);
  });

  it("takes the server's visibility, else derives it from addressing", () => {
    const base = { id: "https://b.test/o", type: "Note", content: "x" };
    expect(
      postViewOf(record({ ...base, to: ["https://a.test/users/alice"] }, { visibility: "followers" }))
        .visibility,
    ).toBe("followers");
    expect(
      postViewOf(record({ ...base, cc: "https://www.w3.org/ns/activitystreams#Public" })).visibility,
    ).toBe("unlisted");
    expect(postViewOf(record({ ...base, to: "https://b.test/users/bob/followers" })).visibility).toBe(
      "followers",
    );
    expect(
      postViewOf(
        record({
          ...base,
          to: "https://a.test/users/alice",
          tag: { type: "Mention", href: "https://a.test/users/alice" },
        }),
      ).visibility,
    ).toBe("direct");
  });

  it("reads attachments of every shape", () => {
    expect(
      attachmentViewOf({ type: "Document", mediaType: "image/png", url: "https://x/a.png", name: "alt" }),
    ).toEqual({
      kind: "image",
      url: "https://x/a.png",
      mediaType: "image/png",
      description: "alt",
    });
    expect(
      attachmentViewOf({
        type: "Document",
        url: [
          { type: "Link", href: "https://x/v.webm", mediaType: "video/webm" },
          { type: "Link", href: "https://x/v.mp4" },
        ],
      }),
    ).toEqual({ kind: "video", url: "https://x/v.webm", mediaType: "video/webm" });
    expect(
      attachmentViewOf({
        type: "Audio",
        url: { type: "Link", href: "https://x/a" },
        summary: "alt in summary",
      }),
    ).toEqual({
      kind: "audio",
      url: "https://x/a",
      description: "alt in summary",
    });
    expect(attachmentViewOf({ type: "Link", href: "https://x/page" })).toEqual({
      kind: "link",
      url: "https://x/page",
    });
    expect(
      attachmentViewOf({ type: "Document", mediaType: "application/x-thing", url: "https://x/t" })?.kind,
    ).toBe("unknown");
    expect(attachmentViewOf("https://x/bare")).toEqual({ kind: "link", url: "https://x/bare" });
    expect(attachmentViewOf({ type: "Document" })).toBeUndefined();
  });

  it("shows a poll's options after its question, as text and escaped HTML", () => {
    const question = { id: "https://b.test/objects/q", type: "Question", content: "<p>Which #flavour?</p>" };
    const view = postViewOf(
      record(question, {
        poll: { multiple: false, options: [{ name: "Lemon <b>&</b> lime", votes: 2 }, { name: "#Mint" }] },
      }),
    );
    expect(view.text).toBe("Which #flavour? Poll (one choice): Lemon <b>&</b> lime #Mint");
    expect(view.html).toBe(
      '<p>Which #flavour?</p><p>Poll (one choice):</p><ul class="poll"><li>Lemon &lt;b&gt;&amp;&lt;/b&gt; lime</li><li>#Mint</li></ul>',
    );
    // An option is not a hashtag of the post.
    expect(view.hashtags).toEqual(["flavour"]);
    // Without the server's poll, only the question shows.
    expect(postViewOf(record(question)).text).toBe("Which #flavour?");
  });
});

describe("createFedifyRefDriver against a server over HTTPS", () => {
  let server: FedifyRefServer;
  let driver: ReturnType<typeof createFedifyRefDriver>;
  let caPem: string;

  beforeAll(async () => {
    const ca = await createTestCa();
    caPem = ca.certPem;
    const tls = await ca.issue(["127.0.0.1"]);
    server = await startFedifyRef({ tls: { cert: tls.certPem, key: tls.keyPem }, log: () => {} });
    driver = createFedifyRefDriver({ url: server.url, token: server.controlToken, ca: caPem });
  });

  afterAll(async () => {
    await driver?.close();
    await server?.close();
  });

  it("declares its capabilities", () => {
    expect(driver.implementation).toBe("fedify-ref");
    expect(driver.capabilities).toBe(FEDIFY_REF_CAPABILITIES);
    expect(driver.capabilities).toEqual(expect.arrayContaining(["raw-post", "signature-rfc9421", "web-ui"]));
  });

  it("provisions, posts, edits, deletes and reads back through the control API", async () => {
    const account = await driver.provisionAccount("Driver Test");
    expect(account).toEqual({
      username: "driver_test",
      handle: `driver_test@127.0.0.1:${server.port}`,
      actorId: `${server.origin}/users/driver_test`,
    });
    expect(await driver.provisionAccount("Driver Test")).toEqual(account);

    const ref = await driver.post(account, {
      content: "Hello\n\nworld",
      hashtags: ["Tag"],
      sensitive: true,
      attachments: [
        { mediaType: "image/png", data: new Uint8Array([137, 80, 78, 71]), description: "four bytes" },
      ],
      language: "en",
    });
    expect(ref.uri).toBe(`${server.origin}/objects/${ref.localId}`);
    const own = await driver.receivedPost(account, ref.uri);
    expect(own).toMatchObject({
      text: "Hello world #Tag",
      hashtags: ["tag"],
      sensitive: true,
      language: "en",
      webUrl: ref.url,
    });
    const media = own!.attachments[0]!;
    expect(media).toMatchObject({ kind: "image", mediaType: "image/png", description: "four bytes" });
    const agent = new (await import("undici")).Agent({ connect: { rejectUnauthorized: false } });
    const bytes = await (
      await (await import("undici")).fetch(media.url, { dispatcher: agent })
    ).arrayBuffer();
    expect([...new Uint8Array(bytes)]).toEqual([137, 80, 78, 71]);
    await agent.close();

    await driver.update(account, ref, { content: "changed" });
    expect((await driver.receivedPost(account, ref.uri))?.text).toBe("changed");
    expect((await driver.timeline(account)).map((p) => p.uri)).toContain(ref.uri);
    await driver.delete(account, ref);
    expect(await driver.receivedPost(account, ref.uri)).toBeNull();
    expect(await driver.timeline(account)).toEqual([]);
  });

  it("posts raw objects, filling only what is absent", async () => {
    const account = await driver.provisionAccount("raw");
    const ref = await driver.postRaw!(
      account,
      { type: "Question", name: "Poll?", oneOf: [{ type: "Note", name: "yes" }] },
      {},
    );
    const view = await driver.receivedPost(account, ref.uri);
    expect(view?.raw).toMatchObject({
      object: { type: "Question", name: "Poll?", attributedTo: account.actorId, id: ref.uri },
    });
    expect((view!.raw as { object: { published?: string } }).object.published).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("forgets everything on reset", async () => {
    await driver.provisionAccount("short_lived");
    expect(await driver.control("POST", "reset")).toEqual({ reset: true });
    expect(await driver.control("GET", "actors")).toEqual({ actors: [] });
  });

  it("answers null for what the server does not hold, and errors with the server's words", async () => {
    const account = await driver.provisionAccount("misses");
    expect(await driver.receivedPost(account, `${server.origin}/objects/nothing`)).toBeNull();
    expect(await driver.lookupObject(account, `${server.origin}/objects/nothing`)).toBeNull();
    expect(await driver.followState(account, "https://nowhere.test/users/x")).toBe("none");
    expect(await driver.followers(account)).toEqual([]);
    expect(await driver.notifications(account)).toEqual([]);
    const error = await driver.acceptFollow(account, "https://nowhere.test/users/x").catch((e) => e);
    expect(error).toBeInstanceOf(FedifyRefError);
    expect(error.status).toBe(404);
    expect(error.message).toBe(
      "fedify-ref POST accept answered 404: https://nowhere.test/users/x has not asked to follow misses.",
    );
    const wrongToken = createFedifyRefDriver({ url: server.url, token: "wrong", ca: caPem });
    await expect(wrongToken.provisionAccount("x")).rejects.toMatchObject({ status: 401 });
    await wrongToken.close();
    const untrusting = createFedifyRefDriver({ url: server.url, token: server.controlToken });
    await expect(untrusting.provisionAccount("x")).rejects.toThrow();
    await untrusting.close();
  });
});
