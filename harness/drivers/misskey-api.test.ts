import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  loadShape,
  type RecordedRequest,
  type ReplayServer,
  startReplayServer,
} from "../../fixtures/api-shapes/replay-server.ts";
import { ApiError } from "./api-http.ts";
import { type Account, type Driver, UnsupportedError } from "./driver.ts";
import {
  createMisskeyApiDriver,
  type MisskeyApiDriverOptions,
  misskeyApiCapabilities,
  misskeyRateLimitHint,
} from "./misskey-api.ts";

const BOB = "https://remote.example/users/bob";
const CAROL = "https://gts.example/users/carol";
const REMOTE_NOTE = "https://remote.example/users/bob/statuses/1";

let server: ReplayServer;
let driver: Driver;
let shape: (name: string, vars?: Record<string, string | number>) => ReturnType<typeof loadShape>;

/** JSON bodies sent to `/api/<endpoint>`. */
function bodies(endpoint: string): Array<Record<string, unknown>> {
  return server.sent("POST", `/api/${endpoint}`).map((r: RecordedRequest) => r.json ?? {});
}

/** users/show answers one user by id/handle, or an array for `userIds`. */
function usersShow(req: RecordedRequest) {
  return Array.isArray(req.json?.userIds) ? shape("users-show-many") : shape("users-show-remote");
}

async function setUp(options: Partial<MisskeyApiDriverOptions> = {}): Promise<Account> {
  driver = createMisskeyApiDriver({
    implementation: "misskey",
    origin: server.origin,
    tokens: { alice: "tok-alice" },
    ...options,
  });
  server.on("POST", "/api/i", shape("i"));
  return driver.provisionAccount("alice");
}

beforeEach(async () => {
  server = await startReplayServer();
  shape = (name, vars = {}) => loadShape("misskey", name, { origin: server.origin, ...vars });
});

afterEach(async () => {
  await driver?.close(); // idempotent
  await server.close();
});

describe("accounts", () => {
  it("provisions with `i` in the JSON body; local actors are /users/<id>", async () => {
    const alice = await setUp();
    const [req] = server.sent("POST", "/api/i");
    expect(req?.json).toEqual({ i: "tok-alice" });
    expect(req?.headers.authorization).toBeUndefined();
    expect(alice).toEqual({
      username: "alice",
      handle: `alice@${new URL(server.origin).host}`,
      actorId: `${server.origin}/users/9x0alice00`,
    });
  });

  it("locks the account with i/update", async () => {
    const alice = await setUp();
    server.on("POST", "/api/i/update", shape("i"));
    await driver.setLocked(alice, true);
    expect(bodies("i/update")).toEqual([{ isLocked: true, i: "tok-alice" }]);
  });

  it("turns an error body into a message with endpoint, status, code and text", async () => {
    driver = createMisskeyApiDriver({ implementation: "misskey", origin: server.origin, token: "bad" });
    server.on("POST", "/api/i", shape("error-auth"));
    const error = await driver.provisionAccount("alice").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as Error).message).toBe(
      "misskey POST /api/i answered 401: AUTHENTICATION_FAILED: Authentication failed. Please ensure your " +
        "token is correct. (check that the token is valid and has the scopes the call needs)",
    );
  });
});

