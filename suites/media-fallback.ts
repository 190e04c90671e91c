/**
 * Media fallback: attachments and non-Note objects, and what a receiver makes of them. Most
 * variants are crafted AS2 posted raw by the sender (capability `raw-post`: the probe and
 * fedify-ref), so they run between real servers too, not only from the probe. The checks judge what
 * a receiving application presents; the probe presents nothing (it keeps objects as they arrive),
 * so cells whose receiver is the probe are `inapplicable`.
 * @module
 */
import { PreconditionError, type Scenario, type ScenarioContext } from "../harness/core/scenario.ts";
import type { AttachmentView, PostView } from "../harness/drivers/driver.ts";
import {
  followingPair,
  type Json,
  type Party,
  postAndWait,
  postRaw,
  show,
  summarise,
  token,
  waitHeld,
} from "./steps.ts";

/** A 1×1 transparent PNG, for drivers that upload bytes. */
const PNG_1X1 = Uint8Array.from(
  Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
    "base64",
  ),
);

/** A media URL on the probe (an allow-listed host): receivers that fetch media reach only the run. */
function mediaUrl(ctx: ScenarioContext, name: string): string {
  return `${ctx.probe.origin}/media/${token("media")}/${name}`;
}

/**
 * True when the cell's receiver is the probe: records every check `inapplicable` (the probe presents
 * nothing to judge) and tells the scenario to stop.
 */
function receiverPresentsNothing(ctx: ScenarioContext): boolean {
  if (ctx.receiver.implementation !== "probe") return false;
  for (const id of ctx.scenario.checks) {
    ctx.record(id, "inapplicable", "the probe keeps objects as they arrive and presents nothing to judge");
  }
  return true;
}

/** Whether a URL stays reachable from the view: a link, the web URL, the HTML, or an attachment. */
function reachable(view: PostView, url: string): boolean {
  return (
    view.links.includes(url) ||
    view.webUrl === url ||
    view.html.includes(url) ||
    view.attachments.some((a) => a.url === url)
  );
}

function describeAttachments(attachments: AttachmentView[]): string {
  return show(
    attachments.map((a) => ({
      kind: a.kind,
      url: a.url,
      mediaType: a.mediaType,
      description: a.description,
    })),
  );
}

/** Posts a raw object from the sender and waits until the receiver holds it (`check` fails on timeout). */
async function sendRaw(
  ctx: ScenarioContext,
  sender: Party,
  receiver: Party,
  object: Json,
  check: string,
  what: string,
): Promise<PostView> {
  const ref = await postRaw(ctx, sender, object);
  const view = await waitHeld(ctx, receiver, ref.uri, { check, what });
  ctx.view(check, `${what} on the receiver`, view);
  return view;
}

/** A scenario of this suite: the receiver follows the sender, then `body` runs. */
function mediaScenario(
  id: string,
  title: string,
  checks: string[],
  requiresRaw: boolean,
  body: (ctx: ScenarioContext, roles: { sender: Party; receiver: Party }) => Promise<void>,
): Scenario {
  return {
    id: `media-fallback.${id}`,
    suite: "media-fallback",
    title,
    shape: "pair",
    checks,
    requires: { sender: requiresRaw ? ["raw-post"] : ["post"], receiver: ["follow"] },
    async run(ctx) {
      // 1. Roles: the receiver follows the sender (unless the receiver is the probe: nothing to judge).
      if (receiverPresentsNothing(ctx)) return;
      const roles = await followingPair(ctx);
      await body(ctx, roles);
    },
  };
}

