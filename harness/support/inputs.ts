/**
 * The support-table input set (issue 10): a base post and, per group, variants that override or
 * remove one aspect of it, kept as data in fixtures/inputs/ (see its README). This module loads and
 * checks that data, and builds the object a variant sends: base → group override/removals → variant
 * override/removals (and HTML fragment through the group's template) → placeholders filled in.
 * @module
 */
import { readFileSync } from "node:fs";

/** A JSON object as it crosses the wire. */
export type Json = Record<string, unknown>;

/**
 * What satisfies a variant's requirement: `post` (the post arrived), `feature` (the feature was kept
 * or transformed, not dropped), `kept` (kept as is), or a list of accepted outcome values.
 */
export type Expectation = "post" | "feature" | "kept" | string[];

/** Names of the extractors (harness/support/extract.ts) a group can ask for. */
export const EXTRACTOR_NAMES = [
  "attachments",
  "image",
  "description",
  "cw",
  "emoji",
  "hashtags",
  "mentions",
  "quote",
  "language",
  "text",
  "url",
  "reply",
  "author",
  "arrival",
  "visibility",
  "html",
  "html-summary",
  "anchor",
] as const;

/** An extractor name. */
export type ExtractorName = (typeof EXTRACTOR_NAMES)[number];

/** One variant as written in a group file. */
export interface VariantSpec {
  /** Unique in its group: `[a-z0-9][a-z0-9-]*`. Published: never reuse an id for another shape. */
  id: string;
  title: string;
  /**
   * Properties to set: a top-level name, or a JSON Pointer (`/attachment/0/url`) into the object as
   * built so far. Plain names are applied first, then pointers, each in file order.
   */
  override?: Json;
  /** Properties to delete: top-level names or JSON Pointers. */
  remove?: string[];
  /** HTML put through the group's `template` (html and anchor groups). */
  fragment?: string;
  /** Catalogue check id of a requirement this variant exercises. */
  check?: string;
  /** What satisfies that requirement. Default `feature`. */
  expect?: Expectation;
  /** 2: sent only after every phase-1 variant of the group was read back (e.g. reused media). Default 1. */
  phase?: 1 | 2;
}

/** One group file (`fixtures/inputs/<group>.json`). */
export interface GroupSpec {
  /** e.g. `image_attachments`; the file is named after it. */
  group: string;
  title: string;
  /** The support check (`SUP-…`) whose matrix cell stands for the whole group. */
  checkId: string;
  extractor: ExtractorName;
  /** What is read back from the receiver, in words (shown in the tables). */
  read: string;
  /** Applied to the base before each variant (same forms as {@link VariantSpec.override}). */
  override?: Json;
  remove?: string[];
  /** Field → template holding `{fragment}`; a variant's `fragment` fills it into its override. */
  template?: Record<string, string>;
  /**
   * Reuse the variants (ids, titles, fragments) of another group, all or `only` some; their
   * requirements too unless `checks` is false (e.g. HTML in a summary is not content).
   */
  variantsFrom?: { group: string; only?: string[]; checks?: boolean };
  variants: VariantSpec[];
}

/** A variant ready to send: ids made global, fragments turned into overrides. */
export interface Variant {
  /** Global, stable id: `<group>.<local id>`. */
  id: string;
  local: string;
  group: string;
  title: string;
  override: Json;
  remove: string[];
  fragment?: string;
  check?: string;
  /** Present exactly when `check` is. */
  expect?: Expectation;
  phase: 1 | 2;
}

/** A group ready to send. */
export interface Group {
  group: string;
  title: string;
  checkId: string;
  extractor: ExtractorName;
  read: string;
  override: Json;
  remove: string[];
  variants: Variant[];
}

/** The loaded input set. */
export interface InputSet {
  /** `version` of the manifest: bumped when variants are added or change (see the README). */
  version: string;
  base: Json;
  groups: Group[];
}

/** Where the input set lives. */
export const INPUTS_DIR = new URL("../../fixtures/inputs/", import.meta.url);

