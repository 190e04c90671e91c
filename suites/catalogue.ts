/**
 * The check catalogue: every requirement fedicheck decides, with a stable id, the requirement it
 * stands for, where that comes from, and how much it matters (spec level × interop impact, as in
 * FediTest). Ids are published: never renumber them, only add. Scenarios in this folder decide them.
 * @module
 */
import type { Capability, CheckDefinition } from "../harness/core/model.ts";
import { SUPPORT_CHECKS } from "./support-checks.ts";

const AP = "W3C ActivityPub";
const AS2 = "W3C Activity Streams 2.0";
const WF = "RFC 7033 (WebFinger)";
const SIG = "SocialCG report “ActivityPub and HTTP Signatures”";
const MASTODON_SECURITY = "https://docs.joinmastodon.org/spec/security/";
const MASTODON_AP = "https://docs.joinmastodon.org/spec/activitypub/";

type Requires = { sender?: Capability[]; receiver?: Capability[] };

/** Shorthand that keeps the table below readable. */
function check(
  id: string,
  suite: string,
  title: string,
  requirement: string,
  source: string,
  level: CheckDefinition["level"],
  impact: CheckDefinition["impact"],
  requires?: Requires,
): CheckDefinition {
  return { id, suite, title, requirement, source, level, impact, ...(requires ? { requires } : {}) };
}

const DISCOVERY: CheckDefinition[] = [
  check(
    "DSC-WF-01",
    "discovery",
    "WebFinger serves a JRD for acct: resources",
    "A WebFinger query for an existing acct: resource is answered 200 with a JRD (`subject`, `links`) " +
      "served as `application/jrd+json`.",
    `${WF} §4, §4.4, §10.2`,
    "MUST",
    "PROBLEM",
    { receiver: ["webfinger"] },
  ),
  check(
    "DSC-WF-02",
    "discovery",
    "WebFinger answers 400 without a resource",
    "“If the resource parameter is absent or malformed, the WebFinger resource MUST indicate that the " +
      "request is bad” (400).",
    `${WF} §4.2`,
    "MUST",
    "UNAFFECTED",
    { receiver: ["webfinger"] },
  ),
  check(
    "DSC-WF-03",
    "discovery",
    "WebFinger answers 404 for an unknown account",
    "“If the server has no information … it MUST indicate that it was unable to match the request” (404).",
    `${WF} §4.2`,
    "MUST",
    "DEGRADED",
    { receiver: ["webfinger"] },
  ),
  check(
    "DSC-WF-04",
    "discovery",
    "WebFinger sends a CORS header",
    "“Servers MUST include the Access-Control-Allow-Origin (CORS) header in responses” so that browser " +
      "clients can discover accounts.",
    `${WF} §5`,
    "MUST",
    "DEGRADED",
    { receiver: ["webfinger"] },
  ),
  check(
    "DSC-WF-05",
    "discovery",
    "WebFinger's AS2 `self` links lead to the actor alone",
    "The JRD holds a link with rel `self`, an ActivityStreams media type and the actor id as href, and " +
      "no AS2 `self` link to anything else (one per AS2 media type to the same actor is fine, as " +
      "Mastodon resolves such answers since mastodon/mastodon#31110).",
    `SocialCG report “ActivityPub and WebFinger” §2; ${MASTODON_AP}../webfinger/`,
    "MUST",
    "PROBLEM",
    { receiver: ["webfinger"] },
  ),
  check(
    "DSC-WF-06",
    "discovery",
    "Reverse discovery round-trips",
    "WebFinger for the actor's preferredUsername at the actor's host leads back to the same actor id " +
      "(Mastodon refuses accounts whose handle does not round-trip).",
    `SocialCG report “ActivityPub and WebFinger” §2.3; ${MASTODON_AP}../webfinger/`,
    "SHOULD",
    "PROBLEM",
    { receiver: ["webfinger"] },
  ),
  check(
    "DSC-NI-01",
    "discovery",
    "NodeInfo well-known chain resolves",
    "`/.well-known/nodeinfo` lists a link whose rel is a NodeInfo 2.x schema IRI, and its href serves the " +
      "NodeInfo document.",
    "NodeInfo protocol (nodeinfo.diaspora.software/protocol)",
    "MUST",
    "DEGRADED",
    { receiver: ["nodeinfo"] },
  ),
  check(
    "DSC-NI-02",
    "discovery",
    "NodeInfo document is schema-valid",
    "The NodeInfo document has version, software{name ^[a-z0-9-]+$, version}, protocols containing " +
      "activitypub, services, openRegistrations, usage{users} and metadata, and no other top-level members " +
      "(a `$schema` member naming the NodeInfo schema is tolerated: it only identifies the document).",
    "NodeInfo 2.0/2.1 JSON schemas",
    "MUST",
    "DEGRADED",
    { receiver: ["nodeinfo"] },
  ),
  check(
    "DSC-ACT-01",
    "discovery",
    "Actor served for both AS2 media types",
    "Servers MUST present the ActivityStreams representation for `application/ld+json; " +
      'profile="https://www.w3.org/ns/activitystreams"` and SHOULD for `application/activity+json`, ' +
      "answering with an AS2 media type.",
    `${AP} §3.2`,
    "MUST",
    "PROBLEM",
  ),
  check(
    "DSC-ACT-02",
    "discovery",
    "Actor has absolute inbox and outbox",
    "Actor objects MUST have `inbox` and `outbox` properties (absolute URLs of OrderedCollections).",
    `${AP} §4.1`,
    "MUST",
    "PROBLEM",
  ),
  check(
    "DSC-ACT-03",
    "discovery",
    "followers/following resolve or are deliberately hidden",
    "Actors SHOULD have `followers` and `following`; each resolves to a collection, or is refused " +
      "(401/403/404) when the owner hides it.",
    `${AP} §4.1, §5.3, §5.4`,
    "SHOULD",
    "DEGRADED",
  ),
  check(
    "DSC-ACT-04",
    "discovery",
    "Actor publishes a usable public key",
    "`publicKey` has an `id`, an `owner` equal to the actor id and a PEM `publicKeyPem` that parses, so " +
      "peers can verify its HTTP signatures.",
    `${SIG}; ${MASTODON_SECURITY}`,
    "SHOULD",
    "PROBLEM",
  ),
  check(
    "DSC-ACT-05",
    "discovery",
    "`Vary: Accept` when the actor URL also serves HTML",
    "When the same URL serves HTML and AS2 by content negotiation, responses carry `Vary: Accept` so " +
      "caches do not serve one for the other.",
    "RFC 9110 §12.5.5",
    "SHOULD",
    "DEGRADED",
  ),
];

