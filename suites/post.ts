/**
 * Post: what happens to a post between two servers — visibility, direct messages, mentions,
 * hashtags, links and HTML, content warnings, edits, replies, reactions — plus the payload checks on
 * what a target delivers (seen by the probe) and the crafted deliveries only the probe can make
 * (replays, forged edits, documents without or with unknown contexts).
 * @module
 */
import type { Scenario, ScenarioContext } from "../harness/core/scenario.ts";
import type { PostView } from "../harness/drivers/driver.ts";
import { RULES } from "../harness/validate/catalogue.ts";
import type { Finding } from "../harness/validate/findings.ts";
import {
  AS_CONTEXT,
  craftActivity,
  craftNote,
  deliveryEvidence,
  embeddedObject,
  establishFollow,
  fetchEvidence,
  followingPair,
  heldBy,
  idOf,
  idsOf,
  inboxOf,
  isObject,
  type Json,
  jsonBody,
  originOf,
  type Party,
  PUBLIC,
  party,
  postAndWait,
  postRaw,
  probeActorOf,
  probeReceived,
  probeSentinel,
  show,
  summarise,
  token,
  typeOf,
  waitHeld,
  who,
} from "./steps.ts";

/** Error-level validator findings that feed `checkId`, as short texts. */
function findingsFor(findings: Finding[], checkId: string): string[] {
  return findings
    .filter(
      (f) =>
        f.severity === "error" && (RULES as Record<string, { check?: string }>)[f.ruleId]?.check === checkId,
    )
    .map((f) => `${f.ruleId} at ${f.pointer || "/"}: ${f.message}`);
}

/** A link URL on an allow-listed host (the probe), so no receiver fetches a preview from elsewhere. */
function linkUrl(ctx: ScenarioContext, label: string): string {
  return `${ctx.probe.origin}/links/${token(label)}`;
}

// ---------------------------------------------------------------------------------------------
// Pair scenarios: driver-only, run for every pair
// ---------------------------------------------------------------------------------------------

const visibility: Scenario = {
  id: "post.visibility",
  suite: "post",
  title: "Public, unlisted and followers-only posts keep their visibility",
  shape: "pair",
  checks: ["PST-02"],
  requires: { sender: ["post", "visibility-unlisted", "visibility-followers"], receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows the sender.
    const { sender, receiver } = await followingPair(ctx);
    // 2. The sender posts one post per visibility; 3. wait until the receiver holds each.
    const observed: string[] = [];
    let ok = true;
    for (const wanted of ["public", "unlisted", "followers"] as const) {
      const { view } = await postAndWait(
        ctx,
        sender,
        receiver,
        { content: `${wanted} post ${token(wanted)}`, visibility: wanted },
        { check: "PST-02", what: `the ${wanted} post` },
      );
      ctx.view("PST-02", `${wanted} post on the receiver`, view);
      if (view.visibility === undefined) {
        ctx.record("PST-02", "inapplicable", `${receiver.target.id}'s driver does not report visibility`);
        return;
      }
      if (view.visibility !== wanted) ok = false;
      observed.push(`${wanted} → ${view.visibility}`);
    }
    // 4. PST-02: each arrived with the visibility it was posted with.
    ctx.assert("PST-02", ok, observed.join(", "), {
      expected: "public → public, unlisted → unlisted, followers → followers",
      observed: observed.join(", "),
    });
  },
};

const direct: Scenario = {
  id: "post.direct",
  suite: "post",
  title: "A direct message arrives as direct",
  shape: "pair",
  checks: ["PST-04"],
  requires: { sender: ["post", "visibility-direct", "mentions"] },
  async run(ctx) {
    // 1. Roles: a sender account and the receiver account it writes to (no follow needed).
    const sender = await party(ctx, ctx.sender, "writer");
    const receiver = await party(ctx, ctx.receiver, "reader");
    // 2. The sender posts a direct message mentioning only the receiver; 3. wait for it.
    const { view } = await postAndWait(
      ctx,
      sender,
      receiver,
      {
        content: `a private note ${token("dm")}`,
        visibility: "direct",
        mentions: [receiver.account.actorId],
      },
      { check: "PST-04", what: "the direct message" },
    );
    ctx.view("PST-04", "direct message on the receiver", view);
    // 4. PST-04: it is direct, not public/unlisted/followers.
    if (view.visibility === undefined) {
      ctx.record("PST-04", "inapplicable", `${receiver.target.id}'s driver does not report visibility`);
      return;
    }
    ctx.assert("PST-04", view.visibility === "direct", `the direct message arrived as ${view.visibility}`, {
      expected: "visibility direct (addressed only to the mentioned actor)",
      observed: `visibility ${view.visibility}; addressing ${show(addressingOf(view.raw))}`,
    });
  },
};

/** The to/cc of a raw driver answer when it carries them (for evidence only). */
function addressingOf(raw: unknown): unknown {
  if (!isObject(raw)) return undefined;
  const object = isObject(raw.object) ? raw.object : raw;
  return { to: object.to, cc: object.cc };
}

