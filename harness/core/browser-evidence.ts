/**
 * Browser evidence: screenshots of how a target renders a post, taken with Chromium through
 * playwright-core, to attach to a cell next to the payloads.
 *
 * The page under test is whatever a server under test sent, so the browser is fenced in:
 * - every request whose origin is not one of the run's hosts is aborted (`route` → `abort`), and so is
 *   every WebSocket; service workers are blocked so no request escapes the route;
 * - names resolve only through the run's host map: `--host-resolver-rules` maps each name to its
 *   loopback address and port, and every other host, IP literals included (but `localhost` and the
 *   allowed origins' hosts), to NOTFOUND;
 * - WebRTC may not use UDP outside a proxy (there is none), so it cannot reach out either;
 * - trust: see {@link ScreenshotterOptions.ca}.
 * @module
 */
import { createHash, X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join, relative, resolve } from "node:path";
import { checkServerIdentity, connect } from "node:tls";
import type { BrowserContext } from "playwright-core";
import { makeTempDir } from "../runtime/temp-dirs.ts";
import type { CellResult, Evidence } from "./model.ts";

/** Where Debian's Chromium is; `FEDICHECK_CHROMIUM` overrides it. */
export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

/** Flags for a quiet, sandbox-less headless Chromium that phones nowhere on its own. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  // WebRTC could otherwise send UDP that no route sees.
  "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
];

/** Options of {@link createScreenshotter}. */
export interface ScreenshotterOptions {
  /** Directory the PNGs go to (created if needed). */
  outDir: string;
  /**
   * The run's CA certificate(s), PEM. When given, HTTPS certificates are trusted only if Node verifies
   * them against these CAs: before the browser starts, each HTTPS host of the run is contacted with
   * Node's TLS (the CA, the name, the mapped address), and the public keys (SPKI) of the certificates
   * that verify are passed to `--ignore-certificate-errors-spki-list` (with the CAs' own, for servers
   * that send the chain). Why not just `ignoreHTTPSErrors`: it would accept any certificate at all;
   * why not only the CA's SPKI: Chromium matches SPKIs within the chain the server sent, and servers
   * usually send the leaf alone. Default: no extra trust (the system store).
   */
  ca?: string[];
  /** Names of the run's hosts and where they really listen, e.g. `{"a.test": {address: "127.0.0.2", port: 443}}`. Default none. */
  hostMap?: Record<string, { address: string; port: number }>;
  /**
   * Other origins pages may load from, e.g. `http://127.0.0.1:40123` for a process target. Mapped names
   * are allowed on any port. Captures of URLs outside these and the host map are refused. Default none.
   */
  allowOrigins?: string[];
  /** Time allowed for loading a page, and again for taking its screenshot, in ms. Default 15 000. */
  timeoutMs?: number;
  /** Viewport, CSS pixels (device scale 1, so also the PNG's size). Default 1024 × 768. */
  viewport?: { width: number; height: number };
  /** Capture the whole page rather than the viewport. Default false. */
  fullPage?: boolean;
  /** Chromium binary. Default `$FEDICHECK_CHROMIUM` or {@link DEFAULT_CHROMIUM}. */
  executablePath?: string;
  /** Called with the URL of every request or WebSocket the fence stopped. Default none. */
  onBlocked?: (url: string) => void;
}

/**
 * Takes screenshots; one Chromium with one fresh profile, started on the first capture (cookies are
 * cleared whenever no capture is in flight).
 */
export interface Screenshotter {
  /**
   * Loads `url` and saves a PNG of it as `<outDir>/<name>.png` (name reduced to `[A-Za-z0-9._-]`);
   * returns its path. Error pages (404, 410) are captured too: they are evidence as well.
   * @throws {ScreenshotError} when the URL is not one of the run's, or the page cannot load.
   */
  capture(url: string, name: string): Promise<string>;
  /** URLs the fence stopped so far. */
  blocked(): string[];
  /** Closes the browser (and its temporary profile). */
  close(): Promise<void>;
}

/** A screenshot that could not be taken; the message says why. */
export class ScreenshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScreenshotError";
  }
}