const FOLLOW: CheckDefinition[] = [
  check(
    "FOL-01",
    "follow",
    "Follow is well-formed",
    "A Follow has an id on the follower's origin, `actor` = the follower and `object` = the followed actor.",
    `${AP} §6.5, §3.1`,
    "MUST",
    "PROBLEM",
    { sender: ["follow"] },
  ),
  check(
    "FOL-02",
    "follow",
    "An open account accepts a Follow within the budget",
    "The receiving server SHOULD answer a Follow with Accept or Reject; an unlocked account accepts, and " +
      "the follower then sees the follow as established.",
    `${AP} §7.5`,
    "SHOULD",
    "PROBLEM",
    { sender: ["follow"], receiver: ["follow"] },
  ),
  check(
    "FOL-03",
    "follow",
    "An Accept embedding the Follow completes it",
    "When the object of a received Accept is a Follow the receiver sent, the receiver adds the accepting " +
      "actor to its following collection (object given as the embedded Follow).",
    `${AP} §7.7`,
    "SHOULD",
    "PROBLEM",
    { receiver: ["follow"] },
  ),
  check(
    "FOL-04",
    "follow",
    "An Accept naming the Follow by id completes it",
    "As FOL-03, with the Accept's object given only as the Follow's id (a link, which AS2 allows).",
    `${AP} §7.7; ${AS2} Core §3`,
    "SHOULD",
    "PROBLEM",
    { receiver: ["follow"] },
  ),
  check(
    "FOL-05",
    "follow",
    "Accept has an id on the accepter's origin",
    "Non-transient activities MUST have unique global ids; the Accept's id is on the accepting actor's origin.",
    `${AP} §3.1`,
    "MUST",
    "DEGRADED",
    { sender: ["follow"] },
  ),
  check(
    "FOL-06",
    "follow",
    "Followers collection updated after Accept",
    "After accepting, the followed server adds the follower to the followed actor's followers collection.",
    `${AP} §7.5, §7.7`,
    "SHOULD",
    "PROBLEM",
    { sender: ["follow"], receiver: ["follow"] },
  ),
  check(
    "FOL-07",
    "follow",
    "Locked account: pending until accepted",
    "A Follow to an account that manually approves followers stays pending (no Accept) until its owner " +
      "accepts; then the follow completes.",
    `${AP} §7.5; ${MASTODON_AP} (manuallyApprovesFollowers)`,
    "SHOULD",
    "PROBLEM",
    { sender: ["locked-accounts"], receiver: ["follow"] },
  ),
  check(
    "FOL-08",
    "follow",
    "Reject leaves the follower not following",
    "On Reject of its Follow the follower's server MUST NOT add the actor to its following collection, and " +
      "the rejecting side does not count it as a follower.",
    `${AP} §7.8`,
    "MUST",
    "PROBLEM",
    { sender: ["locked-accounts", "reject-follow"], receiver: ["follow"] },
  ),
  check(
    "FOL-09",
    "follow",
    "Undo(Follow) removes the follower (embedded and by id)",
    "An Undo of a Follow, with the Follow embedded or named only by its id, removes the follower from the " +
      "followed actor's followers (Threads once answered 500 to the bare id).",
    `${AP} §6.10, §7.11`,
    "SHOULD",
    "PROBLEM",
    { sender: ["follow"], receiver: ["follow"] },
  ),
  check(
    "FOL-10",
    "follow",
    "Nothing is delivered after Undo(Follow)",
    "Once a follower undid its Follow, posts addressed to the followers are no longer delivered to it.",
    `${AP} §7.11, §7.1 (followers addressing)`,
    "IMPLIED",
    "PROBLEM",
    { sender: ["follow", "post"], receiver: ["follow"] },
  ),
  check(
    "FOL-11",
    "follow",
    "Duplicate Follow and Accept are idempotent",
    "Receiving the same Follow (or Accept) twice is harmless: it is not refused with an error and the " +
      "relation stays single and established (Lemmy answered 400 to a repeated id).",
    `${AP} §7 (inbox de-duplication); LemmyNet/lemmy issue on repeated activity ids`,
    "SHOULD",
    "DEGRADED",
  ),
  check(
    "FOL-12",
    "follow",
    "Accept names the Follow it accepts",
    "An Accept's `object` is the Follow it answers (embedded, or its id), so the follower can tell which " +
      "request completed.",
    `${AP} §7.7; ${AS2} Vocabulary (Accept)`,
    "MUST",
    "PROBLEM",
    { sender: ["follow"] },
  ),
];