const rich: Scenario = {
  id: "post.rich",
  suite: "post",
  title: "Mentions, hashtags and links arrive",
  shape: "pair",
  checks: ["PST-05", "PST-06", "PST-07"],
  requires: { sender: ["post", "mentions", "hashtags"], receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows the sender.
    const { sender, receiver } = await followingPair(ctx);
    // 2. The sender posts a public text mentioning the receiver, with two hashtags and a link.
    const link = linkUrl(ctx, "link");
    const tag = token("tag").replace(/-/g, "");
    const { view } = await postAndWait(
      ctx,
      sender,
      receiver,
      {
        // Simple HTML, so the link is a link whatever the sender's autolinking does.
        content: `<p>Mentions, tags and <a href="${link}">a link</a> ${token("rich")}</p>`,
        visibility: "public",
        mentions: [receiver.account.actorId],
        hashtags: ["FediCheck", tag],
      },
      { what: "the post with mentions, tags and a link" },
    );
    for (const id of ["PST-05", "PST-06", "PST-07"]) ctx.view(id, "post on the receiver", view);
    // 3. PST-05: the receiver is listed as mentioned.
    ctx.assert("PST-05", view.mentions.includes(receiver.account.actorId), "mention of the receiver", {
      expected: `mentions include ${receiver.account.actorId}`,
      observed: `mentions ${show(view.mentions)}`,
    });
    // 4. PST-06: both hashtags, normalised.
    const wanted = ["fedicheck", tag.toLowerCase()];
    ctx.assert(
      "PST-06",
      wanted.every((t) => view.hashtags.includes(t)),
      "hashtags",
      {
        expected: `hashtags include ${show(wanted)}`,
        observed: `hashtags ${show(view.hashtags)}`,
      },
    );
    // 5. PST-07: the link survived with its href.
    const linked = view.links.includes(link);
    ctx.assert("PST-07", linked, linked ? "link preserved" : "the link was lost", {
      expected: `a link to ${link}`,
      observed: `links ${show(view.links)}; text ${show(view.text, 200)}`,
    });
  },
};

const contentWarning: Scenario = {
  id: "post.content-warning",
  suite: "post",
  title: "A content warning arrives with the sensitive flag",
  shape: "pair",
  checks: ["PST-08"],
  requires: { sender: ["post", "content-warning"], receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows the sender.
    const { sender, receiver } = await followingPair(ctx);
    // 2. The sender posts behind a content warning; 3. wait for it.
    const warning = `spoilers ahead ${token("cw")}`;
    const { view } = await postAndWait(
      ctx,
      sender,
      receiver,
      {
        content: `the butler did it ${token("body")}`,
        visibility: "public",
        contentWarning: warning,
        sensitive: true,
      },
      { check: "PST-08", what: "the post with a content warning" },
    );
    ctx.view("PST-08", "post on the receiver", view);
    // 4. PST-08: same warning text, marked sensitive.
    const ok = view.contentWarning === warning && view.sensitive;
    ctx.assert("PST-08", ok, ok ? "content warning kept" : "content warning lost or changed", {
      expected: `contentWarning '${warning}', sensitive true`,
      observed: `contentWarning ${show(view.contentWarning ?? null)}, sensitive ${view.sensitive}`,
    });
  },
};

const update: Scenario = {
  id: "post.update",
  suite: "post",
  title: "An edit reaches the receiver",
  shape: "pair",
  checks: ["PST-09"],
  requires: { sender: ["post", "update"], receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows the sender.
    const { sender, receiver } = await followingPair(ctx);
    // 2. The sender posts; wait until the receiver holds it.
    const { ref } = await postAndWait(ctx, sender, receiver, {
      content: `first version ${token("v1")}`,
      visibility: "public",
    });
    // 3. The sender edits it.
    const edited = token("v2");
    await sender.target.driver.update(sender.account, ref, {
      content: `second version ${edited}`,
      visibility: "public",
    });
    // 4. PST-09: the receiver's copy shows the edit.
    const view = await ctx.waitFor(
      `${who(receiver)} shows the edited text (${edited})`,
      async () => {
        const copy = await heldBy(receiver, ref.uri);
        return copy?.text.includes(edited) ? copy : null;
      },
      { check: "PST-09" },
    );
    ctx.view("PST-09", "edited post on the receiver", view);
    ctx.assert("PST-09", true, "the edit is reflected", {
      expected: `text containing ${edited}`,
      observed: view.text,
    });
  },
};

const reply: Scenario = {
  id: "post.reply",
  suite: "post",
  title: "A reply arrives threaded to its parent",
  shape: "pair",
  checks: ["PST-11"],
  requires: { sender: ["post", "replies"], receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows the sender.
    const { sender, receiver } = await followingPair(ctx);
    // 2. The sender posts a parent; wait for it.
    const parent = await postAndWait(ctx, sender, receiver, {
      content: `parent ${token("parent")}`,
      visibility: "public",
    });
    // 3. The sender replies to it (a self-thread, delivered to the same followers); wait for the reply.
    const { view } = await postAndWait(
      ctx,
      sender,
      receiver,
      { content: `reply ${token("reply")}`, visibility: "public", inReplyTo: parent.ref.uri },
      { check: "PST-11", what: "the reply" },
    );
    ctx.view("PST-11", "reply on the receiver", view);
    // 4. PST-11: the reply names its parent.
    ctx.assert("PST-11", view.inReplyTo === parent.ref.uri, "reply threading", {
      expected: `inReplyTo ${parent.ref.uri}`,
      observed: `inReplyTo ${view.inReplyTo ?? "absent"}`,
    });
  },
};

