/**
 * Driver for the Misskey API family (Misskey, Sharkey and other forks): every call is
 * `POST /api/<endpoint>` with the account's token as `i` in the JSON body. Maps the packed Note to
 * {@link PostView}.
 *
 * Facts it relies on (misskey-hub.net API docs and the server's source):
 * - Errors are `{"error": {"message", "code", "id", "kind", "info"?}}`; rate limits answer 429 with
 *   code `RATE_LIMIT_EXCEEDED` and, in current versions, `info.resetMs` (epoch ms) and `Retry-After`.
 * - The API serves notes as MFM `text`, never HTML; `uri` is set only on remote notes; local ones live
 *   at `<origin>/notes/<id>` and local actors at `<origin>/users/<id>`.
 * - `ap/show` answers from the database when it can and fetches otherwise, so it serves lookups but
 *   not {@link Driver.receivedPost}, which reads notes by id and scans the timeline and mentions.
 * - Upstream Misskey's `notes/update` only edits local-only notes (federated edits are disabled,
 *   misskey#11944); Sharkey edits with `notes/edit`.
 * @module
 */

import type { Dispatcher } from "undici";
import { FormData } from "undici";
import type { Capability } from "../core/model.ts";
import { ApiClient, ApiError, type RateLimitOptions } from "./api-http.ts";
import type {
  Account,
  AttachmentInput,
  Driver,
  FollowState,
  NotificationView,
  PostInput,
  PostRef,
  PostView,
  Visibility,
} from "./driver.ts";
import { UnsupportedError } from "./driver.ts";
import {
  attachmentKindFromMediaType,
  collapseWhitespace,
  extractHashtags,
  extractHashtagsFromText,
  extractLinks,
  extractUrlsFromText,
  htmlToPostText,
  htmlToText,
  looksLikeHtml,
  normaliseHashtag,
  plainTextToHtml,
  withMentionsAndTags,
} from "./normalise.ts";

/** A user as Misskey packs it (UserLite, plus `uri` on UserDetailed). */
export interface MisskeyUser {
  id: string;
  username: string;
  /** null for local users. */
  host: string | null;
  /** Actor id of remote users (UserDetailed only). */
  uri?: string | null;
  url?: string | null;
  isLocked?: boolean;
}

/** A drive file as Misskey packs it. */
export interface MisskeyDriveFile {
  id: string;
  name?: string;
  /** MIME type. */
  type: string;
  url: string;
  thumbnailUrl?: string | null;
  isSensitive: boolean;
  /** Alt text. */
  comment?: string | null;
}

/** A note as Misskey packs it, as far as the driver reads it. */
export interface MisskeyNote {
  id: string;
  createdAt: string;
  updatedAt?: string | null;
  userId: string;
  user: MisskeyUser;
  text: string | null;
  cw?: string | null;
  visibility: "public" | "home" | "followers" | "specified" | string;
  files?: MisskeyDriveFile[];
  fileIds?: string[];
  replyId?: string | null;
  reply?: MisskeyNote | null;
  renoteId?: string | null;
  renote?: MisskeyNote | null;
  /** User ids mentioned. */
  mentions?: string[];
  visibleUserIds?: string[];
  tags?: string[];
  /** Set on remote notes. */
  uri?: string | null;
  url?: string | null;
  reactions?: Record<string, number>;
  reactionCount?: number;
  renoteCount?: number;
  /** Not in upstream Misskey; used when a fork serves rendered HTML. */
  html?: string | null;
}

/** A notification as Misskey packs it. */
export interface MisskeyNotification {
  id: string;
  type: string;
  user?: MisskeyUser | null;
  userId?: string | null;
  note?: MisskeyNote | null;
}

interface ApShowResult {
  type: "User" | "Note";
  object: MisskeyUser | MisskeyNote;
}

