/**
 * Driver for the Mastodon client API family: Mastodon, GoToSocial, Akkoma/Pleroma and others that
 * implement it. It acts through `/api/v1` and `/api/v2` with a bearer token per account and maps the
 * Status entity to {@link PostView}.
 *
 * Facts it relies on (docs.joinmastodon.org and the servers' source):
 * - `GET /api/v2/search` only resolves URLs when `resolve=true`; with `resolve=false` Mastodon never
 *   looks a URL up (GoToSocial does, in its own database). So {@link Driver.receivedPost} cannot rely on
 *   search alone and also reads statuses by id and scans the home timeline and mentions.
 * - `POST /api/v2/media` answers 202 with `url: null` while processing; `GET /api/v1/media/:id` answers
 *   206 until ready, then 200.
 * - Rate limits answer 429 with `X-RateLimit-Reset` (ISO 8601) and sometimes `Retry-After`.
 * - Mastodon behind plain http redirects API calls unless `X-Forwarded-Proto: https` is sent.
 * @module
 */
import { Agent, type Dispatcher, FormData, request } from "undici";
import type { Capability } from "../core/model.ts";
import { ApiClient, type ApiRequest, type RateLimitOptions } from "./api-http.ts";
import type {
  Account,
  AttachmentInput,
  AttachmentView,
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
  extractHashtags,
  extractLinks,
  htmlToPostText,
  htmlToText,
  looksLikeHtml,
  normaliseHashtag,
  withMentionsAndTags,
} from "./normalise.ts";

/** The Account entity, as far as the driver reads it. */
export interface MastodonAccount {
  id: string;
  username: string;
  /** `user` for local accounts, `user@domain` for remote ones. */
  acct: string;
  /** Profile page. */
  url?: string | null;
  /** ActivityPub actor id (Mastodon 4.2+; GoToSocial and older Mastodon lack it). */
  uri?: string | null;
  locked?: boolean;
  /** Akkoma/Pleroma put the actor id here. */
  pleroma?: { ap_id?: string } | null;
}

/** The MediaAttachment entity. */
export interface MastodonMediaAttachment {
  id: string;
  type: "image" | "video" | "gifv" | "audio" | "unknown" | string;
  url: string | null;
  preview_url?: string | null;
  remote_url?: string | null;
  description?: string | null;
}

/** The Status entity, as far as the driver reads it. */
export interface MastodonStatus {
  id: string;
  uri: string;
  url?: string | null;
  account: MastodonAccount;
  content: string;
  visibility: "public" | "unlisted" | "private" | "direct" | string;
  sensitive: boolean;
  spoiler_text: string;
  media_attachments: MastodonMediaAttachment[];
  mentions: Array<{ id: string; username: string; url: string; acct: string }>;
  tags: Array<{ name: string; url?: string }>;
  in_reply_to_id?: string | null;
  in_reply_to_account_id?: string | null;
  reblog?: MastodonStatus | null;
  language?: string | null;
  edited_at?: string | null;
  favourites_count?: number;
  reblogs_count?: number;
}

/** The Relationship entity. */
export interface MastodonRelationship {
  id: string;
  following: boolean;
  requested: boolean;
  followed_by?: boolean;
}

/** The Notification entity. */
export interface MastodonNotification {
  id: string;
  type: string;
  account: MastodonAccount;
  status?: MastodonStatus | null;
}

interface SearchResults {
  accounts: MastodonAccount[];
  statuses: MastodonStatus[];
}

/** What {@link MastodonApiDriverOptions.provision} hands back. */
export interface ProvisionedToken {
  token: string;
  username: string;
}

