/**
 * Rules a schema cannot express: RFC 3339 dates (AS-03), BCP 47 language maps (AS-04), HTML in names and
 * Question's oneOf/anyOf (AS-05), bto/bcc in deliveries (AS-06), same-origin ids (AS-07), attribution,
 * Public spellings, language-map agreement, Tombstones, and the JRD's AS2 self link.
 * @module
 */
import { finding } from "./catalogue.ts";
import { isHttpUrl } from "./schemas/common.ts";
import type { Finding } from "./findings.ts";
import { categoryOf } from "./kinds.ts";
import {
  asArray,
  httpOrigin,
  idOf,
  idsOf,
  isObject,
  type JsonObject,
  type JsonValue,
  type NodeRef,
  pointerJoin,
  preview,
  typesOf,
} from "./util.ts";

/** The full IRI of the public collection. */
export const PUBLIC_IRI = "https://www.w3.org/ns/activitystreams#Public";

/** Properties whose values are xsd:dateTime in AS2 (and `expires`, which Lemmy maps to endTime). */
export const DATE_PROPERTIES = ["published", "updated", "deleted", "startTime", "endTime", "closed", "expires"];

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;

/** True for an RFC 3339 date-time with upper-case T and Z and in-range fields (AS2 Core §2.3). */
export function isRfc3339DateTime(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  if (day > days) return false;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false;
  return true;
}

/** Explains why a date string is not an AS2 date-time. */
function dateProblem(value: string): string {
  if (RFC3339.test(value.toUpperCase()) && isRfc3339DateTime(value.toUpperCase())) {
    return `expected upper-case "T" and "Z" (RFC 3339 as AS2 profiles it), found ${preview(value)}`;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return `expected a full date-time such as 2024-05-01T12:00:00Z, found the date ${preview(value)}`;
  }
  return `expected an RFC 3339 date-time such as 2024-05-01T12:00:00Z, found ${preview(value)}`;
}

// RFC 5646 §2.1 ABNF, case-insensitive.
const LANGTAG = new RegExp(
  "^(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})" + // language, extlang
    "(?:-[a-z]{4})?" + // script
    "(?:-(?:[a-z]{2}|[0-9]{3}))?" + // region
    "(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*" + // variants
    "(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*" + // extensions
    "(?:-x(?:-[a-z0-9]{1,8})+)?$", // private use
  "i",
);
const PRIVATE_USE = /^x(?:-[a-z0-9]{1,8})+$/i;
const GRANDFATHERED = new Set(
  [
    "en-GB-oed",
    "i-ami",
    "i-bnn",
    "i-default",
    "i-enochian",
    "i-hak",
    "i-klingon",
    "i-lux",
    "i-mingo",
    "i-navajo",
    "i-pwn",
    "i-tao",
    "i-tay",
    "i-tsu",
    "sgn-BE-FR",
    "sgn-BE-NL",
    "sgn-CH-DE",
    "art-lojban",
    "cel-gaulish",
    "no-bok",
    "no-nyn",
    "zh-guoyu",
    "zh-hakka",
    "zh-min",
    "zh-min-nan",
    "zh-xiang",
  ].map((t) => t.toLowerCase()),
);

/** True for a well-formed BCP 47 language tag (RFC 5646 syntax; registry membership is not checked). */
export function isBcp47(tag: string): boolean {
  return LANGTAG.test(tag) || PRIVATE_USE.test(tag) || GRANDFATHERED.has(tag.toLowerCase());
}

const HTML_TAG = /<\/?[a-z][a-z0-9-]*(?:\s[^<>]*)?\/?>/i;

/** True when a string contains an HTML tag (`<p>`, `</b>`, `<a href=…>`; not "<3" or "a < b"). */
export function containsHtml(value: string): boolean {
  return HTML_TAG.test(value);
}

const LANGUAGE_MAPS: ReadonlyArray<readonly [plain: string, map: string]> = [
  ["content", "contentMap"],
  ["summary", "summaryMap"],
  ["name", "nameMap"],
];

const ADDRESSING = ["to", "cc", "bto", "bcc", "audience"];

/** What {@link checkAs2Rules} needs to know about how the document was met. */
export interface RuleContext {
  /** The document was delivered to an inbox. Default: false. */
  delivered?: boolean;
  /** The origin that served or sent the document (`https://host[:port]`). Default: unknown. */
  origin?: string;
}

