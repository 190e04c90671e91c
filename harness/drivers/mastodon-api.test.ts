import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadShape, type ReplayServer, startReplayServer } from "../../fixtures/api-shapes/replay-server.ts";
import { ApiError, rateLimitWaitMs } from "./api-http.ts";
import type { Account, Driver } from "./driver.ts";
import {
  createMastodonApiDriver,
  type MastodonApiDriverOptions,
  mastodonApiCapabilities,
} from "./mastodon-api.ts";

const BOB = "https://remote.example/users/bob";
const BOB_ID = "110000000000000001";
const REMOTE_POST = "https://remote.example/users/bob/statuses/1";

let server: ReplayServer;
let driver: Driver;
let shape: (name: string, vars?: Record<string, string | number>) => ReturnType<typeof loadShape>;

async function setUp(options: Partial<MastodonApiDriverOptions> = {}): Promise<Account> {
  driver = createMastodonApiDriver({
    implementation: "mastodon",
    origin: server.origin,
    tokens: { alice: "tok-alice" },
    mediaPoll: { intervalMs: 5 },
    ...options,
  });
  server.on("GET", "/api/v1/accounts/verify_credentials", shape("account-verify-credentials"));
  return driver.provisionAccount("alice");
}

beforeEach(async () => {
  server = await startReplayServer();
  shape = (name, vars = {}) => loadShape("mastodon", name, { origin: server.origin, ...vars });
});

afterEach(async () => {
  await driver?.close(); // idempotent: a test that made no driver closes the previous one again
  await server.close();
});

/** The search the driver sent for `q`, as a plain object. */
function searches(q: string) {
  return server.sent("GET", "/api/v2/search").filter((r) => r.query.get("q") === q);
}

describe("accounts", () => {
  it("provisions with the account's token and derives handle and actor id", async () => {
    const alice = await setUp();
    const [req] = server.sent("GET", "/api/v1/accounts/verify_credentials");
    expect(req?.headers.authorization).toBe("Bearer tok-alice");
    // The origin is plain http: Mastodon needs to be told the request came through TLS.
    expect(req?.headers["x-forwarded-proto"]).toBe("https");
    expect(alice).toEqual({
      username: "alice",
      handle: `alice@${new URL(server.origin).host}`,
      actorId: `${server.origin}/users/alice`,
    });
  });

  it("asks the provision callback for names it has no token for", async () => {
    const asked: string[] = [];
    const alice = await setUp({
      tokens: {},
      provision: async (username) => {
        asked.push(username);
        return { token: "minted", username };
      },
    });
    expect(asked).toEqual(["alice"]);
    expect(alice.username).toBe("alice");
    expect(server.sent("GET", "/api/v1/accounts/verify_credentials")[0]?.headers.authorization).toBe(
      "Bearer minted",
    );
  });

  it("says how to give it a token when it has none", async () => {
    await expect(setUp({ tokens: {} })).rejects.toThrow(
      /no token for account "alice".*tokens, token or provision/,
    );
  });

  it("locks the account through update_credentials", async () => {
    const alice = await setUp();
    server.on("PATCH", "/api/v1/accounts/update_credentials", shape("account-updated-locked"));
    await driver.setLocked(alice, true);
    const [req] = server.sent("PATCH", "/api/v1/accounts/update_credentials");
    expect(req?.form?.get("locked")).toBe("true");
    expect(req?.headers.authorization).toBe("Bearer tok-alice");
  });

  it("turns a failed call into an error naming endpoint, status and the server's error", async () => {
    driver = createMastodonApiDriver({ implementation: "mastodon", origin: server.origin, token: "bad" });
    server.on("GET", "/api/v1/accounts/verify_credentials", shape("error-401"));
    const error = await driver.provisionAccount("alice").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect((error as ApiError).serverError).toBe("The access token is invalid");
    expect((error as Error).message).toBe(
      "mastodon GET /api/v1/accounts/verify_credentials answered 401: The access token is invalid " +
        "(check that the token is valid and has the scopes the call needs)",
    );
  });
});

