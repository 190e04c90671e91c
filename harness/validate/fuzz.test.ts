import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Finding, RULES, type ValidationContext, validate } from "./index.ts";

// Bounded by default so the suite stays quick; FEDICHECK_FUZZ_RUNS=5000 for a long soak.
const RUNS = Number(process.env.FEDICHECK_FUZZ_RUNS ?? 150);

const SEVERITIES = new Set(["error", "warning", "info"]);
const LEVELS = new Set(["MUST", "SHOULD", "MAY", "IMPLIED"]);
const IMPACTS = new Set(["PROBLEM", "DEGRADED", "UNAFFECTED"]);

/** Asserts the result is an array of findings with every field well-formed. */
function expectWellFormed(findings: unknown): void {
  expect(Array.isArray(findings)).toBe(true);
  for (const f of findings as Finding[]) {
    expect(Object.keys(f).sort()).toEqual([
      "impact",
      "level",
      "message",
      "pointer",
      "ruleId",
      "severity",
      "source",
    ]);
    expect(Object.hasOwn(RULES, f.ruleId), f.ruleId).toBe(true);
    expect(SEVERITIES.has(f.severity)).toBe(true);
    expect(LEVELS.has(f.level)).toBe(true);
    expect(IMPACTS.has(f.impact)).toBe(true);
    expect(f.pointer === "" || f.pointer.startsWith("/")).toBe(true);
    expect(f.message.length).toBeGreaterThan(0);
    expect(f.message).not.toContain("\n");
    expect(f.source.length).toBeGreaterThan(0);
    // A fault of the validator on generated input is a bug in fedicheck, not in the document.
    expect(f.ruleId, f.message).not.toBe("VALIDATOR-FAULT");
  }
}

const iri = fc.oneof(
  fc.webUrl(),
  fc.constantFrom(
    "https://www.w3.org/ns/activitystreams#Public",
    "as:Public",
    "Public",
    "/relative/path",
    "tag:example.org,2024:1",
    "",
    "urn:uuid:00000000-0000-4000-8000-000000000000",
  ),
);
const typeName = fc.constantFrom(
  "Note",
  "Article",
  "Question",
  "Tombstone",
  "Create",
  "Update",
  "Delete",
  "Follow",
  "Accept",
  "Undo",
  "Announce",
  "Add",
  "Remove",
  "Like",
  "Person",
  "Group",
  "Service",
  "OrderedCollection",
  "CollectionPage",
  "Link",
  "Mention",
  "Hashtag",
  "Image",
  "Video",
  "ChatMessage",
  "Unknown",
  // Object.prototype names: lookups keyed by document data must not reach them.
  "constructor",
  "toString",
  "__proto__",
  "valueOf",
);
const dateLike = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().toLowerCase()),
  fc.constantFrom("2024-05-01", "yesterday", "2024-02-30T00:00:00Z", "2024-05-01T25:00:00Z"),
  fc.string(),
);
const context = fc.oneof(
  fc.constant("https://www.w3.org/ns/activitystreams"),
  fc.constant(["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]),
  fc.constant(["https://www.w3.org/ns/activitystreams", "https://unknown.example/ns"]),
  fc.constant([
    "https://www.w3.org/ns/activitystreams",
    { toot: "http://joinmastodon.org/ns#", isCat: "toot:isCat" },
  ]),
  fc.constant("https://pleroma.example/schemas/litepub-0.1.jsonld"),
  fc.constantFrom("toString", "constructor", "__proto__", [
    "https://www.w3.org/ns/activitystreams",
    "valueOf",
  ]),
  fc.jsonValue({ maxDepth: 2 }),
);

/** A value for any property: mostly plausible, sometimes anything. */
const loose: fc.Arbitrary<unknown> = fc.oneof(
  iri,
  fc.array(iri, { maxLength: 3 }),
  fc.string(),
  fc.jsonValue({ maxDepth: 2 }),
);

/** An AS2-ish object: known property names with plausible or arbitrary values, nested `depth` levels. */
function as2ishAt(depth: number): fc.Arbitrary<Record<string, unknown>> {
  const child: fc.Arbitrary<unknown> = depth > 0 ? as2ishAt(depth - 1) : iri;
  const children = fc.array(child, { maxLength: 2 });
  return fc.record(
    {
      "@context": context,
      id: iri,
      type: fc.oneof(typeName, fc.array(typeName, { maxLength: 2 })),
      actor: fc.oneof(iri, loose),
      attributedTo: fc.oneof(iri, fc.array(iri, { maxLength: 2 }), loose),
      object: fc.oneof(iri, child, loose),
      target: fc.oneof(iri, loose),
      to: fc.oneof(iri, fc.array(iri, { maxLength: 3 }), loose),
      cc: fc.oneof(iri, fc.array(iri, { maxLength: 3 }), loose),
      bcc: fc.oneof(iri, loose),
      name: fc.oneof(fc.string(), fc.constant("<b>bold</b>"), loose),
      nameMap: fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), fc.string(), { maxKeys: 3 }), loose),
      content: fc.oneof(fc.string(), loose),
      contentMap: fc.oneof(
        fc.dictionary(fc.constantFrom("en", "pt-BR", "en_US", "", "x-private"), fc.string(), { maxKeys: 3 }),
        loose,
      ),
      published: dateLike,
      updated: dateLike,
      deleted: dateLike,
      oneOf: fc.oneof(children, loose),
      anyOf: fc.oneof(children, loose),
      inbox: fc.oneof(iri, loose),
      outbox: fc.oneof(iri, loose),
      publicKey: fc.oneof(fc.record({ id: iri, owner: iri, publicKeyPem: fc.string() }), loose),
      attachment: fc.oneof(children, loose),
      tag: fc.oneof(children, loose),
      url: fc.oneof(iri, children, loose),
      isCat: fc.boolean(),
      _misskey_content: fc.string(),
    },
    { requiredKeys: [] },
  );
}