/** Runs every AS2 rule over a document whose objects `scanDocument` listed. */
export function checkAs2Rules(doc: JsonObject, nodes: readonly NodeRef[], context: RuleContext = {}): Finding[] {
  const findings: Finding[] = [];
  for (const ref of nodes) {
    checkNode(ref, context, findings);
  }
  checkTopLevel(doc, context, findings);
  return findings;
}

/** Rules that look at one object wherever it sits. */
function checkNode({ node, pointer, key }: NodeRef, context: RuleContext, out: Finding[]): void {
  const types = typesOf(node);
  // AS-03: dates.
  for (const prop of DATE_PROPERTIES) {
    const value = node[prop];
    if (typeof value === "string" && !isRfc3339DateTime(value)) {
      out.push(finding("AS-03", pointerJoin(pointer, prop), dateProblem(value)));
    }
  }
  // AS-04: language maps, and a Link's hreflang.
  for (const [, mapName] of LANGUAGE_MAPS) {
    const map = node[mapName];
    if (!isObject(map)) continue;
    for (const tag of Object.keys(map)) {
      if (!isBcp47(tag)) {
        out.push(
          finding(
            "AS-04",
            pointerJoin(pointerJoin(pointer, mapName), tag),
            `expected a BCP 47 language tag as key (e.g. "en", "pt-BR", "und"), found ${preview(tag)}`,
          ),
        );
      }
    }
  }
  if (typeof node.hreflang === "string" && !isBcp47(node.hreflang)) {
    out.push(
      finding("AS-04", pointerJoin(pointer, "hreflang"), `expected a BCP 47 language tag, found ${preview(node.hreflang)}`),
    );
  }
  // AS-05: no HTML in name.
  if (typeof node.name === "string" && containsHtml(node.name)) {
    out.push(finding("AS-05", pointerJoin(pointer, "name"), `expected plain text in name, found HTML ${preview(node.name)}`));
  }
  if (isObject(node.nameMap)) {
    for (const [tag, value] of Object.entries(node.nameMap)) {
      if (typeof value === "string" && containsHtml(value)) {
        out.push(
          finding(
            "AS-05",
            pointerJoin(pointerJoin(pointer, "nameMap"), tag),
            `expected plain text in nameMap, found HTML ${preview(value)}`,
          ),
        );
      }
    }
  }
  // AS-05: Question has oneOf xor anyOf.
  if (types.includes("Question") && present(node.oneOf) && present(node.anyOf)) {
    out.push(
      finding("AS-05", pointerJoin(pointer, "anyOf"), "expected a Question with oneOf or anyOf, found both", {
        impact: "PROBLEM",
      }),
    );
  }
  // AS-06: bto/bcc stripped before delivery (the activity and the object it carries).
  if (context.delivered && (pointer === "" || key === "object")) {
    for (const prop of ["bto", "bcc"]) {
      if (present(node[prop])) {
        out.push(
          finding(
            "AS-06",
            pointerJoin(pointer, prop),
            `expected no ${prop} in a delivered document (it must be removed before delivery), found ${preview(node[prop])}`,
          ),
        );
      }
    }
  }
  // Public addressing spellings.
  for (const prop of ADDRESSING) {
    const values = node[prop];
    const list = asArray(values);
    list.forEach((item, i) => {
      const iri = idOf(item);
      if (iri === undefined || iri === PUBLIC_IRI) return;
      const where = Array.isArray(values) ? pointerJoin(pointerJoin(pointer, prop), i) : pointerJoin(pointer, prop);
      if (iri === "as:Public" || iri === "Public") {
        out.push(
          finding(
            "AS-PUBLIC-SPELLING",
            where,
            `expected the public collection as ${PUBLIC_IRI}, found the compact form ${preview(iri)} ` +
              "(equivalent, but some servers only recognise the full IRI)",
          ),
        );
      } else if (iri === "http://www.w3.org/ns/activitystreams#Public") {
        out.push(
          finding(
            "AS-PUBLIC-SPELLING",
            where,
            `expected the public collection as ${PUBLIC_IRI}, found the http: spelling ${preview(iri)}, which is a different IRI`,
            { severity: "warning", impact: "DEGRADED" },
          ),
        );
      }
    });
  }
  // content / summary / name agree with their language maps.
  for (const [plainName, mapName] of LANGUAGE_MAPS) {
    const plain = node[plainName];
    const map = node[mapName];
    if (typeof plain !== "string" || !isObject(map)) continue;
    const values = Object.values(map).filter((v): v is string => typeof v === "string");
    if (values.length > 0 && !values.includes(plain)) {
      out.push(
        finding(
          "AS-CONTENT-MAP",
          pointerJoin(pointer, mapName),
          `expected ${plainName} to equal one of the ${mapName} values, found ${preview(plain, 40)} against ` +
            `${preview(map, 60)}`,
        ),
      );
    }
  }
  // Tombstones say what they were and when they went.
  if (types.includes("Tombstone")) {
    for (const prop of ["formerType", "deleted"]) {
      if (!present(node[prop])) {
        out.push(
          finding("AS-TOMBSTONE", pointerJoin(pointer, prop), `expected the Tombstone to carry ${prop}, found none`),
        );
      }
    }
  }
  const full = pointer === "" || key === "object";
  const category = categoryOf(types);
  if (category === "activity" && full) checkActivity(node, pointer, types, out);
  if (category === "actor" && full) checkActorKey(node, pointer, out);
}

