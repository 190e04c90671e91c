/**
 * NodeInfo discovery: `/.well-known/nodeinfo`, then the newest 2.x schema document it links.
 * @module
 */
import type { HttpClient } from "./types.ts";

/** A link of the well-known NodeInfo document. */
export interface NodeInfoLink {
  rel: string;
  href: string;
}

/** Result of {@link fetchNodeInfo}. */
export interface NodeInfoResult {
  /** Links of the well-known document, as served. */
  links: NodeInfoLink[];
  /** The NodeInfo document of the newest linked 2.x version. */
  document: Record<string, unknown>;
  /** Version taken from the chosen link's rel, e.g. `2.1`. */
  version: string;
  /** URL the document was fetched from. */
  href: string;
}

const REL_PREFIX = "http://nodeinfo.diaspora.software/ns/schema/";

async function getObject(client: HttpClient, url: string): Promise<Record<string, unknown>> {
  const response = await client.request(url, { headers: { accept: "application/json" } });
  if (response.status < 200 || response.status > 299)
    throw new Error(`NodeInfo ${url} answered ${response.status}`);
  const value = response.json();
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`NodeInfo ${url} did not return a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Follows `origin`'s well-known NodeInfo chain to the newest 2.x document. Throws an Error naming the step that failed. */
export async function fetchNodeInfo(client: HttpClient, origin: string): Promise<NodeInfoResult> {
  const wellKnown = new URL("/.well-known/nodeinfo", origin).href;
  const index = await getObject(client, wellKnown);
  const links = (Array.isArray(index.links) ? index.links : []).filter(
    (link): link is NodeInfoLink => typeof link?.rel === "string" && typeof link?.href === "string",
  );
  const versioned = links
    .filter((link) => link.rel.startsWith(`${REL_PREFIX}2.`))
    .map((link) => ({ link, version: link.rel.slice(REL_PREFIX.length) }))
    .sort((a, b) => b.version.localeCompare(a.version, "en", { numeric: true }));
  const newest = versioned[0];
  if (!newest) throw new Error(`${wellKnown} links no NodeInfo 2.x schema (rel ${REL_PREFIX}2.x)`);
  const href = new URL(newest.link.href, wellKnown).href;
  return { links, document: await getObject(client, href), version: newest.version, href };
}
