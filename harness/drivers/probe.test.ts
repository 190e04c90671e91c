import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProbe } from "../peer/probe.ts";
import type { Probe, ProbeActor } from "../peer/types.ts";
import type { Account, Driver } from "./driver.ts";
import { UnsupportedError } from "./driver.ts";
import { createProbeDriver, PROBE_CAPABILITIES, postViewOf, probeActorOf } from "./probe.ts";

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

describe("postViewOf", () => {
  it("normalises content, tags, attachments and addressing", () => {
    const view = postViewOf({
      id: "https://a.test/n/1",
      type: "Note",
      attributedTo: "https://a.test/users/alice",
      content:
        '<p>Hi <a href="https://b.test/users/bob" class="u-url mention">@bob</a> see <a href="https://example.test/x">this</a> &amp; <a href="https://a.test/tags/Cats" rel="tag">#Cats</a></p>',
      contentMap: { de: "<p>Hallo</p>" },
      summary: "cw",
      sensitive: true,
      inReplyTo: { id: "https://b.test/n/0", type: "Note" },
      updated: "2024-01-02T00:00:00Z",
      url: "https://a.test/@alice/1",
      to: [PUBLIC],
      cc: ["https://a.test/users/alice/followers", "https://b.test/users/bob"],
      tag: [
        { type: "Mention", href: "https://b.test/users/bob", name: "@bob@b.test" },
        { type: "Hashtag", href: "https://a.test/tags/cats", name: "#Cats" },
      ],
      attachment: [
        { type: "Document", mediaType: "image/png", url: "https://a.test/m/1.png", name: "alt text" },
        { type: "Document", mediaType: "application/x-weird", url: "https://a.test/m/2.bin" },
        {
          type: "Document",
          url: [{ type: "Link", href: "https://a.test/m/3.mp4", mediaType: "video/mp4" }],
        },
        { type: "Link", href: "https://example.test/page" },
        { type: "Audio", url: "https://a.test/m/4" },
      ],
    });
    expect(view).toMatchObject({
      uri: "https://a.test/n/1",
      author: "https://a.test/users/alice",
      text: "Hi @bob see this & #Cats",
      contentWarning: "cw",
      sensitive: true,
      visibility: "public",
      mentions: ["https://b.test/users/bob"],
      hashtags: ["cats"],
      links: ["https://example.test/x"],
      inReplyTo: "https://b.test/n/0",
      editedAt: "2024-01-02T00:00:00Z",
      language: "de",
      webUrl: "https://a.test/@alice/1",
    });
    expect(view.attachments).toEqual([
      { kind: "image", url: "https://a.test/m/1.png", mediaType: "image/png", description: "alt text" },
      { kind: "unknown", url: "https://a.test/m/2.bin", mediaType: "application/x-weird" },
      { kind: "video", url: "https://a.test/m/3.mp4", mediaType: "video/mp4" },
      { kind: "link", url: "https://example.test/page" },
      { kind: "audio", url: "https://a.test/m/4" },
    ]);
  });

  it.each([
    [{ to: [PUBLIC] }, "public"],
    [{ to: ["https://a.test/f"], cc: [PUBLIC] }, "unlisted"],
    [{ to: ["https://a.test/f"] }, "followers"],
    [
      { to: ["https://b.test/users/bob"], tag: [{ type: "Mention", href: "https://b.test/users/bob" }] },
      "direct",
    ],
  ])("reads visibility from %j as %s", (addressing, visibility) => {
    expect(postViewOf({ id: "x", type: "Note", ...addressing }).visibility).toBe(visibility);
  });
});