/** AP-ACTOR-KEY: the actor lists a key, and every key it lists names the actor as owner. */
function checkActorKey(node: JsonObject, pointer: string, out: Finding[]): void {
  const keys = node.publicKey;
  if (!present(keys)) {
    if (!present(node.assertionMethod)) {
      out.push(
        finding(
          "AP-ACTOR-KEY",
          pointerJoin(pointer, "publicKey"),
          "expected publicKey {id, owner, publicKeyPem} so that the actor's HTTP signatures can be verified, found none",
          { severity: "warning" },
        ),
      );
    }
    return;
  }
  const id = typeof node.id === "string" ? node.id : undefined;
  if (id === undefined) return;
  asArray(keys).forEach((key, i) => {
    if (!isObject(key) || typeof key.owner !== "string" || key.owner === id) return;
    const base = Array.isArray(keys) ? pointerJoin(pointerJoin(pointer, "publicKey"), i) : pointerJoin(pointer, "publicKey");
    out.push(
      finding("AP-ACTOR-KEY", pointerJoin(base, "owner"), `expected the key's owner to be the actor ${preview(id)}, found ${preview(key.owner)}`),
    );
  });
}

/** Origin and attribution rules of one activity. */
function checkActivity(node: JsonObject, pointer: string, types: string[], out: Finding[]): void {
  const actorIds = idsOf(node.actor);
  const actorOrigin = httpOrigin(actorIds[0]);
  const id = typeof node.id === "string" ? node.id : undefined;
  const idOrigin = httpOrigin(id);
  if (actorOrigin && idOrigin && actorOrigin !== idOrigin) {
    out.push(
      finding(
        "AS-07",
        pointerJoin(pointer, "id"),
        `expected the activity id on the actor's origin ${actorOrigin}, found ${preview(id)}`,
      ),
    );
  }
  const object = node.object;
  const ownsObject = types.some((t) => t === "Create" || t === "Update" || t === "Delete" || t === "Undo");
  if (ownsObject && actorOrigin) {
    const objectId = idOf(object);
    const objectOrigin = httpOrigin(objectId);
    // An Update of the actor itself is on the actor's origin by definition; compare all the same.
    if (objectOrigin && objectOrigin !== actorOrigin) {
      const where = isObject(object) ? pointerJoin(pointerJoin(pointer, "object"), "id") : pointerJoin(pointer, "object");
      out.push(
        finding(
          "AS-07",
          where,
          `expected the ${types[0]}'s object on the actor's origin ${actorOrigin}, found ${preview(objectId)}`,
        ),
      );
    }
  }
  const createsOrUpdates = types.includes("Create") || types.includes("Update");
  if (!createsOrUpdates || !isObject(object)) return;
  const objectPointer = pointerJoin(pointer, "object");
  const objectTypes = typesOf(object);
  if (object.id === undefined) {
    out.push(
      finding("AP-OBJECT-ID", pointerJoin(objectPointer, "id"), `expected the ${types[0]}'s object to have an id, found none`),
    );
  }
  const attributed = idsOf(object.attributedTo);
  if (attributed.length > 0 && actorIds.length > 0 && !attributed.some((a) => actorIds.includes(a))) {
    out.push(
      finding(
        "AP-ATTRIBUTION",
        pointerJoin(objectPointer, "attributedTo"),
        `expected attributedTo to name the actor ${preview(actorIds[0])}, found ${preview(object.attributedTo)}`,
      ),
    );
  }
  const isPost =
    categoryOf(objectTypes) === "object" && !objectTypes.includes("Question") && !objectTypes.includes("Tombstone");
  if (types.includes("Update") && isPost && objectTypes.length > 0 && !present(object.updated)) {
    out.push(
      finding(
        "AP-UPDATE-UPDATED",
        pointerJoin(objectPointer, "updated"),
        "expected the updated object to carry a new `updated` date (Mastodon ignores edits without it), found none",
      ),
    );
  }
}

