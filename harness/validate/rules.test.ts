import { describe, expect, it } from "vitest";
import { type Finding, validate } from "./index.ts";
import { containsHtml, isBcp47, isRfc3339DateTime, PUBLIC_IRI } from "./rules.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const ALICE = "https://mastodon.example/users/alice";

function ids(findings: Finding[], severity?: Finding["severity"]): string[] {
  return findings.filter((f) => severity === undefined || f.severity === severity).map((f) => f.ruleId);
}

function at(findings: Finding[], ruleId: string): Finding[] {
  return findings.filter((f) => f.ruleId === ruleId);
}

function note(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    "@context": AS,
    id: "https://mastodon.example/users/alice/statuses/1",
    type: "Note",
    attributedTo: ALICE,
    content: "hi",
    to: [PUBLIC_IRI],
    ...extra,
  };
}

function create(
  object: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const { "@context": _context, ...rest } = object;
  return {
    "@context": AS,
    id: "https://mastodon.example/users/alice/statuses/1/activity",
    type: "Create",
    actor: ALICE,
    to: [PUBLIC_IRI],
    object: rest,
    ...extra,
  };
}

describe("isRfc3339DateTime (AS-03)", () => {
  it.each([
    "2024-05-01T12:00:00Z",
    "2024-05-01T12:00:00.123456Z",
    "2024-05-01T12:00:00+02:00",
    "2024-02-29T23:59:60Z",
    "2000-02-29T00:00:00-00:00",
  ])("accepts %s", (value) => {
    expect(isRfc3339DateTime(value)).toBe(true);
  });

  it.each([
    "2024-05-01t12:00:00z",
    "2024-05-01T12:00:00z",
    "2024-05-01 12:00:00Z",
    "2024-05-01",
    "2024-05-01T12:00Z",
    "2023-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2024-13-01T00:00:00Z",
    "2024-04-31T00:00:00Z",
    "2024-05-01T24:00:00Z",
    "2024-05-01T12:00:00+2:00",
    "2024-05-01T12:00:00+24:00",
    "Wed, 01 May 2024 12:00:00 GMT",
  ])("rejects %s", (value) => {
    expect(isRfc3339DateTime(value)).toBe(false);
  });

  it("says why a date fails: upper-case T/Z, a date without time, or another form", async () => {
    const findings = await validate(
      note({ published: "2024-05-01t12:00:00z", updated: "2024-05-01", endTime: "soon" }),
    );
    const messages = at(findings, "AS-03").map((f) => `${f.pointer} ${f.message}`);
    expect(messages).toHaveLength(3);
    expect(messages.find((m) => m.startsWith("/published"))).toMatch(/upper-case "T" and "Z"/);
    expect(messages.find((m) => m.startsWith("/updated"))).toMatch(/full date-time/);
    expect(messages.find((m) => m.startsWith("/endTime"))).toMatch(/RFC 3339/);
  });

  it("ignores a boolean `closed` (a closed Question) but checks a string one", async () => {
    expect(at(await validate(note({ type: "Question", closed: true })), "AS-03")).toEqual([]);
    expect(at(await validate(note({ type: "Question", closed: "2024-05-01" })), "AS-03")).toHaveLength(1);
  });
});

describe("isBcp47 (AS-04)", () => {
  it.each([
    "en",
    "pt-BR",
    "zh-Hant-TW",
    "und",
    "sgn-BE-FR",
    "i-klingon",
    "x-whatever",
    "de-CH-1901",
    "en-a-bbb-x-ccc",
  ])("accepts %s", (tag) => {
    expect(isBcp47(tag)).toBe(true);
  });

  it.each(["en_US", "", "e", "english language", "pt-", "-en", "en--US", "toolonglanguagetag"])(
    "rejects %s",
    (tag) => {
      expect(isBcp47(tag)).toBe(false);
    },
  );

  it("reports each bad key of contentMap, nameMap and summaryMap, and a bad hreflang", async () => {
    const findings = await validate(
      note({
        contentMap: { en_US: "hi" },
        nameMap: { "pt-BR": "oi", "english language": "hi" },
        summaryMap: { en: "cw" },
        summary: "cw",
        tag: [{ type: "Link", href: "https://a.example/", hreflang: "en_GB" }],
      }),
    );
    expect(at(findings, "AS-04").map((f) => f.pointer)).toEqual([
      "/contentMap/en_US",
      "/nameMap/english language",
      "/tag/0/hreflang",
    ]);
  });
});