const image = mediaScenario(
  "image",
  "An image arrives with its alt text",
  ["MED-01"],
  false,
  async (ctx, { sender, receiver }) => {
    // 2. The sender posts an image with alt text through its own API; 3. wait for it.
    const alt = `a red square ${token("alt")}`;
    const { view } = await postAndWait(
      ctx,
      sender,
      receiver,
      {
        content: `an image ${token("img")}`,
        visibility: "public",
        attachments: [
          { mediaType: "image/png", data: PNG_1X1, url: mediaUrl(ctx, "square.png"), description: alt },
        ],
      },
      { check: "MED-01", what: "the post with an image" },
    );
    ctx.view("MED-01", "post on the receiver", view);
    // 4. MED-01: an image (or media of unknown type) with the alt text as description.
    const ok = view.attachments.some(
      (a) => (a.kind === "image" || a.kind === "unknown") && a.description === alt,
    );
    ctx.assert("MED-01", ok, ok ? "image kept with its alt text" : "image or its alt text lost", {
      expected: `an image attachment described '${alt}'`,
      observed: describeAttachments(view.attachments),
    });
  },
);

const sensitive = mediaScenario(
  "sensitive",
  "Sensitive media stays flagged",
  ["MED-11"],
  false,
  async (ctx, { sender, receiver }) => {
    // 2. The sender posts an image marked sensitive (no content warning text); 3. wait for it.
    const { view } = await postAndWait(
      ctx,
      sender,
      receiver,
      {
        content: `sensitive media ${token("nsfw")}`,
        visibility: "public",
        sensitive: true,
        attachments: [
          { mediaType: "image/png", data: PNG_1X1, url: mediaUrl(ctx, "hidden.png"), description: "hidden" },
        ],
      },
      { check: "MED-11", what: "the post with sensitive media" },
    );
    ctx.view("MED-11", "post on the receiver", view);
    // 4. MED-11: still sensitive, media still there.
    const ok = view.sensitive && view.attachments.length > 0;
    ctx.assert("MED-11", ok, ok ? "media kept and flagged sensitive" : "sensitive flag or media lost", {
      expected: "sensitive true, the image kept",
      observed: `sensitive ${view.sensitive}, attachments ${describeAttachments(view.attachments)}`,
    });
  },
);

const altInSummary = mediaScenario(
  "alt-in-summary",
  "Alt text given in summary is used",
  ["MED-02"],
  true,
  async (ctx, { sender, receiver }) => {
    // 2. The sender posts an image whose description is only in `summary`; 3. wait for it.
    const alt = `alt in summary ${token("alt")}`;
    const url = mediaUrl(ctx, "summary.png");
    const view = await sendRaw(
      ctx,
      sender,
      receiver,
      {
        type: "Note",
        content: `<p>alt text in summary ${token("note")}</p>`,
        attachment: [{ type: "Image", mediaType: "image/png", url, summary: alt }],
      },
      "MED-02",
      "the post whose image has alt text in summary",
    );
    // The attachment itself arriving is MED-01's concern; without it there is nothing to judge here.
    const attachment = view.attachments.find((a) => a.url === url) ?? view.attachments[0];
    if (!attachment) throw new PreconditionError("the image itself was dropped (see MED-01)");
    // 4. MED-02: the description is the summary.
    ctx.assert("MED-02", attachment.description === alt, "alt text from summary", {
      expected: `description '${alt}'`,
      observed: `description ${show(attachment.description ?? null)}`,
    });
  },
);

const audioVideo = mediaScenario(
  "audio-video",
  "Audio and video attachments are kept as media",
  ["MED-03"],
  true,
  async (ctx, { sender, receiver }) => {
    // 2. The sender posts a Note with an Audio and a Video attachment; 3. wait for it.
    const audio = mediaUrl(ctx, "sound.mp3");
    const video = mediaUrl(ctx, "clip.mp4");
    const view = await sendRaw(
      ctx,
      sender,
      receiver,
      {
        type: "Note",
        content: `<p>audio and video ${token("av")}</p>`,
        attachment: [
          { type: "Audio", mediaType: "audio/mpeg", url: audio, name: "a sound" },
          { type: "Video", mediaType: "video/mp4", url: video, name: "a clip" },
        ],
      },
      "MED-03",
      "the post with audio and video",
    );
    // 4. MED-03: one audio and one video attachment.
    const kinds = view.attachments.map((a) => a.kind);
    const ok = kinds.includes("audio") && kinds.includes("video");
    ctx.assert("MED-03", ok, ok ? "audio and video kept" : "audio or video lost or downgraded", {
      expected: "attachments of kind audio and video",
      observed: describeAttachments(view.attachments),
    });
  },
);