/** The Chromium binary to use and whether it is there. */
export function chromiumPath(): { path: string; present: boolean } {
  const path = process.env.FEDICHECK_CHROMIUM ?? DEFAULT_CHROMIUM;
  return { path, present: existsSync(path) };
}

/** base64 SHA-256 of a certificate's SubjectPublicKeyInfo, as Chromium's SPKI lists want it. */
export function spkiHash(cert: X509Certificate): string {
  return createHash("sha256")
    .update(cert.publicKey.export({ type: "spki", format: "der" }))
    .digest("base64");
}

function defaultPort(url: URL): number {
  return url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
}

/** `scheme://host:port` with the port always written, so `https://a.test` equals `https://a.test:443`. */
function originKey(url: URL): string {
  return `${url.protocol}//${url.hostname}:${defaultPort(url)}`;
}

/** The chromium `--host-resolver-rules` value: mapped names first, then NOTFOUND for every other name. */
export function hostResolverRules(
  hostMap: Record<string, { address: string; port: number }>,
  allowedNames: readonly string[],
): string {
  const rules = Object.entries(hostMap).map(([name, to]) => `MAP ${name} ${to.address}:${to.port}`);
  rules.push("MAP * ~NOTFOUND");
  // Exclusions win over every MAP rule: only names that are not mapped may be excluded. IP literals
  // need one too: Chromium applies the rules to the host as written, addresses included.
  for (const name of new Set(["localhost", ...allowedNames])) {
    if (!(name in hostMap)) rules.push(`EXCLUDE ${isIP(name) === 6 ? `[${name}]` : name}`);
  }
  return rules.join(", ");
}

/**
 * Contacts `host` with Node's TLS, verifying against `ca` and the name, and returns the SPKI hash of
 * the certificate it presents (or why it did not verify).
 */
function verifiedSpki(
  host: string,
  address: string,
  port: number,
  ca: string[],
  timeoutMs: number,
): Promise<{ spki: string } | { error: string }> {
  return new Promise((done) => {
    const socket = connect({
      host: address,
      port,
      ca,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      // Check the name the browser will use, not the address we dial.
      checkServerIdentity: (_servername, cert) => checkServerIdentity(host, cert),
      timeout: timeoutMs,
    });
    const finish = (result: { spki: string } | { error: string }) => {
      socket.destroy();
      done(result);
    };
    socket.once("secureConnect", () => {
      const cert = socket.getPeerX509Certificate();
      finish(cert ? { spki: spkiHash(cert) } : { error: "no certificate presented" });
    });
    socket.once("timeout", () => finish({ error: `no TLS handshake within ${timeoutMs} ms` }));
    socket.once("error", (error) => finish({ error: error.message }));
  });
}