describe("follows", () => {
  it("resolves the actor by search, then follows it by account id", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v2/search", shape("search-accounts"));
    server.on("POST", `/api/v1/accounts/${BOB_ID}/follow`, shape("relationship-requested"));
    await driver.follow(alice, BOB);
    const [search] = searches(BOB);
    expect(search?.query.get("resolve")).toBe("true");
    expect(search?.query.get("type")).toBe("accounts");
    expect(server.sent("POST", `/api/v1/accounts/${BOB_ID}/follow`)).toHaveLength(1);
  });

  it("reads the follow state from relationships (requested → pending, following → following)", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v2/search", shape("search-accounts"));
    server.on("GET", "/api/v1/accounts/relationships", [
      shape("relationships-requested"),
      shape("relationships-following"),
    ]);
    expect(await driver.followState(alice, BOB)).toBe("pending");
    expect(await driver.followState(alice, BOB)).toBe("following");
    const [rel] = server.sent("GET", "/api/v1/accounts/relationships");
    expect(rel?.query.getAll("id[]")).toEqual([BOB_ID]);
    // The actor was resolved once and then remembered.
    expect(searches(BOB)).toHaveLength(1);
  });

  it("unfollows (which also withdraws a pending request)", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v2/search", shape("search-accounts"));
    server.on("POST", `/api/v1/accounts/${BOB_ID}/unfollow`, shape("relationship-none"));
    await driver.unfollow(alice, BOB);
    expect(server.sent("POST", `/api/v1/accounts/${BOB_ID}/unfollow`)).toHaveLength(1);
  });

  it("lists followers as actor ids, Akkoma's pleroma.ap_id included", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v1/accounts/109348323880467780/followers", shape("followers"));
    expect(await driver.followers(alice)).toEqual([BOB, "https://akkoma.example/users/dave"]);
  });

  it("accepts a follow request by the requester's actor id", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v1/follow_requests", shape("follow-requests"));
    server.on(
      "POST",
      "/api/v1/follow_requests/110000000000000002/authorize",
      shape("follow-request-authorized"),
    );
    expect(await driver.followRequests(alice)).toEqual(["https://gts.example/users/carol"]);
    await driver.acceptFollow(alice, "https://gts.example/users/carol");
    expect(server.sent("POST", "/api/v1/follow_requests/110000000000000002/authorize")).toHaveLength(1);
  });

  it("says who is pending when asked to reject someone who is not", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v1/follow_requests", shape("follow-requests"));
    server.on("GET", "/api/v2/search", shape("search-empty"));
    await expect(driver.rejectFollow(alice, BOB)).rejects.toThrow(
      /no pending follow request from https:\/\/remote\.example\/users\/bob .*pending: https:\/\/gts\.example\/users\/carol/,
    );
  });

  it("looks actors up by handle", async () => {
    const alice = await setUp({ implementation: "akkoma" });
    server.on("GET", "/api/v2/search", shape("search-accounts-akkoma"));
    const found = await driver.lookupActor(alice, "dave@akkoma.example");
    expect(found?.id).toBe("https://akkoma.example/users/dave");
    expect(searches("@dave@akkoma.example")).toHaveLength(1);
  });
});

