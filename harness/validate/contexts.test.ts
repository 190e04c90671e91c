import { describe, expect, it } from "vitest";
import { createOfflineLoader, getOfflineContext, isAs2ContextUrl, knownContextKey } from "./contexts.ts";
import { expandOffline } from "./jsonld.ts";

const AS = "https://www.w3.org/ns/activitystreams";

// The list in reference/checks.md ("JSON-LD contexts a validator must have offline").
const REQUIRED = [
  "https://www.w3.org/ns/activitystreams",
  "https://w3id.org/security/v1",
  "https://w3id.org/security/data-integrity/v1",
  "https://w3id.org/security/data-integrity/v2",
  "https://w3id.org/security/multikey/v1",
  "https://www.w3.org/ns/did/v1",
  "https://w3id.org/identity/v1",
  "https://purl.archive.org/socialweb/webfinger",
  "https://purl.archive.org/miscellany",
  "http://joinmastodon.org/ns",
  "https://gotosocial.org/ns",
  "https://join-lemmy.org/context.json",
  "https://w3id.org/fep/5711",
  "https://w3id.org/fep/7aa9",
  "https://w3id.org/fep/ef61",
  "https://pleroma.example/schemas/litepub-0.1.jsonld",
  "http://akkoma.example:4000/schemas/litepub-0.1.jsonld",
];

describe("offline contexts", () => {
  it.each(REQUIRED)("knows %s", (url) => {
    expect(knownContextKey(url)).toBeDefined();
    expect(getOfflineContext(url)).toHaveProperty("@context");
  });

  it("matches LitePub by path only, and does not take other paths for it", () => {
    expect(knownContextKey("https://any.host.example/schemas/litepub-0.1.jsonld")).toBe("litepub");
    expect(knownContextKey("https://any.host.example/schemas/litepub-0.2.jsonld")).toBeUndefined();
    expect(knownContextKey("https://any.host.example/litepub-0.1.jsonld")).toBeUndefined();
  });

  it.each(["toString", "constructor", "__proto__", "valueOf", "hasOwnProperty"])(
    "does not take %s (an Object.prototype name) for a known context",
    async (url) => {
      expect(knownContextKey(url)).toBeUndefined();
      const unknown: string[] = [];
      await expandOffline(
        { "@context": [AS, url], type: "Note" },
        { onUnknownContext: (u) => unknown.push(u) },
      );
      expect(unknown).toEqual([url]);
    },
  );

  it("knows the AS2 context under the spellings servers use", () => {
    for (const url of [
      "https://www.w3.org/ns/activitystreams",
      "https://www.w3.org/ns/activitystreams#",
      "http://www.w3.org/ns/activitystreams",
      "https://www.w3.org/ns/activitystreams.jsonld",
    ]) {
      expect(isAs2ContextUrl(url), url).toBe(true);
    }
    expect(isAs2ContextUrl("https://www.w3.org/ns/activitystreams2")).toBe(false);
  });

  it("defines sharedInbox, Public, likes, shares and alsoKnownAs in the AS2 context (the current one)", () => {
    const context = (
      getOfflineContext("https://www.w3.org/ns/activitystreams") as { "@context": Record<string, unknown> }
    )["@context"];
    for (const term of ["sharedInbox", "Public", "likes", "shares", "alsoKnownAs"])
      expect(context).toHaveProperty(term);
  });

  it("hands out copies, so that jsonld's in-place rewriting cannot corrupt the next document", () => {
    const first = getOfflineContext("https://gotosocial.org/ns") as Record<string, unknown>;
    first["@context"] = "mutated";
    expect(getOfflineContext("https://gotosocial.org/ns")?.["@context"]).not.toBe("mutated");
  });

  it("serves known contexts as cacheable and unknown ones as uncached empty contexts, reporting them", async () => {
    const unknown: string[] = [];
    const load = createOfflineLoader({ onUnknown: (url) => unknown.push(url) });
    const known = await load("https://w3id.org/security/v1");
    expect(known.tag).toBe("static");
    const stand = await load("https://unknown.example/ns");
    expect(stand.document).toEqual({ "@context": {} });
    expect(stand.tag).toBeUndefined();
    expect(unknown).toEqual(["https://unknown.example/ns"]);
  });

  it.each(REQUIRED)("expands a Note under AS2 plus %s without fetching", async (url) => {
    const doc = { "@context": [AS, url], id: "https://a.example/1", type: "Note", content: "hi" };
    const unknown: string[] = [];
    const expanded = (await expandOffline(doc, { onUnknownContext: (u) => unknown.push(u) })) as Record<
      string,
      unknown
    >[];
    expect(unknown).toEqual([]);
    expect(expanded[0]?.["@type"]).toEqual(["https://www.w3.org/ns/activitystreams#Note"]);
  });

  it("defines sensitive through the miscellany context", async () => {
    const doc = { "@context": [AS, "https://purl.archive.org/miscellany"], type: "Note", sensitive: true };
    const expanded = (await expandOffline(doc)) as Record<string, unknown>[];
    expect(expanded[0]).toHaveProperty(["https://www.w3.org/ns/activitystreams#sensitive"]);
  });

  it("reports an unknown context on every document, not only the first (no caching of the stand-in)", async () => {
    for (let i = 0; i < 3; i++) {
      const unknown: string[] = [];
      await expandOffline(
        { "@context": ["https://www.w3.org/ns/activitystreams", "https://again.example/ns"], type: "Note" },
        { onUnknownContext: (url) => unknown.push(url) },
      );
      expect(unknown).toEqual(["https://again.example/ns"]);
    }
  });
});