describe("containsHtml and Question (AS-05)", () => {
  it.each(["<p>hi</p>", "a <b>bold</b> move", "<br/>", "<a href='x'>x</a>", "</span>"])(
    "sees HTML in %s",
    (text) => {
      expect(containsHtml(text)).toBe(true);
    },
  );

  it.each(["I <3 fedi", "a < b > c", "x<y", "plain :blobcat:", "<>"])("sees no HTML in %s", (text) => {
    expect(containsHtml(text)).toBe(false);
  });

  it("reports HTML in name and nameMap values, wherever the object sits", async () => {
    const findings = await validate(
      create(
        note({
          name: "<b>title</b>",
          nameMap: { en: "<i>t</i>" },
          attachment: [{ type: "Image", name: "<p>alt</p>" }],
        }),
      ),
    );
    expect(at(findings, "AS-05").map((f) => f.pointer)).toEqual([
      "/object/name",
      "/object/nameMap/en",
      "/object/attachment/0/name",
    ]);
  });

  it("reports a Question with both oneOf and anyOf, and not one with either", async () => {
    const options = [{ type: "Note", name: "a" }];
    const both = await validate(note({ type: "Question", oneOf: options, anyOf: options }));
    expect(at(both, "AS-05")).toHaveLength(1);
    expect(at(both, "AS-05")[0]?.impact).toBe("PROBLEM");
    expect(at(await validate(note({ type: "Question", oneOf: options })), "AS-05")).toEqual([]);
    expect(at(await validate(note({ type: "Question", anyOf: options, oneOf: [] })), "AS-05")).toEqual([]);
  });
});

describe("bto and bcc in deliveries (AS-06)", () => {
  const doc = create(note({ bto: ["https://b.example/u/x"] }), { bcc: ["https://b.example/u/y"] });

  it("are errors in a delivered activity and its object", async () => {
    const findings = await validate(doc, { delivered: true });
    expect(at(findings, "AS-06").map((f) => f.pointer)).toEqual(["/bcc", "/object/bto"]);
    expect(at(findings, "AS-06").every((f) => f.severity === "error")).toBe(true);
  });

  it("are fine in a document that was not delivered (an outbox read by its owner)", async () => {
    expect(at(await validate(doc), "AS-06")).toEqual([]);
  });

  it("are fine when empty", async () => {
    expect(at(await validate(create(note(), { bcc: [] }), { delivered: true }), "AS-06")).toEqual([]);
  });
});