/** Options of {@link createMastodonApiDriver}. */
export interface MastodonApiDriverOptions {
  /** `mastodon`, `gotosocial`, `akkoma`, `pleroma`…; picks default capabilities and quirks. */
  implementation: string;
  /** e.g. `https://a.test`. */
  origin: string;
  /** A token to use for any account not found in `tokens` (single-account targets). */
  token?: string;
  /** username → token. */
  tokens?: Record<string, string>;
  /** Creates an account and mints its token (see `provisioning.ts`); used for names not in `tokens`. */
  provision?: (username: string) => Promise<ProvisionedToken>;
  /** undici dispatcher (host mapping, test CA). Default: a private Agent closed by `close()`. */
  dispatcher?: Dispatcher;
  /** Overrides the implementation's default capabilities ({@link mastodonApiCapabilities}). */
  capabilities?: Capability[];
  /** 429 handling. Default: wait as told, at most 60 s per call. */
  rateLimit?: RateLimitOptions;
  /** Media processing poll. Defaults: first after 250 ms, backing off to 2 s; give up after 60 s. */
  mediaPoll?: { intervalMs?: number; timeoutMs?: number };
  /** Per-request timeout in ms. Default 30 000. */
  timeoutMs?: number;
  /** Page size of timeline, notification and follower reads. Default 40. */
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
  "update",
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

/**
 * Default capabilities per implementation of the Mastodon API family. GoToSocial always signs fetches
 * (`authorized-fetch`); editing exists in Mastodon ≥3.5, GoToSocial ≥0.18, Pleroma/Akkoma ≥2.5.
 */
export function mastodonApiCapabilities(implementation: string): Capability[] {
  const caps = [...COMMON_CAPABILITIES];
  if (implementation === "gotosocial") caps.push("authorized-fetch");
  return caps;
}

const VISIBILITY_IN: Record<string, Visibility> = {
  public: "public",
  unlisted: "unlisted",
  private: "followers",
  direct: "direct",
};

const VISIBILITY_OUT: Record<Visibility, string> = {
  public: "public",
  unlisted: "unlisted",
  followers: "private",
  direct: "direct",
};

const NOTIFICATION_TYPES: Record<string, NotificationView["type"]> = {
  follow: "follow",
  follow_request: "follow_request",
  mention: "mention",
  favourite: "like",
  reblog: "announce",
};

interface AccountState {
  token: string;
  /** Id of the account in this server's API. */
  id: string;
  actorId: string;
}

/** Creates a driver for a target of the Mastodon client API family. */
export function createMastodonApiDriver(options: MastodonApiDriverOptions): Driver {
  return new MastodonApiDriver(options);
}

class MastodonApiDriver implements Driver {
  readonly implementation: string;
  readonly capabilities: readonly Capability[];
  readonly #options: MastodonApiDriverOptions;
  readonly #client: ApiClient;
  readonly #origin: string;
  readonly #accounts = new Map<string, AccountState>();
  /** actor id → API account id (ids are server-wide, so one cache serves every account). */
  readonly #accountIds = new Map<string, string>();
  /** API account id → actor id. */
  readonly #actorIds = new Map<string, string>();
  /** status uri → API status id, and back. */
  readonly #statusIds = new Map<string, string>();
  readonly #statusUris = new Map<string, string>();