describe("follows", () => {
  it("resolves the actor with ap/show and follows by user id", async () => {
    const alice = await setUp();
    server.on("POST", "/api/ap/show", shape("ap-show-user"));
    server.on("POST", "/api/following/create", shape("following-create"));
    await driver.follow(alice, BOB);
    expect(bodies("ap/show")).toEqual([{ uri: BOB, i: "tok-alice" }]);
    expect(bodies("following/create")).toEqual([{ userId: "9x0bob0000", i: "tok-alice" }]);
  });

  it("reads users/relation and withdraws a pending request on unfollow", async () => {
    const alice = await setUp();
    server.on("POST", "/api/ap/show", shape("ap-show-user"));
    server.on("POST", "/api/users/relation", [
      shape("users-relation-pending"),
      shape("users-relation-pending"),
      shape("users-relation-following"),
    ]);
    server.on("POST", "/api/following/requests/cancel", shape("following-create"));
    expect(await driver.followState(alice, BOB)).toBe("pending");
    await driver.unfollow(alice, BOB);
    expect(bodies("following/requests/cancel")).toEqual([{ userId: "9x0bob0000", i: "tok-alice" }]);
    expect(bodies("following/delete")).toEqual([]);
    expect(await driver.followState(alice, BOB)).toBe("following");
    // Resolved once, then remembered.
    expect(bodies("ap/show")).toHaveLength(1);
  });

  it("lists followers and follow requests as actor ids, completing UserLite with users/show", async () => {
    const alice = await setUp();
    server.on("POST", "/api/users/followers", shape("users-followers"));
    server.on("POST", "/api/following/requests/list", shape("following-requests-list"));
    server.on("POST", "/api/users/show", usersShow);
    server.on("POST", "/api/following/requests/accept", { status: 204 });
    expect(await driver.followers(alice)).toEqual([BOB]);
    expect(bodies("users/followers")[0]).toMatchObject({ userId: "9x0alice00" });
    expect(await driver.followRequests(alice)).toEqual([CAROL]);
    expect(bodies("users/show")).toEqual([{ userIds: ["9x0carol00"], i: "tok-alice" }]);
    await driver.acceptFollow(alice, CAROL);
    expect(bodies("following/requests/accept")).toEqual([{ userId: "9x0carol00", i: "tok-alice" }]);
  });

  it("refuses to reject a follow request that is not pending", async () => {
    const alice = await setUp();
    server.on("POST", "/api/following/requests/list", shape("following-requests-list"));
    server.on("POST", "/api/users/show", usersShow);
    await expect(driver.rejectFollow(alice, BOB)).rejects.toThrow(
      `no pending follow request from ${BOB} to alice@${new URL(server.origin).host} (pending: ${CAROL})`,
    );
    expect(bodies("following/requests/reject")).toEqual([]);
  });

  it("looks users up by handle with users/show {username, host}", async () => {
    const alice = await setUp();
    server.on("POST", "/api/users/show", usersShow);
    const found = await driver.lookupActor(alice, "@bob@remote.example");
    expect(found?.id).toBe(BOB);
    expect(bodies("users/show")).toEqual([{ username: "bob", host: "remote.example", i: "tok-alice" }]);
  });

  it("returns null when the actor cannot be found", async () => {
    const alice = await setUp();
    server.on("POST", "/api/ap/show", shape("error-no-such-object"));
    expect(await driver.lookupActor(alice, "https://gone.example/users/x")).toBeNull();
  });
});