describe("ids on the actor's origin (AS-07)", () => {
  it("flags an activity id on another origin than its actor", async () => {
    const findings = await validate({ ...create(note()), id: "https://evil.example/activities/1" });
    expect(at(findings, "AS-07").map((f) => f.pointer)).toEqual(["/id"]);
  });

  it("flags the object of Create, Update, Delete and Undo on another origin", async () => {
    for (const type of ["Create", "Update", "Delete", "Undo"]) {
      const findings = await validate({ ...create(note()), type, object: "https://evil.example/notes/1" });
      expect(
        at(findings, "AS-07").map((f) => f.pointer),
        type,
      ).toEqual(["/object"]);
    }
  });

  it("accepts Announce, Like, Follow and Accept of other servers' objects", async () => {
    for (const type of ["Announce", "Like", "Follow", "Accept"]) {
      const findings = await validate({ ...create(note()), type, object: "https://other.example/notes/1" });
      expect(at(findings, "AS-07"), type).toEqual([]);
    }
  });

  it("compares origins, not strings: default ports and case do not matter, other ports do", async () => {
    const same = { ...create(note()), id: "HTTPS://Mastodon.Example:443/users/alice/statuses/1/activity" };
    expect(at(await validate(same), "AS-07")).toEqual([]);
    const port = { ...create(note()), id: "https://mastodon.example:8443/users/alice/statuses/1/activity" };
    expect(at(await validate(port), "AS-07")).toHaveLength(1);
  });

  it("checks the id (and a delivered activity's actor) against the origin that served it", async () => {
    expect(at(await validate(note(), { origin: "https://mastodon.example" }), "AS-07")).toEqual([]);
    expect(at(await validate(note(), { origin: "mastodon.example" }), "AS-07")).toEqual([]);
    const foreign = await validate(create(note()), { origin: "https://mirror.example" });
    expect(at(foreign, "AS-07").map((f) => f.pointer)).toEqual(["/id", "/actor"]);
  });
});

describe("attribution and the objects of Create/Update", () => {
  it("flags a Create whose object is attributed to someone else (AP-ATTRIBUTION)", async () => {
    const findings = await validate(create(note({ attributedTo: "https://mastodon.example/users/bob" })));
    expect(at(findings, "AP-ATTRIBUTION").map((f) => f.pointer)).toEqual(["/object/attributedTo"]);
  });

  it("accepts attributedTo lists and embedded actors that include the actor (PeerTube)", async () => {
    const attributedTo = [
      { type: "Person", id: ALICE },
      { type: "Group", id: "https://mastodon.example/c/x" },
    ];
    expect(at(await validate(create(note({ attributedTo }))), "AP-ATTRIBUTION")).toEqual([]);
  });

  it("requires an id on the object of a Create (AP-OBJECT-ID)", async () => {
    const { id: _id, ...withoutId } = note();
    expect(at(await validate(create(withoutId)), "AP-OBJECT-ID").map((f) => f.pointer)).toEqual([
      "/object/id",
    ]);
  });

  it("warns on an Update of a post without `updated` (AP-UPDATE-UPDATED), not of an actor or poll", async () => {
    const update = { ...create(note()), type: "Update" };
    expect(ids(await validate(update), "warning")).toContain("AP-UPDATE-UPDATED");
    expect(
      ids(await validate({ ...update, object: { ...note(), updated: "2024-05-01T12:00:00Z" } })),
    ).not.toContain("AP-UPDATE-UPDATED");
    expect(ids(await validate({ ...update, object: { ...note(), type: "Question" } }))).not.toContain(
      "AP-UPDATE-UPDATED",
    );
  });
});

describe("Public addressing spellings", () => {
  it("says nothing about the canonical IRI", async () => {
    expect(at(await validate(note({ to: [PUBLIC_IRI], cc: PUBLIC_IRI })), "AS-PUBLIC-SPELLING")).toEqual([]);
  });

  it("names each compact spelling as info, wherever it is addressed", async () => {
    const findings = await validate(
      create(note({ cc: "Public" }), { to: ["as:Public"], audience: { id: "Public" } }),
    );
    const spelled = at(findings, "AS-PUBLIC-SPELLING");
    expect(spelled.map((f) => [f.pointer, f.severity])).toEqual([
      ["/to/0", "info"],
      ["/audience", "info"],
      ["/object/cc", "info"],
    ]);
    expect(spelled[0]?.message).toContain('"as:Public"');
    expect(spelled[1]?.message).toContain('"Public"');
  });

  it("warns about the http: IRI, which is a different IRI", async () => {
    const findings = await validate(note({ to: ["http://www.w3.org/ns/activitystreams#Public"] }));
    expect(at(findings, "AS-PUBLIC-SPELLING").map((f) => f.severity)).toEqual(["warning"]);
  });
});