  constructor(options: MastodonApiDriverOptions) {
    this.implementation = options.implementation;
    this.capabilities = options.capabilities ?? mastodonApiCapabilities(options.implementation);
    this.#options = options;
    this.#origin = options.origin.replace(/\/+$/, "");
    this.#client = new ApiClient({
      implementation: options.implementation,
      origin: this.#origin,
      dispatcher: options.dispatcher,
      rateLimit: options.rateLimit,
      timeoutMs: options.timeoutMs,
      // Mastodon answers plain-http API calls with a redirect to https unless told it sits behind TLS.
      headers: this.#origin.startsWith("http:") ? { "x-forwarded-proto": "https" } : undefined,
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
    const me = await this.#client.call<MastodonAccount>({
      method: "GET",
      path: "/api/v1/accounts/verify_credentials",
      token,
    });
    const actorId = await this.#actorId(me);
    this.#accounts.set(me.username, { token, id: me.id, actorId });
    return { username: me.username, handle: `${me.username}@${new URL(this.#origin).host}`, actorId };
  }

  async setLocked(account: Account, locked: boolean): Promise<void> {
    await this.#call({
      method: "PATCH",
      path: "/api/v1/accounts/update_credentials",
      form: { locked },
      token: this.#state(account).token,
    });
  }

  async follow(account: Account, actorId: string): Promise<void> {
    const id = await this.#requireAccountId(account, actorId);
    await this.#call({
      method: "POST",
      path: `/api/v1/accounts/${enc(id)}/follow`,
      token: this.#token(account),
    });
  }

  async unfollow(account: Account, actorId: string): Promise<void> {
    // Mastodon, GoToSocial and Akkoma withdraw a pending request through the same call.
    const id = await this.#requireAccountId(account, actorId);
    await this.#call({
      method: "POST",
      path: `/api/v1/accounts/${enc(id)}/unfollow`,
      token: this.#token(account),
    });
  }

  async followState(account: Account, actorId: string): Promise<FollowState> {
    const id = await this.#requireAccountId(account, actorId);
    const relationships = await this.#call<MastodonRelationship[]>({
      method: "GET",
      path: "/api/v1/accounts/relationships",
      query: { id: [id] },
      token: this.#token(account),
    });
    const rel = relationships.find((r) => r.id === id) ?? relationships[0];
    if (rel?.following) return "following";
    if (rel?.requested) return "pending";
    return "none";
  }

  async followers(account: Account): Promise<string[]> {
    const state = this.#state(account);
    const accounts = await this.#call<MastodonAccount[]>({
      method: "GET",
      path: `/api/v1/accounts/${enc(state.id)}/followers`,
      query: { limit: 80 },
      token: state.token,
    });
    return Promise.all(accounts.map((a) => this.#actorId(a)));
  }

  async followRequests(account: Account): Promise<string[]> {
    return Promise.all((await this.#followRequestAccounts(account)).map((a) => this.#actorId(a)));
  }

  async acceptFollow(account: Account, followerActorId: string): Promise<void> {
    await this.#answerFollowRequest(account, followerActorId, "authorize");
  }

  async rejectFollow(account: Account, followerActorId: string): Promise<void> {
    await this.#answerFollowRequest(account, followerActorId, "reject");
  }

  async post(account: Account, input: PostInput): Promise<PostRef> {
    const token = this.#token(account);
    const form: ApiRequest["form"] = {
      status: await this.#statusText(account, input),
      visibility: input.visibility ? VISIBILITY_OUT[input.visibility] : undefined,
      spoiler_text: input.contentWarning,
      sensitive: input.sensitive,
      language: input.language,
    };
    if (input.inReplyTo) form.in_reply_to_id = await this.#requireStatusId(account, input.inReplyTo);
    if (input.attachments?.length) form.media_ids = await this.#uploadAll(token, input.attachments);
    const status = await this.#call<MastodonStatus>({
      method: "POST",
      path: "/api/v1/statuses",
      form,
      token,
    });
    this.#rememberStatus(status);
    return { localId: status.id, uri: status.uri, url: status.url ?? undefined };
  }

  async update(account: Account, ref: PostRef, input: PostInput): Promise<void> {
    if (!this.capabilities.includes("update")) throw new UnsupportedError(this.implementation, "update");
    const token = this.#token(account);
    const id = ref.localId;
    // PUT replaces the whole post: fields the caller leaves out are carried over from the current one.
    const current = await this.#call<MastodonStatus>({
      method: "GET",
      path: `/api/v1/statuses/${enc(id)}`,
      token,
    });
    let spoiler = input.contentWarning;
    if (spoiler === undefined) {
      const source = await this.#client.send({
        method: "GET",
        path: `/api/v1/statuses/${enc(id)}/source`,
        token,
        accept: [404],
      });
      spoiler =
        source.status === 200
          ? ((source.body as { spoiler_text?: string }).spoiler_text ?? "")
          : current.spoiler_text;
    }
    const mediaIds = input.attachments
      ? await this.#uploadAll(token, input.attachments)
      : current.media_attachments.map((m) => m.id);
    await this.#call({
      method: "PUT",
      path: `/api/v1/statuses/${enc(id)}`,
      form: {
        status: await this.#statusText(account, input),
        spoiler_text: spoiler,
        sensitive: input.sensitive ?? current.sensitive,
        language: input.language ?? current.language ?? undefined,
        media_ids: mediaIds,
      },
      token,
    });
  }

  async delete(account: Account, ref: PostRef): Promise<void> {
    await this.#call({
      method: "DELETE",
      path: `/api/v1/statuses/${enc(ref.localId)}`,
      token: this.#token(account),
    });
  }

  async like(account: Account, objectUri: string): Promise<void> {
    await this.#statusAction(account, objectUri, "favourite");
  }

  async unlike(account: Account, objectUri: string): Promise<void> {
    await this.#statusAction(account, objectUri, "unfavourite");
  }

  async announce(account: Account, objectUri: string): Promise<void> {
    await this.#statusAction(account, objectUri, "reblog");
  }

  async unannounce(account: Account, objectUri: string): Promise<void> {
    await this.#statusAction(account, objectUri, "unreblog");
  }

  async lookupActor(account: Account, actorIdOrHandle: string): Promise<{ id: string; raw: unknown } | null> {
    const found = await this.#searchAccount(this.#token(account), actorIdOrHandle);
    return found ? { id: await this.#actorId(found), raw: found } : null;
  }

  async lookupObject(account: Account, uri: string): Promise<PostView | null> {
    const token = this.#token(account);
    const status = await this.#searchStatus(token, uri, true);
    return status ? this.#view(token, status) : null;
  }

  async receivedPost(account: Account, uri: string): Promise<PostView | null> {
    const token = this.#token(account);
    // 1. A status this driver has seen before (or a local one) is read by id: 404 means gone.
    const knownId = this.#statusIds.get(uri) ?? this.#localStatusId(uri);
    if (knownId !== undefined) {
      const res = await this.#client.send({
        method: "GET",
        path: `/api/v1/statuses/${enc(knownId)}`,
        token,
        accept: [404],
      });
      if (res.status === 404) return null;
      const status = res.body as MastodonStatus;
      if (status.uri === uri || status.url === uri) return this.#view(token, status);
    }
    // 2. Search without resolving: GoToSocial looks the URL up in its database; Mastodon ignores it.
    const searched = await this.#searchStatus(token, uri, false);
    if (searched) return this.#view(token, searched);
    // 3. What the account was shown: its home timeline and its mentions (direct posts land there).
    const home = await this.#call<MastodonStatus[]>({
      method: "GET",
      path: "/api/v1/timelines/home",
      query: { limit: this.#pageSize },
      token,
    });
    const inHome = home.map((s) => s.reblog ?? s).find((s) => s.uri === uri || s.url === uri);
    if (inHome) return this.#view(token, inHome);
    const mentions = await this.#call<MastodonNotification[]>({
      method: "GET",
      path: "/api/v1/notifications",
      query: { limit: this.#pageSize, types: ["mention"] },
      token,
    });
    const inMentions = mentions.map((n) => n.status).find((s) => s && (s.uri === uri || s.url === uri));
    return inMentions ? this.#view(token, inMentions) : null;
  }

  async timeline(account: Account): Promise<PostView[]> {
    const token = this.#token(account);
    const statuses = await this.#call<MastodonStatus[]>({
      method: "GET",
      path: "/api/v1/timelines/home",
      query: { limit: this.#pageSize },
      token,
    });
    // A boost shows the boosted post; the wrapper stays in `raw`.
    return Promise.all(statuses.map((s) => this.#view(token, s.reblog ?? s, s)));
  }

  async notifications(account: Account): Promise<NotificationView[]> {
    const notes = await this.#call<MastodonNotification[]>({
      method: "GET",
      path: "/api/v1/notifications",
      query: { limit: this.#pageSize },
      token: this.#token(account),
    });
    return Promise.all(
      notes.map(async (n) => ({
        type: NOTIFICATION_TYPES[n.type] ?? "other",
        actor: await this.#actorId(n.account),
        object: n.status?.uri,
        raw: n,
      })),
    );
  }

  async close(): Promise<void> {
    await this.#client.close();
    const agent = this.#webfingerAgent;
    this.#webfingerAgent = undefined;
    await agent?.close();
  }

  // --- helpers -------------------------------------------------------------------------------------

  #call<T>(req: ApiRequest): Promise<T> {
    return this.#client.call<T>(req);
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

  #remember(accountId: string, actorId: string): void {
    this.#accountIds.set(actorId, accountId);
    this.#actorIds.set(accountId, actorId);
  }

  #rememberStatus(status: MastodonStatus): void {
    this.#statusIds.set(status.uri, status.id);
    if (status.url) this.#statusIds.set(status.url, status.id);
    this.#statusUris.set(status.id, status.uri);
  }

  /**
   * The actor id of an Account entity: `uri` (Mastodon 4.2+), Akkoma's `pleroma.ap_id`, the
   * `/users/<name>` pattern all three servers use for local actors, else (GoToSocial's remote accounts)
   * a WebFinger lookup of `acct`, and as a last resort the profile URL.
   */
  async #actorId(account: MastodonAccount): Promise<string> {
    const known = this.#actorIds.get(account.id);
    if (known) return known;
    const id =
      account.uri ??
      account.pleroma?.ap_id ??
      (account.acct.includes("@")
        ? await this.#webfinger(account)
        : `${this.#origin}/users/${account.username}`) ??
      account.url ??
      account.acct;
    this.#remember(account.id, id);
    return id;
  }

  #webfingerAgent: Agent | undefined;

  /** The `self` link of `acct:<acct>` at the account's web host; undefined when that fails. */
  async #webfinger(account: MastodonAccount): Promise<string | undefined> {
    if (!account.url) return undefined;
    let origin: string;
    try {
      origin = new URL(account.url).origin;
    } catch {
      return undefined;
    }
    if (!this.#options.dispatcher && !this.#webfingerAgent) this.#webfingerAgent = new Agent();
    const dispatcher = this.#options.dispatcher ?? this.#webfingerAgent;
    const resource = encodeURIComponent(`acct:${account.acct}`);
    try {
      const res = await request(`${origin}/.well-known/webfinger?resource=${resource}`, {
        dispatcher,
        headers: { accept: "application/jrd+json, application/json" },
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        return undefined;
      }
      const jrd = (await res.body.json()) as {
        links?: Array<{ rel?: string; type?: string; href?: string }>;
      };
      return jrd.links?.find(
        (l) => l.rel === "self" && /activity\+json|ld\+json/.test(l.type ?? "") && typeof l.href === "string",
      )?.href;
    } catch {
      return undefined;
    }
  }

  /** The API id of a status of this server, from its uri (`…/users/x/statuses/<id>` or `…/@x/<id>`). */
  #localStatusId(uri: string): string | undefined {
    if (!uri.startsWith(`${this.#origin}/`)) return undefined;
    const match = /\/(?:users\/[^/]+\/statuses|@[^/]+)\/([^/?#]+)$/.exec(uri);
    return match?.[1];
  }

  async #searchAccount(token: string, actorIdOrHandle: string): Promise<MastodonAccount | undefined> {
    const isUrl = /^https?:\/\//i.test(actorIdOrHandle);
    const q = isUrl ? actorIdOrHandle : actorIdOrHandle.replace(/^@?/, "@");
    const results = await this.#call<SearchResults>({
      method: "GET",
      path: "/api/v2/search",
      query: { q, resolve: true, type: "accounts", limit: 5 },
      token,
    });
    const accounts = results.accounts ?? [];
    const wanted = q.replace(/^@/, "").toLowerCase();
    const { host, hostname } = new URL(this.#origin);
    // Local accounts have a bare `acct`; remote ones `user@domain` (the WebFinger domain, no port).
    const matchesHandle = (a: MastodonAccount) => {
      const acct = a.acct.toLowerCase();
      return acct.includes("@")
        ? acct === wanted
        : wanted === `${acct}@${host}` || wanted === `${acct}@${hostname}`;
    };
    const found =
      (isUrl
        ? accounts.find((a) => a.uri === actorIdOrHandle || a.url === actorIdOrHandle)
        : accounts.find(matchesHandle)) ?? (isUrl || accounts.length === 1 ? accounts[0] : undefined);
    // Searching by actor id tells which account it is, even when the entity has no `uri`.
    if (found && isUrl) this.#remember(found.id, actorIdOrHandle);
    return found;
  }

  async #requireAccountId(account: Account, actorId: string): Promise<string> {
    const known = this.#accountIds.get(actorId);
    if (known) return known;
    const found = await this.#searchAccount(this.#token(account), actorId);
    if (!found) {
      throw new Error(
        `${this.implementation} could not resolve the actor ${actorId} (search found no account)`,
      );
    }
    this.#accountIds.set(actorId, found.id);
    return found.id;
  }

  async #searchStatus(token: string, uri: string, resolve: boolean): Promise<MastodonStatus | undefined> {
    const results = await this.#call<SearchResults>({
      method: "GET",
      path: "/api/v2/search",
      query: { q: uri, resolve, type: "statuses", limit: 5 },
      token,
    });
    const statuses = results.statuses ?? [];
    // With resolve=true a URL query answers exactly the resolved object, whose uri may differ from
    // the URL given (a web page URL); without resolving, only an exact match counts.
    const found =
      statuses.find((s) => s.uri === uri || s.url === uri) ??
      (resolve && statuses.length === 1 ? statuses[0] : undefined);
    if (found) this.#rememberStatus(found);
    return found;
  }

  async #requireStatusId(account: Account, uri: string): Promise<string> {
    const known = this.#statusIds.get(uri);
    if (known) return known;
    const found = await this.#searchStatus(this.#token(account), uri, true);
    if (!found)
      throw new Error(`${this.implementation} could not resolve the post ${uri} (search found nothing)`);
    return found.id;
  }

  async #statusAction(account: Account, objectUri: string, action: string): Promise<void> {
    const id = await this.#requireStatusId(account, objectUri);
    await this.#call({
      method: "POST",
      path: `/api/v1/statuses/${enc(id)}/${action}`,
      token: this.#token(account),
    });
  }

  async #followRequestAccounts(account: Account): Promise<MastodonAccount[]> {
    return this.#call<MastodonAccount[]>({
      method: "GET",
      path: "/api/v1/follow_requests",
      query: { limit: 80 },
      token: this.#token(account),
    });
  }

  async #answerFollowRequest(account: Account, followerActorId: string, answer: "authorize" | "reject") {
    const requests = await this.#followRequestAccounts(account);
    const actorIds = await Promise.all(requests.map((a) => this.#actorId(a)));
    let from = requests[actorIds.indexOf(followerActorId)];
    if (!from && requests.length > 0) {
      // The entity may lack `uri`: ask the server which account the actor id is.
      const id = await this.#requireAccountId(account, followerActorId).catch(() => undefined);
      from = requests.find((a) => a.id === id);
    }
    if (!from) {
      const pending = actorIds.join(", ") || "none";
      throw new Error(
        `${this.implementation}: no pending follow request from ${followerActorId} to ${account.handle} ` +
          `(pending: ${pending})`,
      );
    }
    await this.#call({
      method: "POST",
      path: `/api/v1/follow_requests/${enc(from.id)}/${answer}`,
      token: this.#token(account),
    });
  }

  /** The `status` text: plain text (simple HTML converted), with the mentions and hashtags asked for. */
  async #statusText(account: Account, input: PostInput): Promise<string> {
    const text = looksLikeHtml(input.content) ? htmlToPostText(input.content) : input.content;
    const handles: string[] = [];
    for (const actorId of input.mentions ?? []) {
      const found = await this.#searchAccount(this.#token(account), actorId);
      if (!found) throw new Error(`${this.implementation} could not resolve the mentioned actor ${actorId}`);
      handles.push(`@${found.acct}`);
    }
    return withMentionsAndTags(text, handles, input.hashtags ?? []);
  }

  async #uploadAll(token: string, attachments: AttachmentInput[]): Promise<string[]> {
    const ids: string[] = [];
    for (const attachment of attachments) ids.push(await this.#upload(token, attachment));
    return ids;
  }

  async #upload(token: string, attachment: AttachmentInput): Promise<string> {
    if (!attachment.data) {
      throw new Error(
        `${this.implementation} uploads media bytes; the attachment has no data (url-only input)`,
      );
    }
    const form = new FormData();
    const extension = attachment.mediaType.split("/")[1]?.replace(/[^a-z0-9]/gi, "") || "bin";
    form.append("file", new Blob([attachment.data], { type: attachment.mediaType }), `upload.${extension}`);
    if (attachment.description) form.append("description", attachment.description);
    const res = await this.#client.send({ method: "POST", path: "/api/v2/media", multipart: form, token });
    const media = res.body as MastodonMediaAttachment;
    if (res.status === 202 || media.url === null) await this.#waitForMedia(token, media.id);
    return media.id;
  }

  /**
   * Polls `GET /api/v1/media/:id` until it answers 200 (206 means still processing), with backoff
   * (the interval doubles up to 8× the first) within the budget: the API offers no event to wait on.
   */
  async #waitForMedia(token: string, id: string): Promise<void> {
    const first = this.#options.mediaPoll?.intervalMs ?? 250;
    let interval = first;
    const deadline = Date.now() + (this.#options.mediaPoll?.timeoutMs ?? 60_000);
    for (;;) {
      const res = await this.#client.send({
        method: "GET",
        path: `/api/v1/media/${enc(id)}`,
        token,
        accept: [206],
      });
      if (res.status === 200 && (res.body as MastodonMediaAttachment).url !== null) return;
      if (Date.now() + interval > deadline) {
        throw new Error(`${this.implementation}: media ${id} was still processing when the poll timed out`);
      }
      await new Promise((r) => setTimeout(r, interval));
      interval = Math.min(interval * 2, first * 8);
    }
  }

  async #mentionActorId(token: string, mention: MastodonStatus["mentions"][number]): Promise<string> {
    const known = this.#actorIds.get(mention.id);
    if (known) return known;
    const res = await this.#client.send({
      method: "GET",
      path: `/api/v1/accounts/${enc(mention.id)}`,
      token,
      accept: [404],
    });
    // Without the account entity the profile URL is the best id there is.
    return res.status === 200 ? this.#actorId(res.body as MastodonAccount) : mention.url;
  }

  async #replyUri(token: string, status: MastodonStatus): Promise<string | undefined> {
    const id = status.in_reply_to_id;
    if (!id) return undefined;
    const known = this.#statusUris.get(id);
    if (known) return known;
    const res = await this.#client.send({
      method: "GET",
      path: `/api/v1/statuses/${enc(id)}`,
      token,
      accept: [404],
    });
    if (res.status !== 200) return id;
    const parent = res.body as MastodonStatus;
    this.#rememberStatus(parent);
    return parent.uri;
  }

  async #view(token: string, status: MastodonStatus, raw: unknown = status): Promise<PostView> {
    this.#rememberStatus(status);
    const mentions = await Promise.all((status.mentions ?? []).map((m) => this.#mentionActorId(token, m)));
    const tags = (status.tags ?? []).map((t) => normaliseHashtag(t.name));
    return {
      uri: status.uri,
      localId: status.id,
      author: await this.#actorId(status.account),
      text: htmlToText(status.content ?? ""),
      html: status.content ?? "",
      contentWarning: status.spoiler_text ? status.spoiler_text : undefined,
      sensitive: Boolean(status.sensitive),
      visibility: VISIBILITY_IN[status.visibility],
      attachments: (status.media_attachments ?? []).map(toAttachmentView),
      mentions,
      hashtags: tags.length > 0 ? [...new Set(tags)] : extractHashtags(status.content ?? ""),
      links: extractLinks(status.content ?? ""),
      inReplyTo: await this.#replyUri(token, status),
      editedAt: status.edited_at ?? undefined,
      language: status.language ?? undefined,
      likes: status.favourites_count,
      announces: status.reblogs_count,
      webUrl: status.url ?? undefined,
      raw,
    };
  }
}

/** Maps a MediaAttachment to the normalised view (`url`, else the remote or preview URL). */
export function toAttachmentView(media: MastodonMediaAttachment): AttachmentView {
  const kinds: ReadonlyArray<AttachmentView["kind"]> = ["image", "video", "gifv", "audio"];
  const kind = (kinds as readonly string[]).includes(media.type)
    ? (media.type as AttachmentView["kind"])
    : "unknown";
  return {
    kind,
    url: media.url ?? media.remote_url ?? media.preview_url ?? "",
    description: media.description ?? undefined,
  };
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}
