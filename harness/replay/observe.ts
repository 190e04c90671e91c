/**
 * What the receiver made of each replayed activity, read through its driver right after the delivery:
 * the post's normalised view, whether it is held and visible, updated or deleted, which attachments
 * survived, how a non-Note object was rendered (fallbacks), and how follows ended. Every URL in the
 * report is mapped back to the capture's, so reports of different targets (and of the live exchange)
 * compare directly.
 * @module
 */
import { WaitTimeoutError } from "../core/scenario.ts";
import type { Account, AttachmentView, Driver, FollowState, PostView } from "../drivers/driver.ts";
import { htmlToText } from "../drivers/normalise.ts";
import { asArray, idOf, isObject, typeOf } from "../protocol/as2.ts";
import type { CaptureDelivery, Json } from "./capture.ts";
import { ACTOR_TYPES } from "./plan.ts";
import type { WaitFunction } from "./replay.ts";
import type { Rewriter } from "./rewrite.ts";

/** What the receiver made of an activity, in one word. */
export type Outcome =
  /** Create (or an Update of something not held): the post is held. */
  | "stored"
  /** Create: the post never showed up. */
  | "dropped"
  /** Announce of a post: it is on the account's timeline. */
  | "shown"
  | "updated"
  | "update-ignored"
  /** Update or Delete of a post the receiver never held. */
  | "not-held"
  | "deleted"
  | "delete-ignored"
  /** Follow of a receiving account: the sender is a follower (or a pending request). */
  | "follower-added"
  | "follow-pending"
  | "follow-ignored"
  /** Accept/Reject of the account's Follow. */
  | "following"
  | "accept-ignored"
  | "rejected"
  | "reject-ignored"
  /** Undo(Follow). */
  | "unfollowed"
  | "undo-ignored"
  /** Delivered and answered 2xx; nothing this replay can read back (Like, profile Update…). */
  | "delivered"
  /** The target answered the POST with an error status. */
  | "refused"
  /** The POST failed (connection, TLS, timeout). */
  | "error"
  | "skipped";

/** A post's normalised view (the driver's {@link PostView} without its raw answer), URLs as captured. */
export type ViewReport = Omit<PostView, "raw">;

/** One attachment as the capture sent it. */
export interface SentAttachment {
  type?: string;
  mediaType?: string;
  url?: string;
  description?: string;
}

/** Which attachments survived. */
export interface MediaReport {
  sent: SentAttachment[];
  /** As the receiver shows them, URLs as captured. */
  kept: AttachmentView[];
  /** URLs sent but not kept. */
  lost: string[];
}

/** How a post that is not a Note was rendered (Article, Page, Video, Audio, Question, Event…). */
export interface FallbackReport {
  objectType: string;
  /** Some text is shown. */
  shown: boolean;
  /** The object's `name` appears in the text (when it has one). */
  nameShown?: boolean;
  /** The object's `content` appears in the text (when it has some). */
  contentShown?: boolean;
  /** Its name or its content is readable (what MED-07 and MED-08 ask). */
  readable: boolean;
  /** The object's `url` (any of them) is reachable: linked, the post's web page, or an attachment. */
  linkToUrl?: boolean;
  /** Question: option names found in the text, and missing ones. */
  optionsShown?: string[];
  optionsMissing?: string[];
}

/** What the receiver made of one captured delivery. */
export interface ActivityReport {
  /** Position among the capture's deliveries, from 1. */
  index: number;
  /** The delivery's `seq` in the capture, when it has one. */
  seq?: number;
  /** e.g. `Create(Note)`, `Announce(Create(Page))`, `Delete`. */
  type: string;
  /** As captured. */
  activityId?: string;
  /** The post (or actor, or Follow) the activity is about, as captured. */
  objectId?: string;
  objectType?: string;
  /** What the receiver answered when the traffic was recorded. */
  captured: { status?: number; signatureOk?: boolean };
  /** How the replayed POST went. */
  replayed: { inbox?: string; status?: number; scheme?: string; body?: string; error?: string };
  outcome: Outcome;
  /** One sentence a person reads first. */
  summary: string;
  /** The post as the receiver shows it after this activity (absent when it holds none). */
  view?: ViewReport;
  /** On the receiving account's timeline. */
  visible?: boolean;
  deleted?: boolean;
  updated?: boolean;
  media?: MediaReport;
  fallback?: FallbackReport;
  follow?: { state?: FollowState; follower?: boolean; pending?: boolean };
  /** What the replay did that a reader should know (signatures removed, Follow reconciled…). */
  notes: string[];
}

