/**
 * Discovery: how a server lets others find its accounts and itself — WebFinger, NodeInfo, and the
 * actor document. Each scenario is `single`: the target is judged alone, the probe acting as client.
 * @module
 */
import { createPublicKey, randomUUID } from "node:crypto";
import type { Scenario, ScenarioContext } from "../harness/core/scenario.ts";
import type { HttpResponse } from "../harness/protocol/types.ts";
import {
  AS2_ACCEPT,
  asArray,
  fetchAs2,
  fetchEvidence,
  idOf,
  isObject,
  type Json,
  jsonBody,
  show,
} from "./steps.ts";

const JRD = "application/jrd+json";

/** GET through the harness client (unsigned), with evidence kept for `checkId`. */
async function get(
  ctx: ScenarioContext,
  checkIds: string[],
  label: string,
  url: string,
  accept: string,
): Promise<HttpResponse> {
  const headers = { accept };
  const response = await ctx.http.request(url, { headers, signal: ctx.signal });
  for (const id of checkIds) ctx.evidence(id, fetchEvidence(label, url, headers, response));
  return response;
}

/** {@link fetchAs2} with evidence kept for each of `checkIds`. */
async function getAs2(
  ctx: ScenarioContext,
  checkIds: string[],
  label: string,
  url: string,
  accept: string = AS2_ACCEPT.activityJson,
): Promise<HttpResponse> {
  const response = await fetchAs2(ctx, url, accept);
  for (const id of checkIds) ctx.evidence(id, fetchEvidence(label, url, { accept }, response));
  return response;
}

function webfingerUrl(origin: string, resource?: string): string {
  const base = `${origin}/.well-known/webfinger`;
  return resource === undefined ? base : `${base}?resource=${encodeURIComponent(resource)}`;
}

function isAs2MediaType(contentType: string | undefined): boolean {
  const value = (contentType ?? "").toLowerCase();
  if (value.startsWith("application/activity+json")) return true;
  return value.startsWith("application/ld+json") && value.includes("https://www.w3.org/ns/activitystreams");
}

/** `self` links typed as AS2 in a JRD. */
function as2SelfLinks(jrd: Json): Json[] {
  return asArray(jrd.links).filter(
    (l): l is Json => isObject(l) && l.rel === "self" && typeof l.type === "string" && isAs2MediaType(l.type),
  );
}

/** Records `skipped` for checks that depend on something that did not work. */
function skip(ctx: ScenarioContext, ids: string[], reason: string): void {
  for (const id of ids)
    if (ctx.verdictOf(id) === undefined) ctx.record(id, "skipped", `not reached: ${reason}`);
}