/** Options of {@link createMisskeyApiDriver}. */
export interface MisskeyApiDriverOptions {
  /** `misskey`, `sharkey`…; picks default capabilities and the edit endpoint. */
  implementation: string;
  /** e.g. `https://a.test`. */
  origin: string;
  /** A token for any account not found in `tokens`. */
  token?: string;
  /** username → token (`i`). */
  tokens?: Record<string, string>;
  /** Creates an account and returns its token (see `provisioning.ts`). */
  provision?: (username: string) => Promise<{ token: string; username: string }>;
  /** undici dispatcher (host mapping, test CA). Default: a private Agent closed by `close()`. */
  dispatcher?: Dispatcher;
  /** Overrides the implementation's default capabilities ({@link misskeyApiCapabilities}). */
  capabilities?: Capability[];
  /** 429 handling. Default: wait as told, at most 60 s per call. */
  rateLimit?: RateLimitOptions;
  /** Per-request timeout in ms. Default 30 000. */
  timeoutMs?: number;
  /** Reaction sent by `like`. Default `❤` (what Misskey federates as a plain Like). */
  likeReaction?: string;
  /** Page size of timeline, mention and notification reads. Default 40. */
  pageSize?: number;
}

const COMMON_CAPABILITIES: readonly Capability[] = [
  "follow",
  "locked-accounts",
  "reject-follow",
  "post",
  "visibility-unlisted",
  "visibility-followers",
  "visibility-direct",
  "content-warning",
  "mentions",
  "hashtags",
  "replies",
  "delete",
  "like",
  "announce",
  "media-upload",
  "polls",
  "webfinger",
  "nodeinfo",
  "signature-cavage",
  "web-ui",
];

/** Default capabilities: Sharkey edits notes, upstream Misskey does not federate edits. */
export function misskeyApiCapabilities(implementation: string): Capability[] {
  const caps = [...COMMON_CAPABILITIES];
  if (implementation === "sharkey") caps.push("update");
  return caps;
}

const VISIBILITY_IN: Record<string, Visibility> = {
  public: "public",
  home: "unlisted",
  followers: "followers",
  specified: "direct",
};

const VISIBILITY_OUT: Record<Visibility, string> = {
  public: "public",
  unlisted: "home",
  followers: "followers",
  direct: "specified",
};

const NOTIFICATION_TYPES: Record<string, NotificationView["type"]> = {
  follow: "follow",
  receiveFollowRequest: "follow_request",
  mention: "mention",
  reply: "reply",
  reaction: "like",
  renote: "announce",
};

/** Error codes that mean "the server cannot find it" rather than a fault. */
const NOT_FOUND_CODES = /^(NO_SUCH_|FAILED_TO_RESOLVE_|REQUEST_FAILED|RESPONSE_INVALID|URI_NULL)/;
/** Error codes that mean the server will not edit the note. */
const NO_EDIT_CODES =
  /^(FEDARATED_NOTE_EDITING_TEMPORARILY_UNAVAILABLE|NO_SUCH_ENDPOINT|ROLE_PERMISSION_DENIED)$/;

/** The `code: message` of a Misskey error body. */
export function misskeyErrorText(body: unknown): string | undefined {
  const error = (body as { error?: unknown } | null)?.error;
  if (error && typeof error === "object") {
    const { code, message, info } = error as { code?: string; message?: string; info?: { reason?: string } };
    const text = [code, message].filter(Boolean).join(": ");
    return info?.reason ? `${text} (${info.reason})` : text || undefined;
  }
  return typeof body === "string" ? body.slice(0, 300) || undefined : undefined;
}

/** The wait (ms) a Misskey 429 body asks for: `info.resetMs` is epoch ms in current versions. */
export function misskeyRateLimitHint(body: unknown, now: number): number | undefined {
  const info = (body as { error?: { info?: { resetMs?: unknown } } } | null)?.error?.info;
  const resetMs = info?.resetMs;
  if (typeof resetMs !== "number" || !Number.isFinite(resetMs)) return undefined;
  // Older forks sent a duration; an epoch is far larger than any sane duration.
  return Math.max(0, resetMs > 1e12 ? resetMs - now : resetMs);
}

function errorCode(error: unknown): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return (error.body as { error?: { code?: string } } | null)?.error?.code;
}

interface AccountState {
  token: string;
  userId: string;
  actorId: string;
}

/** Creates a driver for a target of the Misskey API family. */
export function createMisskeyApiDriver(options: MisskeyApiDriverOptions): Driver {
  return new MisskeyApiDriver(options);
}

