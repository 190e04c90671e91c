import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../tests/temp-dir.ts";
import { mediaAt } from "../peer/media.ts";
import {
  allVariants,
  buildObject,
  fill,
  type Json,
  loadInputSet,
  type Placeholders,
  placeholdersUsed,
} from "./inputs.ts";

const set = loadInputSet();

const VALUES: Placeholders = {
  probe: "https://probe.test",
  media: "https://probe.test/media/cell",
  pages: "https://probe.test/pages/cell",
  token: "fc-v-12345678",
  label: "group.variant",
  id: "https://probe.test/objects/1",
  actor: "https://probe.test/users/alice",
  followers: "https://probe.test/users/alice/followers",
  receiver: "https://receiver.test/users/bob",
  receiverHandle: "@bob@receiver.test",
  parent: "https://probe.test/objects/parent",
  other: "https://probe.test/users/carol",
  now: "2024-01-01T00:00:00.000Z",
};

/** Every string of a JSON value, keys included. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === "object" && value !== null)
    return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

describe("the input set", () => {
  it("has at least 310 variants with unique, stable-looking ids and titles", () => {
    const variants = allVariants(set);
    expect(variants.length).toBeGreaterThanOrEqual(310);
    const ids = variants.map((v) => v.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const v of variants) {
      expect(v.id, v.id).toMatch(/^[a-z0-9_]+\.[a-z0-9][a-z0-9-]*$/);
      expect(v.id.startsWith(`${v.group}.`)).toBe(true);
      expect(v.title.length, v.id).toBeGreaterThan(0);
      if (v.check !== undefined) expect(v.expect, v.id).toBeDefined();
    }
    expect(set.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("covers every group of the reference table, each with variants", () => {
    const groups = set.groups.map((g) => g.group);
    for (const g of [
      "attachments",
      "image_attachments",
      "image_description",
      "recommended_attachments",
      "content_warnings",
      "emoji",
      "hashtags",
      "hashtag_jsonld",
      "mentions",
      "quotes",
      "language",
      "object_types",
      "url",
      "in_reply_to",
      "attributed_to",
      "necessary_properties",
      "public_addressing",
      "context",
      "html",
      "html_summary",
      "html_article",
      "anchors",
    ])
      expect(groups, g).toContain(g);
    for (const g of set.groups) expect(g.variants.length, g.group).toBeGreaterThan(0);
  });

  it("builds every variant of a group into a different object, using only known placeholders", () => {
    for (const group of set.groups) {
      const seen = new Set<string>();
      for (const variant of group.variants) {
        const raw = buildObject(set.base, group, variant, {});
        const unknown = strings(raw).flatMap((s) => [...s.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]!));
        const known = placeholdersUsed(raw);
        expect(
          unknown.filter((name) => !known.has(name)),
          variant.id,
        ).toEqual([]);
        const built = buildObject(set.base, group, variant, { ...VALUES, token: "t", label: "l" });
        const key = JSON.stringify(built);
        expect(seen.has(key), `${variant.id} sends the same object as another variant`).toBe(false);
        seen.add(key);
      }
    }
  });

  it("points every URL at the probe, a reserved name, or a well-known context (no external host)", () => {
    const allowed = [
      /^https:\/\/probe\.test(\/|$)/,
      /^https:\/\/receiver\.test\/users\/bob$/,
      /^https?:\/\/[^/]*\.invalid(\/|$)/,
      /^http:\/\/fedicheck-no-tld\//,
      /^https?:\/\/www\.w3\.org\/ns\/activitystreams(#\w*)?$/,
      /^https:\/\/w3id\.org\/(security\/v1|fep\/[0-9a-f]+(#\w+)?)$/,
      /^http:\/\/joinmastodon\.org\/ns#?$/,
      /^http:\/\/schema\.org\/$/,
      /^http:\/\/fedibird\.com\/ns#quoteUri$/,
      /^https:\/\/misskey-hub\.net\/ns#_misskey_quote$/,
    ];
    for (const group of set.groups) {
      for (const variant of group.variants) {
        const built = buildObject(set.base, group, variant, VALUES);
        const html = strings(built).join(" ");
        const urls = [...html.matchAll(/\bhttps?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
        for (const url of urls)
          expect(
            allowed.some((re) => re.test(url)),
            `${variant.id} names ${url}`,
          ).toBe(true);
      }
    }
  });

  it("uses media the probe serves (every /media/ URL but /media/404/ answers)", () => {
    for (const group of set.groups) {
      for (const variant of group.variants) {
        const built = buildObject(set.base, group, variant, VALUES);
        for (const s of strings(built)) {
          for (const m of s.matchAll(/https:\/\/probe\.test(\/media\/[^\s"'<>]+)/g)) {
            const path = m[1]!;
            expect(mediaAt(path) !== undefined, `${variant.id}: ${path}`).toBe(
              !path.startsWith("/media/404/"),
            );
          }
        }
      }
    }
  });

  it("exercises several catalogue requirements, among them MED-05 on array urls", () => {
    const checks = allVariants(set).filter((v) => v.check !== undefined);
    expect(checks.length).toBeGreaterThanOrEqual(40);
    const arrayUrl = allVariants(set).filter((v) => v.check === "MED-05");
    expect(arrayUrl.map((v) => v.id)).toContain("image_attachments.url-two-links-png-jpg");
  });

  it("reuses variants across groups (html_summary, html_article) with new ids", () => {
    const summary = set.groups.find((g) => g.group === "html_summary")!;
    expect(summary.variants.map((v) => v.id)).toContain("html_summary.script");
    expect(summary.variants.every((v) => v.check === undefined)).toBe(true);
    const script = summary.variants.find((v) => v.local === "script")!;
    expect(script.override.summary).toBe("<script>alert('fedicheck')</script>");
    const article = set.groups.find((g) => g.group === "html_article")!;
    expect(article.variants.find((v) => v.local === "script")?.check).toBe("PST-07");
    expect(buildObject(set.base, article, article.variants[0]!, VALUES).type).toBe("Article");
  });
});

describe("buildObject", () => {
  const base: Json = {
    type: "Note",
    attachment: [{ type: "Image", url: "a", mediaType: "image/png" }],
    content: "{token}",
  };
  it("applies plain overrides before JSON Pointers, then removals, then placeholders", () => {
    const built = buildObject(
      base,
      { override: {}, remove: [] },
      {
        override: { "/attachment/0/url": "{media}/x.png", attachment: [{ type: "Document", url: "b" }] },
        remove: ["/attachment/0/type", "content"],
      },
      { media: "https://probe.test/m" },
    );
    expect(built).toEqual({ type: "Note", attachment: [{ url: "https://probe.test/m/x.png" }] });
    // The base is not changed.
    expect(base.content).toBe("{token}");
  });

  it("leaves unknown braces and unfilled placeholders alone", () => {
    expect(fill({ a: "p { color: red } {token} {id}" }, { token: "T" })).toEqual({
      a: "p { color: red } T {id}",
    });
  });

  it("creates missing containers on a pointer and deletes array items", () => {
    const built = buildObject(
      { tag: [1, 2, 3] },
      { override: {}, remove: [] },
      { override: { "/x/y": 1 }, remove: ["/tag/1"] },
      {},
    );
    expect(built).toEqual({ tag: [1, 3], x: { y: 1 } });
  });
});

describe("loadInputSet", () => {
  it("lists every problem of a broken input set in one error", async () => {
    const dir = await tempDir("fc-inputs-");
    writeFileSync(
      join(dir, "manifest.json"),
      JSON.stringify({ version: "0.0.1", base: "base.json", groups: ["g.json", "h.json"] }),
    );
    writeFileSync(join(dir, "base.json"), JSON.stringify({ type: "Note" }));
    writeFileSync(
      join(dir, "g.json"),
      JSON.stringify({
        group: "g",
        title: "G",
        checkId: "SUP-G",
        extractor: "arrival",
        read: "r",
        variants: [
          { id: "Bad Id", title: "x" },
          { id: "ok", title: "ok", expect: "post" },
        ],
      }),
    );
    writeFileSync(
      join(dir, "h.json"),
      JSON.stringify({
        group: "h",
        title: "H",
        checkId: "nope",
        extractor: "magic",
        read: "r",
        variants: [],
      }),
    );
    const url = pathToFileURL(`${dir}/`);
    expect(() => loadInputSet(url)).toThrow(
      /g\.json variant Bad Id: bad id[\s\S]*'expect' without 'check'[\s\S]*checkId[\s\S]*extractor/,
    );
  });
});
