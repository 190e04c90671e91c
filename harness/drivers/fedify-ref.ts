/**
 * The driver of the fedify-ref reference server: talks to its control API (`/_control/`, JSON with
 * a bearer token) and turns the AS2 objects it holds into the normalised {@link PostView}.
 * @module
 */
import { Agent, type Dispatcher, request as undiciRequest } from "undici";
import type { Capability } from "../core/model.ts";
import { registerSecret } from "../core/redact.ts";
import { asArray, idOf, idsOf, isObject, type Json, typesOf } from "../protocol/as2.ts";
import type {
  Account,
  AttachmentView,
  Driver,
  FollowState,
  NotificationView,
  PostInput,
  PostRef,
  PostView,
  Visibility,
} from "./driver.ts";
import {
  attachmentViewOf,
  escapeHtml,
  extractHashtags,
  extractLinks,
  fromLanguageMap,
  htmlToText,
  normaliseHashtag,
  quoteOf,
  visibilityFromAddressing,
} from "./normalise.ts";

/**
 * What fedify-ref can do (as fixtures/profiles/fedify-ref.json declares). Posts may also carry
 * attachment bytes, which the server hosts, but media upload is left undeclared like the profile.
 */
export const FEDIFY_REF_CAPABILITIES: readonly Capability[] = [
  "follow",
  "locked-accounts",
  "reject-follow",
  "post",
  "raw-post",
  "visibility-unlisted",
  "visibility-followers",
  "visibility-direct",
  "content-warning",
  "mentions",
  "hashtags",
  "replies",
  "quotes",
  "update",
  "delete",
  "like",
  "announce",
  "webfinger",
  "nodeinfo",
  "signature-cavage",
  "signature-rfc9421",
  "web-ui",
];

/** Options of {@link createFedifyRefDriver}. */
export interface FedifyRefDriverOptions {
  /** Where the server listens, e.g. `http://127.0.0.1:40123` (its control API is under `/_control/`). */
  url: string;
  /** Bearer token of the control API. */
  token: string;
  /** CA certificate(s) (PEM) to trust for HTTPS. Default: the system store. */
  ca?: string | string[];
  /** An undici dispatcher to use instead (host mapping and the like); `ca` is then ignored. */
  dispatcher?: Dispatcher;
  /** Per-request timeout in ms. Default 30 000. */
  timeoutMs?: number;
  /** Implementation id to report. Default `fedify-ref`. */
  implementation?: string;
  /** The server runs with `--authorized-fetch`: declare the `authorized-fetch` capability. Default false. */
  authorizedFetch?: boolean;
}

/** A post record as the control API returns it (see fixtures/fedify-ref/control.ts). */
export interface FedifyRefPostRecord {
  uri: string;
  localId?: string;
  local: boolean;
  author?: string;
  object: Json;
  visibility?: Visibility;
  webUrl?: string;
  likes: number;
  announces: number;
  receivedAt?: string;
  updatedAt?: string;
  activityId?: string;
  boostedBy?: string;
  /** Options of a poll (`Question`); fedify-ref has no poll UI and shows them as text. */
  poll?: FedifyRefPoll;
}

/** A poll as the control API reports it (see `Poll` in fixtures/fedify-ref/as2.ts). */
export interface FedifyRefPoll {
  multiple: boolean;
  options: Array<{ name: string; votes?: number }>;
  endTime?: string;
  closed?: string;
}

/** The text fallback of a poll, as servers without polls show one: a list of its options. */
export function pollHtml(poll: FedifyRefPoll): string {
  const items = poll.options.map((o) => `<li>${escapeHtml(o.name)}</li>`).join("");
  return `<p>Poll (${poll.multiple ? "several choices" : "one choice"}):</p><ul class="poll">${items}</ul>`;
}