const POST: CheckDefinition[] = [
  check(
    "PST-01",
    "post",
    "Create is well-formed",
    "A delivered Create has an id, `actor` = the author, and an object with id, `attributedTo` = the " +
      "actor, `published` and `content`.",
    `${AP} §6.2, §7.2; ${AS2} Vocabulary`,
    "MUST",
    "PROBLEM",
    { sender: ["post"] },
  ),
  check(
    "PST-02",
    "post",
    "Visibility survives: public, unlisted, followers-only",
    "A public, an unlisted and a followers-only post each arrive with the same visibility, as encoded in " +
      "to/cc (Public in to, Public in cc, followers collection only).",
    `${MASTODON_AP} (visibility); ${AP} §5.6`,
    "IMPLIED",
    "PROBLEM",
    { sender: ["post", "visibility-unlisted", "visibility-followers"] },
  ),
  check(
    "PST-03",
    "post",
    "An activity delivered twice takes effect once",
    "Receivers de-duplicate by activity id: a replayed activity (same id, e.g. via shared inbox and " +
      "forwarding) has no second effect.",
    `${AP} §7.1.2`,
    "SHOULD",
    "DEGRADED",
  ),
  check(
    "PST-04",
    "post",
    "A direct message stays direct",
    "A post addressed only to mentioned actors arrives as a direct message, not as public or " +
      "followers-only, and is not addressed to Public (misskey #2171).",
    `${MASTODON_AP} (visibility); https://github.com/misskey-dev/misskey/issues/2171`,
    "IMPLIED",
    "PROBLEM",
    { sender: ["post", "visibility-direct", "mentions"] },
  ),
  check(
    "PST-05",
    "post",
    "Mentions arrive",
    "A Mention tag naming the receiving actor is kept: the post lists the actor as mentioned.",
    `${AS2} Vocabulary (Mention); ${MASTODON_AP} (tag)`,
    "SHOULD",
    "DEGRADED",
    { sender: ["post", "mentions"] },
  ),
  check(
    "PST-06",
    "post",
    "Hashtags arrive",
    "Hashtag tags are kept and normalised (case-insensitive, without `#`).",
    `${MASTODON_AP} (Hashtag)`,
    "MAY",
    "DEGRADED",
    { sender: ["post", "hashtags"] },
  ),
  check(
    "PST-07",
    "post",
    "Links preserved, HTML sanitised sanely",
    "Links in content survive with their href; active HTML (script, event handlers) is removed while " +
      "ordinary markup and links stay.",
    `${AS2} Vocabulary (content is HTML); ${MASTODON_AP} (HTML sanitization)`,
    "SHOULD",
    "PROBLEM",
    { sender: ["post"] },
  ),
  check(
    "PST-08",
    "post",
    "Content warning arrives",
    "A post with `summary` (content warning) and `sensitive` arrives with the same warning text and the " +
      "sensitive flag.",
    `${MASTODON_AP} (summary, sensitive); ${AS2} Vocabulary (summary)`,
    "SHOULD",
    "PROBLEM",
    { sender: ["post", "content-warning"] },
  ),
  check(
    "PST-09",
    "post",
    "Update is reflected",
    "On Update of an object it holds, the receiver SHOULD update its copy: the edit shows.",
    `${AP} §7.3`,
    "SHOULD",
    "PROBLEM",
    { sender: ["post", "update"] },
  ),
  check(
    "PST-10",
    "post",
    "Update/Delete from a non-owner is ignored",
    "The receiver MUST make sure an Update or Delete is authorised: one sent by an actor that does not " +
      "own the object leaves the copy unchanged.",
    `${AP} §7.3, §7.4`,
    "MUST",
    "PROBLEM",
  ),
  check(
    "PST-11",
    "post",
    "Reply threading kept",
    "A reply arrives with `inReplyTo` naming its parent.",
    `${AS2} Vocabulary (inReplyTo)`,
    "SHOULD",
    "DEGRADED",
    { sender: ["post", "replies"] },
  ),
  check(
    "PST-12",
    "post",
    "A quote arrives as a quote, or with a link to the quoted post",
    "A quote post (FEP-044f `quote`, Misskey `_misskey_quote`, Fedibird `quoteUri`, `quoteUrl`) arrives " +
      "quoting the same object, or at least with a readable link to it in its content (mastodon#22719).",
    "FEP-044f; https://github.com/mastodon/mastodon/issues/22719",
    "SHOULD",
    "DEGRADED",
    { sender: ["post", "quotes"] },
  ),
  check(
    "PST-13",
    "post",
    "Like and Announce reach the author, and their Undo",
    "A Like and an Announce of a post reach the author's server (notification or counts), and Undo of the " +
      "Like withdraws it.",
    `${AP} §7.10, §7.11, §6.10`,
    "SHOULD",
    "DEGRADED",
    { sender: ["post"], receiver: ["like", "announce"] },
  ),
  check(
    "PST-14",
    "post",
    "Dereferenced object equals the delivered copy",
    "Fetching the object's id returns the same object that was delivered (id, type, attributedTo, " +
      "content, addressing).",
    `${AP} §3.2`,
    "MUST",
    "DEGRADED",
    { sender: ["post"] },
  ),
  check(
    "AS-01",
    "post",
    "A document without @context is accepted",
    "A document with no `@context` is read with the normative AS2 context; the post arrives.",
    `${AS2} Core §2.1`,
    "SHOULD",
    "DEGRADED",
  ),
  check(
    "AS-02",
    "post",
    "Unknown extensions and context URLs do not break parsing",
    "Consumers MUST NOT fail on unknown extension terms; an unknown or unreachable context URL " +
      "(e.g. `http://joinmastodon.org/ns`, never served) must not make the post vanish.",
    `${AS2} Core §5`,
    "MUST",
    "PROBLEM",
  ),
  check(
    "AS-03",
    "post",
    "Dates are RFC 3339 date-times",
    "`published`/`updated` are xsd:dateTime as RFC 3339, upper-case `T` and `Z`, with a time zone.",
    `${AS2} Core §2.3; RFC 3339`,
    "MUST",
    "DEGRADED",
    { sender: ["post"] },
  ),
  check(
    "AS-04",
    "post",
    "Language maps are read, and kept consistent with the plain value",
    "`content`, `summary` and `name` may be given as language maps (`contentMap`…): a receiver shows a post " +
      "given only as `contentMap`/`summaryMap`, and a sender that sends a map sends a well-formed one whose " +
      "plain value, when also sent, is one of the map's values (gotosocial#3617).",
    `${AS2} Core §4.7; https://github.com/superseriousbusiness/gotosocial/issues/3617`,
    "SHOULD",
    "PROBLEM",
  ),
  check(
    "AS-05",
    "post",
    "`name` carries no HTML; a Question has oneOf or anyOf, not both",
    "`name` is plain text (HTML goes in `content`/`summary`), on what a server delivers and on its " +
      "actors; a Question MUST NOT carry both `oneOf` and `anyOf`.",
    `${AS2} Vocabulary §4 (name, Question)`,
    "MUST",
    "DEGRADED",
    { sender: ["post"] },
  ),
  check(
    "AS-06",
    "post",
    "No bto/bcc in deliveries",
    "The server MUST remove `bto` and `bcc` from an activity (and its object) before delivery.",
    `${AP} §6.1`,
    "MUST",
    "PROBLEM",
    { sender: ["post"] },
  ),
  check(
    "AS-07",
    "post",
    "Ids are on the actor's origin",
    "The activity's and the object's ids are on the same origin as the actor (receivers use origin to " +
      "judge authority).",
    `${AP} §3.1; ${MASTODON_SECURITY}`,
    "SHOULD",
    "PROBLEM",
    { sender: ["post"] },
  ),
];