const reactions: Scenario = {
  id: "post.reactions",
  suite: "post",
  title: "Like and Announce reach the author; Undo(Like) withdraws the like",
  shape: "pair",
  checks: ["PST-13"],
  requires: { sender: ["post"], receiver: ["follow", "like", "announce"] },
  async run(ctx) {
    // 1. Roles: the receiver follows the sender.
    const { sender, receiver } = await followingPair(ctx);
    // 2. The sender posts; wait until the receiver holds it.
    const { ref } = await postAndWait(ctx, sender, receiver, {
      content: `like me ${token("like")}`,
      visibility: "public",
    });
    // 3. The receiver likes and boosts it.
    await receiver.target.driver.like(receiver.account, ref.uri);
    await receiver.target.driver.announce(receiver.account, ref.uri);
    // 4. PST-13: the sender is notified of both, by the receiver, for that post.
    const notified = await ctx.waitFor(
      `${who(sender)} is notified of the like and the boost by ${who(receiver)}`,
      async () => {
        const list = await sender.target.driver.notifications(sender.account);
        const from = (type: string) =>
          list.some(
            (n) =>
              n.type === type && n.actor === receiver.account.actorId && (n.object ?? ref.uri) === ref.uri,
          );
        return from("like") && from("announce") ? list : null;
      },
      { check: "PST-13" },
    );
    ctx.view("PST-13", "sender's notifications", notified.slice(0, 10));
    // 5. The receiver undoes both; where the sender counts likes and boosts, the counts drop back.
    const counted = await ownView(sender, ref.uri);
    await receiver.target.driver.unlike(receiver.account, ref.uri);
    await receiver.target.driver.unannounce(receiver.account, ref.uri);
    if (counted?.likes === undefined || counted.announces === undefined) {
      ctx.assert(
        "PST-13",
        true,
        "like and boost reached the author (its driver does not count them, so the Undos are not observable)",
        { expected: "like and announce notifications", observed: "both notified" },
      );
      return;
    }
    const after = await ctx.waitFor(
      `${who(sender)} counts no like and no boost after Undo(Like) and Undo(Announce)`,
      async () => {
        const view = await ownView(sender, ref.uri);
        return view?.likes === 0 && view.announces === 0 ? view : null;
      },
      { check: "PST-13" },
    );
    ctx.view("PST-13", "sender's post after the Undos", after);
    ctx.assert("PST-13", true, "like and boost reached the author; their Undos withdrew them", {
      expected: "notifications for like and announce; counts back to 0 after the Undos",
      observed: `notified; likes ${counted.likes} → 0, boosts ${counted.announces} → 0`,
    });
  },
};

/** The author's own view of its post (held copy, else a lookup). */
async function ownView(author: Party, uri: string): Promise<PostView | null> {
  return (await heldBy(author, uri)) ?? (await author.target.driver.lookupObject(author.account, uri));
}

const html: Scenario = {
  id: "post.html",
  suite: "post",
  title: "Active HTML is removed, links and ordinary markup stay",
  shape: "pair",
  checks: ["PST-07"],
  requires: { sender: ["raw-post"], receiver: ["follow"] },
  async run(ctx) {
    // The probe keeps HTML as it arrives and presents nothing: sanitising is for receivers that show posts.
    if (ctx.receiver.implementation === "probe") {
      ctx.record(
        "PST-07",
        "inapplicable",
        "the probe keeps HTML as it arrives and presents nothing to judge",
      );
      return;
    }
    // 1. Roles: the receiver follows the sender.
    const { sender, receiver } = await followingPair(ctx);
    // 2. The sender posts raw HTML with a script, an event handler, a javascript: link and a real link.
    const link = linkUrl(ctx, "html");
    const marker = token("html");
    const ref = await postRaw(ctx, sender, {
      type: "Note",
      content:
        `<p>Markup ${marker} <strong>bold</strong> <a href="${link}">a link</a></p>` +
        `<script>alert("fedicheck")</script><p onclick="alert(1)">click</p>` +
        `<a href="javascript:alert(2)">bad link</a>`,
    });
    // 3. Wait for it.
    const view = await waitHeld(ctx, receiver, ref.uri, { check: "PST-07", what: "the post with HTML" });
    ctx.view("PST-07", "post on the receiver", view);
    // 4. PST-07: no script, no handler, no javascript: URL; the link and the text stay.
    const problems: string[] = [];
    if (/<script/i.test(view.html)) problems.push("a <script> element survived");
    if (/\son[a-z]+\s*=/i.test(view.html)) problems.push("an event handler attribute survived");
    if (/javascript:/i.test(view.html)) problems.push("a javascript: URL survived");
    if (!view.links.includes(link)) problems.push(`the link ${link} was lost`);
    if (!view.text.includes(marker)) problems.push("the text was lost");
    ctx.assert(
      "PST-07",
      problems.length === 0,
      problems.length === 0 ? "HTML sanitised sanely" : problems.join("; "),
      {
        expected: "script, on* handlers and javascript: URLs removed; the link and text kept",
        observed:
          problems.length === 0 ? "as expected" : `${problems.join("; ")}; html ${show(view.html, 300)}`,
      },
    );
  },
};