/** Turns a fedify-ref post record into the normalised view. */
export function postViewOf(record: FedifyRefPostRecord): PostView {
  const object = record.object;
  const contentMap = isObject(object.contentMap) ? Object.entries(object.contentMap) : [];
  const mapped = contentMap.find(([, text]) => typeof text === "string") as [string, string] | undefined;
  const content = typeof object.content === "string" ? object.content : (mapped?.[1] ?? "");
  // fedify-ref has no poll UI: a poll's options follow its question as text.
  const html = record.poll === undefined ? content : `${content}${pollHtml(record.poll)}`;
  const tags = asArray(object.tag).filter(isObject);
  const mentions = [
    ...new Set(tags.filter((t) => typesOf(t).includes("Mention")).flatMap((t) => idsOf(t.href))),
  ];
  const hashtags = new Set(
    tags
      .filter((t) => typesOf(t).includes("Hashtag") && typeof t.name === "string")
      .map((t) => normaliseHashtag(t.name as string)),
  );
  for (const tag of extractHashtags(content)) hashtags.add(tag);
  const view: PostView = {
    uri: record.uri,
    author: record.author ?? idsOf(object.attributedTo)[0] ?? "",
    text: htmlToText(html),
    html,
    sensitive: object.sensitive === true,
    visibility: record.visibility ?? visibilityFromAddressing(object, mentions),
    attachments: asArray(object.attachment)
      .map(attachmentViewOf)
      .filter((a): a is AttachmentView => a !== undefined),
    mentions,
    hashtags: [...hashtags],
    links: extractLinks(html),
    likes: record.likes,
    announces: record.announces,
    raw: record,
  };
  if (record.localId !== undefined) view.localId = record.localId;
  // fedify-ref shows a content warning given only as a language map (AS2 Core §4.7) too.
  const summary =
    typeof object.summary === "string" ? object.summary : fromLanguageMap(object.summaryMap)?.text;
  if (summary) view.contentWarning = summary;
  const inReplyTo = idOf(object.inReplyTo);
  if (inReplyTo !== undefined) view.inReplyTo = inReplyTo;
  const quote = quoteOf(object);
  if (quote !== undefined) view.quote = quote;
  if (typeof object.updated === "string") view.editedAt = object.updated;
  if (mapped !== undefined) view.language = mapped[0];
  if (record.webUrl !== undefined) view.webUrl = record.webUrl;
  return view;
}

const NOTIFICATION_TYPES = new Set<NotificationView["type"]>([
  "follow",
  "follow_request",
  "mention",
  "like",
  "announce",
  "reply",
]);

/** An error answer of the control API. */
export class FedifyRefError extends Error {
  constructor(
    readonly status: number,
    readonly route: string,
    message: string,
  ) {
    super(`fedify-ref ${route} answered ${status}: ${message}`);
    this.name = "FedifyRefError";
  }
}

/** True for a connection closed under a request (not a timeout or an HTTP error). */
function isSocketError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
  return [code, cause?.code].some((c) => c === "UND_ERR_SOCKET" || c === "ECONNRESET");
}

