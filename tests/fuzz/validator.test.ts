/**
 * Fuzzing the validator (issue 7): arbitrary JSON, arbitrary JavaScript values, AS2-shaped documents
 * and arbitrary headers and bodies never make `validate()` throw, and what it returns is a plain,
 * serialisable list of well-formed findings. Runs: see ./runs.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Finding } from "../../harness/validate/findings.ts";
import { KINDS, ruleInfo, validate } from "../../harness/validate/index.ts";
import { fuzzParameters, fuzzTimeout } from "./runs.ts";

const SEVERITIES = new Set(["error", "warning", "info"]);

/** The findings are an array of well-formed findings from the catalogue, and serialise. */
function expectWellFormed(findings: Finding[]): void {
  expect(Array.isArray(findings)).toBe(true);
  for (const f of findings) {
    expect(typeof f.ruleId).toBe("string");
    expect(ruleInfo(f.ruleId), f.ruleId).toBeDefined();
    expect(SEVERITIES.has(f.severity)).toBe(true);
    expect(typeof f.message).toBe("string");
    expect(typeof f.pointer).toBe("string");
  }
  expect(() => JSON.stringify(findings)).not.toThrow();
}

/** Faults of the validator itself: a fuzz case that causes one is a validator bug to fix. */
function faults(findings: Finding[]): string[] {
  return findings.filter((f) => f.ruleId === "VALIDATOR-FAULT").map((f) => f.message);
}

const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";
const TYPES = [
  "Note",
  "Article",
  "Question",
  "Image",
  "Video",
  "Audio",
  "Page",
  "Event",
  "Tombstone",
  "Create",
  "Update",
  "Delete",
  "Follow",
  "Accept",
  "Reject",
  "Undo",
  "Announce",
  "Like",
  "Add",
  "Remove",
  "Block",
  "Person",
  "Service",
  "Group",
  "Application",
  "Organization",
  "Collection",
  "OrderedCollection",
  "OrderedCollectionPage",
  "CollectionPage",
  "Link",
  "Mention",
  "Hashtag",
  "Emoji",
  "Key",
  "PropertyValue",
  // Names that live on Object.prototype: a lookup by type must not find them (a bug fuzzing found).
  "valueOf",
  "constructor",
  "toString",
  "hasOwnProperty",
  "__proto__",
];

const iri = fc.oneof(
  fc.webUrl({ withFragments: true, withQueryParameters: true }),
  fc.constantFrom(
    `${AS_CONTEXT}#Public`,
    "as:Public",
    "Public",
    "",
    "acct:alice@a.test",
    "https://a.test/users/alice",
  ),
  fc.string({ maxLength: 40 }),
);

const context = fc.oneof(
  fc.constant(AS_CONTEXT),
  fc.constant([AS_CONTEXT, "https://w3id.org/security/v1"]),
  fc.constant([AS_CONTEXT, { toot: "http://joinmastodon.org/ns#", sensitive: "as:sensitive" }]),
  fc.constant(["https://unknown.example/context.jsonld"]),
  fc.array(fc.oneof(iri, fc.dictionary(fc.string({ maxLength: 8 }), iri, { maxKeys: 3 })), { maxLength: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
);

const date = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom("2024-01-01t00:00:00z", "2024-13-40T99:99:99Z", "yesterday", ""),
  fc.string({ maxLength: 30 }),
);

const text = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom(
    "<p>hi <a href='https://x.test'>x</a></p>",
    "<script>alert(1)</script>",
    "\u0000\uFFFF\uD800",
  ),
);

/** A reference that does not nest: an IRI, an id-only object, or a short list of those. */
const flat = fc.oneof(
  iri,
  fc.record({ id: iri, type: fc.constantFrom(...TYPES) }),
  fc.array(iri, { maxLength: 3 }),
);

