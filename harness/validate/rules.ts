/**
 * Rules a schema cannot express: RFC 3339 dates (AS-03), BCP 47 language maps (AS-04), HTML in names and
 * Question's oneOf/anyOf (AS-05), bto/bcc in deliveries (AS-06), same-origin ids (AS-07), attribution,
 * Public spellings, language-map agreement, Tombstones, and the JRD's AS2 self link.
 * @module
 */
import { finding } from "./catalogue.ts";
import type { Finding } from "./findings.ts";
import { categoryOf } from "./kinds.ts";
import { isHttpUrl } from "./schemas/common.ts";
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

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;

/** True for an RFC 3339 date-time with upper-case T and Z and in-range fields (AS2 Core §2.3). */
export function isRfc3339DateTime(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
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

/** What {@link checkAs2Rules} needs to know about how the document was met. */
export interface RuleContext {
  /** The document was delivered to an inbox. Default: false. */
  delivered?: boolean;
  /** The origin that served or sent the document (`https://host[:port]`). Default: unknown. */
  origin?: string;
}

/** Runs every AS2 rule over a document whose objects `scanDocument` listed. */
export function checkAs2Rules(
  doc: JsonObject,
  nodes: readonly NodeRef[],
  context: RuleContext = {},
): Finding[] {
  const findings: Finding[] = [];
  for (const ref of nodes) {
    checkNode(ref, context, findings);
  }
  checkTopLevel(doc, context, findings);
  return findings;
}

const PLAIN_OF_MAP: Record<string, string> = {
  contentMap: "content",
  summaryMap: "summary",
  nameMap: "name",
};

/** Rules that look at one object wherever it sits (one pass over the keys it has). */
function checkNode({ node, pointer, key, types }: NodeRef, context: RuleContext, out: Finding[]): void {
  const full = pointer === "" || key === "object";
  for (const prop in node) {
    const value = node[prop];
    switch (prop) {
      case "published":
      case "updated":
      case "deleted":
      case "startTime":
      case "endTime":
      case "closed":
      case "expires":
        // AS-03: the xsd:dateTime properties of AS2, and `expires`, which Lemmy maps to endTime.
        if (typeof value === "string" && !isRfc3339DateTime(value)) {
          out.push(finding("AS-03", pointerJoin(pointer, prop), dateProblem(value)));
        }
        break;
      case "contentMap":
      case "summaryMap":
      case "nameMap":
        if (isObject(value)) checkLanguageMap(node, prop, value, pointer, out);
        break;
      case "hreflang":
        if (typeof value === "string" && !isBcp47(value)) {
          out.push(
            finding(
              "AS-04",
              pointerJoin(pointer, prop),
              `expected a BCP 47 language tag, found ${preview(value)}`,
            ),
          );
        }
        break;
      case "name":
        // AS-05: no HTML in name.
        if (typeof value === "string" && containsHtml(value)) {
          out.push(
            finding(
              "AS-05",
              pointerJoin(pointer, prop),
              `expected plain text in name, found HTML ${preview(value)}`,
            ),
          );
        }
        break;
      case "bto":
      case "bcc":
        // AS-06: bto/bcc stripped before delivery (the activity and the object it carries).
        if (context.delivered && full && present(value)) {
          out.push(
            finding(
              "AS-06",
              pointerJoin(pointer, prop),
              `expected no ${prop} in a delivered document (it must be removed before delivery), found ${preview(value)}`,
            ),
          );
        }
        checkPublicSpelling(value, pointerJoin(pointer, prop), out);
        break;
      case "to":
      case "cc":
      case "audience":
        checkPublicSpelling(value, pointerJoin(pointer, prop), out);
        break;
    }
  }
  if (types.length === 0 && !full) return;
  // AS-05: Question has oneOf xor anyOf.
  if (types.includes("Question") && present(node.oneOf) && present(node.anyOf)) {
    out.push(
      finding("AS-05", pointerJoin(pointer, "anyOf"), "expected a Question with oneOf or anyOf, found both", {
        impact: "PROBLEM",
      }),
    );
  }
  // Tombstones say what they were and when they went.
  if (types.includes("Tombstone")) {
    for (const prop of ["formerType", "deleted"]) {
      if (!present(node[prop])) {
        out.push(
          finding(
            "AS-TOMBSTONE",
            pointerJoin(pointer, prop),
            `expected the Tombstone to carry ${prop}, found none`,
          ),
        );
      }
    }
  }
  if (!full) return;
  const category = types.length === 0 ? "object" : categoryOf(types);
  if (category === "activity") checkActivity(node, pointer, types, out);
  else if (category === "actor") checkActorKey(node, pointer, out);
}

/** AS-04 keys, AS-05 HTML in nameMap, and agreement with the plain property. */
function checkLanguageMap(
  node: JsonObject,
  mapName: string,
  map: JsonObject,
  pointer: string,
  out: Finding[],
): void {
  const mapPointer = pointerJoin(pointer, mapName);
  for (const tag in map) {
    if (!isBcp47(tag)) {
      out.push(
        finding(
          "AS-04",
          pointerJoin(mapPointer, tag),
          `expected a BCP 47 language tag as key (e.g. "en", "pt-BR", "und"), found ${preview(tag)}`,
        ),
      );
    }
    const value = map[tag];
    if (mapName === "nameMap" && typeof value === "string" && containsHtml(value)) {
      out.push(
        finding(
          "AS-05",
          pointerJoin(mapPointer, tag),
          `expected plain text in nameMap, found HTML ${preview(value)}`,
        ),
      );
    }
  }
  const plainName = PLAIN_OF_MAP[mapName] as string;
  const plain = node[plainName];
  if (typeof plain !== "string") return;
  let some = false;
  for (const tag in map) {
    const value = map[tag];
    if (typeof value !== "string") continue;
    if (value === plain) return;
    some = true;
  }
  if (some) {
    out.push(
      finding(
        "AS-CONTENT-MAP",
        mapPointer,
        `expected ${plainName} to equal one of the ${mapName} values, found ${preview(plain, 40)} against ${preview(map, 60)}`,
      ),
    );
  }
}

/** Reports the compact and http: spellings of the public collection in an addressing property. */
function checkPublicSpelling(values: JsonValue | undefined, where: string, out: Finding[]): void {
  if (Array.isArray(values)) {
    for (let i = 0; i < values.length; i++) publicSpelling(values[i], pointerJoin(where, i), out);
  } else {
    publicSpelling(values, where, out);
  }
}

function publicSpelling(value: JsonValue | undefined, where: string, out: Finding[]): void {
  const iri = idOf(value);
  if (iri === undefined || iri === PUBLIC_IRI) return;
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
    const base = Array.isArray(keys)
      ? pointerJoin(pointerJoin(pointer, "publicKey"), i)
      : pointerJoin(pointer, "publicKey");
    out.push(
      finding(
        "AP-ACTOR-KEY",
        pointerJoin(base, "owner"),
        `expected the key's owner to be the actor ${preview(id)}, found ${preview(key.owner)}`,
      ),
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
      const where = isObject(object)
        ? pointerJoin(pointerJoin(pointer, "object"), "id")
        : pointerJoin(pointer, "object");
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
      finding(
        "AP-OBJECT-ID",
        pointerJoin(objectPointer, "id"),
        `expected the ${types[0]}'s object to have an id, found none`,
      ),
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
    categoryOf(objectTypes) === "object" &&
    !objectTypes.includes("Question") &&
    !objectTypes.includes("Tombstone");
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
    out.push(
      finding("AS-07", "/id", `expected the id on the serving origin ${origin}, found ${preview(id)}`),
    );
  }
  if (category === "activity") {
    const actor = idsOf(doc.actor)[0];
    const actorOrigin = httpOrigin(actor);
    if (actorOrigin && actorOrigin !== origin) {
      out.push(
        finding(
          "AS-07",
          "/actor",
          `expected the actor on the sending origin ${origin}, found ${preview(actor)}`,
        ),
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
const LD_MEDIA_TYPE =
  /^application\/ld\+json\s*;.*profile\s*=\s*"?https:\/\/www\.w3\.org\/ns\/activitystreams"?/i;

/** True for the two media types that name AS2 (`application/activity+json`, AS2-profiled ld+json). */
export function isAs2MediaType(value: string): boolean {
  return AS2_MEDIA_TYPE.test(value.trim()) || LD_MEDIA_TYPE.test(value.trim());
}

/** WF-SELF-LINK: the JRD has an AS2-typed rel=self link with an absolute URL (one target). */
export function checkJrdRules(doc: JsonObject): Finding[] {
  const links = doc.links;
  if (!Array.isArray(links)) {
    return [
      finding("WF-SELF-LINK", "/links", "expected links with a rel=self AS2 link, found no links array"),
    ];
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
    const seen =
      otherSelfTypes.length > 0 ? `self links typed ${otherSelfTypes.join(", ")}` : "no rel=self link";
    out.push(
      finding(
        "WF-SELF-LINK",
        "/links",
        `expected a rel=self link typed application/activity+json, found ${seen}`,
      ),
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