class MisskeyApiDriver implements Driver {
  readonly implementation: string;
  readonly capabilities: readonly Capability[];
  readonly #options: MisskeyApiDriverOptions;
  readonly #client: ApiClient;
  readonly #origin: string;
  readonly #accounts = new Map<string, AccountState>();
  /** actor id → user id, and user id → actor id. */
  readonly #userIds = new Map<string, string>();
  readonly #actorIds = new Map<string, string>();
  /** user id → user (to write mentions). */
  readonly #users = new Map<string, MisskeyUser>();
  /** note uri → note id, and note id → uri. */
  readonly #noteIds = new Map<string, string>();
  readonly #noteUris = new Map<string, string>();

  constructor(options: MisskeyApiDriverOptions) {
    this.implementation = options.implementation;
    this.capabilities = options.capabilities ?? misskeyApiCapabilities(options.implementation);
    this.#options = options;
    this.#origin = options.origin.replace(/\/+$/, "");
    this.#client = new ApiClient({
      implementation: options.implementation,
      origin: this.#origin,
      dispatcher: options.dispatcher,
      rateLimit: options.rateLimit,
      timeoutMs: options.timeoutMs,
      errorText: misskeyErrorText,
      rateLimitHint: misskeyRateLimitHint,
    });
  }

  get #pageSize(): number {
    return this.#options.pageSize ?? 40;
  }

  async provisionAccount(name: string): Promise<Account> {
    let token = this.#options.tokens?.[name];
    if (token === undefined && this.#options.provision) token = (await this.#options.provision(name)).token;
    token ??= this.#options.token;
    if (token === undefined) {
      throw new Error(
        `${this.implementation}: no token for account "${name}"; pass tokens, token or provision to the driver`,
      );
    }
    const me = await this.#api<MisskeyUser>(token, "i", {});
    const actorId = this.#actorIdOfLocal(me.id);
    this.#accounts.set(me.username, { token, userId: me.id, actorId });
    this.#rememberUser(me, actorId);
    return { username: me.username, handle: `${me.username}@${new URL(this.#origin).host}`, actorId };
  }

  async setLocked(account: Account, locked: boolean): Promise<void> {
    await this.#api(this.#token(account), "i/update", { isLocked: locked });
  }

  async follow(account: Account, actorId: string): Promise<void> {
    const userId = await this.#requireUserId(account, actorId);
    await this.#api(this.#token(account), "following/create", { userId });
  }

  async unfollow(account: Account, actorId: string): Promise<void> {
    const userId = await this.#requireUserId(account, actorId);
    const token = this.#token(account);
    const relation = await this.#relation(token, userId);
    if (relation.hasPendingFollowRequestFromYou) {
      await this.#api(token, "following/requests/cancel", { userId });
    } else {
      await this.#api(token, "following/delete", { userId });
    }
  }

  async followState(account: Account, actorId: string): Promise<FollowState> {
    const userId = await this.#requireUserId(account, actorId);
    const relation = await this.#relation(this.#token(account), userId);
    if (relation.isFollowing) return "following";
    if (relation.hasPendingFollowRequestFromYou) return "pending";
    return "none";
  }

  async followers(account: Account): Promise<string[]> {
    const state = this.#state(account);
    const rows = await this.#api<Array<{ follower?: MisskeyUser }>>(state.token, "users/followers", {
      userId: state.userId,
      limit: 100,
    });
    return this.#actorIdsOf(
      state.token,
      rows.flatMap((r) => (r.follower ? [r.follower] : [])),
    );
  }

  async followRequests(account: Account): Promise<string[]> {
    const token = this.#token(account);
    const rows = await this.#followRequestRows(token);
    return this.#actorIdsOf(
      token,
      rows.map((r) => r.follower),
    );
  }

  async acceptFollow(account: Account, followerActorId: string): Promise<void> {
    await this.#answerFollowRequest(account, followerActorId, "following/requests/accept");
  }

  async rejectFollow(account: Account, followerActorId: string): Promise<void> {
    await this.#answerFollowRequest(account, followerActorId, "following/requests/reject");
  }

  async post(account: Account, input: PostInput): Promise<PostRef> {
    const token = this.#token(account);
    const body: Record<string, unknown> = { text: await this.#noteText(account, input) };
    if (input.visibility) body.visibility = VISIBILITY_OUT[input.visibility];
    if (input.contentWarning) body.cw = input.contentWarning;
    if (input.visibility === "direct") {
      body.visibleUserIds = await Promise.all(
        (input.mentions ?? []).map((a) => this.#requireUserId(account, a)),
      );
    }
    if (input.inReplyTo) body.replyId = await this.#requireNoteId(account, input.inReplyTo);
    if (input.attachments?.length)
      body.fileIds = await this.#uploadAll(token, input.attachments, input.sensitive);
    const { createdNote } = await this.#api<{ createdNote: MisskeyNote }>(token, "notes/create", body);
    return this.#ref(createdNote);
  }

  async update(account: Account, ref: PostRef, input: PostInput): Promise<void> {
    if (!this.capabilities.includes("update")) throw new UnsupportedError(this.implementation, "update");
    const token = this.#token(account);
    const text = await this.#noteText(account, input);
    try {
      if (this.implementation === "sharkey") {
        // notes/edit rewrites the note: carry over what the caller leaves out.
        const current = await this.#api<MisskeyNote>(token, "notes/show", { noteId: ref.localId });
        const body: Record<string, unknown> = {
          editId: ref.localId,
          text,
          cw: input.contentWarning ?? current.cw ?? null,
          visibility: current.visibility,
          replyId: current.replyId ?? null,
        };
        if (current.visibleUserIds?.length) body.visibleUserIds = current.visibleUserIds;
        const fileIds = input.attachments
          ? await this.#uploadAll(token, input.attachments, input.sensitive)
          : (current.fileIds ?? []);
        if (fileIds.length > 0) body.fileIds = fileIds;
        await this.#api(token, "notes/edit", body);
      } else {
        const current = await this.#api<MisskeyNote>(token, "notes/show", { noteId: ref.localId });
        await this.#api(token, "notes/update", {
          noteId: ref.localId,
          text,
          cw: input.contentWarning ?? current.cw ?? null,
        });
      }
    } catch (error) {
      const code = errorCode(error);
      if (code && NO_EDIT_CODES.test(code))
        throw new UnsupportedError(this.implementation, `update (${code})`);
      throw error;
    }
  }

  async delete(account: Account, ref: PostRef): Promise<void> {
    await this.#api(this.#token(account), "notes/delete", { noteId: ref.localId });
  }

  async like(account: Account, objectUri: string): Promise<void> {
    const noteId = await this.#requireNoteId(account, objectUri);
    await this.#api(this.#token(account), "notes/reactions/create", {
      noteId,
      reaction: this.#options.likeReaction ?? "❤",
    });
  }

  async unlike(account: Account, objectUri: string): Promise<void> {
    const noteId = await this.#requireNoteId(account, objectUri);
    await this.#api(this.#token(account), "notes/reactions/delete", { noteId });
  }

  async announce(account: Account, objectUri: string): Promise<void> {
    const renoteId = await this.#requireNoteId(account, objectUri);
    await this.#api(this.#token(account), "notes/create", { renoteId });
  }

  async unannounce(account: Account, objectUri: string): Promise<void> {
    const noteId = await this.#requireNoteId(account, objectUri);
    await this.#api(this.#token(account), "notes/unrenote", { noteId });
  }

  async lookupActor(account: Account, actorIdOrHandle: string): Promise<{ id: string; raw: unknown } | null> {
    const token = this.#token(account);
    const user = await this.#orNull(() => this.#findUser(token, actorIdOrHandle));
    if (!user) return null;
    return { id: (await this.#actorIdsOf(token, [user]))[0] ?? actorIdOrHandle, raw: user };
  }

  async lookupObject(account: Account, uri: string): Promise<PostView | null> {
    const token = this.#token(account);
    const found = await this.#orNull(() => this.#api<ApShowResult>(token, "ap/show", { uri }));
    if (found?.type !== "Note") return null;
    return this.#view(token, found.object as MisskeyNote);
  }

  async receivedPost(account: Account, uri: string): Promise<PostView | null> {
    const token = this.#token(account);
    // 1. A note this driver has seen (or a local one) is read by id: NO_SUCH_NOTE means gone.
    const knownId = this.#noteIds.get(uri) ?? this.#localNoteId(uri);
    if (knownId !== undefined) {
      const note = await this.#orNull(() => this.#api<MisskeyNote>(token, "notes/show", { noteId: knownId }));
      if (note === null) return null;
      if (this.#uriOf(note) === uri || note.url === uri) return this.#view(token, note);
    }
    // 2. What the account was shown: its home timeline, then its mentions (specified notes land there).
    for (const endpoint of ["notes/timeline", "notes/mentions"]) {
      const notes = await this.#api<MisskeyNote[]>(token, endpoint, { limit: this.#pageSize });
      const found = notes
        .flatMap((n) => (n.renote && !n.text ? [n.renote] : [n]))
        .find((n) => this.#uriOf(n) === uri || n.url === uri);
      if (found) return this.#view(token, found);
    }
    return null;
  }

  async timeline(account: Account): Promise<PostView[]> {
    const token = this.#token(account);
    const notes = await this.#api<MisskeyNote[]>(token, "notes/timeline", { limit: this.#pageSize });
    // A pure renote shows the renoted note; the wrapper stays in `raw`.
    return Promise.all(
      notes.map((n) => (n.renote && !n.text ? this.#view(token, n.renote, n) : this.#view(token, n))),
    );
  }

  async notifications(account: Account): Promise<NotificationView[]> {
    const token = this.#token(account);
    const rows = await this.#api<MisskeyNotification[]>(token, "i/notifications", { limit: this.#pageSize });
    const actors = await this.#actorIdsOf(
      token,
      rows.flatMap((n) => (n.user ? [n.user] : [])),
    );
    let next = 0;
    return rows.map((n) => {
      const actor = n.user ? (actors[next++] ?? "") : "";
      // A renote notification carries the renote; the post concerned is the one renoted.
      const note = n.type === "renote" && n.note?.renote ? n.note.renote : n.note;
      return {
        type: NOTIFICATION_TYPES[n.type] ?? "other",
        actor,
        object: note ? this.#uriOf(note) : undefined,
        raw: n,
      };
    });
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  // --- helpers -------------------------------------------------------------------------------------

  /** `POST /api/<endpoint>` with `i`; a 204 answer gives null. */
  async #api<T>(token: string, endpoint: string, body: Record<string, unknown>): Promise<T> {
    return this.#client.call<T>({ method: "POST", path: `/api/${endpoint}`, json: { ...body, i: token } });
  }

  /** Runs a lookup; "not found" errors become null, other errors propagate. */
  async #orNull<T>(lookup: () => Promise<T>): Promise<T | null> {
    try {
      return await lookup();
    } catch (error) {
      if (
        error instanceof ApiError &&
        (error.status === 404 || NOT_FOUND_CODES.test(errorCode(error) ?? ""))
      ) {
        return null;
      }
      throw error;
    }
  }

  #state(account: Account): AccountState {
    const state = this.#accounts.get(account.username);
    if (!state) {
      throw new Error(
        `${this.implementation}: account "${account.username}" was not provisioned by this driver; ` +
          "call provisionAccount first",
      );
    }
    return state;
  }

  #token(account: Account): string {
    return this.#state(account).token;
  }

  #actorIdOfLocal(userId: string): string {
    return `${this.#origin}/users/${userId}`;
  }

  #rememberUser(user: MisskeyUser, actorId: string): void {
    this.#users.set(user.id, user);
    this.#userIds.set(actorId, user.id);
    this.#actorIds.set(user.id, actorId);
  }

  #uriOf(note: MisskeyNote): string {
    return note.uri ?? `${this.#origin}/notes/${note.id}`;
  }

  #ref(note: MisskeyNote): PostRef {
    const uri = this.#uriOf(note);
    this.#noteIds.set(uri, note.id);
    this.#noteUris.set(note.id, uri);
    return { localId: note.id, uri, url: note.url ?? uri };
  }

  #localNoteId(uri: string): string | undefined {
    const prefix = `${this.#origin}/notes/`;
    return uri.startsWith(prefix) ? uri.slice(prefix.length).split(/[/?#]/)[0] : undefined;
  }

  /** Actor ids of users, in order; remote users without `uri` are completed with one `users/show`. */
  async #actorIdsOf(token: string, users: MisskeyUser[]): Promise<string[]> {
    const missing = new Set<string>();
    for (const user of users) {
      if (this.#actorIds.has(user.id)) continue;
      if (user.host === null) this.#rememberUser(user, this.#actorIdOfLocal(user.id));
      else if (user.uri) this.#rememberUser(user, user.uri);
      else missing.add(user.id);
    }
    if (missing.size > 0) {
      const detailed = await this.#api<MisskeyUser[]>(token, "users/show", { userIds: [...missing] });
      for (const user of detailed) {
        if (user.uri) this.#rememberUser(user, user.uri);
        else if (user.host === null) this.#rememberUser(user, this.#actorIdOfLocal(user.id));
      }
    }
    // A remote user the server cannot describe keeps a readable stand-in rather than vanishing.
    return users.map((u) => this.#actorIds.get(u.id) ?? `acct:${u.username}@${u.host ?? ""}`);
  }

  async #findUser(token: string, actorIdOrHandle: string): Promise<MisskeyUser> {
    if (/^https?:\/\//i.test(actorIdOrHandle)) {
      const known = this.#userIds.get(actorIdOrHandle);
      const local = actorIdOrHandle.startsWith(`${this.#origin}/users/`)
        ? actorIdOrHandle.slice(`${this.#origin}/users/`.length)
        : undefined;
      const cached = this.#users.get(known ?? local ?? "");
      if (cached) return cached;
      if (local !== undefined) return this.#api<MisskeyUser>(token, "users/show", { userId: local });
      const found = await this.#api<ApShowResult>(token, "ap/show", { uri: actorIdOrHandle });
      if (found.type !== "User") {
        throw new Error(`${this.implementation}: ${actorIdOrHandle} is a ${found.type}, not an actor`);
      }
      const user = found.object as MisskeyUser;
      this.#rememberUser(user, user.uri ?? actorIdOrHandle);
      return user;
    }
    const [username, host] = actorIdOrHandle.replace(/^@/, "").split("@");
    const ownHosts = [new URL(this.#origin).host, new URL(this.#origin).hostname];
    return this.#api<MisskeyUser>(token, "users/show", {
      username,
      host: host === undefined || ownHosts.includes(host) ? null : host,
    });
  }

  async #requireUserId(account: Account, actorId: string): Promise<string> {
    const known = this.#userIds.get(actorId);
    if (known) return known;
    const user = await this.#findUser(this.#token(account), actorId);
    this.#userIds.set(actorId, user.id);
    this.#users.set(user.id, user);
    return user.id;
  }

  async #requireNoteId(account: Account, uri: string): Promise<string> {
    const known = this.#noteIds.get(uri) ?? this.#localNoteId(uri);
    if (known) return known;
    const found = await this.#api<ApShowResult>(this.#token(account), "ap/show", { uri });
    if (found.type !== "Note")
      throw new Error(`${this.implementation}: ${uri} is a ${found.type}, not a post`);
    const note = found.object as MisskeyNote;
    this.#noteIds.set(uri, note.id);
    return note.id;
  }

  async #relation(
    token: string,
    userId: string,
  ): Promise<{ isFollowing: boolean; hasPendingFollowRequestFromYou: boolean }> {
    return this.#api(token, "users/relation", { userId });
  }

  async #followRequestRows(token: string): Promise<Array<{ id: string; follower: MisskeyUser }>> {
    return this.#api(token, "following/requests/list", { limit: 100 });
  }

  async #answerFollowRequest(account: Account, followerActorId: string, endpoint: string): Promise<void> {
    const token = this.#token(account);
    const rows = await this.#followRequestRows(token);
    const actors = await this.#actorIdsOf(
      token,
      rows.map((r) => r.follower),
    );
    const index = actors.indexOf(followerActorId);
    const row = rows[index];
    if (index < 0 || !row) {
      throw new Error(
        `${this.implementation}: no pending follow request from ${followerActorId} to ${account.handle} ` +
          `(pending: ${actors.join(", ") || "none"})`,
      );
    }
    await this.#api(token, endpoint, { userId: row.follower.id });
  }

  /** The note text: MFM/plain text (simple HTML converted), with the mentions and hashtags asked for. */
  async #noteText(account: Account, input: PostInput): Promise<string> {
    const text = looksLikeHtml(input.content) ? htmlToPostText(input.content) : input.content;
    const handles: string[] = [];
    for (const actorId of input.mentions ?? []) {
      const userId = await this.#requireUserId(account, actorId);
      const user = this.#users.get(userId);
      if (!user) throw new Error(`${this.implementation} could not resolve the mentioned actor ${actorId}`);
      handles.push(user.host ? `@${user.username}@${user.host}` : `@${user.username}`);
    }
    return withMentionsAndTags(text, handles, input.hashtags ?? []);
  }

  async #uploadAll(token: string, attachments: AttachmentInput[], sensitive?: boolean): Promise<string[]> {
    const ids: string[] = [];
    for (const attachment of attachments) ids.push(await this.#upload(token, attachment, sensitive));
    return ids;
  }

  async #upload(token: string, attachment: AttachmentInput, sensitive?: boolean): Promise<string> {
    if (!attachment.data) {
      throw new Error(
        `${this.implementation} uploads media bytes; the attachment has no data (url-only input)`,
      );
    }
    const extension = attachment.mediaType.split("/")[1]?.replace(/[^a-z0-9]/gi, "") || "bin";
    const name = `upload.${extension}`;
    const form = new FormData();
    form.append("i", token);
    form.append("name", name);
    if (attachment.description) form.append("comment", attachment.description);
    // Misskey has no note-level "sensitive": the flag lives on each file.
    if (sensitive) form.append("isSensitive", "true");
    form.append("file", new Blob([attachment.data], { type: attachment.mediaType }), name);
    const file = await this.#client.call<MisskeyDriveFile>({
      method: "POST",
      path: "/api/drive/files/create",
      multipart: form,
    });
    return file.id;
  }

  async #replyUri(token: string, note: MisskeyNote): Promise<string | undefined> {
    if (note.reply) return this.#uriOf(note.reply);
    const id = note.replyId;
    if (!id) return undefined;
    const known = this.#noteUris.get(id);
    if (known) return known;
    const parent = await this.#orNull(() => this.#api<MisskeyNote>(token, "notes/show", { noteId: id }));
    if (!parent) return id;
    this.#ref(parent);
    return this.#uriOf(parent);
  }

  async #view(token: string, note: MisskeyNote, raw: unknown = note): Promise<PostView> {
    const ref = this.#ref(note);
    const text = note.text ?? "";
    const html = note.html ?? plainTextToHtml(text);
    const mentionIds = note.mentions ?? [];
    const [author, ...mentions] = await this.#actorIdsOf(token, [
      note.user,
      ...mentionIds.map((id) => this.#users.get(id) ?? { id, username: id, host: "" }),
    ]);
    const tags = (note.tags ?? []).map(normaliseHashtag);
    const files = note.files ?? [];
    const reactions = Object.values(note.reactions ?? {}).reduce((sum, n) => sum + n, 0);
    return {
      uri: ref.uri,
      localId: note.id,
      author: author ?? "",
      text: note.html ? htmlToText(note.html) : collapseWhitespace(text),
      html,
      contentWarning: note.cw ?? undefined,
      sensitive: files.some((f) => f.isSensitive),
      visibility: VISIBILITY_IN[note.visibility],
      attachments: files.map((f) => ({
        kind: attachmentKindFromMediaType(f.type),
        url: f.url,
        mediaType: f.type,
        description: f.comment ?? undefined,
      })),
      mentions,
      hashtags:
        tags.length > 0
          ? [...new Set(tags)]
          : note.html
            ? extractHashtags(html)
            : extractHashtagsFromText(text),
      links: note.html ? extractLinks(note.html) : extractUrlsFromText(text),
      inReplyTo: await this.#replyUri(token, note),
      editedAt: note.updatedAt ?? undefined,
      likes: note.reactionCount ?? reactions,
      announces: note.renoteCount,
      // Misskey renders every note it holds, remote ones included, at /notes/<id>.
      webUrl: `${this.#origin}/notes/${note.id}`,
      raw,
    };
  }
}