describe("the probe driver", () => {
  let target: Probe;
  let peer: Probe;
  let driver: Driver;
  let account: Account;
  let bob: ProbeActor;

  beforeAll(async () => {
    target = await startProbe();
    peer = await startProbe();
    driver = createProbeDriver(target);
    account = await driver.provisionAccount("alice");
    bob = await peer.createActor("bob");
  });
  afterAll(async () => {
    await driver.close();
    await target.close();
    await peer.close();
  });

  it("declares the probe's capabilities", () => {
    expect(driver.implementation).toBe("probe");
    expect(driver.capabilities).toBe(PROBE_CAPABILITIES);
    expect(driver.capabilities).toEqual(
      expect.arrayContaining(["raw-post", "signature-rfc9421", "locked-accounts"]),
    );
    expect(driver.capabilities).not.toContain("media-upload");
  });

  it("provisions unique accounts and maps them to probe actors", async () => {
    const again = await driver.provisionAccount("alice");
    expect(account.username).toBe("alice");
    expect(again.username).not.toBe("alice");
    const actor = probeActorOf(target, again);
    expect(actor.id).toBe(again.actorId);
    expect(again.handle).toBe(actor.handle);
    expect(() => probeActorOf(peer, { ...again, username: "bob" })).toThrow(/not an account/);
  });

  it("follows a remote actor and reports the state from the follower's side", async () => {
    await driver.follow(account, bob.id);
    await target.inbox.waitFor((e) => e.activity?.type === "Accept");
    expect(await driver.followState(account, bob.id)).toBe("following");
    expect(peer.followers(bob)).toEqual([account.actorId]);
  });

  it("holds follow requests on a locked account and accepts or rejects them", async () => {
    const locked = await driver.provisionAccount("locked");
    await driver.setLocked(locked, true);
    const carol = await peer.createActor("carol");
    const dan = await peer.createActor("dan");
    await peer.follow(carol, locked.actorId);
    await peer.follow(dan, locked.actorId);
    await target.inbox.waitFor((e) => e.activity?.type === "Follow" && e.activity.actor === dan.id);
    expect((await driver.followRequests(locked)).sort()).toEqual([carol.id, dan.id].sort());
    expect(await driver.notifications(locked)).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: "follow_request", actor: carol.id })]),
    );
    await driver.acceptFollow(locked, carol.id);
    await driver.rejectFollow(locked, dan.id);
    await peer.inbox.waitFor((e) => e.activity?.type === "Reject");
    await peer.inbox.waitFor((e) => e.activity?.type === "Accept" && e.activity.actor === locked.actorId);
    expect(await driver.followers(locked)).toEqual([carol.id]);
    expect(peer.followState(carol, locked.actorId)).toBe("following");
    expect(peer.followState(dan, locked.actorId)).toBe("rejected");
    await expect(driver.acceptFollow(locked, dan.id)).rejects.toThrow(/no pending follow request/);
  });

  it("posts with Mastodon-style addressing for each visibility", async () => {
    await peer.follow(bob, account.actorId);
    await peer.inbox.waitFor((e) => e.activity?.type === "Accept" && e.activity.actor === account.actorId);
    const actor = probeActorOf(target, account);
    const expected = {
      public: { to: [PUBLIC], cc: [actor.followers] },
      unlisted: { to: [actor.followers], cc: [PUBLIC] },
      followers: { to: [actor.followers], cc: [] },
    } as const;
    for (const [visibility, addressing] of Object.entries(expected)) {
      const ref = await driver.post(account, {
        content: `${visibility} post`,
        visibility: visibility as "public",
      });
      const entry = await peer.inbox.waitFor((e) => (e.activity?.object as { id?: string })?.id === ref.uri);
      expect(entry.activity?.object).toMatchObject(addressing);
      expect(postViewOf(peer.receivedObject(ref.uri)!).visibility).toBe(visibility);
    }
  });

  it("sends a direct message to the mentioned actor only, with a Mention tag", async () => {
    const ref = await driver.post(account, { content: "psst", visibility: "direct", mentions: [bob.id] });
    const entry = await peer.inbox.waitFor((e) => (e.activity?.object as { id?: string })?.id === ref.uri);
    const note = entry.activity?.object as Record<string, unknown>;
    expect(note.to).toEqual([bob.id]);
    expect(note.cc).toEqual([]);
    expect(note.tag).toEqual([{ type: "Mention", href: bob.id, name: `@bob@${new URL(bob.id).host}` }]);
    expect(note.content).toContain(`href="${bob.id}"`);
    expect(postViewOf(note).visibility).toBe("direct");
  });

  it("posts content warnings, hashtags, replies, language and attachments", async () => {
    const parent = await peer.post(bob, { content: "parent" }, { to: [PUBLIC] });
    const parentId = (parent.object as { id: string }).id;
    const ref = await driver.post(account, {
      content: "plain text with https://example.test/link",
      contentWarning: "spoiler",
      hashtags: ["Fedi"],
      inReplyTo: parentId,
      language: "en",
      attachments: [{ mediaType: "image/png", url: "https://example.test/a.png", description: "a cat" }],
    });
    await peer.inbox.waitFor((e) => (e.activity?.object as { id?: string })?.id === ref.uri);
    const view = postViewOf(peer.receivedObject(ref.uri)!);
    expect(view).toMatchObject({
      contentWarning: "spoiler",
      sensitive: true,
      hashtags: ["fedi"],
      inReplyTo: parentId,
      language: "en",
      links: ["https://example.test/link"],
      attachments: [{ kind: "image", url: "https://example.test/a.png", description: "a cat" }],
    });
    expect(view.text).toContain("plain text with https://example.test/link");
    // The replied-to author is addressed, so the reply reaches them.
    expect((peer.receivedObject(ref.uri)!.cc as string[]).includes(bob.id)).toBe(true);
    await expect(
      driver.post(account, {
        content: "x",
        attachments: [{ mediaType: "image/png", data: new Uint8Array(1) }],
      }),
    ).rejects.toBeInstanceOf(UnsupportedError);
  });

  it("updates and deletes posts", async () => {
    const ref = await driver.post(account, { content: "before" });
    await peer.inbox.waitFor((e) => (e.activity?.object as { id?: string })?.id === ref.uri);
    await driver.update(account, ref, { content: "after" });
    await peer.inbox.waitFor((e) => e.activity?.type === "Update");
    expect(postViewOf(peer.receivedObject(ref.uri)!)).toMatchObject({ text: "after" });
    expect(postViewOf(peer.receivedObject(ref.uri)!).editedAt).toBeDefined();
    await driver.delete(account, ref);
    await peer.inbox.waitFor((e) => e.activity?.type === "Delete");
    expect(peer.receivedObject(ref.uri)).toBeNull();
    expect(await driver.lookupObject(account, ref.uri)).toBeNull();
  });

  it("likes, unlikes, announces and unannounces", async () => {
    const post = await peer.post(bob, { content: "react to me" }, { to: [PUBLIC] });
    const uri = (post.object as { id: string }).id;
    await driver.like(account, uri);
    await driver.announce(account, uri);
    await driver.unlike(account, uri);
    await driver.unannounce(account, uri);
    await peer.inbox.waitFor(
      (e) => e.activity?.type === "Undo" && (e.activity.object as { type?: string })?.type === "Announce",
    );
    const types = peer.inbox
      .query((e) => e.activity?.actor === account.actorId && e.method === "POST")
      .map((e) => [e.activity?.type, (e.activity?.object as { type?: string })?.type ?? e.activity?.object]);
    expect(types).toEqual(
      expect.arrayContaining([
        ["Like", uri],
        ["Announce", uri],
        ["Undo", "Like"],
        ["Undo", "Announce"],
      ]),
    );
    await expect(driver.unlike(account, uri)).rejects.toThrow(/no Like/);
  });

  it("looks up actors by id and by handle (WebFinger), and objects by URI", async () => {
    const byId = await driver.lookupActor(account, bob.id);
    expect(byId?.id).toBe(bob.id);
    const byHandle = await driver.lookupActor(account, `@${bob.handle}`);
    expect(byHandle?.id).toBe(bob.id);
    expect(await driver.lookupActor(account, `nobody@${new URL(peer.origin).host}`)).toBeNull();
    const post = await peer.post(bob, { content: "<p>look me up</p>" }, { to: [PUBLIC] });
    const uri = (post.object as { id: string }).id;
    expect(await driver.lookupObject(account, uri)).toMatchObject({
      uri,
      text: "look me up",
      author: bob.id,
    });
  });

  it("shows received posts, the timeline newest first, and notifications", async () => {
    const first = await peer.post(bob, { content: "first" }, { to: [PUBLIC], cc: [bob.followers] });
    const second = await peer.post(
      bob,
      {
        content: "second",
        tag: [{ type: "Mention", href: account.actorId }],
      },
      { to: [PUBLIC], cc: [bob.followers, account.actorId] },
    );
    await target.inbox.waitFor((e) => e.activity?.id === second.id);
    const firstId = (first.object as { id: string }).id;
    const secondId = (second.object as { id: string }).id;
    expect(await driver.receivedPost(account, firstId)).toMatchObject({ uri: firstId, text: "first" });
    expect(await driver.receivedPost(account, "https://nowhere.test/x")).toBeNull();
    const timeline = (await driver.timeline(account)).map((p) => p.uri);
    expect(timeline.indexOf(secondId)).toBeLessThan(timeline.indexOf(firstId));
    const notifications = await driver.notifications(account);
    expect(notifications).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: "mention", actor: bob.id, object: secondId }),
        expect.objectContaining({ type: "follow", actor: bob.id }),
      ]),
    );
    // A like of one of alice's posts shows as a like.
    const mine = await driver.post(account, { content: "like this" });
    await peer.like(bob, mine.uri);
    await target.inbox.waitFor((e) => e.activity?.type === "Like" && e.activity.object === mine.uri);
    expect(await driver.notifications(account)).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: "like", actor: bob.id, object: mine.uri })]),
    );
  });

  it("posts raw AS2, filling only id, attributedTo and published", async () => {
    const ref = await driver.postRaw!(
      account,
      { type: "Article", name: "Title", content: "<p>body</p>", url: "https://example.test/article" },
      { to: [PUBLIC], cc: [probeActorOf(target, account).followers] },
    );
    const entry = await peer.inbox.waitFor((e) => (e.activity?.object as { id?: string })?.id === ref.uri);
    const object = entry.activity?.object as Record<string, unknown>;
    expect(object).toMatchObject({ type: "Article", name: "Title", attributedTo: account.actorId });
    expect(typeof object.published).toBe("string");
    expect(ref.uri.startsWith(target.origin)).toBe(true);
  });

  it("unfollows", async () => {
    await driver.unfollow(account, bob.id);
    await peer.inbox.waitFor((e) => e.activity?.type === "Undo" && e.activity.actor === account.actorId);
    expect(peer.followers(bob)).toEqual([]);
    expect(await driver.followState(account, bob.id)).toBe("none");
  });
});