// ---------------------------------------------------------------------------------------------
// What a target delivers, seen by the probe
// ---------------------------------------------------------------------------------------------

const wire: Scenario = {
  id: "post.wire",
  suite: "post",
  title: "The Create a target delivers is well-formed and matches what it serves",
  shape: "pair",
  probeReceiverOnly: true,
  checks: ["PST-01", "PST-14", "AS-03", "AS-05", "AS-06", "AS-07"],
  requires: { sender: ["post"] },
  async run(ctx) {
    // 1. Roles: a probe actor (receiver) follows the target (sender).
    const { sender, receiver } = await followingPair(ctx);
    const probeActor = probeActorOf(ctx, receiver);
    // 2. The sender posts a public Note.
    const ref = await sender.target.driver.post(sender.account, {
      content: `payload check ${token("wire")}`,
      visibility: "public",
    });
    // 3. Wait for the Create at the probe.
    const entry = await probeReceived(
      ctx,
      `the Create of ${ref.uri}`,
      (e) => typeOf(e.activity) === "Create" && idOf(e.activity?.object) === ref.uri,
      { check: "PST-01" },
    );
    const create = entry.activity ?? {};
    const actorId = sender.account.actorId;
    const findings = await ctx.validate(undefined, "Create as delivered", create, {
      headers: entry.headers,
      origin: new URL(actorId).origin,
      delivered: true,
    });
    const object = embeddedObject(create);

    // 4. PST-01: actor, id, an embedded object with id, attributedTo, published, content.
    const problems: string[] = [];
    if (typeof create.id !== "string") problems.push("the Create has no id");
    if (idOf(create.actor) !== actorId) problems.push(`actor is ${show(create.actor)}`);
    if (!object) problems.push("the object is not embedded");
    else {
      if (idOf(object.id) !== ref.uri) problems.push(`object id ${show(object.id)}`);
      if (idsOf(object.attributedTo)[0] !== actorId)
        problems.push(`attributedTo is ${show(object.attributedTo)}`);
      if (typeof object.published !== "string") problems.push("no published");
      if (typeof object.content !== "string" && !isObject(object.contentMap)) problems.push("no content");
    }
    ctx.assert(
      "PST-01",
      problems.length === 0,
      problems.length === 0 ? "Create well-formed" : problems.join("; "),
      {
        expected: `Create{id, actor ${actorId}, object{id ${ref.uri}, attributedTo ${actorId}, published, content}}`,
        observed: show(create, 600),
      },
    );

    // 5. AS-03: every date is RFC 3339 (upper-case T and Z or an offset).
    const dates = collectDates(create);
    const badDates = dates.filter((d) => !RFC3339.test(d.value)).map((d) => `${d.path}=${d.value}`);
    const as03 = [...badDates, ...findingsFor(findings, "AS-03")];
    ctx.assert(
      "AS-03",
      as03.length === 0,
      as03.length === 0 ? `${dates.length} date(s), all RFC 3339` : as03.join("; "),
      {
        expected: "published/updated as RFC 3339 date-times (e.g. 2024-05-01T12:00:00Z)",
        observed: as03.length === 0 ? dates.map((d) => `${d.path}=${d.value}`).join(", ") : as03.join("; "),
      },
    );

    // 6. AS-06: no bto/bcc on the activity or its object.
    const hidden = ["bto", "bcc"].flatMap((f) => [
      ...(create[f] !== undefined ? [`activity.${f}`] : []),
      ...(object?.[f] !== undefined ? [`object.${f}`] : []),
    ]);
    ctx.assert(
      "AS-06",
      hidden.length === 0,
      hidden.length === 0 ? "no bto/bcc delivered" : `delivered ${hidden.join(", ")}`,
      {
        expected: "no bto or bcc in the delivered document",
        observed: hidden.length === 0 ? "none" : hidden.join(", "),
      },
    );

    // 7. AS-07: the activity's and the object's ids are on the actor's origin.
    const origin = originOf(actorId);
    const offOrigin = [
      ["activity id", idOf(create.id)],
      ["object id", idOf(object?.id)],
    ]
      .filter(([, id]) => id !== undefined && originOf(id) !== origin)
      .map(([what, id]) => `${what} ${id}`);
    ctx.assert(
      "AS-07",
      offOrigin.length === 0,
      offOrigin.length === 0 ? `ids on ${origin}` : offOrigin.join("; "),
      {
        expected: `ids on ${origin}`,
        observed: offOrigin.length === 0 ? "all on the actor's origin" : offOrigin.join("; "),
      },
    );

    // 8. AS-05: no HTML in `name` (on the Create and on the sender's actor document), and no
    //    Question with both oneOf and anyOf.
    const actorResponse = await ctx.probe.fetch(actorId, { signedAs: probeActor });
    const actorDocument = jsonBody(actorResponse);
    const actorFindings = actorDocument
      ? await ctx.validate("AS-05", "sender's actor document", actorDocument, origin ? { origin } : {})
      : [];
    const as05 = [
      ...findingsFor(findings, "AS-05"),
      ...findingsFor(actorFindings, "AS-05").map((f) => `actor document: ${f}`),
    ];
    ctx.assert(
      "AS-05",
      as05.length === 0,
      as05.length === 0 ? "no HTML in name; no Question with both oneOf and anyOf" : as05.join("; "),
      {
        expected:
          "`name` as plain text on the Create and the actor; a Question with oneOf or anyOf, not both",
        observed:
          as05.length === 0
            ? `actor name ${show(actorDocument?.name ?? `(actor document: HTTP ${actorResponse.status})`)}`
            : as05.join("; "),
      },
    );

    // 9. PST-14: GET of the object id (signed, as a follower would) returns the same object.
    const fetched = await ctx.probe.fetch(ref.uri, { signedAs: probeActor });
    ctx.evidence("PST-14", fetchEvidence("object dereferenced", ref.uri, {}, fetched));
    const served = jsonBody(fetched);
    const differences =
      served && object ? compareObjects(object, served) : [`GET answered ${fetched.status}`];
    ctx.assert(
      "PST-14",
      fetched.status === 200 && differences.length === 0,
      differences.length === 0 ? "served object equals the delivered copy" : differences.join("; "),
      {
        expected: "id, type, attributedTo, content, to, cc identical",
        observed: differences.join("; ") || "identical",
      },
    );
  },
};

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Every published/updated/deleted/startTime/endTime value in a document, with its path. */
function collectDates(value: unknown, path = ""): Array<{ path: string; value: string }> {
  if (Array.isArray(value)) return value.flatMap((v, i) => collectDates(v, `${path}/${i}`));
  if (!isObject(value)) return [];
  const out: Array<{ path: string; value: string }> = [];
  for (const [key, v] of Object.entries(value)) {
    if (["published", "updated", "deleted", "startTime", "endTime"].includes(key) && typeof v === "string") {
      out.push({ path: `${path}/${key}`, value: v });
    } else if (typeof v === "object") out.push(...collectDates(v, `${path}/${key}`));
  }
  return out;
}