const ID = /^[a-z0-9][a-z0-9-]*$/;
const GROUP_ID = /^[a-z0-9][a-z0-9_]*$/;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readJson(dir: URL, name: string): unknown {
  const url = new URL(name, dir);
  try {
    return JSON.parse(readFileSync(url, "utf8"));
  } catch (error) {
    throw new Error(`cannot read the input set file ${url.pathname}: ${(error as Error).message}`);
  }
}

/** Problems of one group file's shape, as `file: problem` lines. */
function groupProblems(file: string, spec: unknown): string[] {
  if (!isObject(spec)) return [`${file}: not a JSON object`];
  const problems: string[] = [];
  const need = (key: string, ok: boolean, what: string) => {
    if (!ok) problems.push(`${file}: '${key}' must be ${what}`);
  };
  need("group", typeof spec.group === "string" && GROUP_ID.test(spec.group), "a lower-case group id");
  need("title", typeof spec.title === "string", "a string");
  need("checkId", typeof spec.checkId === "string" && /^SUP-[A-Z-]+$/.test(spec.checkId), "a SUP-… check id");
  need(
    "extractor",
    (EXTRACTOR_NAMES as readonly unknown[]).includes(spec.extractor),
    `one of ${EXTRACTOR_NAMES.join(", ")}`,
  );
  need("read", typeof spec.read === "string", "a string");
  need("variants", Array.isArray(spec.variants), "an array");
  if (spec.override !== undefined) need("override", isObject(spec.override), "an object");
  if (spec.remove !== undefined) need("remove", isStringArray(spec.remove), "an array of strings");
  if (spec.template !== undefined)
    need(
      "template",
      isObject(spec.template) && Object.values(spec.template).every((t) => typeof t === "string"),
      "an object of strings",
    );
  for (const [i, variant] of (Array.isArray(spec.variants) ? spec.variants : []).entries()) {
    const where = `${file} variant ${isObject(variant) && typeof variant.id === "string" ? variant.id : `#${i}`}`;
    if (!isObject(variant)) {
      problems.push(`${where}: not a JSON object`);
      continue;
    }
    if (typeof variant.id !== "string" || !ID.test(variant.id)) problems.push(`${where}: bad id`);
    if (typeof variant.title !== "string" || variant.title === "") problems.push(`${where}: no title`);
    if (variant.override !== undefined && !isObject(variant.override))
      problems.push(`${where}: bad override`);
    if (variant.remove !== undefined && !isStringArray(variant.remove)) problems.push(`${where}: bad remove`);
    if (variant.fragment !== undefined && typeof variant.fragment !== "string")
      problems.push(`${where}: bad fragment`);
    if (variant.check !== undefined && typeof variant.check !== "string")
      problems.push(`${where}: bad check`);
    if (variant.expect !== undefined && variant.check === undefined)
      problems.push(`${where}: 'expect' without 'check'`);
    if (
      variant.expect !== undefined &&
      !["post", "feature", "kept"].includes(variant.expect as string) &&
      !isStringArray(variant.expect)
    )
      problems.push(`${where}: 'expect' must be post, feature, kept or a list of outcome values`);
    if (variant.phase !== undefined && variant.phase !== 1 && variant.phase !== 2)
      problems.push(`${where}: 'phase' must be 1 or 2`);
  }
  return problems;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/**
 * Loads and checks the input set. Throws one Error listing every problem (file, variant, what is
 * wrong), so a broken data file is fixed in one go.
 */
export function loadInputSet(dir: URL = INPUTS_DIR): InputSet {
  const manifest = readJson(dir, "manifest.json");
  if (
    !isObject(manifest) ||
    typeof manifest.version !== "string" ||
    typeof manifest.base !== "string" ||
    !isStringArray(manifest.groups)
  ) {
    throw new Error(
      `${new URL("manifest.json", dir).pathname}: expected {version, base, groups: [file…]}; fix the manifest`,
    );
  }
  const base = readJson(dir, manifest.base);
  if (!isObject(base)) throw new Error(`${manifest.base}: the base post must be a JSON object`);
  const specs = manifest.groups.map((file) => ({ file, spec: readJson(dir, file) }));
  const problems = specs.flatMap(({ file, spec }) => groupProblems(file, spec));
  if (problems.length > 0) throw new Error(`the input set has problems:\n  ${problems.join("\n  ")}`);
  const byName = new Map(specs.map(({ spec }) => [(spec as GroupSpec).group, spec as GroupSpec]));
  const groups: Group[] = [];
  const seenGroups = new Set<string>();
  const seenChecks = new Set<string>();
  for (const { file, spec } of specs) {
    const g = spec as GroupSpec;
    if (seenGroups.has(g.group)) problems.push(`${file}: group '${g.group}' is defined twice`);
    if (seenChecks.has(g.checkId)) problems.push(`${file}: check '${g.checkId}' is used by two groups`);
    if (file !== `${g.group}.json`) problems.push(`${file}: should be named ${g.group}.json`);
    seenGroups.add(g.group);
    seenChecks.add(g.checkId);
    let specsOfVariants = g.variants;
    if (g.variantsFrom !== undefined) {
      const from = byName.get(g.variantsFrom.group);
      if (from === undefined) {
        problems.push(`${file}: variantsFrom names an unknown group '${g.variantsFrom.group}'`);
        continue;
      }
      const only = g.variantsFrom.only;
      const missing = (only ?? []).filter((id) => !from.variants.some((v) => v.id === id));
      if (missing.length > 0)
        problems.push(`${file}: variantsFrom.only names unknown ids ${missing.join(", ")}`);
      const reused = only ? from.variants.filter((v) => only.includes(v.id)) : from.variants;
      const withChecks = g.variantsFrom.checks ?? true;
      specsOfVariants = [
        ...reused.map((v) => (withChecks ? v : { ...v, check: undefined, expect: undefined })),
        ...g.variants,
      ];
    }
    const ids = new Set<string>();
    const variants: Variant[] = [];
    for (const v of specsOfVariants) {
      if (ids.has(v.id)) problems.push(`${file}: variant id '${v.id}' appears twice`);
      ids.add(v.id);
      const override: Json = { ...(v.override ?? {}) };
      if (v.fragment !== undefined) {
        if (g.template === undefined)
          problems.push(`${file} variant ${v.id}: a fragment needs a group template`);
        for (const [field, template] of Object.entries(g.template ?? {}))
          override[field] = template.replaceAll("{fragment}", v.fragment);
      }
      variants.push({
        id: `${g.group}.${v.id}`,
        local: v.id,
        group: g.group,
        title: v.title,
        override,
        remove: v.remove ?? [],
        ...(v.fragment === undefined ? {} : { fragment: v.fragment }),
        ...(v.check === undefined ? {} : { check: v.check, expect: v.expect ?? "feature" }),
        phase: v.phase ?? 1,
      });
    }
    if (variants.length === 0) problems.push(`${file}: the group has no variants`);
    groups.push({
      group: g.group,
      title: g.title,
      checkId: g.checkId,
      extractor: g.extractor,
      read: g.read,
      override: g.override ?? {},
      remove: g.remove ?? [],
      variants,
    });
  }
  if (problems.length > 0) throw new Error(`the input set has problems:\n  ${problems.join("\n  ")}`);
  return { version: manifest.version, base, groups };
}

let cached: InputSet | undefined;

/** The repository's input set, loaded once. */
export function inputSet(): InputSet {
  cached ??= loadInputSet();
  return cached;
}

// ---------------------------------------------------------------------------------------------
// Building the object a variant sends
// ---------------------------------------------------------------------------------------------

/**
 * Values of the placeholders a variant may use (`{name}` anywhere in a string). Unknown `{…}` are
 * left alone (HTML and JSON in content may hold braces).
 */
export interface Placeholders {
  /** The probe's origin, e.g. `http://127.0.0.1:41234`. */
  probe: string;
  /** A media folder on the probe unique to the cell: `{probe}/media/<token>`. */
  media: string;
  /** A page folder on the probe unique to the cell: `{probe}/pages/<token>`. */
  pages: string;
  /** A marker unique to the variant (kept in content so a copy can be found by text). */
  token: string;
  /** The variant's global id, e.g. `html.b`. */
  label: string;
  /** The object's id (probe senders); `{id}` stays unfilled for senders that choose their own ids. */
  id?: string;
  /** Actor id of the sender, and its followers collection. */
  actor: string;
  followers: string;
  /** Actor id and `@user@host` of the receiving account. */
  receiver: string;
  receiverHandle: string;
  /** A post by the sender that replies and quotes point at. */
  parent: string;
  /** Another actor of the sender's server. */
  other: string;
  /** ISO time of sending. */
  now: string;
}

const PLACEHOLDER =
  /\{(probe|media|pages|token|label|id|actor|followers|receiver|receiverHandle|parent|other|now)\}/g;

/** The placeholders a JSON value uses. */
export function placeholdersUsed(value: unknown): Set<string> {
  const used = new Set<string>();
  walkStrings(value, (s) => {
    for (const m of s.matchAll(PLACEHOLDER)) used.add(m[1]!);
  });
  return used;
}

function walkStrings(value: unknown, visit: (s: string) => void): void {
  if (typeof value === "string") visit(value);
  else if (Array.isArray(value)) for (const item of value) walkStrings(item, visit);
  else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      visit(key);
      walkStrings(item, visit);
    }
  }
}

