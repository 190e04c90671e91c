/**
 * The one interface every driver implements: it makes a target act through the target's own API and
 * reports what the target's users would see, in one normalised shape. Scenarios talk only to this.
 * @module
 */
import type { Capability } from "../core/model.ts";

/** Who can see a post. */
export type Visibility = "public" | "unlisted" | "followers" | "direct";

/** An account on a target, created by {@link Driver.provisionAccount}. */
export interface Account {
  /** Local user name, e.g. `alice`. */
  username: string;
  /** `alice@a.test` (host without port, as WebFinger uses it; with port when the origin has one). */
  handle: string;
  /** The ActivityPub actor id. */
  actorId: string;
}

/** A media attachment to post. */
export interface AttachmentInput {
  mediaType: string;
  /** Bytes to upload (drivers that upload media) … */
  data?: Uint8Array;
  /** … or a URL to reference (drivers that post raw AS2). */
  url?: string;
  /** Alt text. */
  description?: string;
}

/** What to post. Everything but `content` is optional; absent means the target's default. */
export interface PostInput {
  /** Plain text or simple HTML. */
  content: string;
  visibility?: Visibility;
  /** Content warning (AS2 `summary` on a Note). */
  contentWarning?: string;
  sensitive?: boolean;
  /** Actor ids to mention; for `direct` posts these are the recipients. */
  mentions?: string[];
  /** Hashtags without `#`. */
  hashtags?: string[];
  /** AP id of the post replied to. */
  inReplyTo?: string;
  /** AP id of the post quoted (capability `quotes`). */
  quote?: string;
  attachments?: AttachmentInput[];
  language?: string;
}

/** A post made on this target. */
export interface PostRef {
  /** The target's own id for it (API id). */
  localId: string;
  /** The ActivityPub object id. */
  uri: string;
  /** Web page of the post, when the target has one. */
  url?: string;
}

/** How a received attachment is shown. */
export interface AttachmentView {
  kind: "image" | "video" | "audio" | "gifv" | "unknown" | "link";
  url: string;
  mediaType?: string;
  description?: string;
}

/** The normalised "what the user sees" view of a post on this target. */
export interface PostView {
  /** ActivityPub id of the post. */
  uri: string;
  /** The target's own id, when it has one. */
  localId?: string;
  /** Actor id of the author. */
  author: string;
  /** Text with markup removed, whitespace collapsed. */
  text: string;
  /** HTML as the target stores or serves it. */
  html: string;
  contentWarning?: string;
  sensitive: boolean;
  visibility?: Visibility;
  attachments: AttachmentView[];
  /** Actor ids mentioned. */
  mentions: string[];
  /** Hashtag names, lower-cased, without `#`. */
  hashtags: string[];
  /** hrefs of links in the content. */
  links: string[];
  inReplyTo?: string;
  /** AP id of the post quoted, when the target keeps the quote as such (not only as a link). */
  quote?: string;
  /** Set when the post was edited after creation. */
  editedAt?: string;
  language?: string;
  /** Number of likes and boosts the target counts, when known. */
  likes?: number;
  announces?: number;
  /** Web page where the post renders (for browser evidence). */
  webUrl?: string;
  /** The target's raw answer, kept for evidence. */
  raw: unknown;
}

/** A notification as the target reports it. */
export interface NotificationView {
  type: "follow" | "follow_request" | "mention" | "like" | "announce" | "reply" | "other";
  /** Actor id of who caused it. */
  actor: string;
  /** AP id of the post concerned, if any. */
  object?: string;
  raw: unknown;
}

/** State of a follow relation, as the follower's target sees it. */
export type FollowState = "following" | "pending" | "none";

/**
 * A driver: acts on one target. Methods reject with an Error whose message says what failed and
 * what the target answered. Methods a target cannot do throw {@link UnsupportedError}.
 */
export interface Driver {
  /** Implementation id this driver talks to (e.g. `mastodon`). */
  readonly implementation: string;
  /** What the target can do; checks needing more are `unsupported`. */
  readonly capabilities: readonly Capability[];

  /** Create (or reuse) a local account ready to act; `name` is a hint, drivers may add a suffix. */
  provisionAccount(name: string): Promise<Account>;
  /** Make the account locked (follow requests wait for approval) or open. */
  setLocked(account: Account, locked: boolean): Promise<void>;

  /** Follow a remote actor by actor id. Resolves once the request is sent, not once accepted. */
  follow(account: Account, actorId: string): Promise<void>;
  /** Undo a follow (or withdraw a pending request). */
  unfollow(account: Account, actorId: string): Promise<void>;
  /** The follow state from this (the follower's) side. */
  followState(account: Account, actorId: string): Promise<FollowState>;
  /** Actor ids of accepted followers of this account. */
  followers(account: Account): Promise<string[]>;
  /** Actor ids of pending follow requests to this account. */
  followRequests(account: Account): Promise<string[]>;
  acceptFollow(account: Account, followerActorId: string): Promise<void>;
  rejectFollow(account: Account, followerActorId: string): Promise<void>;

  post(account: Account, input: PostInput): Promise<PostRef>;
  /** Edit a post; only fields given change. */
  update(account: Account, ref: PostRef, input: PostInput): Promise<void>;
  delete(account: Account, ref: PostRef): Promise<void>;
  like(account: Account, objectUri: string): Promise<void>;
  unlike(account: Account, objectUri: string): Promise<void>;
  announce(account: Account, objectUri: string): Promise<void>;
  unannounce(account: Account, objectUri: string): Promise<void>;

  /** Resolve a remote actor (fetching it if needed); null when the target cannot find it. */
  lookupActor(account: Account, actorIdOrHandle: string): Promise<{ id: string; raw: unknown } | null>;
  /** Resolve a remote object (fetching it if needed); null when the target cannot find it. */
  lookupObject(account: Account, uri: string): Promise<PostView | null>;
  /**
   * The post as this target already holds it, WITHOUT fetching: null when the target has no copy
   * (never received, dropped, or deleted). This is how checks confirm arrival and removal.
   */
  receivedPost(account: Account, uri: string): Promise<PostView | null>;
  /** The account's home timeline, newest first. */
  timeline(account: Account): Promise<PostView[]>;
  notifications(account: Account): Promise<NotificationView[]>;

  /**
   * Post a raw AS2 object as this account (capability `raw-post`): the driver fills in `id`,
   * `attributedTo` and `published` only where absent, wraps it in Create and delivers it to `to`/`cc`
   * (the followers collection means every follower). Only the probe and fedify-ref can.
   */
  postRaw?(
    account: Account,
    object: Record<string, unknown>,
    addressing: { to?: string[]; cc?: string[] },
  ): Promise<PostRef>;

  /**
   * Delete the account itself: its actor and WebFinger resource stop resolving (410/404) and its
   * followers are told with a Delete of the actor. Targets that cannot leave it undefined; checks
   * needing it are then `unsupported`.
   */
  deleteActor?(account: Account): Promise<void>;

  /** Release resources (HTTP pools). */
  close(): Promise<void>;
}

/** Thrown by driver methods the target cannot do; the runner maps it to the `unsupported` verdict. */
export class UnsupportedError extends Error {
  constructor(
    readonly implementation: string,
    readonly operation: string,
  ) {
    super(`${implementation} does not support ${operation}`);
    this.name = "UnsupportedError";
  }
}