const MEDIA: CheckDefinition[] = [
  check(
    "MED-01",
    "media-fallback",
    "Image attachment arrives with its alt text",
    "An Image attachment is kept as an image (or as media of unknown type) with its `name` as description.",
    `${AS2} Vocabulary (attachment, name); ${MASTODON_AP} (attachment)`,
    "SHOULD",
    "PROBLEM",
    { sender: ["post"] },
  ),
  check(
    "MED-02",
    "media-fallback",
    "Alt text given in `summary` is used",
    "An attachment whose description is only in `summary` (as some senders write it) keeps it as description.",
    "https://github.com/mastodon/mastodon/issues/11796",
    "MAY",
    "DEGRADED",
    { sender: ["raw-post"] },
  ),
  check(
    "MED-03",
    "media-fallback",
    "Audio and video attachments kept as media",
    "An Audio and a Video attachment arrive as audio and video attachments.",
    `${AS2} Vocabulary (Audio, Video)`,
    "SHOULD",
    "PROBLEM",
    { sender: ["raw-post"] },
  ),
  check(
    "MED-04",
    "media-fallback",
    "Unknown mediaType kept as a link",
    "An attachment of a media type the receiver cannot show stays reachable as a link, not dropped.",
    "https://github.com/superseriousbusiness/gotosocial/issues/765",
    "SHOULD",
    "PROBLEM",
    { sender: ["raw-post"] },
  ),
  check(
    "MED-05",
    "media-fallback",
    "Attachment `url` given as an array of Links",
    "An attachment whose `url` is an array of Link objects is kept (one of them used); the post is not " +
      "dropped (mastodon #34979).",
    `${AS2} Vocabulary (url); https://github.com/mastodon/mastodon/issues/34979`,
    "MUST",
    "PROBLEM",
    { sender: ["raw-post"] },
  ),
  check(
    "MED-06",
    "media-fallback",
    "Link attachment kept",
    "An attachment of type Link (href, no media) stays reachable on the receiver.",
    `${AS2} Vocabulary (Link, attachment)`,
    "SHOULD",
    "DEGRADED",
    { sender: ["raw-post"] },
  ),
  check(
    "MED-07",
    "media-fallback",
    "Top-level Article/Page/Event fall back to text and a link",
    "A receiver that does not render these types shows their `name` (title) and a link to `url`, as " +
      "Mastodon does, instead of dropping them.",
    `${MASTODON_AP} (non-Note objects); fediverse-pasture object_types`,
    "SHOULD",
    "PROBLEM",
    { sender: ["raw-post"] },
  ),
  check(
    "MED-08",
    "media-fallback",
    "Top-level Audio/Video fall back to text and a link",
    "A top-level Audio or Video (PeerTube, Funkwhale) arrives readable: its `name` and a link to its page " +
      "or media.",
    `${MASTODON_AP} (non-Note objects)`,
    "SHOULD",
    "PROBLEM",
    { sender: ["raw-post"] },
  ),
  check(
    "MED-09",
    "media-fallback",
    "Question falls back readably",
    "A poll (Question) arrives; a receiver without polls shows the question and its options as text.",
    `${AS2} Vocabulary (Question); ${MASTODON_AP} (Question)`,
    "SHOULD",
    "DEGRADED",
    { sender: ["raw-post"] },
  ),
  check(
    "MED-10",
    "media-fallback",
    "More than four attachments: kept (maybe truncated), not dropped",
    "A post with six image attachments arrives with at least four of them (Mastodon keeps four).",
    "fediverse-pasture attachments (10 images)",
    "SHOULD",
    "DEGRADED",
    { sender: ["raw-post"] },
  ),
  check(
    "MED-11",
    "media-fallback",
    "Sensitive media stays flagged",
    "`sensitive: true` on a post with media arrives as sensitive, so the media is hidden, and the media is kept.",
    `${MASTODON_AP} (sensitive)`,
    "SHOULD",
    "PROBLEM",
    { sender: ["post"] },
  ),
  check(
    "MED-13",
    "media-fallback",
    "Audio post with a transcript arrives readable",
    "An audio post carrying its transcript in `content` (a Note with an audio attachment, or a top-level " +
      "Audio) shows the transcript as readable text even where audio cannot be played (Threads' plan).",
    "Threads federation plan for audio posts; fediverse-pasture object_types",
    "SHOULD",
    "PROBLEM",
    { sender: ["raw-post"] },
  ),
];