/** Differences between a delivered and a served object in the fields that matter to a reader. */
function compareObjects(delivered: Json, served: Json): string[] {
  const diffs: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const sorted = (v: unknown) => idsOf(v).sort();
  if (idOf(delivered.id) !== idOf(served.id)) diffs.push(`id ${show(delivered.id)} vs ${show(served.id)}`);
  if (typeOf(delivered) !== typeOf(served)) diffs.push(`type ${typeOf(delivered)} vs ${typeOf(served)}`);
  if (!same(sorted(delivered.attributedTo), sorted(served.attributedTo)))
    diffs.push(`attributedTo ${show(delivered.attributedTo)} vs ${show(served.attributedTo)}`);
  if (!same(delivered.content, served.content))
    diffs.push(`content ${show(delivered.content, 120)} vs ${show(served.content, 120)}`);
  for (const field of ["to", "cc"]) {
    if (!same(sorted(delivered[field]), sorted(served[field])))
      diffs.push(`${field} ${show(delivered[field])} vs ${show(served[field])}`);
  }
  return diffs;
}

// ---------------------------------------------------------------------------------------------
// Crafted deliveries: only the probe can send these
// ---------------------------------------------------------------------------------------------

/** Roles of a crafted-delivery scenario: a probe actor (sender) the receiver follows, and the receiver's inbox. */
async function probeFollowed(ctx: ScenarioContext) {
  const sender = await party(ctx, ctx.sender, "author");
  const receiver = await party(ctx, ctx.receiver, "reader");
  await establishFollow(ctx, receiver, sender);
  return {
    sender,
    receiver,
    actor: probeActorOf(ctx, sender),
    inbox: await inboxOf(ctx, receiver.account.actorId),
  };
}