/** Creates a screenshotter; Chromium starts on the first capture and stops on {@link Screenshotter.close}. */
export function createScreenshotter(options: ScreenshotterOptions): Screenshotter {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const viewport = options.viewport ?? { width: 1024, height: 768 };
  const hostMap = options.hostMap ?? {};
  const allowed = new Set<string>();
  const allowedNames = new Set<string>(Object.keys(hostMap));
  for (const origin of options.allowOrigins ?? []) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new TypeError(`allowOrigins: '${origin}' is not a URL (expected e.g. http://127.0.0.1:40123)`);
    }
    allowed.add(originKey(url));
    allowedNames.add(url.hostname);
  }
  const isAllowed = (text: string): boolean => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return false;
    }
    if (url.protocol === "data:" || url.protocol === "blob:" || url.href === "about:blank") return true;
    if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) return false;
    if (url.hostname in hostMap) return true;
    const web = new URL(url.href.replace(/^ws/, "http"));
    return allowed.has(originKey(web));
  };

  const blocked: string[] = [];
  const block = (url: string) => {
    blocked.push(url);
    options.onBlocked?.(url);
  };
  /** Why an HTTPS host of the run was not pinned, by `host:port`. */
  const untrusted = new Map<string, string>();

  let launching: Promise<{ context: BrowserContext; profile: string }> | undefined;
  let closed = false;
  let inFlight = 0;

  const launch = async (): Promise<{ context: BrowserContext; profile: string }> => {
    const { path, present } = chromiumPath();
    const executablePath = options.executablePath ?? path;
    if (options.executablePath === undefined && !present) {
      throw new ScreenshotError(
        `no Chromium at ${path}: install it (Debian: apt-get install -y chromium) or set FEDICHECK_CHROMIUM`,
      );
    }
    const args = [...CHROMIUM_ARGS, `--host-resolver-rules=${hostResolverRules(hostMap, [...allowedNames])}`];
    if (options.ca && options.ca.length > 0) {
      const pins = new Set<string>();
      for (const pem of options.ca) {
        for (const certPem of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ??
          []) {
          pins.add(spkiHash(new X509Certificate(certPem)));
        }
      }
      // Every HTTPS host of the run: the mapped names (on the port their origin uses) and the allowed origins.
      const hosts: Array<{ host: string; address: string; port: number }> = [];
      for (const [name, to] of Object.entries(hostMap)) {
        hosts.push({ host: name, address: to.address, port: to.port });
      }
      for (const origin of options.allowOrigins ?? []) {
        const url = new URL(origin);
        if (url.protocol === "https:" && !(url.hostname in hostMap)) {
          hosts.push({ host: url.hostname, address: url.hostname, port: defaultPort(url) });
        }
      }
      const results = await Promise.all(
        hosts.map(async (h) => ({
          h,
          result: await verifiedSpki(h.host, h.address, h.port, options.ca!, timeoutMs),
        })),
      );
      for (const { h, result } of results) {
        if ("spki" in result) pins.add(result.spki);
        else untrusted.set(h.host, result.error);
      }
      args.push(`--ignore-certificate-errors-spki-list=${[...pins].join(",")}`);
    }
    // A fresh profile whose one preference turns network prediction off: without it Chromium opens
    // speculative connections (e.g. for an iframe's document) that no route sees.
    const profile = await makeTempDir("fedicheck-chromium-");
    await mkdir(join(profile, "Default"));
    await writeFile(
      join(profile, "Default", "Preferences"),
      JSON.stringify({ net: { network_prediction_options: 2 } }),
    );
    const { chromium } = await import("playwright-core");
    let context: BrowserContext;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath,
        headless: true,
        args,
        timeout: timeoutMs * 2,
        viewport,
        deviceScaleFactor: 1,
        serviceWorkers: "block",
        acceptDownloads: false,
        // Issue 7: Playwright's own signal handlers call process.exit(130) on Ctrl-C, before the run
        // could write results.json as "interrupted" (tests/security/interrupt.test.ts caught it). The
        // session closes the browser itself on every exit path.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
    } catch (error) {
      await rm(profile, { recursive: true, force: true });
      throw new ScreenshotError(
        `Chromium (${executablePath}) did not start: ${(error as Error).message.split("\n")[0]}`,
      );
    }
    await context.route("**/*", (route) => {
      const target = route.request().url();
      if (isAllowed(target)) return route.continue();
      block(target);
      return route.abort("blockedbyclient");
    });
    await context.routeWebSocket(
      () => true,
      (ws) => {
        if (isAllowed(ws.url())) return ws.connectToServer();
        block(ws.url());
        return ws.close({ code: 1008, reason: "blocked by fedicheck" });
      },
    );
    return { context, profile };
  };

  const browser = (): Promise<{ context: BrowserContext; profile: string }> => {
    if (closed) return Promise.reject(new ScreenshotError("the screenshotter is closed"));
    launching ??= launch().catch((error: unknown) => {
      launching = undefined; // a later capture may try again
      throw error;
    });
    return launching;
  };

  return {
    async capture(url, name) {
      if (!isAllowed(url)) {
        throw new ScreenshotError(
          `${url} is not on one of the run's hosts (${[...allowedNames].join(", ") || "none given"}); refusing to load it`,
        );
      }
      const safe =
        name
          .replace(/[^A-Za-z0-9._-]+/g, "_")
          .replace(/^\.+/, "")
          .slice(0, 150) || "screenshot";
      await mkdir(options.outDir, { recursive: true });
      const path = resolve(options.outDir, `${safe}.png`);
      const { context } = await browser();
      inFlight++;
      const page = await context.newPage();
      try {
        try {
          await page.goto(url, { waitUntil: "load", timeout: timeoutMs });
        } catch (error) {
          const host = new URL(url).hostname;
          const why = untrusted.has(host)
            ? ` (its certificate did not verify against the run's CA: ${untrusted.get(host)})`
            : "";
          throw new ScreenshotError(`cannot load ${url}${why}: ${(error as Error).message.split("\n")[0]}`);
        }
        await page.screenshot({
          path,
          type: "png",
          fullPage: options.fullPage ?? false,
          animations: "disabled",
          timeout: timeoutMs,
        });
        return path;
      } finally {
        await page.close().catch(() => undefined);
        // One profile serves every capture; drop cookies between them once none is in flight.
        if (--inFlight === 0) await context.clearCookies().catch(() => undefined);
      }
    },
    blocked: () => [...blocked],
    async close() {
      closed = true;
      const pending = launching;
      launching = undefined;
      const started = await pending?.catch(() => undefined);
      if (started) {
        await started.context.close().catch(() => undefined);
        await rm(started.profile, { recursive: true, force: true });
      }
    },
  };
}

