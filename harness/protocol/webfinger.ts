/**
 * WebFinger (RFC 7033) lookups of Fediverse handles.
 * @module
 */
import type { HttpClient, HttpResponse } from "./types.ts";

/** One link of a JRD. */
export interface JrdLink {
  rel: string;
  type?: string;
  href?: string;
  template?: string;
  [key: string]: unknown;
}

/** A JSON Resource Descriptor, as WebFinger returns it. */
export interface Jrd {
  subject?: string;
  aliases?: string[];
  links?: JrdLink[];
  [key: string]: unknown;
}

/** Result of {@link webfingerLookup}. */
export interface WebFingerResult {
  /** The `acct:` URI that was asked for. */
  resource: string;
  jrd: Jrd;
  /** href of the `rel=self` link typed as AS2; undefined when there is none. */
  selfHref?: string;
  response: HttpResponse;
}

const AS2_TYPES = [
  "application/activity+json",
  'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
];

/** Turns `@alice@a.test`, `alice@a.test` or `acct:alice@a.test` into `acct:alice@a.test`. */
export function toAcctUri(handleOrAcct: string): string {
  const bare = handleOrAcct.replace(/^acct:/i, "").replace(/^@/, "");
  if (!/^[^@\s]+@[^@\s]+$/.test(bare))
    throw new Error(`${JSON.stringify(handleOrAcct)} is not a user@host handle`);
  return `acct:${bare}`;
}

/** The AS2 `rel=self` link of a JRD (type compared without spaces, case-insensitively). */
export function selfLink(jrd: Jrd): JrdLink | undefined {
  const normalise = (type: string) => type.replace(/\s+/g, "").toLowerCase();
  const wanted = AS2_TYPES.map(normalise);
  return jrd.links?.find(
    (link) => link.rel === "self" && typeof link.type === "string" && wanted.includes(normalise(link.type)),
  );
}

/**
 * Looks a handle up at `origin`'s `/.well-known/webfinger`. Throws an Error naming the URL when the
 * answer is not a 2xx JSON object; scenarios that test error statuses use the client directly.
 */
export async function webfingerLookup(
  client: HttpClient,
  handleOrAcct: string,
  origin: string,
): Promise<WebFingerResult> {
  const resource = toAcctUri(handleOrAcct);
  const url = new URL("/.well-known/webfinger", origin);
  url.searchParams.set("resource", resource);
  const response = await client.request(url.href, {
    headers: { accept: "application/jrd+json, application/json" },
  });
  if (response.status < 200 || response.status > 299) {
    throw new Error(`WebFinger ${url.href} answered ${response.status}; expected 200 with a JRD`);
  }
  const jrd = response.json();
  if (typeof jrd !== "object" || jrd === null || Array.isArray(jrd)) {
    throw new Error(`WebFinger ${url.href} did not return a JSON object`);
  }
  const result: WebFingerResult = { resource, jrd: jrd as Jrd, response };
  const href = selfLink(jrd as Jrd)?.href;
  if (href !== undefined) result.selfHref = href;
  return result;
}