const webfinger: Scenario = {
  id: "discovery.webfinger",
  suite: "discovery",
  title: "WebFinger: lookup, errors, CORS, self link and reverse discovery",
  shape: "single",
  checks: ["DSC-WF-01", "DSC-WF-02", "DSC-WF-03", "DSC-WF-04", "DSC-WF-05", "DSC-WF-06"],
  requires: { receiver: ["webfinger"] },
  async run(ctx) {
    // 1. Roles: the target is judged alone; the probe asks it questions about an account it only
    // reads, so the discovery scenarios share one per target.
    const target = ctx.receiver;
    const account = await ctx.sharedAccount(target, "discovered");
    const host = new URL(target.origin).host;

    // 2. DSC-WF-02: no resource → 400.
    const noResource = await get(
      ctx,
      ["DSC-WF-02"],
      "WebFinger without resource",
      webfingerUrl(target.origin),
      JRD,
    );
    ctx.assert(
      "DSC-WF-02",
      noResource.status === 400,
      `WebFinger without resource answered ${noResource.status}`,
      {
        expected: "400 Bad Request",
        observed: `${noResource.status}`,
      },
    );

    // 3. DSC-WF-03: an account that does not exist → 404.
    const nobody = `acct:nobody-${randomUUID().slice(0, 8)}@${host}`;
    const unknown = await get(
      ctx,
      ["DSC-WF-03"],
      "WebFinger for an unknown account",
      webfingerUrl(target.origin, nobody),
      JRD,
    );
    ctx.assert("DSC-WF-03", unknown.status === 404, `WebFinger for ${nobody} answered ${unknown.status}`, {
      expected: "404 Not Found",
      observed: `${unknown.status}`,
    });

    // 4. DSC-WF-01: the account's acct: resource → 200 JRD as application/jrd+json.
    const resource = `acct:${account.handle}`;
    const found = await get(
      ctx,
      ["DSC-WF-01", "DSC-WF-04", "DSC-WF-05"],
      "WebFinger for the account",
      webfingerUrl(target.origin, resource),
      JRD,
    );
    const jrd = jsonBody(found);
    const contentType = found.headers["content-type"] ?? "";
    if (jrd) await ctx.validate("DSC-WF-01", "JRD", jrd, { headers: found.headers });
    const wf01 =
      found.status === 200 &&
      contentType.toLowerCase().startsWith(JRD) &&
      jrd !== undefined &&
      typeof jrd.subject === "string" &&
      Array.isArray(jrd.links);
    ctx.assert("DSC-WF-01", wf01, wf01 ? `JRD served for ${resource}` : `no usable JRD for ${resource}`, {
      expected: `200, Content-Type ${JRD}, a JSON object with subject and links`,
      observed: `${found.status}, Content-Type '${contentType}', body ${show(found.text(), 200)}`,
    });

    // 5. DSC-WF-04: the answer carries Access-Control-Allow-Origin.
    const cors = found.headers["access-control-allow-origin"];
    ctx.assert(
      "DSC-WF-04",
      cors !== undefined && cors !== "",
      cors ? `CORS header: ${cors}` : "no CORS header",
      {
        expected: "Access-Control-Allow-Origin (ideally *)",
        observed: cors === undefined ? "header absent" : `'${cors}'`,
      },
    );

    // 6. DSC-WF-05: AS2-typed self links, all pointing at the actor (one per AS2 media type is
    // unambiguous; a self link elsewhere makes receivers pick one, or give up).
    if (!jrd) return skip(ctx, ["DSC-WF-05", "DSC-WF-06"], "the WebFinger lookup gave no JRD (DSC-WF-01)");
    const selfLinks = as2SelfLinks(jrd);
    const wf05 = selfLinks.length > 0 && selfLinks.every((link) => link.href === account.actorId);
    ctx.assert(
      "DSC-WF-05",
      wf05,
      wf05
        ? `${selfLinks.length} AS2 self link(s), all to the actor`
        : `${selfLinks.length} AS2 self link(s), hrefs ${show(selfLinks.map((l) => l.href))}`,
      {
        expected: `{rel: self, type: AS2, href: ${account.actorId}}, and no AS2 self link elsewhere`,
        observed: show(jrd.links),
      },
    );

    // 7. DSC-WF-06: actor → preferredUsername@host → WebFinger → the same actor.
    const actorResponse = await getAs2(ctx, ["DSC-WF-06"], "actor document", account.actorId);
    const actor = jsonBody(actorResponse);
    const username = typeof actor?.preferredUsername === "string" ? actor.preferredUsername : undefined;
    if (!username) {
      ctx.assert("DSC-WF-06", false, "the actor has no preferredUsername to discover it by", {
        expected: "preferredUsername in the actor document",
        observed: show(actor ?? actorResponse.status),
      });
      return;
    }
    const actorHost = new URL(account.actorId).host;
    let acct = `acct:${username}@${actorHost}`;
    let reverse = await get(
      ctx,
      ["DSC-WF-06"],
      "reverse WebFinger",
      webfingerUrl(new URL(account.actorId).origin, acct),
      JRD,
    );
    let reverseJrd = jsonBody(reverse);
    // A server may answer with its canonical subject (another domain): follow it once, as Mastodon does.
    const subject = typeof reverseJrd?.subject === "string" ? reverseJrd.subject : undefined;
    if (subject?.startsWith("acct:") && subject !== acct) {
      const domain = subject.slice(subject.lastIndexOf("@") + 1);
      acct = subject;
      reverse = await get(
        ctx,
        ["DSC-WF-06"],
        "WebFinger for the canonical subject",
        webfingerUrl(`${new URL(account.actorId).protocol}//${domain}`, acct),
        JRD,
      );
      reverseJrd = jsonBody(reverse);
    }
    const hrefs = reverseJrd ? as2SelfLinks(reverseJrd).map((l) => l.href) : [];
    ctx.assert("DSC-WF-06", hrefs.includes(account.actorId), `reverse discovery via ${acct}`, {
      expected: `WebFinger ${acct} → self link ${account.actorId}`,
      observed: `${reverse.status}, self links ${show(hrefs)}`,
    });
  },
};

