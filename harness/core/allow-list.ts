/**
 * The hosts a run may contact: the origins of its targets and of the probe, nothing else. Passed to
 * `createHttpClient({ allowHosts })`, it makes the client refuse, before any connection, every URL a
 * hostile document points at outside the run (an inbox, a key, a redirect, a WebFinger self link).
 * @module
 */
import type { TargetInfo } from "./model.ts";

/** Options of {@link allowListFor}. */
export interface AllowListOptions {
  /**
   * Further origins the run may contact (e.g. a target whose actors live on another domain than its
   * API, or its media host). Default none.
   */
  extraOrigins?: readonly string[];
  /**
   * Allow every port of each host rather than only the origin's port. Default false: with several
   * targets on 127.0.0.1, a hostname alone would let a document reach any local service.
   */
  anyPort?: boolean;
}

/**
 * The allow-list entries for a run: `hostname:port` of every target origin and of the probe
 * (the probe may be given as its origin string), plus `extraOrigins`; de-duplicated, lower-case,
 * in the form `createHttpClient`'s `allowHosts` matches (IPv6 hosts keep their brackets, the default
 * port is explicit). Throws a TypeError naming the value when an origin is not an http(s) URL.
 */
export function allowListFor(
  targets: ReadonlyArray<Pick<TargetInfo, "id" | "origin">>,
  probe: { origin: string } | string | undefined,
  options: AllowListOptions = {},
): string[] {
  const origins: Array<{ what: string; origin: string }> = targets.map((t) => ({
    what: `target ${t.id}`,
    origin: t.origin,
  }));
  if (probe !== undefined)
    origins.push({ what: "the probe", origin: typeof probe === "string" ? probe : probe.origin });
  for (const origin of options.extraOrigins ?? []) origins.push({ what: "an extra origin", origin });
  const entries = new Set<string>();
  for (const { what, origin } of origins) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new TypeError(`the origin of ${what} is not a URL: ${JSON.stringify(origin)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`the origin of ${what} is not an http(s) URL: ${JSON.stringify(origin)}`);
    }
    const hostname = url.hostname.toLowerCase();
    const port = url.port || (url.protocol === "https:" ? "443" : "80");
    entries.add(options.anyPort ? hostname : `${hostname}:${port}`);
  }
  return [...entries];
}