const as2 = fc.letrec((tie) => ({
  // Nesting is capped (maxDepth) so documents stay a few kB and each run a few ms.
  ref: fc.oneof(
    { maxDepth: 2, depthIdentifier: "as2", withCrossShrink: true },
    iri,
    tie("object"),
    fc.array(tie("ref"), { maxLength: 3, depthIdentifier: "as2" }),
  ),
  object: fc.record(
    {
      "@context": context,
      id: iri,
      type: fc.oneof(
        fc.constantFrom(...TYPES),
        fc.array(fc.constantFrom(...TYPES), { maxLength: 2 }),
        fc.string(),
      ),
      actor: tie("ref"),
      object: tie("ref"),
      target: flat,
      attributedTo: flat,
      to: tie("ref"),
      cc: flat,
      bto: flat,
      bcc: flat,
      audience: flat,
      inReplyTo: flat,
      content: text,
      contentMap: fc.dictionary(
        fc.oneof(fc.constantFrom("en", "de-CH", "zz-ZZZZ-x"), fc.string({ maxLength: 6 })),
        text,
        {
          maxKeys: 3,
        },
      ),
      name: text,
      summary: text,
      published: date,
      updated: date,
      url: flat,
      attachment: tie("ref"),
      tag: tie("ref"),
      oneOf: flat,
      anyOf: flat,
      inbox: iri,
      outbox: iri,
      followers: iri,
      following: iri,
      preferredUsername: fc.string({ maxLength: 20 }),
      publicKey: fc.oneof(
        flat,
        fc.record({
          id: iri,
          owner: iri,
          publicKeyPem: fc.oneof(
            fc.string(),
            fc.constant("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"),
          ),
        }),
      ),
      orderedItems: fc.array(flat, { maxLength: 3 }),
      totalItems: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 4 })),
      sensitive: fc.oneof(fc.boolean(), fc.string({ maxLength: 4 })),
      mediaType: fc.oneof(
        fc.constantFrom("image/png", "audio/ogg", "text/html", "application/x-unknown"),
        fc.string({ maxLength: 10 }),
      ),
      href: iri,
      subject: fc.string({ maxLength: 30 }),
      links: fc.array(
        fc.record({ rel: fc.string({ maxLength: 20 }), type: fc.string({ maxLength: 20 }), href: iri }),
        {
          maxLength: 3,
        },
      ),
    },
    { requiredKeys: [] },
  ),
}));

/** An AS2-shaped document with a few arbitrary members mixed in. */
const as2Document = fc
  .tuple(
    as2.object,
    fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  )
  .map(([doc, extra]) => ({ ...extra, ...doc }));

const headerName = fc.oneof(
  fc.constantFrom("digest", "Digest", "content-digest", "content-type", "Content-Type", "signature", "date"),
  fc.string({ maxLength: 12 }),
);
const headerValue = fc.oneof(
  fc.constantFrom(
    "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    "sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
    "MD5=abc, SHA-512=",
    "constructor=:YWJj:, valueof=:YWJj:",
    "constructor=YWJj",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "text/html",
  ),
  fc.string({ maxLength: 80 }),
);
const validationContext = fc.record(
  {
    headers: fc.dictionary(headerName, headerValue, { maxKeys: 5 }),
    body: fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ""),
    ),
    origin: fc.oneof(
      fc.webUrl().map((u) => new URL(u).origin),
      fc.string({ maxLength: 20 }),
    ),
    delivered: fc.boolean(),
    kind: fc.oneof(fc.constantFrom(...KINDS), fc.string({ maxLength: 8 })),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<Record<string, unknown>>;

describe("validate() under fuzzing", () => {
  it(
    "arbitrary JSON never throws and yields well-formed findings",
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (value) => {
          const findings = await validate(value);
          expectWellFormed(findings);
          expect(faults(findings)).toEqual([]);
        }),
        fuzzParameters(),
      );
    },
    fuzzTimeout(20),
  );

  it(
    "arbitrary JavaScript values (not JSON) never throw",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.anything({
            withBigInt: true,
            withDate: true,
            withMap: true,
            withSet: true,
            withTypedArray: true,
          }),
          async (value) => {
            const findings = await validate(value);
            expectWellFormed(findings);
          },
        ),
        fuzzParameters(),
      );
    },
    fuzzTimeout(20),
  );

  it(
    "AS2-shaped documents with arbitrary headers, bodies, origins and kinds never throw",
    async () => {
      await fc.assert(
        fc.asyncProperty(as2Document, validationContext, async (document, ctx) => {
          // `kind` may be any string here: the validator must ignore what it does not know.
          const findings = await validate(document, ctx as Parameters<typeof validate>[1]);
          expectWellFormed(findings);
          expect(faults(findings)).toEqual([]);
        }),
        fuzzParameters(),
      );
    },
    fuzzTimeout(50),
  );

  it(
    "an arbitrary context object (wrong types included) never throws",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.jsonValue({ maxDepth: 3 }),
          fc.anything({ maxDepth: 2 }),
          async (document, ctx) => {
            // The validator is also called from plain JavaScript: any context must be survived.
            const findings = await validate(document, ctx as Parameters<typeof validate>[1]);
            expectWellFormed(findings);
          },
        ),
        fuzzParameters(),
      );
    },
    fuzzTimeout(20),
  );
});