describe("posting", () => {
  it("posts with mentions, tags, a reply target and processed media", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v2/search", (req) =>
      req.query.get("type") === "accounts" ? shape("search-accounts") : shape("search-statuses"),
    );
    server.on("POST", "/api/v2/media", shape("media-202"));
    server.on("GET", "/api/v1/media/110000000000000400", [
      shape("media-206"),
      shape("media-206"),
      shape("media-200"),
    ]);
    server.on("POST", "/api/v1/statuses", shape("status-created"));

    const ref = await driver.post(alice, {
      content: "Hi",
      visibility: "followers",
      contentWarning: "cw",
      sensitive: true,
      mentions: [BOB],
      hashtags: ["fedicheck"],
      inReplyTo: REMOTE_POST,
      language: "en",
      attachments: [
        { mediaType: "image/png", data: new Uint8Array([137, 80, 78, 71]), description: "alt text" },
      ],
    });

    const [upload] = server.sent("POST", "/api/v2/media");
    expect(upload?.parts).toEqual([
      { name: "file", filename: "upload.png", type: "image/png", size: 4 },
      { name: "description", value: "alt text" },
    ]);
    // 202 → polled until 200.
    expect(server.sent("GET", "/api/v1/media/110000000000000400")).toHaveLength(3);
    const [create] = server.sent("POST", "/api/v1/statuses");
    expect(Object.fromEntries(create?.form ?? [])).toEqual({
      status: "@bob@remote.example Hi #fedicheck",
      visibility: "private",
      spoiler_text: "cw",
      sensitive: "true",
      language: "en",
      in_reply_to_id: "110000000000000100",
      "media_ids[]": "110000000000000400",
    });
    expect(create?.headers.authorization).toBe("Bearer tok-alice");
    expect(searches(REMOTE_POST)[0]?.query.get("resolve")).toBe("true");
    expect(ref).toEqual({
      localId: "110000000000000300",
      uri: `${server.origin}/users/alice/statuses/110000000000000300`,
      url: `${server.origin}/@alice/110000000000000300`,
    });
  });

  it("sends simple HTML input as plain text with its links", async () => {
    const alice = await setUp();
    server.on("POST", "/api/v1/statuses", shape("status-created"));
    await driver.post(alice, { content: '<p>Read <a href="https://example.org/a">this</a></p><p>now</p>' });
    expect(server.sent("POST", "/api/v1/statuses")[0]?.form?.get("status")).toBe(
      "Read this https://example.org/a\n\nnow",
    );
  });

  it("turns a validation failure into a clear message", async () => {
    const alice = await setUp();
    server.on("POST", "/api/v1/statuses", shape("error-422"));
    await expect(driver.post(alice, { content: "" })).rejects.toThrow(
      "mastodon POST /api/v1/statuses answered 422: Validation failed: Text can't be blank",
    );
  });

  it("edits with PUT, carrying over the content warning, sensitivity and media it was not given", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v1/statuses/110000000000000300", shape("status-created"));
    server.on("GET", "/api/v1/statuses/110000000000000300/source", shape("status-source"));
    server.on("PUT", "/api/v1/statuses/110000000000000300", shape("status-created"));
    await driver.update(alice, { localId: "110000000000000300", uri: "x" }, { content: "Edited" });
    const [put] = server.sent("PUT", "/api/v1/statuses/110000000000000300");
    expect(Object.fromEntries(put?.form ?? [])).toEqual({
      status: "Edited",
      spoiler_text: "cw",
      sensitive: "true",
      language: "en",
      "media_ids[]": "110000000000000400",
    });
  });

  it("deletes by local id", async () => {
    const alice = await setUp();
    server.on("DELETE", "/api/v1/statuses/110000000000000300", shape("status-deleted"));
    await driver.delete(alice, { localId: "110000000000000300", uri: "x" });
    expect(server.sent("DELETE", "/api/v1/statuses/110000000000000300")).toHaveLength(1);
  });

  it("favourites and boosts a post found by URL search", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v2/search", shape("search-statuses"));
    server.on("POST", "/api/v1/statuses/110000000000000100/favourite", shape("status-favourited"));
    server.on("POST", "/api/v1/statuses/110000000000000100/unreblog", shape("status-remote-with-media"));
    await driver.like(alice, REMOTE_POST);
    await driver.unannounce(alice, REMOTE_POST);
    expect(server.sent("POST", "/api/v1/statuses/110000000000000100/favourite")).toHaveLength(1);
    expect(server.sent("POST", "/api/v1/statuses/110000000000000100/unreblog")).toHaveLength(1);
    expect(searches(REMOTE_POST)).toHaveLength(1);
  });
});

