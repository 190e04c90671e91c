/**
 * The driver of the probe as a target: scenarios drive the harness's own server through the same
 * {@link Driver} interface as any implementation. Posts use Mastodon-style addressing; what the probe
 * "sees" is what arrived in its inboxes.
 * @module
 */
import type { Capability } from "../core/model.ts";
import { PUBLIC } from "../peer/documents.ts";
import type { InboxEntry, Probe, ProbeActor } from "../peer/types.ts";
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
import { UnsupportedError } from "./driver.ts";
import {
  attachmentViewOf,
  escapeHtml,
  extractLinks,
  fromLanguageMap,
  htmlToText,
  looksLikeHtml,
  normaliseHashtag,
  plainTextToHtml,
  QUOTE_PROPERTIES,
  quoteOf,
  visibilityFromAddressing,
} from "./normalise.ts";

/** Everything the probe can do as a target. */
export const PROBE_CAPABILITIES: readonly Capability[] = [
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
];

/** The probe actor behind an account the probe driver provisioned (throws for other accounts). */
export function probeActorOf(probe: Probe, account: Account): ProbeActor {
  const actor = probe.actor(account.username);
  if (actor.id !== account.actorId) {
    throw new Error(`${account.handle} is not an account of the probe at ${probe.origin}.`);
  }
  return actor;
}

/** JSON-LD terms of the quote properties the probe sends (as Fedify's Note context defines them). */
const QUOTE_TERMS = {
  quote: { "@id": "https://w3id.org/fep/044f#quote", "@type": "@id" },
  quoteUrl: "as:quoteUrl",
  _misskey_quote: "https://misskey-hub.net/ns#_misskey_quote",
  quoteUri: "http://fedibird.com/ns#quoteUri",
};

// ---- reading AS2 ----------------------------------------------------------------------------------------

/** Maps a received or fetched AS2 object to the normalised {@link PostView}. */
export function postViewOf(object: Json): PostView {
  const mapped = fromLanguageMap(object.contentMap);
  const html = typeof object.content === "string" ? object.content : (mapped?.text ?? "");
  const tags = asArray(object.tag).filter(isObject);
  const mentions = tags.filter((t) => typesOf(t).includes("Mention")).flatMap((t) => idsOf(t.href));
  const hashtags = tags
    .filter((t) => typesOf(t).includes("Hashtag") && typeof t.name === "string")
    .map((t) => normaliseHashtag(t.name as string));
  const view: PostView = {
    uri: idOf(object) ?? "",
    author: idsOf(object.attributedTo)[0] ?? "",
    text: htmlToText(html),
    html,
    sensitive: object.sensitive === true,
    visibility: visibilityFromAddressing(object, mentions),
    attachments: asArray(object.attachment)
      .map(attachmentViewOf)
      .filter((a): a is AttachmentView => a !== undefined),
    mentions: [...new Set(mentions)],
    hashtags: [...new Set(hashtags)],
    links: extractLinks(html),
    raw: object,
  };
  // A content warning given only as a language map (AS2 Core §4.7) is still one.
  const summary =
    typeof object.summary === "string" ? object.summary : fromLanguageMap(object.summaryMap)?.text;
  if (summary) view.contentWarning = summary;
  const inReplyTo = idOf(object.inReplyTo);
  if (inReplyTo) view.inReplyTo = inReplyTo;
  const quote = quoteOf(object);
  if (quote) view.quote = quote;
  if (typeof object.updated === "string") view.editedAt = object.updated;
  if (mapped) view.language = mapped.language;
  const url = idsOf(object.url)[0];
  if (url) view.webUrl = url;
  return view;
}

// ---- the driver -------------------------------------------------------------------------------------------

/** Options of {@link createProbeDriver}. */
export interface ProbeDriverOptions {
  /** Implementation id reported by the driver. Default `probe`. */
  implementation?: string;
}