const DELETE: CheckDefinition[] = [
  check(
    "DEL-01",
    "delete",
    "Delete removes the copy on followers' servers",
    "On Delete of an object it holds, the receiver SHOULD remove its representation.",
    `${AP} §7.4`,
    "SHOULD",
    "PROBLEM",
    { sender: ["post", "delete"] },
  ),
  check(
    "DEL-02",
    "delete",
    "Origin answers 410 with a Tombstone (or 404)",
    "After deletion the object's id SHOULD answer 410 Gone with a Tombstone (`formerType`, `deleted`), " +
      "else 404; never the old object.",
    `${AP} §6.4, §7.4; ${AS2} Vocabulary (Tombstone)`,
    "SHOULD",
    "DEGRADED",
    { receiver: ["post", "delete"] },
  ),
  check(
    "DEL-03",
    "delete",
    "A post that came through a boost goes away when its author deletes it",
    "A server holding a post only because an account there follows someone who boosted it (not its " +
      "author) removes it when the author deletes it. The author's server sends its Delete to those " +
      "who boosted the post, and their servers forward it to their followers (AP §7.1.2 inbox " +
      "forwarding); the receiver accepts the forwarded Delete once it can tell it is genuine (a Linked " +
      "Data Signature, or the object answering 410/404 at its origin) even though nobody there follows " +
      "the author.",
    `${AP} §7.1.2, §7.4; https://github.com/mastodon/mastodon/issues/889; https://github.com/swicg/general/issues/18`,
    "SHOULD",
    "DEGRADED",
    { sender: ["post", "delete"], receiver: ["follow"] },
  ),
  check(
    "DEL-04",
    "delete",
    "Delete arriving before its Create suppresses it",
    "A Delete received before the Create of the same object prevents the late Create from showing it " +
      "(Mastodon keeps a tombstone for hours).",
    "Mastodon (ActivityPub::Activity::Delete, delete-upon-arrival)",
    "SHOULD",
    "PROBLEM",
  ),
  check(
    "DEL-05",
    "delete",
    "Delete from another origin is ignored",
    "A Delete sent by an actor on another origin than the object's MUST NOT remove the object.",
    `${AP} §7.4 (at minimum same origin)`,
    "MUST",
    "PROBLEM",
    { sender: ["post"] },
  ),
  check(
    "DEL-06",
    "delete",
    "An actor's Delete is accepted though its key answers 410",
    "When an actor is deleted its key goes with it, so its Delete cannot be verified; a receiver whose " +
      "fetch of the key finds 410 Gone accepts the Delete of that actor and forgets it (its follows, " +
      "its posts) instead of refusing it.",
    "https://github.com/superseriousbusiness/gotosocial/pull/1005; Fedify onUnverifiedActivity",
    "SHOULD",
    "DEGRADED",
    { receiver: ["follow"] },
  ),
  check(
    "DEL-07",
    "delete",
    "WebFinger stops resolving a deleted account",
    "Once an account is deleted, a WebFinger query for its acct: resource answers 404 or 410 (the " +
      "server no longer has information on it), and its actor id answers 410 with a Tombstone, or 404; " +
      "else peers keep resolving, following and addressing an account that is gone.",
    `${WF} §4.2; ${AP} §6.4; https://github.com/mastodon/mastodon/pull/11869; https://github.com/pixelfed/pixelfed/issues/5219`,
    "SHOULD",
    "DEGRADED",
    { receiver: ["webfinger"] },
  ),
  check(
    "DEL-08",
    "delete",
    "A stale copy is purged when a refetch finds it gone",
    "A server that fetched a post without following never gets its Delete; looking it up again after " +
      "deletion finds 410/404 at the origin and no longer shows the post.",
    `${AP} §3.2, §6.4`,
    "SHOULD",
    "DEGRADED",
    { sender: ["post", "delete"] },
  ),
];

