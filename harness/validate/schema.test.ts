import type { SchemaObject } from "ajv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Finding, validate } from "./index.ts";
import { compile, runSchema } from "./schema.ts";
import { activitySchema } from "./schemas/activities.ts";
import { actorSchema, inboxRequired, publicKeyShape } from "./schemas/actors.ts";
import { collectionSchema } from "./schemas/collections.ts";
import { OBJECT_TYPE_SCHEMAS, objectSchema } from "./schemas/objects.ts";
import { jrdSchema } from "./schemas/webfinger.ts";

const RUNS = Number(process.env.FEDICHECK_FUZZ_RUNS ?? 300);

function summary(findings: Finding[]): string[] {
  return findings.map((f) => `${f.severity} ${f.ruleId} ${f.pointer}`);
}

const NODEINFO_21 = {
  version: "2.1",
  software: { name: "mastodon", version: "4.3.0", repository: "https://github.com/mastodon/mastodon" },
  protocols: ["activitypub"],
  services: { inbound: [], outbound: [] },
  openRegistrations: true,
  usage: { users: { total: 1, activeMonth: 1, activeHalfyear: 1 }, localPosts: 1 },
  metadata: {},
};

describe("compiled schemas", () => {
  // The fast check walks only the keys a node has; it must accept exactly what ajv's full validator does.
  const schemas: [string, SchemaObject][] = [
    ["object", objectSchema],
    ["activity", activitySchema],
    ["actor", actorSchema],
    ["collection", collectionSchema],
    ["jrd", jrdSchema],
    ["inbox", inboxRequired],
    ["publicKey", publicKeyShape],
    ...Object.entries(OBJECT_TYPE_SCHEMAS),
  ];
  const value = fc.oneof(
    fc.constantFrom(
      "https://a.example/1",
      "as:Public",
      "Public",
      "/relative",
      "",
      "not an iri",
      null,
      true,
      3,
      -1,
      1.5,
    ),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const keys = fc.constantFrom(
    "id",
    "type",
    "content",
    "contentMap",
    "to",
    "attachment",
    "url",
    "inbox",
    "outbox",
    "href",
    "width",
    "totalItems",
    "oneOf",
    "formerType",
    "publicKey",
    "focalPoint",
    "links",
    "subject",
    "unknownKey",
  );
  const node = fc.oneof(fc.dictionary(keys, value, { maxKeys: 6 }), fc.jsonValue({ maxDepth: 2 }));

  it.each(schemas)("the fast check of %s agrees with the full validator", (_name, schema) => {
    const compiled = compile(schema);
    fc.assert(
      fc.property(node, (v) => {
        expect(compiled.check(v)).toBe(compiled.full(v));
      }),
      { numRuns: RUNS },
    );
  });

  it("compiles each schema once and reuses it", () => {
    expect(compile(objectSchema)).toBe(compile(objectSchema));
  });

  it("says what was expected and what was found", () => {
    const [missing] = runSchema("AP-ACTOR-INBOX", inboxRequired, {});
    expect(missing?.pointer).toBe("/inbox");
    expect(missing?.message).toBe('expected property "inbox", found none');
    const [relative] = runSchema("AP-ACTOR-INBOX", inboxRequired, { inbox: "/inbox" });
    expect(relative?.message).toBe('expected an absolute http(s) URL, found string "/inbox"');
    const [wrongType] = runSchema("AS2-SCHEMA", objectSchema, { content: 42 }, "/object");
    expect(wrongType?.pointer).toBe("/object/content");
    expect(wrongType?.message).toBe("expected string or null, found number 42");
  });
});

describe("AS2 schemas through validate()", () => {
  it("checks nested typed nodes, with pointers into the document", async () => {
    const findings = await validate({
      "@context": "https://www.w3.org/ns/activitystreams",
      id: "https://a.example/1",
      type: "Note",
      attachment: [{ type: "Image", url: "https://a.example/i.png", width: -5 }],
      tag: [{ type: "Mention", name: "@bob" }],
    });
    expect(summary(findings.filter((f) => f.ruleId === "AS2-SCHEMA"))).toEqual([
      "error AS2-SCHEMA /attachment/0/width",
      "error AS2-SCHEMA /tag/0/href",
    ]);
  });

  it("applies actor requirements to a full actor, not to a reference like {type: Person, id}", async () => {
    const video = {
      id: "https://p.example/videos/1",
      type: "Video",
      attributedTo: [{ type: "Person", id: "https://p.example/accounts/ivan" }],
    };
    expect((await validate(video)).filter((f) => f.ruleId.startsWith("AP-ACTOR"))).toEqual([]);
    const actor = await validate({ id: "https://p.example/accounts/ivan", type: "Person" });
    expect(actor.map((f) => f.ruleId)).toEqual(
      expect.arrayContaining([
        "AP-ACTOR-INBOX",
        "AP-ACTOR-OUTBOX",
        "AP-ACTOR-FOLLOWERS",
        "AP-ACTOR-USERNAME",
      ]),
    );
  });

  it("requires object, target, actor and (when delivered) id of activities", async () => {
    const add = { type: "Add", actor: "https://a.example/u" };
    expect(summary(await validate(add, { delivered: true })).filter((s) => s.startsWith("error"))).toEqual(
      expect.arrayContaining([
        "error AP-ACTIVITY-OBJECT /object",
        "error AP-ACTIVITY-TARGET /target",
        "error AP-ACTIVITY-ID /id",
      ]),
    );
    expect(summary(await validate({ ...add, object: null, target: "x:y" }))).toContain(
      "error AP-ACTIVITY-OBJECT /object",
    );
    expect(summary(await validate({ type: "Announce", object: "https://a.example/1" }))).toContain(
      "error AP-ACTIVITY-ACTOR /actor",
    );
  });
});

describe("NodeInfo", () => {
  it("accepts a 2.1 and a 2.0 document", async () => {
    expect(await validate(NODEINFO_21)).toEqual([]);
    const { repository: _repository, ...software } = NODEINFO_21.software;
    expect(await validate({ ...NODEINFO_21, version: "2.0", software })).toEqual([]);
  });

  it("holds 2.0 to its own schema (no software.repository there)", async () => {
    expect(summary(await validate({ ...NODEINFO_21, version: "2.0" }))).toEqual([
      "error NI-SCHEMA /software/repository",
    ]);
  });

  it("rejects an upper-case software name, extra members, negative counts and unknown protocols", async () => {
    const bad = {
      ...NODEINFO_21,
      software: { name: "Mastodon", version: "4" },
      usage: { users: { total: -1 } },
      protocols: ["activitypub", "gopher"],
      extra: true,
    };
    expect(summary(await validate(bad))).toEqual([
      "error NI-SCHEMA /extra",
      "error NI-SCHEMA /software/name",
      "error NI-SCHEMA /protocols/1",
      "error NI-SCHEMA /usage/users/total",
    ]);
  });

  it("wants activitypub among the protocols", async () => {
    expect(summary(await validate({ ...NODEINFO_21, protocols: ["diaspora"] }))).toEqual([
      "error NI-PROTOCOLS /protocols",
    ]);
  });

  it("warns about another version and checks the rest against 2.1", async () => {
    const findings = await validate(
      { ...NODEINFO_21, version: "2.2", openRegistrations: "yes" },
      { kind: "nodeinfo" },
    );
    expect(summary(findings)).toEqual(["error NI-SCHEMA /openRegistrations", "warning NI-VERSION /version"]);
  });
});

describe("WebFinger", () => {
  it("rejects non-string aliases and links without rel; warns about a missing subject", async () => {
    const findings = await validate(
      {
        aliases: [42],
        links: [
          { href: "https://a.example/u" },
          { rel: "self", type: "application/activity+json", href: "https://a.example/u" },
        ],
      },
      { kind: "webfinger" },
    );
    expect(summary(findings)).toEqual([
      "error WF-SCHEMA /aliases/0",
      "error WF-SCHEMA /links/0/rel",
      "warning WF-SUBJECT /subject",
    ]);
  });
});