/** A {@link Driver} acting on a running probe. Closing the driver leaves the probe running. */
export function createProbeDriver(probe: Probe, options: ProbeDriverOptions = {}): Driver {
  const implementation = options.implementation ?? "probe";
  /** Objects each account posted through the driver (to recognise replies, likes, boosts of them). */
  const posted = new Map<string, Set<string>>();
  /** Likes and Announces sent, by `${username}\n${type}\n${objectUri}`, for unlike/unannounce. */
  const reactions = new Map<string, Json>();

  const actorOf = (account: Account): ProbeActor => probeActorOf(probe, account);

  function remember(account: Account, uri: string): void {
    let set = posted.get(account.username);
    if (!set) {
      set = new Set();
      posted.set(account.username, set);
    }
    set.add(uri);
  }

  async function authorOf(uri: string): Promise<string | undefined> {
    const copy = probe.receivedObject(uri);
    if (copy) return idsOf(copy.attributedTo)[0];
    try {
      const response = await probe.fetch(uri);
      const document = response.status === 200 ? response.json() : undefined;
      return isObject(document) ? idsOf(document.attributedTo)[0] : undefined;
    } catch {
      return undefined;
    }
  }

  async function mentionOf(actorId: string): Promise<{ tag: Json; label: string }> {
    const document = await probe.resolveActor(actorId);
    const username = typeof document?.preferredUsername === "string" ? document.preferredUsername : undefined;
    const label = username ? `@${username}@${new URL(actorId).host}` : actorId;
    return { tag: { type: "Mention", href: actorId, name: label }, label };
  }

  /** The Note fields a PostInput describes (content, tags, CW, attachments, reply, language). */
  async function noteFields(input: PostInput): Promise<Json> {
    let html = looksLikeHtml(input.content) ? input.content : plainTextToHtml(input.content);
    const tags: Json[] = [];
    const mentionLinks: string[] = [];
    for (const actorId of input.mentions ?? []) {
      const { tag, label } = await mentionOf(actorId);
      tags.push(tag);
      if (!html.includes(actorId)) {
        const user = label.replace(/^@/, "").split("@")[0] ?? label;
        mentionLinks.push(
          `<span class="h-card"><a href="${escapeHtml(actorId)}" class="u-url mention">@<span>${escapeHtml(user)}</span></a></span>`,
        );
      }
    }
    const tagLinks: string[] = [];
    for (const raw of input.hashtags ?? []) {
      const name = raw.replace(/^#+/, "");
      const href = `${probe.origin}/tags/${encodeURIComponent(normaliseHashtag(name))}`;
      tags.push({ type: "Hashtag", name: `#${name}`, href });
      if (!new RegExp(`#${name}(?![\\p{L}\\p{N}_])`, "iu").test(htmlToText(html))) {
        tagLinks.push(
          `<a href="${escapeHtml(href)}" class="mention hashtag" rel="tag">#<span>${escapeHtml(name)}</span></a>`,
        );
      }
    }
    if (mentionLinks.length > 0) html = `<p>${mentionLinks.join(" ")}</p>${html}`;
    if (tagLinks.length > 0) html = `${html}<p>${tagLinks.join(" ")}</p>`;
    const fields: Json = { content: html };
    if (input.language) fields.contentMap = { [input.language]: html };
    if (input.contentWarning !== undefined) fields.summary = input.contentWarning;
    fields.sensitive = input.sensitive ?? input.contentWarning !== undefined;
    if (tags.length > 0) fields.tag = tags;
    if (input.inReplyTo) fields.inReplyTo = input.inReplyTo;
    if (input.quote) {
      // Every quote encoding in use (FEP-044f, Misskey, Fedibird, as:quoteUrl) plus the "RE:" fallback
      // link FEP-044f asks for, so receivers without quote support still show what was quoted.
      const link = `<p class="quote-inline">RE: <a href="${escapeHtml(input.quote)}">${escapeHtml(input.quote)}</a></p>`;
      html = `${html}${link}`;
      fields.content = html;
      if (input.language) fields.contentMap = { [input.language]: html };
      for (const property of QUOTE_PROPERTIES) fields[property] = input.quote;
    }
    if (input.attachments?.length) {
      fields.attachment = input.attachments.map((a) => {
        if (!a.url) throw new UnsupportedError(implementation, "media-upload (attachments need a url)");
        const attachment: Json = { type: "Document", mediaType: a.mediaType, url: a.url };
        if (a.description !== undefined) attachment.name = a.description;
        return attachment;
      });
    }
    return fields;
  }

  /** Mastodon's addressing for a visibility; mentions (and a replied-to author) always receive it. */
  function addressingFor(
    actor: ProbeActor,
    visibility: Visibility,
    mentions: string[],
  ): { to: string[]; cc: string[] } {
    switch (visibility) {
      case "public":
        return { to: [PUBLIC], cc: [actor.followers, ...mentions] };
      case "unlisted":
        return { to: [actor.followers], cc: [PUBLIC, ...mentions] };
      case "followers":
        return { to: [actor.followers], cc: mentions };
      case "direct":
        return { to: mentions, cc: [] };
    }
  }

  function findRequest(account: Account, followerActorId: string): Json {
    const follow = probe.followRequests(actorOf(account)).find((f) => idOf(f.actor) === followerActorId);
    if (!follow) {
      throw new Error(`${account.handle} has no pending follow request from ${followerActorId}.`);
    }
    return follow;
  }

  async function react(account: Account, type: "Like" | "Announce", objectUri: string): Promise<void> {
    const actor = actorOf(account);
    const activity =
      type === "Like" ? await probe.like(actor, objectUri) : await probe.announce(actor, objectUri);
    reactions.set(`${account.username}\n${type}\n${objectUri}`, activity);
  }

  async function unreact(account: Account, type: "Like" | "Announce", objectUri: string): Promise<void> {
    const key = `${account.username}\n${type}\n${objectUri}`;
    const activity = reactions.get(key);
    if (!activity) throw new Error(`${account.handle} has no ${type} of ${objectUri} to undo.`);
    await probe.undo(actorOf(account), activity);
    reactions.delete(key);
  }

  /** Inbox entries the probe accepted, oldest first. */
  function accepted(): InboxEntry[] {
    return probe.inbox.query((e) => e.method === "POST" && e.status < 300 && e.activity !== undefined);
  }

  const driver: Driver = {
    implementation,
    capabilities: PROBE_CAPABILITIES,

    async provisionAccount(name) {
      const base = name.replace(/[^A-Za-z0-9_.-]/g, "_") || "user";
      let candidate = base;
      for (let n = 2; ; n++) {
        try {
          probe.actor(candidate);
          candidate = `${base}${n}`;
        } catch {
          break;
        }
      }
      const actor = await probe.createActor(candidate);
      return { username: actor.name, handle: actor.handle, actorId: actor.id };
    },
    async setLocked(account, locked) {
      probe.setLocked(actorOf(account), locked);
    },

    async follow(account, actorId) {
      await probe.follow(actorOf(account), actorId);
    },
    async unfollow(account, actorId) {
      await probe.unfollow(actorOf(account), actorId);
    },
    async followState(account, actorId): Promise<FollowState> {
      const state = probe.followState(actorOf(account), actorId);
      return state === "rejected" ? "none" : state;
    },
    async followers(account) {
      return probe.followers(actorOf(account));
    },
    async followRequests(account) {
      return probe
        .followRequests(actorOf(account))
        .map((f) => idOf(f.actor))
        .filter((id): id is string => id !== undefined);
    },
    async acceptFollow(account, followerActorId) {
      await probe.accept(actorOf(account), findRequest(account, followerActorId));
    },
    async rejectFollow(account, followerActorId) {
      await probe.reject(actorOf(account), findRequest(account, followerActorId));
    },

    async post(account, input) {
      const actor = actorOf(account);
      const fields = await noteFields(input);
      const mentions = [...(input.mentions ?? [])];
      if (input.inReplyTo && input.visibility !== "direct") {
        const author = await authorOf(input.inReplyTo);
        if (author && author !== actor.id && !mentions.includes(author)) mentions.push(author);
      }
      const object: Json = {
        "@context": [
          "https://www.w3.org/ns/activitystreams",
          { sensitive: "as:sensitive", Hashtag: "as:Hashtag", ...(input.quote ? QUOTE_TERMS : {}) },
        ],
        type: "Note",
        ...fields,
      };
      const create = await probe.post(
        actor,
        object,
        addressingFor(actor, input.visibility ?? "public", mentions),
      );
      const uri = idOf(create.object) ?? "";
      remember(account, uri);
      return { localId: uri, uri, url: uri };
    },
    async update(account, ref, input) {
      const fields = await noteFields(input);
      await probe.update(actorOf(account), ref.uri, fields);
    },
    async delete(account, ref) {
      await probe.delete(actorOf(account), ref.uri);
    },
    like: (account, objectUri) => react(account, "Like", objectUri),
    unlike: (account, objectUri) => unreact(account, "Like", objectUri),
    announce: (account, objectUri) => react(account, "Announce", objectUri),
    unannounce: (account, objectUri) => unreact(account, "Announce", objectUri),

    async lookupActor(_account, actorIdOrHandle) {
      let actorId = actorIdOrHandle;
      if (!/^https?:\/\//.test(actorIdOrHandle)) {
        const handle = actorIdOrHandle.replace(/^@/, "");
        const host = handle.split("@")[1];
        if (!host) return null;
        const protocol = new URL(probe.origin).protocol;
        const url = `${protocol}//${host}/.well-known/webfinger?resource=${encodeURIComponent(`acct:${handle}`)}`;
        try {
          const response = await probe.fetch(url, { accept: "application/jrd+json" });
          const jrd = response.status === 200 ? response.json() : undefined;
          const self = isObject(jrd)
            ? asArray(jrd.links).find((l) => isObject(l) && l.rel === "self" && typeof l.href === "string")
            : undefined;
          if (!isObject(self)) return null;
          actorId = self.href as string;
        } catch {
          return null;
        }
      }
      const raw = await probe.resolveActor(actorId);
      const id = raw ? idOf(raw) : undefined;
      return raw && id ? { id, raw } : null;
    },
    async lookupObject(account, uri) {
      try {
        let response = await probe.fetch(uri);
        // Authorized-fetch servers refuse unsigned GETs: ask again signed, as a server would.
        if (response.status === 401 || response.status === 403)
          response = await probe.fetch(uri, { signedAs: probe.actor(account.username) });
        if (response.status !== 200) return null;
        const document = response.json();
        return isObject(document) ? postViewOf(document) : null;
      } catch {
        return null;
      }
    },
    async receivedPost(_account, uri) {
      const object = probe.receivedObject(uri);
      return object ? postViewOf(object) : null;
    },
    async timeline() {
      // Newest arrival first; an Update moves a post up, as it is the latest version that is kept.
      const seen = new Set<string>();
      const views: PostView[] = [];
      for (const entry of accepted().reverse()) {
        const type = entry.activity?.type;
        if (type !== "Create" && type !== "Update") continue;
        const id = idOf(entry.activity?.object);
        if (!id || seen.has(id)) continue;
        seen.add(id);
        const object = probe.receivedObject(id);
        if (
          object &&
          !typesOf(object).some((t) => ["Person", "Service", "Application", "Group"].includes(t))
        ) {
          views.push(postViewOf(object));
        }
      }
      return views;
    },
    async notifications(account) {
      const actor = actorOf(account);
      const mine = posted.get(account.username) ?? new Set<string>();
      const out: NotificationView[] = [];
      for (const entry of accepted().reverse()) {
        const activity = entry.activity!;
        const from = idOf(activity.actor);
        if (!from || from === actor.id) continue;
        const object = activity.object;
        const objectId = idOf(object);
        const type = typesOf(activity)[0];
        let kind: NotificationView["type"] | undefined;
        if (type === "Follow" && objectId === actor.id) {
          kind = probe.followRequests(actor).some((f) => f.id === activity.id) ? "follow_request" : "follow";
        } else if (type === "Like" && objectId && mine.has(objectId)) kind = "like";
        else if (type === "Announce" && objectId && mine.has(objectId)) kind = "announce";
        else if (type === "Create" && isObject(object)) {
          const mentioned = asArray(object.tag).some(
            (t) => isObject(t) && typesOf(t).includes("Mention") && idsOf(t.href).includes(actor.id),
          );
          const replyTo = idOf(object.inReplyTo);
          if (replyTo && mine.has(replyTo)) kind = "reply";
          else if (mentioned) kind = "mention";
        }
        if (!kind) continue;
        const view: NotificationView = { type: kind, actor: from, raw: activity };
        const concerned =
          kind === "follow" || kind === "follow_request"
            ? undefined
            : kind === "reply" || kind === "mention"
              ? idOf(object)
              : objectId;
        if (concerned) view.object = concerned;
        out.push(view);
      }
      return out;
    },

    async postRaw(account, object, addressing): Promise<PostRef> {
      const create = await probe.post(actorOf(account), object, addressing);
      const uri = idOf(create.object) ?? "";
      remember(account, uri);
      return { localId: uri, uri };
    },

    async deleteActor(account) {
      const actor = actorOf(account);
      const followers = probe.followers(actor);
      const del = probe.deleteActor(actor);
      // Each follower's server is told once, signed with the gone key (DEL-06 is how it copes).
      const inboxes = new Set<string>();
      for (const follower of followers) {
        const doc = await probe.resolveActor(follower);
        const shared = isObject(doc?.endpoints) ? doc.endpoints.sharedInbox : undefined;
        const inbox = typeof shared === "string" ? shared : doc?.inbox;
        if (typeof inbox === "string") inboxes.add(inbox);
      }
      for (const inbox of inboxes) await probe.deliver(actor, inbox, del);
    },

    async close() {
      // The probe belongs to whoever started it; nothing to release here.
    },
  };
  return driver;
}