describe("posting", () => {
  it("posts a direct note with mentions, a reply target and an uploaded file", async () => {
    const alice = await setUp();
    server.on("POST", "/api/ap/show", (req) =>
      req.json?.uri === BOB ? shape("ap-show-user") : shape("ap-show-note"),
    );
    server.on("POST", "/api/drive/files/create", shape("drive-files-create"));
    server.on("POST", "/api/notes/create", shape("notes-create"));
    const ref = await driver.post(alice, {
      content: "Hi",
      visibility: "direct",
      contentWarning: "cw",
      sensitive: true,
      mentions: [BOB],
      hashtags: ["fedicheck"],
      inReplyTo: REMOTE_NOTE,
      attachments: [{ mediaType: "image/png", data: new Uint8Array(67), description: "alt text" }],
    });
    const [upload] = server.sent("POST", "/api/drive/files/create");
    // Fields before the file: Misskey's multipart reader only sees those.
    expect(upload?.parts).toEqual([
      { name: "i", value: "tok-alice" },
      { name: "name", value: "upload.png" },
      { name: "comment", value: "alt text" },
      { name: "isSensitive", value: "true" },
      { name: "file", filename: "upload.png", type: "image/png", size: 67 },
    ]);
    expect(bodies("notes/create")).toEqual([
      {
        text: "@bob@remote.example Hi #fedicheck",
        visibility: "specified",
        cw: "cw",
        visibleUserIds: ["9x0bob0000"],
        replyId: "9x0rnote00",
        fileIds: ["9x0file001"],
        i: "tok-alice",
      },
    ]);
    expect(ref).toEqual({
      localId: "9x0new0000",
      uri: `${server.origin}/notes/9x0new0000`,
      url: `${server.origin}/notes/9x0new0000`,
    });
  });

  it("maps visibility unlisted → home and leaves out what is not asked", async () => {
    const alice = await setUp();
    server.on("POST", "/api/notes/create", shape("notes-create"));
    await driver.post(alice, { content: "Hello", visibility: "unlisted" });
    expect(bodies("notes/create")).toEqual([{ text: "Hello", visibility: "home", i: "tok-alice" }]);
  });

  it("deletes, likes, renotes and undoes them by note id", async () => {
    const alice = await setUp();
    server.on("POST", "/api/ap/show", shape("ap-show-note"));
    for (const endpoint of [
      "notes/delete",
      "notes/reactions/create",
      "notes/reactions/delete",
      "notes/unrenote",
    ]) {
      server.on("POST", `/api/${endpoint}`, { status: 204 });
    }
    server.on("POST", "/api/notes/create", shape("notes-create"));
    await driver.delete(alice, { localId: "9x0new0000", uri: `${server.origin}/notes/9x0new0000` });
    await driver.like(alice, REMOTE_NOTE);
    await driver.unlike(alice, REMOTE_NOTE);
    await driver.announce(alice, REMOTE_NOTE);
    await driver.unannounce(alice, REMOTE_NOTE);
    expect(bodies("notes/delete")).toEqual([{ noteId: "9x0new0000", i: "tok-alice" }]);
    expect(bodies("notes/reactions/create")).toEqual([
      { noteId: "9x0rnote00", reaction: "❤", i: "tok-alice" },
    ]);
    expect(bodies("notes/reactions/delete")).toEqual([{ noteId: "9x0rnote00", i: "tok-alice" }]);
    expect(bodies("notes/create")).toEqual([{ renoteId: "9x0rnote00", i: "tok-alice" }]);
    expect(bodies("notes/unrenote")).toEqual([{ noteId: "9x0rnote00", i: "tok-alice" }]);
    expect(bodies("ap/show")).toHaveLength(1);
  });

  it("cannot edit on upstream Misskey: UnsupportedError without calling the server", async () => {
    const alice = await setUp();
    const error = await driver
      .update(alice, { localId: "9x0new0000", uri: "x" }, { content: "Edited" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedError);
    expect((error as UnsupportedError).operation).toBe("update");
    expect(server.requests.filter((r) => r.path !== "/api/i")).toEqual([]);
    expect(misskeyApiCapabilities("misskey")).not.toContain("update");
  });

  it("maps Misskey's refusal to edit a federated note to UnsupportedError", async () => {
    const alice = await setUp({ capabilities: [...misskeyApiCapabilities("misskey"), "update"] });
    server.on("POST", "/api/notes/show", shape("note-local"));
    server.on("POST", "/api/notes/update", shape("error-federated-edit"));
    const error = await driver
      .update(alice, { localId: "9x0lnote00", uri: "x" }, { content: "Edited" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedError);
    expect((error as Error).message).toContain("FEDARATED_NOTE_EDITING_TEMPORARILY_UNAVAILABLE");
    expect(bodies("notes/update")).toEqual([
      { noteId: "9x0lnote00", text: "Edited", cw: null, i: "tok-alice" },
    ]);
  });

  it("edits on Sharkey with notes/edit, keeping visibility and files", async () => {
    const alice = await setUp({ implementation: "sharkey" });
    server.on("POST", "/api/notes/edit", shape("notes-create"));
    // notes-create wraps the note: serve the inner note for notes/show.
    server.on("POST", "/api/notes/show", () => {
      const created = shape("notes-create").body as { createdNote: unknown };
      return { status: 200, body: created.createdNote };
    });
    await driver.update(alice, { localId: "9x0new0000", uri: "x" }, { content: "Edited" });
    expect(bodies("notes/edit")).toEqual([
      {
        editId: "9x0new0000",
        text: "Edited",
        cw: "cw",
        visibility: "specified",
        replyId: "9x0rnote00",
        visibleUserIds: ["9x0bob0000"],
        fileIds: ["9x0file001"],
        i: "tok-alice",
      },
    ]);
  });
});

describe("reading", () => {
  it("maps a remote note to the normalised view", async () => {
    const alice = await setUp();
    server.on("POST", "/api/ap/show", shape("ap-show-note"));
    server.on("POST", "/api/users/show", (req) =>
      Array.isArray(req.json?.userIds)
        ? { status: 200, body: [shape("users-show-remote").body] }
        : usersShow(req),
    );
    server.on("POST", "/api/notes/show", shape("note-local"));
    const view = await driver.lookupObject(alice, REMOTE_NOTE);
    expect(view).toMatchObject({
      uri: REMOTE_NOTE,
      localId: "9x0rnote00",
      author: BOB,
      text: "@alice see https://example.org/articles/42, and [the spec](https://www.w3.org/TR/activitypub/) #Fedi #TestRun",
      contentWarning: "Spoilers: season 2",
      sensitive: true,
      visibility: "unlisted",
      mentions: [alice.actorId],
      hashtags: ["fedi", "testrun"],
      links: ["https://www.w3.org/TR/activitypub/", "https://example.org/articles/42"],
      inReplyTo: `${server.origin}/notes/9x0lnote00`,
      editedAt: "2025-03-02T10:05:00.000Z",
      likes: 5,
      announces: 2,
      webUrl: `${server.origin}/notes/9x0rnote00`,
    });
    expect(view?.html).toContain('<a href="https://example.org/articles/42">');
    expect(view?.attachments).toEqual([
      {
        kind: "image",
        url: "https://remote.example/media/cat.jpg",
        mediaType: "image/jpeg",
        description: "A cat on a keyboard",
      },
      { kind: "video", url: "https://remote.example/media/clip.mp4", mediaType: "video/mp4" },
      {
        kind: "audio",
        url: "https://remote.example/media/sound.ogg",
        mediaType: "audio/ogg",
        description: "Birdsong",
      },
      { kind: "unknown", url: "https://remote.example/media/notes.pdf", mediaType: "application/pdf" },
    ]);
    // The author came as UserLite: one users/show completed it.
    expect(bodies("users/show")).toEqual([{ userIds: ["9x0bob0000"], i: "tok-alice" }]);
  });

  it("returns null from lookupObject when ap/show finds nothing", async () => {
    const alice = await setUp();
    server.on("POST", "/api/ap/show", shape("error-no-such-object"));
    expect(await driver.lookupObject(alice, REMOTE_NOTE)).toBeNull();
  });

  it("receivedPost never calls ap/show and returns null when the target holds no copy", async () => {
    const alice = await setUp();
    server.on("POST", "/api/notes/timeline", shape("notes-timeline-empty"));
    server.on("POST", "/api/notes/mentions", shape("notes-timeline-empty"));
    expect(await driver.receivedPost(alice, REMOTE_NOTE)).toBeNull();
    expect(bodies("ap/show")).toEqual([]);
    expect(bodies("notes/timeline")).toEqual([{ limit: 40, i: "tok-alice" }]);
    expect(bodies("notes/mentions")).toHaveLength(1);
  });

  it("receivedPost reads local notes by id and reports null once deleted", async () => {
    const alice = await setUp();
    server.on("POST", "/api/notes/show", [shape("note-local"), shape("error-no-such-note")]);
    const uri = `${server.origin}/notes/9x0lnote00`;
    expect((await driver.receivedPost(alice, uri))?.text).toBe("Hello from alice");
    expect(await driver.receivedPost(alice, uri)).toBeNull();
    expect(bodies("notes/show")).toEqual([
      { noteId: "9x0lnote00", i: "tok-alice" },
      { noteId: "9x0lnote00", i: "tok-alice" },
    ]);
    expect(bodies("notes/timeline")).toEqual([]);
  });

  it("shows a pure renote as the renoted note", async () => {
    const alice = await setUp();
    server.on("POST", "/api/notes/timeline", shape("notes-timeline"));
    server.on("POST", "/api/users/show", { status: 200, body: [shape("users-show-remote").body] });
    server.on("POST", "/api/notes/show", shape("note-local"));
    const timeline = await driver.timeline(alice);
    expect(timeline.map((p) => p.uri)).toEqual([REMOTE_NOTE, `${server.origin}/notes/9x0lnote00`]);
    expect(timeline[1]?.author).toBe(alice.actorId);
    expect(timeline[1]?.raw).toMatchObject({ id: "9x0renote0" });
  });

  it("maps notifications", async () => {
    const alice = await setUp();
    server.on("POST", "/api/i/notifications", shape("i-notifications"));
    server.on("POST", "/api/users/show", (req) => {
      const ids = (req.json?.userIds as string[]) ?? [];
      const users = [shape("users-show-remote").body, ...(shape("users-show-many").body as unknown[])];
      return { status: 200, body: users.filter((u) => ids.includes((u as { id: string }).id)) };
    });
    const notes = await driver.notifications(alice);
    const local = `${server.origin}/notes/9x0lnote00`;
    expect(notes.map(({ type, actor, object }) => ({ type, actor, object }))).toEqual([
      { type: "mention", actor: BOB, object: REMOTE_NOTE },
      { type: "follow", actor: BOB, object: undefined },
      { type: "like", actor: BOB, object: local },
      { type: "announce", actor: CAROL, object: local },
      { type: "follow_request", actor: CAROL, object: undefined },
      { type: "other", actor: "", object: undefined },
    ]);
    expect(bodies("users/show")).toHaveLength(1);
  });
});

describe("rate limits", () => {
  it("waits for info.resetMs, then retries", async () => {
    const alice = await setUp();
    let resetAt = 0;
    server.on("POST", "/api/notes/delete", () => {
      if (server.sent("POST", "/api/notes/delete").length === 1) {
        resetAt = Date.now() + 120;
        return shape("error-rate-limit-429", { resetMs: resetAt });
      }
      return { status: 204 };
    });
    await driver.delete(alice, { localId: "9x0new0000", uri: "x" });
    expect(server.sent("POST", "/api/notes/delete")).toHaveLength(2);
    // resetMs (120 ms away) wins over the coarser Retry-After: 1.
    expect(Date.now()).toBeGreaterThanOrEqual(resetAt - 10);
    expect(Date.now()).toBeLessThan(resetAt + 900);
  });

  it("reads resetMs as an epoch, or as a duration from older forks", () => {
    const now = 1_740_000_000_000;
    const body = (resetMs: number) => ({ error: { code: "RATE_LIMIT_EXCEEDED", info: { resetMs } } });
    expect(misskeyRateLimitHint(body(now + 2_000), now)).toBe(2_000);
    expect(misskeyRateLimitHint(body(1_500), now)).toBe(1_500);
    expect(misskeyRateLimitHint({ error: { code: "X" } }, now)).toBeUndefined();
  });
});

describe("capabilities", () => {
  it("declares what Misskey and Sharkey support and has no raw posting", async () => {
    await setUp();
    expect(driver.capabilities).toEqual(
      expect.arrayContaining([
        "follow",
        "visibility-direct",
        "content-warning",
        "like",
        "announce",
        "media-upload",
      ]),
    );
    expect(misskeyApiCapabilities("sharkey")).toContain("update");
    expect(driver.postRaw).toBeUndefined();
  });
});