/** The final state of a post the capture touched. */
export interface ObjectState {
  objectId: string;
  replayedId: string;
  objectType?: string;
  held: boolean;
  visible?: boolean;
  view?: ViewReport;
}

/** What observing needs. */
export interface ObserveContext {
  driver: Driver;
  rewriter: Rewriter;
  wait: WaitFunction;
  settleMs: number;
  /** Every captured delivery (an Undo by id names an earlier one). */
  deliveries: readonly CaptureDelivery[];
}

/** A captured delivery, described for replay and report. */
export interface Step {
  index: number;
  seq?: number;
  /** Outer type, e.g. `Announce`. */
  type: string;
  /** Type of an activity wrapped in an Announce (Lemmy), e.g. `Create`. */
  innerType?: string;
  label: string;
  activityId?: string;
  objectId?: string;
  objectType?: string;
  replayedObjectId?: string;
  /** The post as captured, when the activity embeds it. */
  object?: Json;
  /** The activity carries or names a post (Create, Update, Announce). */
  postLike: boolean;
  captured: ActivityReport["captured"];
}

const WRAPPED = new Set(["Create", "Update", "Delete"]);

/** Describes a captured delivery. */
export function stepOf(delivery: CaptureDelivery, index: number, rewriter: Rewriter): Step {
  const activity = delivery.activity ?? {};
  const type = typeOf(activity) ?? "(no type)";
  let inner: Json | undefined;
  if (type === "Announce" && isObject(activity.object) && WRAPPED.has(typeOf(activity.object) ?? "")) {
    inner = activity.object;
  }
  const carrier = inner ?? activity;
  const post = carrier.object;
  const objectId = idOf(post);
  const objectType = typeOf(post);
  const effective = typeOf(inner) ?? type;
  const label = inner
    ? `${type}(${typeOf(inner)}${objectType ? `(${objectType})` : ""})`
    : `${type}${objectType && type !== "Delete" ? `(${objectType})` : ""}`;
  const step: Step = {
    index,
    type,
    label,
    postLike:
      ((effective === "Create" || effective === "Update") && !ACTOR_TYPES.has(objectType ?? "")) ||
      (type === "Announce" && inner === undefined),
    captured: {
      ...(delivery.status !== undefined ? { status: delivery.status } : {}),
      ...(delivery.signature ? { signatureOk: delivery.signature.ok } : {}),
    },
  };
  if (delivery.seq !== undefined) step.seq = delivery.seq;
  if (inner) step.innerType = typeOf(inner)!;
  const activityId = idOf(activity);
  if (activityId) step.activityId = activityId;
  if (objectId) {
    step.objectId = objectId;
    step.replayedObjectId = rewriter.rewriteString(objectId);
  }
  if (objectType) step.objectType = objectType;
  if (isObject(post)) step.object = post;
  return step;
}

/** Waits for `condition`; undefined when it never held within the settle budget. */
async function settle<T>(
  ctx: ObserveContext,
  description: string,
  condition: () => Promise<T | undefined | null | false>,
  budgetMs = ctx.settleMs,
): Promise<T | undefined> {
  try {
    return await ctx.wait(description, condition, budgetMs);
  } catch (error) {
    if (error instanceof WaitTimeoutError) return undefined;
    throw error;
  }
}

function viewReport(view: PostView, rewriter: Rewriter): ViewReport {
  const { raw: _raw, ...rest } = view;
  return rewriter.restore(rest);
}

async function held(ctx: ObserveContext, account: Account, uri: string): Promise<PostView | null> {
  return ctx.driver.receivedPost(account, uri).catch(() => null);
}