describe("language maps agree with plain values (AS-CONTENT-MAP)", () => {
  it("warns when content matches no contentMap value", async () => {
    const findings = await validate(note({ content: "hi", contentMap: { en: "hello", de: "hallo" } }));
    expect(at(findings, "AS-CONTENT-MAP").map((f) => f.pointer)).toEqual(["/contentMap"]);
  });

  it("accepts a match in any language, and a map without a plain value", async () => {
    expect(
      at(
        await validate(note({ content: "hallo", contentMap: { en: "hello", de: "hallo" } })),
        "AS-CONTENT-MAP",
      ),
    ).toEqual([]);
    const { content: _content, ...rest } = note();
    expect(at(await validate({ ...rest, contentMap: { en: "x" } }), "AS-CONTENT-MAP")).toEqual([]);
  });
});

describe("Tombstones and actor keys", () => {
  it("notes a Tombstone without formerType and deleted, as info only", async () => {
    const findings = await validate({ "@context": AS, id: "https://a.example/1", type: "Tombstone" });
    expect(at(findings, "AS-TOMBSTONE").map((f) => [f.pointer, f.severity])).toEqual([
      ["/formerType", "info"],
      ["/deleted", "info"],
    ]);
    const full = {
      "@context": AS,
      id: "https://a.example/1",
      type: "Tombstone",
      formerType: "Note",
      deleted: "2024-05-01T00:00:00Z",
    };
    expect(at(await validate(full), "AS-TOMBSTONE")).toEqual([]);
  });

  it("flags a key whose owner is not the actor, in a list of keys too (AP-ACTOR-KEY)", async () => {
    const pem = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n";
    const actor = {
      "@context": [AS, "https://w3id.org/security/v1"],
      id: ALICE,
      type: "Person",
      inbox: `${ALICE}/inbox`,
      outbox: `${ALICE}/outbox`,
      followers: `${ALICE}/followers`,
      following: `${ALICE}/following`,
      preferredUsername: "alice",
      publicKey: [
        { id: `${ALICE}#main-key`, owner: ALICE, publicKeyPem: pem },
        { id: `${ALICE}#other`, owner: "https://evil.example/users/eve", publicKeyPem: pem },
      ],
    };
    const findings = await validate(actor);
    expect(at(findings, "AP-ACTOR-KEY").map((f) => [f.pointer, f.severity])).toEqual([
      ["/publicKey/1/owner", "error"],
    ]);
    const { publicKey: _key, ...keyless } = actor;
    expect(at(await validate(keyless), "AP-ACTOR-KEY").map((f) => f.severity)).toEqual(["warning"]);
  });
});

describe("WebFinger self link (WF-SELF-LINK)", () => {
  const base = { subject: "acct:alice@mastodon.example" };
  const self = (type: string, href = ALICE) => ({ rel: "self", type, href });

  it("accepts one AS2 self link, or two AS2 media types naming the same actor", async () => {
    expect(ids(await validate({ ...base, links: [self("application/activity+json")] }))).toEqual([]);
    const both = [
      self("application/activity+json"),
      self('application/ld+json; profile="https://www.w3.org/ns/activitystreams"'),
    ];
    expect(ids(await validate({ ...base, links: both }))).toEqual([]);
  });

  it("rejects no AS2 self link, self links to different actors, and a relative href", async () => {
    expect(ids(await validate({ ...base, links: [self("text/html")] }))).toEqual(["WF-SELF-LINK"]);
    expect(ids(await validate({ ...base, links: [self("application/ld+json")] }))).toEqual(["WF-SELF-LINK"]);
    const two = [
      self("application/activity+json"),
      self("application/activity+json", "https://mastodon.example/users/bob"),
    ];
    expect(ids(await validate({ ...base, links: two }))).toEqual(["WF-SELF-LINK"]);
    expect(
      ids(await validate({ ...base, links: [self("application/activity+json", "/users/alice")] })),
    ).toContain("WF-SELF-LINK");
  });
});