const SIGNATURES: CheckDefinition[] = [
  check(
    "SIG-01",
    "signatures",
    "Outgoing POSTs are signed in a form peers verify",
    "Deliveries are signed: draft-cavage-12 covering `(request-target) host date digest` with " +
      "`Digest: SHA-256=` (upper-case prefix; Threads rejected lower-case), or RFC 9421 covering " +
      "`@method @target-uri content-digest` with `created`; and the signature verifies.",
    `${SIG}; ${MASTODON_SECURITY}; https://github.com/fedify-dev/fedify/issues/125`,
    "MUST",
    "PROBLEM",
    { sender: ["post"] },
  ),
  check(
    "SIG-02",
    "signatures",
    "Unsigned POST is rejected",
    "An inbox POST without an HTTP signature is not processed (Mastodon answers 401).",
    `${SIG}; ${MASTODON_SECURITY}`,
    "MUST",
    "PROBLEM",
  ),
  check(
    "SIG-03",
    "signatures",
    "Bad signature or digest mismatch is rejected",
    "A POST signed with a key the actor does not publish, or whose body no longer matches its digest, is " +
      "not processed.",
    `${SIG}; RFC 3230; RFC 9530`,
    "MUST",
    "PROBLEM",
  ),
  check(
    "SIG-04",
    "signatures",
    "Signer other than the activity's actor is rejected",
    "An activity whose `actor` is not the owner of the signing key is not processed as that actor.",
    `${SIG}; ${MASTODON_SECURITY}`,
    "MUST",
    "PROBLEM",
  ),
  check(
    "SIG-04b",
    "signatures",
    "A key the actor does not list is rejected",
    "A key document that claims the actor as its `owner`, but that the actor's own document does not " +
      "list, does not authenticate the actor, wherever it is hosted: ownership is confirmed from the actor.",
    "https://github.com/fedify-dev/fedify/security/advisories/GHSA-q9f8-5hc7-898f",
    "MUST",
    "PROBLEM",
  ),
  check(
    "SIG-05",
    "signatures",
    "Stale or future Date is rejected",
    "A signature whose Date lies far outside the accepted window (Mastodon: 12 h past + 1 h skew, 1 h " +
      "future) is refused, so captured requests cannot be replayed.",
    `${SIG}; ${MASTODON_SECURITY}`,
    "SHOULD",
    "PROBLEM",
  ),
  check(
    "SIG-06",
    "signatures",
    "RFC 9421 signatures are accepted",
    "A POST signed with RFC 9421 HTTP Message Signatures (`created`, `@method`, `@target-uri`, " +
      "`Content-Digest`) is accepted and processed.",
    "RFC 9421; RFC 9530; FEP-844e",
    "SHOULD",
    "DEGRADED",
    { receiver: ["signature-rfc9421"] },
  ),
  check(
    "SIG-07",
    "signatures",
    "A cavage signature with algorithm hs2019 is accepted",
    "`hs2019` in a draft-cavage `Signature` header means “the key's own algorithm” (RSA keys: " +
      "RSASSA-PKCS1-v1_5 SHA-256, as Mastodon reads it); a POST signed so is accepted.",
    `${SIG}; draft-cavage-http-signatures-12 §2.1.3`,
    "SHOULD",
    "PROBLEM",
    { receiver: ["signature-cavage"] },
  ),
  check(
    "SIG-08",
    "signatures",
    "A rotated key is verified after a refetch",
    "When a signature fails with a cached key, the verifier fetches the key once more: an actor that " +
      "rotated its key (under the same key id, or a new one) and announced it with Update keeps " +
      "being heard.",
    `${SIG}; ${MASTODON_SECURITY}`,
    "SHOULD",
    "PROBLEM",
  ),
  check(
    "SIG-09",
    "signatures",
    "Authorized fetch refuses unsigned GETs and serves signed ones",
    "A server in authorized-fetch (secure) mode answers unsigned GETs of its actors and objects with " +
      "401 or 403, and serves them to GETs signed by a key it can verify.",
    `${SIG} (authorized fetch); ${MASTODON_SECURITY}`,
    "MUST",
    "PROBLEM",
    { receiver: ["authorized-fetch"] },
  ),
];