const unknownType = mediaScenario(
  "unknown-type",
  "An attachment of unknown media type stays as a link",
  ["MED-04"],
  true,
  async (ctx, { sender, receiver }) => {
    // 2. The sender attaches a document of a media type no one renders; 3. wait for the post.
    const url = mediaUrl(ctx, "model.fcx");
    const view = await sendRaw(
      ctx,
      sender,
      receiver,
      {
        type: "Note",
        content: `<p>an odd file ${token("odd")}</p>`,
        attachment: [
          { type: "Document", mediaType: "application/x-fedicheck-model", url, name: "a 3D model" },
        ],
      },
      "MED-04",
      "the post with an unknown attachment",
    );
    // 4. MED-04: the file is still reachable.
    const ok = view.attachments.some((a) => a.url === url) || view.links.includes(url);
    ctx.assert("MED-04", ok, ok ? "kept as media or link" : "the attachment vanished", {
      expected: `${url} reachable as an attachment or a link`,
      observed: `attachments ${describeAttachments(view.attachments)}; links ${show(view.links)}`,
    });
  },
);

const urlArray = mediaScenario(
  "url-array",
  "An attachment whose url is an array of Links survives",
  ["MED-05"],
  true,
  async (ctx, { sender, receiver }) => {
    // 2. The sender posts an image whose url is two Links (png and jpeg); 3. the post must arrive.
    const png = mediaUrl(ctx, "picture.png");
    const jpeg = mediaUrl(ctx, "picture.jpg");
    const view = await sendRaw(
      ctx,
      sender,
      receiver,
      {
        type: "Note",
        content: `<p>url as an array ${token("urls")}</p>`,
        attachment: [
          {
            type: "Image",
            name: "one picture, two encodings",
            url: [
              { type: "Link", mediaType: "image/png", href: png },
              { type: "Link", mediaType: "image/jpeg", href: jpeg },
            ],
          },
        ],
      },
      "MED-05",
      "the post whose attachment url is an array",
    );
    // 4. MED-05: the post arrived and the image kept one of its URLs.
    const ok = view.attachments.some((a) => a.url === png || a.url === jpeg);
    ctx.assert("MED-05", ok, ok ? "post and image kept" : "the post arrived without the image", {
      expected: `an attachment with url ${png} or ${jpeg}`,
      observed: describeAttachments(view.attachments),
    });
  },
);

const linkAttachment = mediaScenario(
  "link-attachment",
  "A Link attachment stays reachable",
  ["MED-06"],
  true,
  async (ctx, { sender, receiver }) => {
    // 2. The sender attaches a bare Link (not mentioned in the content); 3. wait for the post.
    const href = `${ctx.probe.origin}/pages/${token("page")}`;
    const view = await sendRaw(
      ctx,
      sender,
      receiver,
      {
        type: "Note",
        content: `<p>a link attachment ${token("link")}</p>`,
        attachment: [{ type: "Link", mediaType: "text/html", href, name: "a web page" }],
      },
      "MED-06",
      "the post with a Link attachment",
    );
    // 4. MED-06: the href is reachable.
    const ok = view.attachments.some((a) => a.url === href) || view.links.includes(href);
    ctx.assert("MED-06", ok, ok ? "Link attachment kept" : "the Link attachment vanished", {
      expected: `${href} reachable as an attachment or a link`,
      observed: `attachments ${describeAttachments(view.attachments)}; links ${show(view.links)}`,
    });
  },
);

const manyAttachments = mediaScenario(
  "many-attachments",
  "Six attachments: at least four kept, post not dropped",
  ["MED-10"],
  true,
  async (ctx, { sender, receiver }) => {
    // 2. The sender posts six images; 3. the post must arrive.
    const attachment = Array.from({ length: 6 }, (_, i) => ({
      type: "Image",
      mediaType: "image/png",
      url: mediaUrl(ctx, `image-${i + 1}.png`),
      name: `image ${i + 1}`,
    }));
    const view = await sendRaw(
      ctx,
      sender,
      receiver,
      { type: "Note", content: `<p>six images ${token("six")}</p>`, attachment },
      "MED-10",
      "the post with six images",
    );
    // 4. MED-10: at least four of them kept.
    ctx.assert("MED-10", view.attachments.length >= 4, `${view.attachments.length} of 6 attachments kept`, {
      expected: "at least 4 of the 6 images",
      observed: `${view.attachments.length}: ${describeAttachments(view.attachments)}`,
    });
  },
);