const replay: Scenario = {
  id: "post.replay",
  suite: "post",
  title: "A Create delivered twice takes effect once",
  shape: "pair",
  probeSenderOnly: true,
  checks: ["PST-03"],
  requires: { receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows a probe actor (sender).
    const { actor, receiver, inbox } = await probeFollowed(ctx);
    // 2. The probe delivers a Create that mentions the receiver (so it notifies and shows on the timeline).
    const note = craftNote(ctx, actor, {
      content: `<p>delivered twice ${token("replay")}</p>`,
      tag: [{ type: "Mention", href: receiver.account.actorId, name: `@${receiver.account.handle}` }],
      cc: [actor.followers, receiver.account.actorId],
    });
    ctx.probe.host({ "@context": AS_CONTEXT, ...note });
    const create = craftActivity(ctx, actor, "Create", note);
    const first = await ctx.probe.deliver(actor, inbox, create);
    ctx.evidence("PST-03", deliveryEvidence("Create", first));
    await waitHeld(ctx, receiver, String(note.id), { what: "the Create's note" });
    // 3. The same Create, same id, again.
    const second = await ctx.probe.deliver(actor, inbox, create);
    ctx.evidence("PST-03", deliveryEvidence("the same Create again", second));
    // 4. Sentinel: a later post arrives, so the repeat has been handled.
    await probeSentinel(ctx, actor, receiver);
    // 5. PST-03: once on the timeline, one mention notification.
    const timeline = await receiver.target.driver.timeline(receiver.account);
    const onTimeline = timeline.filter((p) => p.uri === note.id).length;
    const notifications = await receiver.target.driver.notifications(receiver.account);
    const mentions = notifications.filter((n) => n.type === "mention" && n.object === note.id).length;
    ctx.view("PST-03", "receiver's notifications", notifications.slice(0, 10));
    const ok = onTimeline <= 1 && mentions <= 1;
    ctx.assert(
      "PST-03",
      ok,
      ok ? "the repeated Create had no second effect" : "the repeated Create was processed again",
      {
        expected: "the post at most once on the timeline and at most one mention notification",
        observed: `${onTimeline} timeline entr${onTimeline === 1 ? "y" : "ies"}, ${mentions} mention notification(s)`,
      },
    );
  },
};

const nonOwner: Scenario = {
  id: "post.non-owner",
  suite: "post",
  title: "Update and Delete by someone other than the author are ignored",
  shape: "pair",
  probeSenderOnly: true,
  checks: ["PST-10"],
  requires: { receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows probe actor A (author); probe actor M is a stranger.
    const { actor, receiver, inbox } = await probeFollowed(ctx);
    const mallory = await ctx.probe.createActor(`mallory-${token("m").slice(-8)}`);
    // 2. A posts a Note; wait until the receiver holds it.
    const original = token("original");
    const create = await ctx.probe.post(
      actor,
      { type: "Note", content: `<p>by the author ${original}</p>` },
      {
        to: [PUBLIC],
        cc: [actor.followers],
      },
    );
    const note = embeddedObject(create) ?? {};
    const uri = String(note.id);
    await waitHeld(ctx, receiver, uri, { what: "the author's note" });
    // 3. M sends an Update (newer, changed content, still claiming A's authorship) and a Delete of it.
    const forgedUpdate = craftActivity(ctx, mallory, "Update", {
      ...note,
      content: `<p>forged by a stranger ${token("forged")}</p>`,
      updated: new Date(Date.now() + 1000).toISOString(),
    });
    const forgedDelete = craftActivity(
      ctx,
      mallory,
      "Delete",
      { id: uri, type: "Tombstone" },
      { to: [PUBLIC] },
    );
    ctx.evidence(
      "PST-10",
      deliveryEvidence("Update by a non-owner", await ctx.probe.deliver(mallory, inbox, forgedUpdate)),
    );
    ctx.evidence(
      "PST-10",
      deliveryEvidence("Delete by a non-owner", await ctx.probe.deliver(mallory, inbox, forgedDelete)),
    );
    // 4. Sentinel from A.
    await probeSentinel(ctx, actor, receiver);
    // 5. PST-10: the copy is still there, unchanged.
    const copy = await heldBy(receiver, uri);
    if (copy) ctx.view("PST-10", "the author's note after the forgeries", copy);
    const ok = copy?.text.includes(original) === true;
    ctx.assert(
      "PST-10",
      ok,
      ok
        ? "forged Update and Delete ignored"
        : copy
          ? "the forged Update was applied"
          : "the forged Delete was applied",
      {
        expected: `the note still held with its original text (${original})`,
        observed: summarise(copy),
      },
    );
    if (!ok) return;
    // 6. Control: the author's own Update must show; otherwise ignoring the forged one proves nothing.
    const control = token("control");
    await ctx.probe.update(actor, uri, { content: `<p>edited by the author ${control}</p>` });
    try {
      await ctx.waitFor(`${who(receiver)} applies the author's own Update`, async () =>
        (await heldBy(receiver, uri))?.text.includes(control),
      );
    } catch {
      ctx.record(
        "PST-10",
        "skipped",
        "not decidable: the receiver ignores even its author's Update (see PST-09)",
      );
    }
  },
};

const noContext: Scenario = {
  id: "post.no-context",
  suite: "post",
  title: "A Create without @context is read as AS2",
  shape: "pair",
  probeSenderOnly: true,
  checks: ["AS-01"],
  requires: { receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows a probe actor.
    const { actor, receiver, inbox } = await probeFollowed(ctx);
    // 2. The probe delivers a Create whose document has no @context at all.
    const note = craftNote(ctx, actor, { content: `<p>no context ${token("noctx")}</p>` });
    ctx.probe.host(note);
    const { "@context": _dropped, ...create } = craftActivity(ctx, actor, "Create", note);
    ctx.evidence(
      "AS-01",
      deliveryEvidence("Create without @context", await ctx.probe.deliver(actor, inbox, create)),
    );
    // 3. AS-01: the receiver holds the note.
    const view = await waitHeld(ctx, receiver, String(note.id), {
      check: "AS-01",
      what: "the note sent without @context",
    });
    ctx.view("AS-01", "note on the receiver", view);
    ctx.assert("AS-01", true, "a document without @context was accepted", {
      expected: "the note held",
      observed: "held",
    });
  },
};