const NODEINFO_REL = /^https?:\/\/nodeinfo\.diaspora\.software\/ns\/schema\/2\.[01]$/;
const nodeinfo: Scenario = {
  id: "discovery.nodeinfo",
  suite: "discovery",
  title: "NodeInfo: well-known chain and schema",
  shape: "single",
  checks: ["DSC-NI-01", "DSC-NI-02"],
  requires: { receiver: ["nodeinfo"] },
  async run(ctx) {
    // 1. Roles: the target alone.
    const origin = ctx.receiver.origin;
    // 2. Fetch /.well-known/nodeinfo and pick the newest 2.x link.
    const wellKnown = await get(
      ctx,
      ["DSC-NI-01"],
      "/.well-known/nodeinfo",
      `${origin}/.well-known/nodeinfo`,
      "application/json",
    );
    const links = asArray(jsonBody(wellKnown)?.links).filter(
      (l): l is Json =>
        isObject(l) && typeof l.rel === "string" && NODEINFO_REL.test(l.rel) && typeof l.href === "string",
    );
    links.sort((a, b) => String(b.rel).localeCompare(String(a.rel)));
    const href = idOf(links[0]);
    // 3. Follow the link.
    const document = href
      ? await get(ctx, ["DSC-NI-01", "DSC-NI-02"], "NodeInfo document", href, "application/json")
      : undefined;
    const doc = document ? jsonBody(document) : undefined;
    // 4. DSC-NI-01: the chain resolves to a JSON document.
    ctx.assert(
      "DSC-NI-01",
      doc !== undefined && document?.status === 200,
      href ? `NodeInfo at ${href}` : "no NodeInfo 2.x link",
      {
        expected: "/.well-known/nodeinfo → links[rel=…/schema/2.x].href → 200 JSON",
        observed: `well-known ${wellKnown.status}, link ${href ?? "none"}, document ${document?.status ?? "not fetched"}`,
      },
    );
    if (!doc) return skip(ctx, ["DSC-NI-02"], "no NodeInfo document (DSC-NI-01)");
    // 5. DSC-NI-02: the document matches the NodeInfo 2.x schema (the validator is the one judge).
    const findings = await ctx.validate("DSC-NI-02", "NodeInfo", doc, { kind: "nodeinfo" });
    const errors = findings.filter((f) => f.severity === "error");
    const problems = errors.map((f) => `${f.pointer || "/"}: ${f.message}`).join("; ");
    ctx.assert(
      "DSC-NI-02",
      errors.length === 0,
      errors.length === 0 ? "NodeInfo is schema-valid" : problems,
      {
        expected:
          "NodeInfo 2.x schema: version, software, protocols ∋ activitypub, services, openRegistrations, usage.users, metadata, nothing else",
        observed: errors.length === 0 ? "valid" : problems,
      },
    );
  },
};