describe("reading", () => {
  it("maps a Status to the normalised view", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v2/search", shape("search-statuses"));
    server.on("GET", "/api/v1/statuses/110000000000000050", shape("status-local"));
    const view = await driver.lookupObject(alice, REMOTE_POST);
    expect(view).toMatchObject({
      uri: REMOTE_POST,
      localId: "110000000000000100",
      author: BOB,
      text: "@alice see https://example.org/articles/42 & more #Fedi #TestRun",
      contentWarning: "Spoilers: season 2",
      sensitive: true,
      visibility: "unlisted",
      // Mentioned accounts map to actor ids (alice is known from provisioning, so no extra call).
      mentions: [alice.actorId],
      hashtags: ["fedi", "testrun"],
      links: ["https://example.org/articles/42"],
      inReplyTo: `${server.origin}/users/alice/statuses/110000000000000050`,
      editedAt: "2025-03-02T10:05:00.000Z",
      language: "en",
      likes: 5,
      announces: 2,
      webUrl: "https://remote.example/@bob/1",
    });
    expect(view?.html).toContain('class="u-url mention"');
    expect(view?.attachments).toEqual([
      {
        kind: "image",
        url: `${server.origin}/system/cache/media_attachments/files/201/original/cat.jpg`,
        description: "A cat on a keyboard",
      },
      {
        kind: "video",
        url: `${server.origin}/system/cache/media_attachments/files/202/original/clip.mp4`,
        description: "A short clip",
      },
      { kind: "gifv", url: `${server.origin}/system/cache/media_attachments/files/203/original/loop.mp4` },
      {
        kind: "audio",
        url: `${server.origin}/system/cache/media_attachments/files/204/original/sound.mp3`,
        description: "Birdsong",
      },
      // Not cached by the server: the remote URL stands in.
      { kind: "unknown", url: "https://remote.example/media/notes.pdf", description: "A document" },
    ]);
    expect(server.sent("GET", "/api/v1/accounts/109348323880467780")).toHaveLength(0);
  });

  it("returns null from lookupObject when search finds nothing", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v2/search", shape("search-empty"));
    expect(await driver.lookupObject(alice, REMOTE_POST)).toBeNull();
  });

  it("receivedPost never resolves and returns null when the target holds no copy", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v2/search", shape("search-empty"));
    server.on("GET", "/api/v1/timelines/home", { status: 200, body: [] });
    server.on("GET", "/api/v1/notifications", { status: 200, body: [] });
    expect(await driver.receivedPost(alice, REMOTE_POST)).toBeNull();
    const sent = searches(REMOTE_POST);
    expect(sent.map((r) => r.query.get("resolve"))).toEqual(["false"]);
    expect(server.sent("GET", "/api/v1/notifications")[0]?.query.getAll("types[]")).toEqual(["mention"]);
  });

  it("receivedPost finds a post in the home timeline (Mastodon ignores resolve=false URL searches)", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v2/search", shape("search-empty"));
    server.on("GET", "/api/v1/timelines/home", shape("timeline-home"));
    server.on("GET", "/api/v1/statuses/110000000000000050", shape("status-local"));
    const view = await driver.receivedPost(alice, REMOTE_POST);
    expect(view?.localId).toBe("110000000000000100");
    expect(server.sent("GET", "/api/v1/notifications")).toHaveLength(0);
  });

  it("receivedPost reads a known post by id and reports null once it is gone", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v2/search", shape("search-statuses"));
    server.on("GET", "/api/v1/statuses/110000000000000050", shape("status-local"));
    await driver.lookupObject(alice, REMOTE_POST);
    server.on("GET", "/api/v1/statuses/110000000000000100", shape("error-404"));
    expect(await driver.receivedPost(alice, REMOTE_POST)).toBeNull();
    // Known by id: no search, no timeline scan.
    expect(searches(REMOTE_POST).filter((r) => r.query.get("resolve") === "false")).toHaveLength(0);
    expect(server.sent("GET", "/api/v1/timelines/home")).toHaveLength(0);
  });

  it("shows a boost in the timeline as the boosted post, keeping the wrapper raw", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v1/timelines/home", shape("timeline-home"));
    server.on("GET", "/api/v1/statuses/110000000000000050", shape("status-local"));
    const timeline = await driver.timeline(alice);
    expect(timeline.map((p) => p.uri)).toEqual([
      REMOTE_POST,
      `${server.origin}/users/alice/statuses/110000000000000050`,
    ]);
    expect(timeline[1]?.author).toBe(alice.actorId);
    expect(timeline[1]?.raw).toMatchObject({ id: "110000000000000500" });
    expect(server.sent("GET", "/api/v1/timelines/home")[0]?.query.get("limit")).toBe("40");
  });

  it("maps notifications", async () => {
    const alice = await setUp();
    server.on("GET", "/api/v1/notifications", shape("notifications"));
    const notes = await driver.notifications(alice);
    expect(notes.map(({ type, actor, object }) => ({ type, actor, object }))).toEqual([
      { type: "mention", actor: BOB, object: REMOTE_POST },
      { type: "follow", actor: "https://akkoma.example/users/dave", object: undefined },
      { type: "like", actor: BOB, object: `${server.origin}/users/alice/statuses/110000000000000050` },
      {
        type: "announce",
        actor: "https://akkoma.example/users/dave",
        object: `${server.origin}/users/alice/statuses/110000000000000050`,
      },
      { type: "follow_request", actor: "https://gts.example/users/carol", object: undefined },
      { type: "other", actor: BOB, object: REMOTE_POST },
    ]);
  });
});