/** Whether the view shows `name` or `content` text of a non-Note object. */
function readable(view: PostView, markers: string[]): boolean {
  return markers.some((m) => view.text.includes(m) || view.html.includes(m));
}

const articles = mediaScenario(
  "article-page-event",
  "Article, Page and Event fall back to text and a link",
  ["MED-07"],
  true,
  async (ctx, { sender, receiver }) => {
    const observed: string[] = [];
    let ok = true;
    for (const type of ["Article", "Page", "Event"]) {
      // 2. The sender posts a top-level object of this type; 3. it must arrive.
      const title = `${type} title ${token("title")}`;
      const body = `${type} body ${token("body")}`;
      const url = `${ctx.probe.origin}/pages/${token(type.toLowerCase())}`;
      const object: Json = {
        type,
        name: title,
        summary: `about this ${type}`,
        content: `<p>${body}</p>`,
        url,
        ...(type === "Event"
          ? {
              startTime: new Date(Date.now() + 86_400_000).toISOString(),
              endTime: new Date(Date.now() + 90_000_000).toISOString(),
            }
          : {}),
      };
      const view = await sendRaw(ctx, sender, receiver, object, "MED-07", `the ${type}`);
      // 4. MED-07: its title or body is readable, and its url is linked.
      const text = readable(view, [title, body]);
      const link = reachable(view, url);
      if (!text || !link) ok = false;
      observed.push(
        `${type}: ${text ? "readable" : "no title or body"}, ${link ? "linked" : "no link to url"}`,
      );
    }
    ctx.assert("MED-07", ok, observed.join("; "), {
      expected: "each shows its name (or content) and a link to its url",
      observed: observed.join("; "),
    });
  },
);

const audioVideoObjects = mediaScenario(
  "audio-video-objects",
  "Top-level Audio and Video fall back to text and a link",
  ["MED-08"],
  true,
  async (ctx, { sender, receiver }) => {
    const page = `${ctx.probe.origin}/videos/${token("watch")}`;
    const videoFile = mediaUrl(ctx, "video.mp4");
    const audioFile = mediaUrl(ctx, "track.mp3");
    const variants: Array<{ object: Json; title: string; body: string; urls: string[] }> = [];
    const videoTitle = `Video title ${token("video")}`;
    const videoBody = `video description ${token("vbody")}`;
    variants.push({
      title: videoTitle,
      body: videoBody,
      urls: [page, videoFile],
      // PeerTube style: url is a list of Links, the page first.
      object: {
        type: "Video",
        name: videoTitle,
        content: `<p>${videoBody}</p>`,
        duration: "PT1M",
        url: [
          { type: "Link", mediaType: "text/html", href: page },
          { type: "Link", mediaType: "video/mp4", href: videoFile },
        ],
      },
    });
    const audioTitle = `Audio title ${token("audio")}`;
    const audioBody = `audio description ${token("abody")}`;
    variants.push({
      title: audioTitle,
      body: audioBody,
      urls: [audioFile],
      // Funkwhale style: url is one Link to the file.
      object: {
        type: "Audio",
        name: audioTitle,
        content: `<p>${audioBody}</p>`,
        url: { type: "Link", mediaType: "audio/mpeg", href: audioFile },
      },
    });
    const observed: string[] = [];
    let ok = true;
    for (const v of variants) {
      // 2. The sender posts the object; 3. it must arrive.
      const type = String(v.object.type);
      const view = await sendRaw(ctx, sender, receiver, v.object, "MED-08", `the top-level ${type}`);
      // 4. MED-08: readable, and its page or media linked.
      const text = readable(view, [v.title, v.body]);
      const link = v.urls.some((u) => reachable(view, u));
      if (!text || !link) ok = false;
      observed.push(
        `${type}: ${text ? "readable" : "no title or description"}, ${link ? "linked" : "no link"}`,
      );
    }
    ctx.assert("MED-08", ok, observed.join("; "), {
      expected: "each shows its name (or content) and links to its page or media",
      observed: observed.join("; "),
    });
  },
);