/** Options of {@link screenshotEvidence}. */
export interface ScreenshotEvidenceOptions {
  /** Page to capture, e.g. a post's `webUrl`. */
  url: string;
  /** Evidence label, e.g. `fedify-b's page of the post`. */
  label: string;
  /** File name without extension, e.g. `PST-01-fedify-a-fedify-b`. */
  name: string;
  /** The run directory: the evidence path is stored relative to it, as reports expect. */
  runDir: string;
}

/**
 * Captures a page as evidence. Never throws: a failed capture becomes a `note` saying why, since a
 * missing screenshot must not change a verdict.
 */
export async function screenshotEvidence(
  shooter: Screenshotter,
  options: ScreenshotEvidenceOptions,
): Promise<Evidence> {
  try {
    const path = await shooter.capture(options.url, options.name);
    return { kind: "screenshot", label: options.label, path: relative(options.runDir, path) };
  } catch (error) {
    return {
      kind: "note",
      label: options.label,
      text: `no screenshot of ${options.url}: ${(error as Error).message}`,
    };
  }
}

/** The `webUrl` of a driver's post view kept as `view` evidence (see PostView.webUrl), if any. */
function webUrlOf(evidence: Evidence): string | undefined {
  if (evidence.kind !== "view" || typeof evidence.view !== "object" || evidence.view === null)
    return undefined;
  const url = (evidence.view as { webUrl?: unknown }).webUrl;
  return typeof url === "string" && /^https?:\/\//.test(url) ? url : undefined;
}

/**
 * For every `view` evidence of `cells` that carries a post's `webUrl` (drivers set it when the target
 * has a web page for the post), captures the page and appends the screenshot (or a note saying why
 * there is none) to the cell's evidence. Each URL is captured once per cell. Returns how many
 * screenshots were taken. Files are named `<check>-<sender>-<receiver>-<n>.png`.
 */
export async function attachScreenshots(
  shooter: Screenshotter,
  cells: CellResult[],
  runDir: string,
): Promise<number> {
  let taken = 0;
  for (const cell of cells) {
    const seen = new Set<string>();
    const added: Evidence[] = [];
    for (const evidence of cell.evidence) {
      const url = webUrlOf(evidence);
      if (url === undefined || seen.has(url)) continue;
      seen.add(url);
      const item = await screenshotEvidence(shooter, {
        url,
        label: `${evidence.label}: web page`,
        name: `${cell.checkId}-${cell.sender}-${cell.receiver}-${seen.size}`,
        runDir,
      });
      if (item.kind === "screenshot") taken++;
      added.push(item);
    }
    cell.evidence.push(...added);
  }
  return taken;
}