describe("rate limits", () => {
  it("waits until X-RateLimit-Reset, then retries", async () => {
    const alice = await setUp();
    let resetAt = 0;
    server.on("POST", "/api/v1/statuses", () => {
      if (server.sent("POST", "/api/v1/statuses").length === 1) {
        resetAt = Date.now() + 150;
        return shape("rate-limited-429", { reset: new Date(resetAt).toISOString() });
      }
      return shape("status-created");
    });
    const ref = await driver.post(alice, { content: "Hi" });
    expect(ref.localId).toBe("110000000000000300");
    const attempts = server.sent("POST", "/api/v1/statuses");
    expect(attempts).toHaveLength(2);
    // The retry came no earlier than the reset time the server gave (10 ms of timer slack).
    expect(Date.now()).toBeGreaterThanOrEqual(resetAt - 10);
  });

  it("fails with a clear message when the server asks to wait beyond the budget", async () => {
    const alice = await setUp({ rateLimit: { maxWaitMs: 100 } });
    server.on("POST", "/api/v1/statuses", () =>
      shape("rate-limited-429", { reset: new Date(Date.now() + 60_000).toISOString() }),
    );
    const started = Date.now();
    await expect(driver.post(alice, { content: "Hi" })).rejects.toThrow(
      /answered 429: Too many requests \(rate-limited; the server asks for \d+ ms more, beyond the 100 ms budget/,
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(server.sent("POST", "/api/v1/statuses")).toHaveLength(1);
  });

  it("reads the documented header forms", () => {
    const now = Date.parse("2025-03-02T10:00:00.000Z");
    expect(rateLimitWaitMs({ "x-ratelimit-reset": "2025-03-02T10:00:02.500Z" }, now)).toBe(2_500);
    expect(rateLimitWaitMs({ "retry-after": "3" }, now)).toBe(3_000);
    expect(rateLimitWaitMs({ "retry-after": "Sun, 02 Mar 2025 10:00:04 GMT" }, now)).toBe(4_000);
    expect(rateLimitWaitMs({ "x-ratelimit-reset": String(now / 1000 + 5) }, now)).toBe(5_000);
    // A server clock 1 h ahead: absolute times are read against its Date header.
    expect(
      rateLimitWaitMs(
        { date: "Sun, 02 Mar 2025 11:00:00 GMT", "x-ratelimit-reset": "2025-03-02T11:00:01.000Z" },
        now,
      ),
    ).toBe(1_000);
    expect(rateLimitWaitMs({}, now)).toBeUndefined();
  });
});

describe("GoToSocial", () => {
  it("finds received posts with a resolve=false search", async () => {
    const alice = await setUp({ implementation: "gotosocial" });
    const gts = (name: string) => loadShape("gotosocial", name, { origin: server.origin });
    server.on("GET", "/api/v2/search", gts("search-statuses-local"));
    const uri = "https://remote.example/users/bob/statuses/2";
    const view = await driver.receivedPost(alice, uri);
    expect(view?.text).toBe("Known to this server already");
    expect(searches(uri).map((r) => r.query.get("resolve"))).toEqual(["false"]);
    expect(server.sent("GET", "/api/v1/timelines/home")).toHaveLength(0);
  });

  it("gets the actor id of a remote account without `uri` from WebFinger", async () => {
    const remote = await startReplayServer();
    try {
      const gts = (name: string) =>
        loadShape("gotosocial", name, { origin: server.origin, remoteOrigin: remote.origin });
      driver = createMastodonApiDriver({
        implementation: "gotosocial",
        origin: server.origin,
        token: "tok-erin",
      });
      server.on("GET", "/api/v1/accounts/verify_credentials", gts("account-verify-credentials"));
      server.on("GET", "/api/v1/follow_requests", gts("follow-requests"));
      remote.on("GET", "/.well-known/webfinger", gts("webfinger-bob"));
      const erin = await driver.provisionAccount("erin");
      expect(erin.actorId).toBe(`${server.origin}/users/erin`);
      expect(await driver.followRequests(erin)).toEqual([BOB]);
      expect(remote.sent("GET", "/.well-known/webfinger")[0]?.query.get("resource")).toBe(
        "acct:bob@remote.example",
      );
      expect(driver.capabilities).toContain("authorized-fetch");
    } finally {
      await remote.close();
    }
  });
});

describe("capabilities", () => {
  it("declares what the Mastodon API family supports, and honours overrides", async () => {
    expect(mastodonApiCapabilities("mastodon")).toEqual(
      expect.arrayContaining(["follow", "update", "media-upload", "visibility-direct", "announce"]),
    );
    expect(mastodonApiCapabilities("mastodon")).not.toContain("raw-post");
    const alice = await setUp({ capabilities: ["post"] });
    expect(driver.capabilities).toEqual(["post"]);
    await expect(driver.update(alice, { localId: "1", uri: "x" }, { content: "x" })).rejects.toThrow(
      "mastodon does not support update",
    );
    expect(driver.postRaw).toBeUndefined();
  });
});