const extensions: Scenario = {
  id: "post.extensions",
  suite: "post",
  title: "Unknown extension terms and a never-served context do not break a post",
  shape: "pair",
  probeSenderOnly: true,
  checks: ["AS-02"],
  requires: { receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows a probe actor.
    const { actor, receiver, inbox } = await probeFollowed(ctx);
    // 2. The probe delivers a Create using Mastodon's never-served context, an inline extension
    //    namespace and terms no context defines.
    const context = [
      AS_CONTEXT,
      "http://joinmastodon.org/ns",
      { fc: "https://fedicheck.example/ns#", flavour: "fc:flavour" },
    ];
    const note = craftNote(ctx, actor, {
      content: `<p>extensions ${token("ext")}</p>`,
      flavour: "strawberry",
      "fc:rating": 5,
      undefinedTerm: { nested: true },
      _misskey_content: "extensions",
    });
    ctx.probe.host({ "@context": context, ...note });
    const create = { ...craftActivity(ctx, actor, "Create", note), "@context": context };
    ctx.evidence(
      "AS-02",
      deliveryEvidence("Create with extensions", await ctx.probe.deliver(actor, inbox, create)),
    );
    // 3. AS-02: the receiver holds the note.
    const view = await waitHeld(ctx, receiver, String(note.id), {
      check: "AS-02",
      what: "the note with extensions",
    });
    ctx.view("AS-02", "note on the receiver", view);
    ctx.assert("AS-02", true, "unknown extensions did not break the post", {
      expected: "the note held",
      observed: "held",
    });
  },
};

// ---------------------------------------------------------------------------------------------
// Quotes and language maps
// ---------------------------------------------------------------------------------------------

const quote: Scenario = {
  id: "post.quote",
  suite: "post",
  title: "A quote arrives as a quote, or with a link to the quoted post",
  shape: "pair",
  checks: ["PST-12"],
  requires: { sender: ["post", "quotes"], receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows the sender.
    const { sender, receiver } = await followingPair(ctx);
    // 2. The sender posts the post to be quoted; wait until the receiver holds it (so it can render it).
    const quoted = await postAndWait(
      ctx,
      sender,
      receiver,
      { content: `quoted ${token("quoted")}`, visibility: "public" },
      { what: "the post to be quoted" },
    );
    // 3. The sender quotes it (in whatever encoding it uses); wait for the quote.
    const { view } = await postAndWait(
      ctx,
      sender,
      receiver,
      { content: `quoting ${token("quote")}`, visibility: "public", quote: quoted.ref.uri },
      { check: "PST-12", what: "the quote post" },
    );
    ctx.view("PST-12", "quote post on the receiver", view);
    // 4. PST-12: the copy quotes the same object, or its content still links to it (id or web page).
    const targets = [quoted.ref.uri, quoted.ref.url, quoted.view.webUrl].filter(
      (u): u is string => u !== undefined,
    );
    const linked = view.links.filter((l) => targets.includes(l));
    const ok = view.quote === quoted.ref.uri || linked.length > 0;
    ctx.assert(
      "PST-12",
      ok,
      ok
        ? view.quote === quoted.ref.uri
          ? "arrived as a quote of the same post"
          : "arrived with a link to the quoted post"
        : "the quote was lost: neither a quote nor a link to the quoted post",
      {
        expected: `quote ${quoted.ref.uri}, or a link to one of ${show(targets)}`,
        observed: `quote ${view.quote ?? "absent"}; links ${show(view.links)}; text ${show(view.text, 200)}`,
      },
    );
  },
};

/** A well-formed language tag (BCP 47 shape, not checked against the registry). */
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

/** What is wrong with the natural-language values of a delivered object (AS2 Core §4.7). */
function languageMapProblems(object: Json): { problems: string[]; maps: string[] } {
  const problems: string[] = [];
  const maps: string[] = [];
  for (const property of ["content", "summary", "name"]) {
    const map = object[`${property}Map`];
    if (map === undefined) continue;
    maps.push(`${property}Map`);
    if (!isObject(map) || Object.keys(map).length === 0) {
      problems.push(`${property}Map is not a non-empty language map: ${show(map, 120)}`);
      continue;
    }
    const badTags = Object.keys(map).filter((tag) => !LANGUAGE_TAG.test(tag));
    if (badTags.length > 0)
      problems.push(`${property}Map has keys that are not language tags: ${show(badTags)}`);
    const values = Object.values(map);
    if (values.some((v) => typeof v !== "string"))
      problems.push(`${property}Map has a value that is not a string`);
    const plain = object[property];
    if (plain !== undefined && !values.includes(plain)) {
      problems.push(`${property} ${show(plain, 120)} is none of the ${property}Map values ${show(map, 200)}`);
    }
  }
  return { problems, maps };
}