const SECURITY: CheckDefinition[] = [
  check(
    "SEC-01",
    "security",
    "A post forged in another actor's name is not shown as theirs",
    "A Create whose object's `attributedTo` is not the activity's (verified) actor is not stored as " +
      "that other actor's post: authorship comes from the signature, not from the payload.",
    `${AP} §3.1 (objects' authenticity); ${MASTODON_SECURITY}`,
    "MUST",
    "PROBLEM",
  ),
  check(
    "SEC-02",
    "security",
    "A boosted object is taken from its origin, not from the Announce",
    "An Announce embedding a copy of another server's object does not make the receiver believe that " +
      "copy: it resolves the object from its origin (showing the real content) or drops it.",
    `${AP} §7.11 (Announce), §3.2 (retrieving objects); Mastodon (fetch_remote_original_status)`,
    "MUST",
    "PROBLEM",
    { sender: ["post"], receiver: ["follow"] },
  ),
  check(
    "SEC-03",
    "security",
    "An oversized body is refused without harm",
    "An inbox POST of several MiB (whitespace-padded, validly signed) is refused (e.g. 413) rather than " +
      "processed, and the server goes on working: a later post arrives, nothing of the big one is kept.",
    "OWASP API4:2023 (unrestricted resource consumption); Mastodon and GoToSocial body limits",
    "SHOULD",
    "DEGRADED",
  ),
  check(
    "SEC-04",
    "security",
    "Deeply nested JSON is refused or ignored without harm",
    "A document with an extension nested thousands of arrays deep is refused or has that member " +
      "dropped: the server goes on working (a later post arrives) and what it keeps or serves back " +
      "carries no structure nested beyond 100 levels.",
    "OWASP API4:2023; RFC 8259 §9 (parsers may limit nesting depth)",
    "SHOULD",
    "DEGRADED",
  ),
];