async function onTimeline(ctx: ObserveContext, account: Account, uri: string): Promise<boolean | undefined> {
  try {
    return (await ctx.driver.timeline(account)).some((view) => view.uri === uri);
  } catch {
    return undefined; // a driver without timelines cannot tell
  }
}

function sentAttachments(object: Json | undefined): SentAttachment[] {
  return asArray(object?.attachment).map((item) => {
    if (typeof item === "string") return { url: item };
    if (!isObject(item)) return {};
    const url = idOf(asArray(item.url ?? item.href)[0]);
    const out: SentAttachment = {};
    const type = typeOf(item);
    if (type) out.type = type;
    if (typeof item.mediaType === "string") out.mediaType = item.mediaType;
    if (url) out.url = url;
    const description =
      (typeof item.name === "string" && item.name) || (typeof item.summary === "string" && item.summary);
    if (description) out.description = description;
    return out;
  });
}

function mediaOf(object: Json | undefined, view: ViewReport | undefined): MediaReport | undefined {
  const sent = sentAttachments(object);
  if (sent.length === 0 && (view?.attachments.length ?? 0) === 0) return undefined;
  const kept = view?.attachments ?? [];
  const keptUrls = new Set(kept.map((a) => a.url));
  const lost = sent.map((a) => a.url).filter((url): url is string => url !== undefined && !keptUrls.has(url));
  return { sent, kept, lost };
}

function urlsOf(object: Json): string[] {
  return asArray(object.url)
    .map((u) => idOf(u))
    .filter((u): u is string => u !== undefined);
}

function fallbackOf(object: Json | undefined, view: ViewReport | undefined): FallbackReport | undefined {
  const objectType = typeOf(object);
  if (!object || !objectType || objectType === "Note") return undefined;
  const text = view?.text ?? "";
  const report: FallbackReport = { objectType, shown: text.trim() !== "", readable: false };
  if (typeof object.name === "string" && object.name.trim() !== "") {
    report.nameShown = view !== undefined && text.includes(htmlToText(object.name));
  }
  const content = typeof object.content === "string" ? htmlToText(object.content) : "";
  if (content !== "") report.contentShown = view !== undefined && text.includes(content);
  report.readable = report.nameShown === true || report.contentShown === true;
  const urls = urlsOf(object);
  if (urls.length > 0 && view) {
    report.linkToUrl = urls.some(
      (url) =>
        view.links.includes(url) ||
        view.webUrl === url ||
        view.html.includes(url) ||
        view.attachments.some((a) => a.url === url),
    );
  } else if (urls.length > 0) report.linkToUrl = false;
  if (objectType === "Question") {
    const options = [...asArray(object.oneOf), ...asArray(object.anyOf)]
      .map((o) => (isObject(o) && typeof o.name === "string" ? o.name : undefined))
      .filter((n): n is string => n !== undefined);
    report.optionsShown = options.filter((name) => text.includes(name));
    report.optionsMissing = options.filter((name) => !text.includes(name));
  }
  return report;
}

function describeMedia(media: MediaReport | undefined): string {
  if (!media || media.sent.length === 0) return "";
  return `; ${media.kept.length} of ${media.sent.length} attachment(s) kept`;
}

function changed(before: PostView, after: PostView): boolean {
  return (
    before.html !== after.html ||
    before.text !== after.text ||
    before.editedAt !== after.editedAt ||
    before.contentWarning !== after.contentWarning ||
    before.sensitive !== after.sensitive ||
    JSON.stringify(before.attachments) !== JSON.stringify(after.attachments)
  );
}

/** The type of the activity an Undo undoes: embedded, or an earlier captured delivery by id. */
function undoneType(ctx: ObserveContext, activity: Json): string | undefined {
  const inner = activity.object;
  if (isObject(inner) && typeOf(inner)) return typeOf(inner);
  const id = idOf(inner);
  if (!id) return undefined;
  const restored = ctx.rewriter.restoreString(id);
  const earlier = ctx.deliveries.find((d) => d.activity && idOf(d.activity) === restored);
  return typeOf(earlier?.activity);
}