const languageWire: Scenario = {
  id: "post.language-wire",
  suite: "post",
  title: "A post with a language carries a well-formed language map, consistent with its content",
  shape: "pair",
  probeReceiverOnly: true,
  checks: ["AS-04"],
  requires: { sender: ["post"] },
  async run(ctx) {
    // 1. Roles: a probe actor (receiver) follows the target (sender).
    const { sender } = await followingPair(ctx);
    // 2. The sender posts a public Note in German.
    const ref = await sender.target.driver.post(sender.account, {
      content: `Eine Sprachkarte ${token("lang")}`,
      visibility: "public",
      language: "de",
    });
    // 3. Wait for the Create at the probe.
    const entry = await probeReceived(
      ctx,
      `the Create of ${ref.uri}`,
      (e) => typeOf(e.activity) === "Create" && idOf(e.activity?.object) === ref.uri,
      { check: "AS-04" },
    );
    const object = embeddedObject(entry.activity) ?? {};
    ctx.evidence("AS-04", {
      kind: "note",
      label: "natural-language values as delivered",
      text: show(
        { content: object.content, contentMap: object.contentMap, summaryMap: object.summaryMap },
        800,
      ),
    });
    // 4. AS-04: maps, where sent, are language maps, and the plain value is one of their values.
    const { problems, maps } = languageMapProblems(object);
    if (maps.length === 0) {
      ctx.record("AS-04", "inapplicable", `${sender.target.id} sends no language maps (plain values only)`);
      return;
    }
    ctx.assert(
      "AS-04",
      problems.length === 0,
      problems.length === 0 ? `${maps.join(", ")} well-formed and consistent` : problems.join("; "),
      {
        expected: "language maps keyed by language tags, each plain value one of its map's values",
        observed: problems.length === 0 ? show(object.contentMap, 300) : problems.join("; "),
      },
    );
  },
};

const languageMaps: Scenario = {
  id: "post.language-maps",
  suite: "post",
  title: "A post given only as contentMap/summaryMap arrives readable",
  shape: "pair",
  probeSenderOnly: true,
  checks: ["AS-04"],
  requires: { receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows a probe actor.
    const { actor, receiver, inbox } = await probeFollowed(ctx);
    // 2. The probe delivers a Note given only as language maps (text and content warning), as some
    //    senders write them, and one whose content and contentMap agree.
    const [onlyMap, warning, both] = [token("map"), token("cw"), token("both")];
    const mapOnly = craftNote(ctx, actor, {
      contentMap: { de: `<p>nur als Sprachkarte ${onlyMap}</p>` },
      summaryMap: { de: `Vorsicht ${warning}` },
      sensitive: true,
    });
    delete mapOnly.content;
    const agreeing = craftNote(ctx, actor, {
      content: `<p>in both ${both}</p>`,
      contentMap: { en: `<p>in both ${both}</p>` },
    });
    const context = [AS_CONTEXT, { sensitive: "as:sensitive" }];
    for (const [label, note] of [
      ["Create of a Note given only as contentMap/summaryMap", mapOnly],
      ["Create of a Note with agreeing content and contentMap", agreeing],
    ] as const) {
      ctx.probe.host({ "@context": context, ...note });
      const create = { ...craftActivity(ctx, actor, "Create", note), "@context": context };
      ctx.evidence("AS-04", deliveryEvidence(label, await ctx.probe.deliver(actor, inbox, create)));
    }
    // 3. Wait for both.
    const mapView = await waitHeld(ctx, receiver, String(mapOnly.id), {
      check: "AS-04",
      what: "the post given only as a language map",
    });
    const bothView = await waitHeld(ctx, receiver, String(agreeing.id), {
      check: "AS-04",
      what: "the post with content and contentMap",
    });
    ctx.view("AS-04", "post given only as language maps, on the receiver", mapView);
    ctx.view("AS-04", "post with agreeing content and contentMap, on the receiver", bothView);
    // 4. AS-04: the map-only text and warning show; the agreeing post reads as its content.
    const problems: string[] = [];
    if (!mapView.text.includes(onlyMap))
      problems.push(
        `the post given only as a language map arrived without its text (${show(mapView.text, 120)})`,
      );
    if (!mapView.contentWarning?.includes(warning))
      problems.push(
        `the content warning given only as a language map was lost (${show(mapView.contentWarning ?? null)})`,
      );
    if (!bothView.text.includes(both))
      problems.push(`the post with content and contentMap lost its text (${show(bothView.text, 120)})`);
    ctx.assert(
      "AS-04",
      problems.length === 0,
      problems.length === 0 ? "language maps read" : problems.join("; "),
      {
        expected: `text containing ${onlyMap} with warning containing ${warning}; text containing ${both}`,
        observed: `${summarise(mapView)} | ${summarise(bothView)}`,
      },
    );
  },
};

/** The post suite. */
export const scenarios: Scenario[] = [
  visibility,
  direct,
  rich,
  contentWarning,
  update,
  reply,
  reactions,
  html,
  wire,
  replay,
  nonOwner,
  noContext,
  extensions,
  quote,
  languageWire,
  languageMaps,
];