/** Rules about the document as a whole. */
function checkTopLevel(doc: JsonObject, context: RuleContext, out: Finding[]): void {
  const types = typesOf(doc);
  if (types.length === 0) {
    out.push(finding("AS2-TYPE", "/type", "expected a type (e.g. Note, Person, Create), found none"));
  }
  const category = categoryOf(types);
  if (category !== "activity" && category !== "link" && doc.id === undefined) {
    out.push(finding("AP-OBJECT-ID", "/id", "expected a dereferenceable object to have an id, found none"));
  }
  const origin = normaliseOrigin(context.origin);
  if (!origin) return;
  const id = typeof doc.id === "string" ? doc.id : undefined;
  const idOrigin = httpOrigin(id);
  if (idOrigin && idOrigin !== origin) {
    out.push(finding("AS-07", "/id", `expected the id on the serving origin ${origin}, found ${preview(id)}`));
  }
  if (category === "activity") {
    const actor = idsOf(doc.actor)[0];
    const actorOrigin = httpOrigin(actor);
    if (actorOrigin && actorOrigin !== origin) {
      out.push(
        finding("AS-07", "/actor", `expected the actor on the sending origin ${origin}, found ${preview(actor)}`),
      );
    }
  }
}

function normaliseOrigin(origin: string | undefined): string | undefined {
  if (typeof origin !== "string") return undefined;
  return httpOrigin(origin) ?? httpOrigin(`https://${origin}`);
}

/** True when a property holds something (not absent, not null, not an empty array). */
function present(value: JsonValue | undefined): boolean {
  return value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);
}

const AS2_MEDIA_TYPE = /^application\/activity\+json\s*(;.*)?$/i;
const LD_MEDIA_TYPE = /^application\/ld\+json\s*;.*profile\s*=\s*"?https:\/\/www\.w3\.org\/ns\/activitystreams"?/i;

/** True for the two media types that name AS2 (`application/activity+json`, AS2-profiled ld+json). */
export function isAs2MediaType(value: string): boolean {
  return AS2_MEDIA_TYPE.test(value.trim()) || LD_MEDIA_TYPE.test(value.trim());
}

/** WF-SELF-LINK: the JRD has an AS2-typed rel=self link with an absolute URL (one target). */
export function checkJrdRules(doc: JsonObject): Finding[] {
  const links = doc.links;
  if (!Array.isArray(links)) {
    return [finding("WF-SELF-LINK", "/links", "expected links with a rel=self AS2 link, found no links array")];
  }
  const out: Finding[] = [];
  const selfHrefs = new Map<string, number>();
  const otherSelfTypes: string[] = [];
  links.forEach((link, i) => {
    if (!isObject(link) || link.rel !== "self") return;
    const type = typeof link.type === "string" ? link.type : "";
    if (!isAs2MediaType(type)) {
      otherSelfTypes.push(type || "(no type)");
      return;
    }
    const href = link.href;
    if (typeof href !== "string" || !isHttpUrl(href)) {
      out.push(
        finding(
          "WF-SELF-LINK",
          `/links/${i}/href`,
          `expected the self link's href to be an absolute http(s) URL, found ${preview(href ?? null)}`,
        ),
      );
      return;
    }
    if (!selfHrefs.has(href)) selfHrefs.set(href, i);
  });
  if (selfHrefs.size === 0 && out.length === 0) {
    const seen = otherSelfTypes.length > 0 ? `self links typed ${otherSelfTypes.join(", ")}` : "no rel=self link";
    out.push(
      finding("WF-SELF-LINK", "/links", `expected a rel=self link typed application/activity+json, found ${seen}`),
    );
  } else if (selfHrefs.size > 1) {
    out.push(
      finding(
        "WF-SELF-LINK",
        "/links",
        `expected one AS2 self link target, found ${selfHrefs.size}: ${[...selfHrefs.keys()].join(", ")}`,
      ),
    );
  }
  return out;
}