/** Creates a driver for one fedify-ref target. */
export function createFedifyRefDriver(options: FedifyRefDriverOptions): Driver & {
  /** Calls any control route (for tests and scenarios that need more than the Driver interface). */
  control(method: "GET" | "POST", route: string, body?: unknown): Promise<unknown>;
  /** fedify-ref can always delete an account. */
  deleteActor(account: Account): Promise<void>;
} {
  // Issue 7: the control token must never show in the run's output.
  registerSecret(options.token);
  const base = options.url.replace(/\/+$/, "");
  // Idle connections are dropped well before the server's 5 s keep-alive ends, so a request never
  // races the server closing the socket it reuses (seen under heavy load as "fetch failed").
  const ownAgent =
    options.dispatcher === undefined
      ? new Agent({
          keepAliveTimeout: 1_000,
          ...(options.ca !== undefined ? { connect: { ca: options.ca } } : {}),
        })
      : undefined;
  const dispatcher = options.dispatcher ?? ownAgent;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const implementation = options.implementation ?? "fedify-ref";

  async function control(method: "GET" | "POST", route: string, body?: unknown): Promise<unknown> {
    // undici's request(), not fetch(): a run makes thousands of control calls, and fetch's WHATWG
    // layers (Request/Response objects, streams) were the driver's main CPU cost (issue 8).
    const send = () =>
      undiciRequest(`${base}/_control/${route}`, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(dispatcher === undefined ? {} : { dispatcher }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    // A GET reads state only, so one retry after a dropped connection is safe.
    const response = await send().catch((error: unknown) => {
      if (method === "GET" && isSocketError(error)) return send();
      throw error;
    });
    const text = await response.body.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? {} : JSON.parse(text);
    } catch {
      parsed = { error: text.slice(0, 500) };
    }
    if (response.statusCode < 200 || response.statusCode > 299) {
      const message =
        isObject(parsed) && typeof parsed.error === "string" ? parsed.error : text.slice(0, 500);
      throw new FedifyRefError(response.statusCode, `${method} ${route}`, message);
    }
    return parsed;
  }

  /** Like {@link control}, but a 404 gives null. */
  async function orNull<T>(call: Promise<T>): Promise<T | null> {
    try {
      return await call;
    } catch (error) {
      if (error instanceof FedifyRefError && error.status === 404) return null;
      throw error;
    }
  }

  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

  function attachments(input: PostInput) {
    return input.attachments?.map((a) => ({
      mediaType: a.mediaType,
      ...(a.url === undefined ? {} : { url: a.url }),
      ...(a.data === undefined ? {} : { dataBase64: Buffer.from(a.data).toString("base64") }),
      ...(a.description === undefined ? {} : { description: a.description }),
    }));
  }

  function postBody(account: Account, input: PostInput): Json {
    const body: Json = { actor: account.username, content: input.content };
    for (const key of [
      "visibility",
      "contentWarning",
      "sensitive",
      "mentions",
      "hashtags",
      "inReplyTo",
      "quote",
      "language",
    ] as const) {
      if (input[key] !== undefined) body[key] = input[key];
    }
    const media = attachments(input);
    if (media !== undefined) body.attachments = media;
    return body;
  }

  function ref(result: unknown): PostRef {
    const r = result as { localId: string; uri: string; url?: string };
    return { localId: r.localId, uri: r.uri, ...(r.url ? { url: r.url } : {}) };
  }

  return {
    implementation,
    capabilities: options.authorizedFetch
      ? [...FEDIFY_REF_CAPABILITIES, "authorized-fetch"]
      : FEDIFY_REF_CAPABILITIES,
    control,

    async provisionAccount(name) {
      const actor = (await control("POST", "actors", { name })) as {
        username: string;
        handle: string;
        actorId: string;
      };
      return { username: actor.username, handle: actor.handle, actorId: actor.actorId };
    },
    async setLocked(account, locked) {
      await control("POST", "lock", { actor: account.username, locked });
    },
    async follow(account, actorId) {
      await control("POST", "follow", { actor: account.username, target: actorId });
    },
    async unfollow(account, actorId) {
      await control("POST", "unfollow", { actor: account.username, target: actorId });
    },
    async followState(account, actorId) {
      const result = (await control(
        "GET",
        `following?${q({ actor: account.username, target: actorId })}`,
      )) as {
        state: FollowState;
      };
      return result.state;
    },
    async followers(account) {
      return (
        (await control("GET", `followers?${q({ actor: account.username })}`)) as { followers: string[] }
      ).followers;
    },
    async followRequests(account) {
      return (
        (await control("GET", `follow-requests?${q({ actor: account.username })}`)) as { requests: string[] }
      ).requests;
    },
    async acceptFollow(account, follower) {
      await control("POST", "accept", { actor: account.username, follower });
    },
    async rejectFollow(account, follower) {
      await control("POST", "reject", { actor: account.username, follower });
    },

    async post(account, input) {
      return ref(await control("POST", "post", postBody(account, input)));
    },
    async update(account, postRef, input) {
      await control("POST", "update", { ...postBody(account, input), localId: postRef.localId });
    },
    async delete(account, postRef) {
      await control("POST", "delete", { actor: account.username, localId: postRef.localId });
    },
    async like(account, object) {
      await control("POST", "like", { actor: account.username, object });
    },
    async unlike(account, object) {
      await control("POST", "unlike", { actor: account.username, object });
    },
    async announce(account, object) {
      await control("POST", "announce", { actor: account.username, object });
    },
    async unannounce(account, object) {
      await control("POST", "unannounce", { actor: account.username, object });
    },

    async lookupActor(account, actorIdOrHandle) {
      const result = await orNull(
        control("POST", "lookup", { actor: account.username, query: actorIdOrHandle }),
      );
      if (!isObject(result) || result.kind !== "actor" || typeof result.id !== "string") return null;
      return { id: result.id, raw: result.object };
    },
    async lookupObject(account, uri) {
      const result = await orNull(control("POST", "lookup", { actor: account.username, query: uri }));
      if (!isObject(result) || result.kind !== "object" || !isObject(result.post)) return null;
      return postViewOf(result.post as unknown as FedifyRefPostRecord);
    },
    async receivedPost(_account, uri) {
      const record = await orNull(control("GET", `received?${q({ uri })}`));
      return record === null ? null : postViewOf(record as FedifyRefPostRecord);
    },
    async timeline(account) {
      const result = (await control("GET", `timeline?${q({ actor: account.username })}`)) as {
        posts: FedifyRefPostRecord[];
      };
      return result.posts.map(postViewOf);
    },
    async notifications(account) {
      const result = (await control("GET", `notifications?${q({ actor: account.username })}`)) as {
        notifications: Array<{ type: string; actor: string; object?: string }>;
      };
      return result.notifications.map((n) => ({
        type: NOTIFICATION_TYPES.has(n.type as NotificationView["type"])
          ? (n.type as NotificationView["type"])
          : "other",
        actor: n.actor,
        ...(n.object === undefined ? {} : { object: n.object }),
        raw: n,
      }));
    },
    async postRaw(account, object, addressing) {
      return ref(
        await control("POST", "post-raw", {
          actor: account.username,
          object,
          ...(addressing.to ? { to: addressing.to } : {}),
          ...(addressing.cc ? { cc: addressing.cc } : {}),
        }),
      );
    },
    async deleteActor(account) {
      await control("POST", "delete-actor", { actor: account.username });
    },
    async close() {
      await ownAgent?.close();
    },
  };
}