const question = mediaScenario(
  "question",
  "A poll falls back readably",
  ["MED-09"],
  true,
  async (ctx, { sender, receiver }) => {
    // 2. The sender posts a Question with three options; 3. it must arrive.
    const ask = `Which flavour? ${token("poll")}`;
    const options = ["Strawberry", "Pistachio", "Lemon"].map((o) => `${o} ${token("opt").slice(-8)}`);
    const view = await sendRaw(
      ctx,
      sender,
      receiver,
      {
        type: "Question",
        content: `<p>${ask}</p>`,
        oneOf: options.map((name) => ({
          type: "Note",
          name,
          replies: { type: "Collection", totalItems: 0 },
        })),
        endTime: new Date(Date.now() + 86_400_000).toISOString(),
      },
      "MED-09",
      "the poll",
    );
    // 4. MED-09: the question is readable; its options too, as text, or as a poll where the receiver has polls.
    const asked = view.text.includes(ask);
    const inText = options.every((o) => view.text.includes(o));
    const asPoll =
      receiver.target.capabilities.includes("polls") &&
      options.every((o) => JSON.stringify(view.raw).includes(o));
    const ok = asked && (inText || asPoll);
    ctx.assert(
      "MED-09",
      ok,
      ok ? `poll readable${inText ? " (options as text)" : " (as a poll)"}` : "the poll is not readable",
      {
        expected: `the question '${ask}' and the options ${show(options)} readable`,
        observed: `question ${asked ? "shown" : "missing"}; options ${inText ? "in the text" : asPoll ? "as a poll" : "missing"}; ${summarise(view)}`,
      },
    );
  },
);

const transcript = mediaScenario(
  "audio-transcript",
  "An audio post's transcript arrives readable",
  ["MED-13"],
  true,
  async (ctx, { sender, receiver }) => {
    const observed: string[] = [];
    let ok = true;
    const noteTranscript = `Transcript: hello from a voice note ${token("tr")}`;
    const audioTranscript = `Transcript: hello from an audio post ${token("tr")}`;
    const variants: Array<{ label: string; transcript: string; object: Json }> = [
      {
        label: "Note with an audio attachment",
        transcript: noteTranscript,
        object: {
          type: "Note",
          content: `<p>${noteTranscript}</p>`,
          attachment: [
            { type: "Audio", mediaType: "audio/mpeg", url: mediaUrl(ctx, "voice.mp3"), name: "voice note" },
          ],
        },
      },
      {
        label: "top-level Audio",
        transcript: audioTranscript,
        object: {
          type: "Audio",
          name: "Voice note",
          content: `<p>${audioTranscript}</p>`,
          url: { type: "Link", mediaType: "audio/mpeg", href: mediaUrl(ctx, "voice-post.mp3") },
        },
      },
    ];
    for (const v of variants) {
      // 2. The sender posts the audio post; 3. it must arrive.
      const view = await sendRaw(ctx, sender, receiver, v.object, "MED-13", `the audio post (${v.label})`);
      // 4. MED-13: the transcript is readable text.
      const shown = view.text.includes(v.transcript);
      if (!shown) ok = false;
      observed.push(`${v.label}: transcript ${shown ? "shown" : "missing"}`);
    }
    ctx.assert("MED-13", ok, observed.join("; "), {
      expected: "the transcript readable in both shapes",
      observed: observed.join("; "),
    });
  },
);

/** The media-fallback suite. */
export const scenarios: Scenario[] = [
  image,
  altInSummary,
  audioVideo,
  unknownType,
  urlArray,
  linkAttachment,
  articles,
  audioVideoObjects,
  question,
  manyAttachments,
  sensitive,
  transcript,
];