const COLLECTIONS: CheckDefinition[] = [
  check(
    "COL-01",
    "collections",
    "Outbox is a paged OrderedCollection, newest first",
    "The actor's `outbox` is an OrderedCollection (AP §5.1) that links its items through `first` " +
      "(OrderedCollectionPage, `next`) rather than inlining them all, and “an OrderedCollection MUST be " +
      "presented consistently in reverse chronological order” (AP §5): the latest public posts come first.",
    `${AP} §5, §5.1; ${AS2} Core §5 (paging); Mastodon paged outboxes since mastodon/mastodon#7356`,
    "SHOULD",
    "DEGRADED",
    { receiver: ["post"] },
  ),
  check(
    "COL-02",
    "collections",
    "A GET of the inbox is answered sanely",
    "The inbox “MUST be an OrderedCollection” and its contents are filtered by the requester's " +
      "permission (AP §5.2): a GET from another server is either served as an AS2 OrderedCollection " +
      "that shows it nothing private, or clearly refused (401, 403, 404, 405); never a server error " +
      "(5xx), an HTML page, or another status.",
    `${AP} §5.2; RFC 9110 §15.5.6 (405), §15.6.1 (5xx)`,
    "SHOULD",
    "UNAFFECTED",
  ),
  check(
    "COL-03",
    "collections",
    "followers/following give totalItems consistent with their items",
    "A served followers or following collection has an integer `totalItems` that agrees with the " +
      "relations the server holds (followers: its own list, after an unfollow too) and, when the items " +
      "are shown (inline or through `first`/`next` pages), with the number of items, which include " +
      "the actors concerned.",
    `${AP} §5.3, §5.4; ${AS2} Vocabulary (totalItems)`,
    "SHOULD",
    "DEGRADED",
    { receiver: ["follow"] },
  ),
];

/** Every check fedicheck decides, grouped by suite. */
export const CHECKS: CheckDefinition[] = [
  ...DISCOVERY,
  ...FOLLOW,
  ...POST,
  ...MEDIA,
  ...DELETE,
  ...SIGNATURES,
  ...SECURITY,
  ...COLLECTIONS,
  ...SUPPORT_CHECKS,
];

const INDEX = new Map(CHECKS.map((c) => [c.id, c]));

/** The check with this id; throws naming the id when the catalogue has none. */
export function checkById(id: string): CheckDefinition {
  const found = INDEX.get(id);
  if (!found) throw new Error(`check '${id}' is not in the catalogue (suites/catalogue.ts)`);
  return found;
}