const as2ish = as2ishAt(2);

const validationContext: fc.Arbitrary<ValidationContext> = fc.record(
  {
    delivered: fc.boolean(),
    origin: fc.oneof(fc.webUrl(), fc.string()),
    kind: fc.constantFrom("auto", "activity", "object", "actor", "collection", "webfinger", "nodeinfo"),
    headers: fc.dictionary(
      fc.constantFrom("digest", "Digest", "content-digest", "content-type", "x-other"),
      fc.oneof(fc.string(), fc.constantFrom("SHA-256=abc", "sha-256=:AAAA:", "sha-256=", "application/json")),
    ),
    body: fc.string(),
  },
  { requiredKeys: [] },
);

describe("validate() on generated input", () => {
  it("never throws on arbitrary JSON and returns well-formed findings", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (doc) => {
        expectWellFormed(await validate(doc));
      }),
      { numRuns: RUNS },
    );
  });

  it("never throws on arbitrary AS2-ish objects and contexts", async () => {
    await fc.assert(
      fc.asyncProperty(as2ish, validationContext, async (doc, ctx) => {
        expectWellFormed(await validate(doc, ctx));
      }),
      { numRuns: RUNS },
    );
  });

  it("never throws on arbitrary JavaScript values, context included", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.anything({ withBigInt: true, withMap: true, withSet: true, withDate: true }),
        fc.anything(),
        async (doc, ctx) => {
          expectWellFormed(await validate(doc, ctx as ValidationContext));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("finds the AS-03 error in any lower-cased ISO date (a property that can fail)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.date({ min: new Date("1970-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }),
        async (d) => {
          const doc = { id: "https://a.example/1", type: "Note", published: d.toISOString().toLowerCase() };
          const findings = await validate(doc);
          expect(findings.some((f) => f.ruleId === "AS-03" && f.pointer === "/published")).toBe(true);
        },
      ),
      { numRuns: Math.min(RUNS, 50) },
    );
  });
});