/** What {@link observeActivity} reads. */
export interface Delivered {
  step: Step;
  /** The activity as replayed (rewritten). */
  activity: Json;
  /** The account that received it. */
  account: Account;
  /** The post as the receiver held it before the delivery. */
  before: PostView | null;
  delivered: ActivityReport["replayed"];
  notes: string[];
}

/** The fields of a step's report that say which captured activity it is. */
export function stepHeader(
  step: Step,
): Pick<ActivityReport, "index" | "seq" | "type" | "activityId" | "objectId" | "objectType" | "captured"> {
  return {
    index: step.index,
    ...(step.seq !== undefined ? { seq: step.seq } : {}),
    type: step.label,
    ...(step.activityId ? { activityId: step.activityId } : {}),
    ...(step.objectId ? { objectId: step.objectId } : {}),
    ...(step.objectType ? { objectType: step.objectType } : {}),
    captured: step.captured,
  };
}

/** Reads what the receiver made of one replayed delivery (waiting up to the settle budget for it). */
export async function observeActivity(ctx: ObserveContext, input: Delivered): Promise<ActivityReport> {
  const { step, activity, account, before, delivered, notes } = input;
  const base: ActivityReport = {
    ...stepHeader(step),
    replayed: delivered,
    outcome: "delivered",
    summary: "",
    notes,
  };
  if (delivered.error !== undefined) {
    return {
      ...base,
      outcome: "error",
      summary: `the POST to ${delivered.inbox} failed: ${delivered.error}`,
    };
  }
  const status = delivered.status ?? 0;
  const accepted = status >= 200 && status < 300;
  // A refused delivery has no effect to wait for: read once, for the evidence.
  const budget = accepted ? ctx.settleMs : 0;
  const kind = step.innerType ?? step.type;
  const uri = step.replayedObjectId;
  const refused = (report: ActivityReport): ActivityReport =>
    accepted
      ? report
      : {
          ...report,
          outcome: "refused",
          summary:
            `${ctx.rewriter.restoreString(delivered.inbox ?? "the inbox")} answered ${status}: ${delivered.body ?? ""}`.trim(),
        };

  if (step.postLike && uri && (kind === "Create" || kind === "Update" || step.type === "Announce")) {
    const wanted =
      kind === "Update" && before
        ? async () => {
            const now = await held(ctx, account, uri);
            return now && changed(before, now) ? now : null;
          }
        : () => held(ctx, account, uri);
    const settled = await settle(
      ctx,
      `${ctx.rewriter.restoreString(uri)} is held as expected`,
      wanted,
      budget,
    );
    const view = settled ?? (await held(ctx, account, uri));
    const report = view ? viewReport(view, ctx.rewriter) : undefined;
    const visible = view ? await onTimeline(ctx, account, uri) : false;
    const media = mediaOf(step.object, report);
    const fallback = fallbackOf(step.object, report);
    const out: ActivityReport = { ...base };
    if (report) out.view = report;
    if (visible !== undefined) out.visible = visible;
    if (media) out.media = media;
    if (fallback) out.fallback = fallback;
    const where = visible
      ? ` and visible to ${account.handle}`
      : visible === false && view
        ? ", but not on the timeline"
        : "";
    if (kind === "Update") {
      out.updated = Boolean(before && view && changed(before, view));
      if (!before && !view) {
        out.outcome = "not-held";
        out.summary = "the receiver holds no copy, so there is nothing to update";
      } else if (!before) {
        out.outcome = "stored";
        out.summary = `stored by the Update${where}${describeMedia(media)}`;
      } else if (out.updated) {
        out.outcome = "updated";
        out.summary = `updated${where}${describeMedia(media)}`;
      } else {
        out.outcome = "update-ignored";
        out.summary = view
          ? "the Update was not applied: the post is unchanged"
          : "the post vanished after the Update";
      }
    } else if (step.type === "Announce" && step.innerType === undefined) {
      out.outcome = visible ? "shown" : view ? "stored" : "dropped";
      out.summary = visible
        ? `the boosted post is on ${account.handle}'s timeline`
        : view
          ? "the boosted post is held but not shown"
          : "the boosted post never showed up";
    } else {
      out.outcome = view ? "stored" : "dropped";
      out.summary = view ? `stored${where}${describeMedia(media)}` : "the post never showed up";
    }
    return refused(out);
  }

  if (kind === "Delete") {
    if (!uri || uri === idOf(activity.actor))
      return refused({ ...base, summary: "delivered (actor deletion is not read back)" });
    if (!before) {
      return refused({
        ...base,
        outcome: "not-held",
        summary: "the receiver held no copy, so there was nothing to delete",
      });
    }
    const gone = await settle(
      ctx,
      `${ctx.rewriter.restoreString(uri)} is gone`,
      async () => (await held(ctx, account, uri)) === null,
      budget,
    );
    const view = gone ? null : await held(ctx, account, uri);
    const visible = view ? await onTimeline(ctx, account, uri) : false;
    const out: ActivityReport = {
      ...base,
      deleted: view === null,
      ...(visible !== undefined ? { visible } : {}),
    };
    if (view) out.view = viewReport(view, ctx.rewriter);
    out.outcome = view ? "delete-ignored" : "deleted";
    out.summary = view
      ? "the receiver still holds the post after the Delete"
      : "deleted: the receiver no longer holds the post";
    return refused(out);
  }

  const sender = idOf(activity.actor);
  if (kind === "Follow" && sender) {
    const follower = await settle(
      ctx,
      `${sender} is a follower`,
      async () => (await ctx.driver.followers(account)).includes(sender),
      budget,
    );
    const pending = follower
      ? false
      : (await ctx.driver.followRequests(account).catch(() => [] as string[])).includes(sender);
    const out: ActivityReport = {
      ...base,
      outcome: follower ? "follower-added" : pending ? "follow-pending" : "follow-ignored",
      follow: { follower: Boolean(follower), pending },
      summary: follower
        ? `the sender follows ${account.handle}`
        : pending
          ? "the follow request is pending"
          : "the Follow left no trace",
    };
    return refused(out);
  }
  if ((kind === "Accept" || kind === "Reject") && sender) {
    const want = kind === "Accept" ? "following" : "none";
    const state = await settle(
      ctx,
      `${account.handle}'s follow of ${sender} is ${want}`,
      async () => {
        const now = await ctx.driver.followState(account, sender);
        return now === want ? now : null;
      },
      budget,
    );
    const final = state ?? (await ctx.driver.followState(account, sender).catch(() => undefined));
    const ok = state !== undefined;
    const out: ActivityReport = {
      ...base,
      outcome: kind === "Accept" ? (ok ? "following" : "accept-ignored") : ok ? "rejected" : "reject-ignored",
      ...(final !== undefined ? { follow: { state: final } } : {}),
      summary: ok
        ? `${account.handle}'s follow is now '${want}'`
        : `${account.handle}'s follow stays '${final ?? "unknown"}'`,
    };
    return refused(out);
  }
  if (kind === "Undo" && sender && undoneType(ctx, activity) === "Follow") {
    const gone = await settle(
      ctx,
      `${sender} no longer follows`,
      async () => !(await ctx.driver.followers(account)).includes(sender),
      budget,
    );
    const out: ActivityReport = {
      ...base,
      outcome: gone ? "unfollowed" : "undo-ignored",
      follow: { follower: !gone },
      summary: gone
        ? `the sender no longer follows ${account.handle}`
        : "the sender is still a follower after the Undo",
    };
    return refused(out);
  }
  return refused({ ...base, summary: `answered ${status}; nothing to read back for ${step.label}` });
}

/** The final state of one post the capture touched. */
export async function observeObject(
  ctx: ObserveContext,
  account: Account,
  objectId: string,
  objectType: string | undefined,
): Promise<ObjectState> {
  const replayedId = ctx.rewriter.rewriteString(objectId);
  const view = await held(ctx, account, replayedId);
  const state: ObjectState = { objectId, replayedId, held: view !== null };
  if (objectType) state.objectType = objectType;
  if (view) {
    state.view = viewReport(view, ctx.rewriter);
    const visible = await onTimeline(ctx, account, replayedId);
    if (visible !== undefined) state.visible = visible;
  }
  return state;
}