/** Deep copy of `value` with placeholders filled in (an absent value leaves the placeholder as is). */
export function fill<T>(value: T, values: Partial<Placeholders>): T {
  const replace = (s: string) =>
    s.replace(PLACEHOLDER, (whole, name: keyof Placeholders) => values[name] ?? whole);
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return replace(v);
    if (Array.isArray(v)) return v.map(walk);
    if (isObject(v))
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [replace(k), walk(item)]));
    return v;
  };
  return walk(value) as T;
}

/** The path segments of a JSON Pointer (RFC 6901). */
function pointer(path: string): string[] {
  return path
    .slice(1)
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function setPath(target: Json, path: string, value: unknown): void {
  if (!path.startsWith("/")) {
    target[path] = structuredClone(value);
    return;
  }
  const parts = pointer(path);
  let node: unknown = target;
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    const container = node as Json | unknown[];
    const key: string | number = Array.isArray(container) ? Number(part) : part;
    if (last) {
      (container as Record<string | number, unknown>)[key] = structuredClone(value);
      return;
    }
    let next = (container as Record<string | number, unknown>)[key];
    if (typeof next !== "object" || next === null) {
      next = {};
      (container as Record<string | number, unknown>)[key] = next;
    }
    node = next;
  }
}

function removePath(target: Json, path: string): void {
  if (!path.startsWith("/")) {
    delete target[path];
    return;
  }
  const parts = pointer(path);
  let node: unknown = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node !== "object" || node === null) return;
    node = (node as Record<string, unknown>)[part];
  }
  const last = parts[parts.length - 1]!;
  if (Array.isArray(node)) node.splice(Number(last), 1);
  else if (isObject(node)) delete node[last];
}

function apply(target: Json, override: Json, remove: readonly string[]): void {
  const entries = Object.entries(override);
  for (const [key, value] of entries) if (!key.startsWith("/")) setPath(target, key, value);
  for (const [key, value] of entries) if (key.startsWith("/")) setPath(target, key, value);
  for (const path of remove) removePath(target, path);
}

/**
 * The object a variant sends (with its `@context`, which the sender moves to the activity), with
 * `values` filled in.
 */
export function buildObject(
  base: Json,
  group: Pick<Group, "override" | "remove">,
  variant: Pick<Variant, "override" | "remove">,
  values: Partial<Placeholders>,
): Json {
  const object = structuredClone(base);
  apply(object, group.override, group.remove);
  apply(object, variant.override, variant.remove);
  return fill(object, values);
}

/** Every variant of the set, in group order. */
export function allVariants(set: InputSet): Variant[] {
  return set.groups.flatMap((g) => g.variants);
}