const actor: Scenario = {
  id: "discovery.actor",
  suite: "discovery",
  title: "Actor document: media types, endpoints, collections, key, Vary",
  shape: "single",
  checks: ["DSC-ACT-01", "DSC-ACT-02", "DSC-ACT-03", "DSC-ACT-04", "DSC-ACT-05"],
  async run(ctx) {
    // 1. Roles: the target alone, with the account the discovery scenarios share (only read).
    const account = await ctx.sharedAccount(ctx.receiver, "discovered");
    const id = account.actorId;

    // 2. DSC-ACT-01: both AS2 media types give the actor, served as AS2.
    const byActivityJson = await getAs2(
      ctx,
      ["DSC-ACT-01"],
      "actor (activity+json)",
      id,
      AS2_ACCEPT.activityJson,
    );
    const byLdJson = await getAs2(ctx, ["DSC-ACT-01"], "actor (ld+json profile)", id, AS2_ACCEPT.ldJson);
    const answers = [byActivityJson, byLdJson].map((r) => ({
      status: r.status,
      contentType: r.headers["content-type"] ?? "",
      id: jsonBody(r)?.id,
    }));
    const act01 = answers.every((a) => a.status === 200 && isAs2MediaType(a.contentType) && a.id === id);
    ctx.assert(
      "DSC-ACT-01",
      act01,
      act01 ? "actor served for both AS2 media types" : "actor not served as AS2 for both Accept values",
      {
        expected: `200 with an AS2 Content-Type and id ${id}, for Accept ${AS2_ACCEPT.activityJson} and ${AS2_ACCEPT.ldJson}`,
        observed: show(answers),
      },
    );

    // The rest reads the document, whatever its media type.
    const doc = jsonBody(byActivityJson) ?? jsonBody(byLdJson);
    if (!doc)
      return skip(
        ctx,
        ["DSC-ACT-02", "DSC-ACT-03", "DSC-ACT-04", "DSC-ACT-05"],
        "the actor document could not be read",
      );
    await ctx.validate(undefined, "actor document", doc, { origin: new URL(id).origin });

    // 3. DSC-ACT-02: inbox and outbox, absolute URLs.
    const absolute = (v: unknown) => {
      const url = idOf(v);
      return url !== undefined && /^https?:\/\//.test(url) && URL.canParse(url);
    };
    ctx.assert("DSC-ACT-02", absolute(doc.inbox) && absolute(doc.outbox), "inbox and outbox", {
      expected: "inbox and outbox as absolute http(s) URLs",
      observed: `inbox ${show(doc.inbox)}, outbox ${show(doc.outbox)}`,
    });

    // 4. DSC-ACT-03: followers/following present and resolvable (or deliberately hidden).
    const collections: string[] = [];
    let act03 = true;
    for (const name of ["followers", "following"] as const) {
      const url = idOf(doc[name]);
      if (!url) {
        act03 = false;
        collections.push(`${name}: absent`);
        continue;
      }
      const response = await getAs2(ctx, ["DSC-ACT-03"], name, url);
      const body = jsonBody(response);
      const ok =
        (response.status === 200 && /Collection/.test(String(body?.type))) ||
        [401, 403, 404].includes(response.status);
      if (!ok) act03 = false;
      collections.push(`${name}: ${response.status} ${body?.type ?? ""}`.trim());
    }
    ctx.assert("DSC-ACT-03", act03, collections.join("; "), {
      expected: "followers and following each a (Ordered)Collection, or 401/403/404 when hidden",
      observed: collections.join("; "),
    });

    // 5. DSC-ACT-04: publicKey {id, owner = actor, PEM that parses}.
    const key = isObject(doc.publicKey)
      ? doc.publicKey
      : isObject(asArray(doc.publicKey)[0])
        ? (asArray(doc.publicKey)[0] as Json)
        : undefined;
    let pemOk = false;
    if (typeof key?.publicKeyPem === "string") {
      try {
        createPublicKey(key.publicKeyPem);
        pemOk = true;
      } catch {
        pemOk = false;
      }
    }
    const act04 = key !== undefined && typeof key.id === "string" && idOf(key.owner) === id && pemOk;
    ctx.assert("DSC-ACT-04", act04, act04 ? `key ${String(key?.id)}` : "no usable publicKey", {
      expected: `publicKey {id, owner: ${id}, publicKeyPem parsing as a public key}`,
      observed: key
        ? `id ${show(key.id)}, owner ${show(key.owner)}, PEM ${pemOk ? "parses" : "missing or unparsable"}`
        : "publicKey absent",
    });

    // 6. DSC-ACT-05: if the URL also serves HTML, AS2 answers say Vary: Accept.
    const html = await get(ctx, ["DSC-ACT-05"], "actor URL asked for HTML", id, "text/html");
    const servesHtml =
      html.status === 200 && (html.headers["content-type"] ?? "").toLowerCase().startsWith("text/html");
    if (!servesHtml) {
      ctx.record(
        "DSC-ACT-05",
        "inapplicable",
        `the actor URL serves no HTML (answered ${html.status} ${html.headers["content-type"] ?? ""})`,
      );
      return;
    }
    const vary = (byActivityJson.headers.vary ?? "").toLowerCase();
    ctx.assert("DSC-ACT-05", /(^|[\s,])(accept|\*)($|[\s,])/.test(vary), `Vary: ${vary || "absent"}`, {
      expected: "Vary includes Accept on the AS2 answer",
      observed: vary ? `Vary: ${vary}` : "no Vary header",
    });
  },
};

/** The discovery suite. */
export const scenarios: Scenario[] = [webfinger, nodeinfo, actor];
