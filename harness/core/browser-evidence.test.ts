/**
 * Screenshots as evidence, in the real Chromium: a fedify-ref serving HTTPS as `https://a.test` with a
 * per-run CA (reached through the host map), a post with an image and its alt text, captured and
 * checked pixel by pixel; a hostile page whose requests and WebSocket must never leave the fence; a
 * host whose certificate comes from another CA; a URL outside the run.
 *
 * The post's screenshot is also copied to reports/screenshots/ (gitignored) for a person to look at.
 * Skips, saying why, when Chromium is missing; with CI=true a missing browser fails instead.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFedifyRefDriver } from "../drivers/fedify-ref.ts";
import { type FedifyRefProcess, startFedifyRefProcess } from "../runtime/process.ts";
import { createTestCa } from "../runtime/test-ca.ts";
import {
  attachScreenshots,
  chromiumPath,
  createScreenshotter,
  hostResolverRules,
  ScreenshotError,
  type Screenshotter,
  screenshotEvidence,
} from "./browser-evidence.ts";
import type { CellResult } from "./model.ts";
import { decodePng, distinctColours, encodePng, pngSize, type RgbaImage } from "./png.ts";

const CHROMIUM = chromiumPath();
const IN_CI = process.env.CI === "true";
const SCREENSHOTS = fileURLToPath(new URL("../../reports/screenshots/", import.meta.url));

if (!CHROMIUM.present && !IN_CI) {
  console.warn(`browser evidence tests skipped: ${CHROMIUM.path} not found (install chromium to run them)`);
}

describe.runIf(IN_CI && !CHROMIUM.present)("browser evidence under CI", () => {
  it(`needs ${CHROMIUM.path} (CI=true: a missing browser is a failure, not a skip)`, () => {
    expect(CHROMIUM.present, `${CHROMIUM.path} is missing; install chromium on the CI machine`).toBe(true);
  });
});

describe("host resolver rules", () => {
  it("maps the run's names, excludes allowed unmapped names and sends every other name nowhere", () => {
    expect(
      hostResolverRules({ "a.test": { address: "127.0.0.2", port: 443 } }, [
        "a.test",
        "localhost",
        "127.0.0.1",
        "b.test",
      ]),
    ).toBe("MAP a.test 127.0.0.2:443, MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE b.test");
  });
});

/** A 240 × 160 picture: a red square on a blue field, easy to find in a screenshot. */
function picture(): RgbaImage {
  const width = 240;
  const height = 160;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const red = x >= 80 && x < 160 && y >= 40 && y < 120;
      data.set(red ? [220, 20, 20, 255] : [20, 60, 200, 255], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

/** Pixels close to a colour. */
function countNear(image: RgbaImage, [r, g, b]: [number, number, number], tolerance = 30): number {
  let n = 0;
  for (let i = 0; i < image.data.length; i += 4) {
    if (
      Math.abs(image.data[i]! - r) <= tolerance &&
      Math.abs(image.data[i + 1]! - g) <= tolerance &&
      Math.abs(image.data[i + 2]! - b) <= tolerance
    ) {
      n++;
    }
  }
  return n;
}

/** A loopback server that must never be reached: it counts requests and upgrade attempts. */
async function decoy(): Promise<{ server: Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createHttpServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end("leaked");
  });
  // Any connection counts, TLS attempts and WebSocket upgrades included.
  server.on("connection", () => hits.push("connection"));
  server.on("upgrade", (req, socket) => {
    hits.push(`UPGRADE ${req.url}`);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

describe.skipIf(!CHROMIUM.present)(
  CHROMIUM.present
    ? "screenshots in Chromium"
    : `screenshots in Chromium (skipped: ${CHROMIUM.path} not found)`,
  () => {
    let dir: string;
    let ref: FedifyRefProcess;
    let caPem: string;
    let trap: Awaited<ReturnType<typeof decoy>>;
    const servers: Server[] = [];
    const shooters: Screenshotter[] = [];

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "fedicheck-screens-"));
      const ca = await createTestCa();
      caPem = ca.certPem;
      const cert = await ca.issue(["a.test", "127.0.0.1"]);
      [ref, trap] = await Promise.all([
        startFedifyRefProcess({
          name: "fedify-shots",
          https: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: ca.certPem },
          origin: "https://a.test",
        }),
        decoy(),
      ]);
      servers.push(trap.server);
    });

    afterAll(async () => {
      await Promise.all(shooters.map((s) => s.close()));
      await ref?.stop();
      for (const s of servers) s.close();
      await rm(dir, { recursive: true, force: true });
    });

    it("captures how fedify-ref renders a post with an image and its alt text", {
      timeout: 90_000,
    }, async () => {
      const driver = createFedifyRefDriver({ url: ref.url, token: ref.token, ca: caPem });
      const alice = await driver.provisionAccount("alice");
      // Two more attachments point outside the run: the page may render them, the browser must not fetch them.
      const posted = await driver.post(alice, {
        content: "Harbour at dusk, seen from the pier.",
        attachments: [
          { mediaType: "image/png", data: encodePng(picture()), description: "A red square on a blue field" },
          {
            mediaType: "image/png",
            url: `http://127.0.0.1:${trap.port}/pixel.png`,
            description: "hotlinked",
          },
          { mediaType: "image/gif", url: "https://elsewhere.test/tracker.gif", description: "tracker" },
        ],
      });
      await driver.close();
      expect(posted.url).toMatch(/^https:\/\/a\.test\/@alice\//);

      const shooter = createScreenshotter({
        outDir: join(dir, "shots"),
        ca: [caPem],
        hostMap: { "a.test": { address: "127.0.0.1", port: ref.port } },
        viewport: { width: 800, height: 600 },
        // Generous: CI runs this file beside JVMs and servers on two cores.
        timeoutMs: 30_000,
      });
      shooters.push(shooter);
      const started = Date.now();
      const path = await shooter.capture(posted.url!, "PST-01 fedify-a→fedify-b");
      const ms = Date.now() - started;
      expect(path).toBe(join(dir, "shots", "PST-01_fedify-a_fedify-b.png"));

      const png = await readFile(path);
      expect(pngSize(png)).toEqual({ width: 800, height: 600 });
      const image = decodePng(png);
      expect(distinctColours(image), "a rendered page, not a blank one").toBeGreaterThan(20);
      // The attachment was fetched through the host map and trusted through the CA: its red square
      // (80 × 80 px at scale 1, drawn no larger than its 240 × 160 frame) is on screen.
      expect(countNear(image, [220, 20, 20])).toBeGreaterThan(3000);
      expect(countNear(image, [20, 60, 200])).toBeGreaterThan(10_000);
      // The images pointing elsewhere were stopped before leaving.
      expect(trap.hits).toEqual([]);
      // (Chromium upgrades the http image of an https page to https, so compare paths.)
      expect(shooter.blocked().map((u) => new URL(u).pathname)).toEqual(
        expect.arrayContaining(["/pixel.png", "/tracker.gif"]),
      );

      await mkdir(SCREENSHOTS, { recursive: true });
      await copyFile(path, join(SCREENSHOTS, "browser-evidence-post.png"));
      console.log(`post screenshot in ${ms} ms (first capture, browser start included)`);

      // The same as evidence, stored relative to the run directory; a second capture reuses the browser.
      const evidence = await screenshotEvidence(shooter, {
        url: posted.url!,
        label: "a.test's page",
        name: "again",
        runDir: dir,
      });
      expect(evidence).toEqual({
        kind: "screenshot",
        label: "a.test's page",
        path: join("shots", "again.png"),
      });

      // A cell whose view evidence carries the post's webUrl gets the screenshot appended.
      const cell = {
        checkId: "PST-01",
        sender: "fedify-a",
        receiver: "fedify-b",
        evidence: [
          { kind: "view", label: "fedify-b's copy", view: { uri: posted.uri, webUrl: posted.url } },
          { kind: "view", label: "fedify-b's timeline", view: [{ webUrl: posted.url }] },
        ],
      } as unknown as CellResult;
      expect(await attachScreenshots(shooter, [cell], dir)).toBe(1);
      expect(cell.evidence[2]).toEqual({
        kind: "screenshot",
        label: "fedify-b's copy: web page",
        path: join("shots", "PST-01-fedify-a-fedify-b-1.png"),
      });
      expect(cell.evidence).toHaveLength(3);
    });

    it("keeps a hostile page's requests and WebSocket inside the fence", { timeout: 60_000 }, async () => {
      const page = `<!doctype html><title>hostile</title><h1>hostile page</h1>
<img src="http://127.0.0.1:${trap.port}/img.png">
<link rel="stylesheet" href="http://127.0.0.1:${trap.port}/style.css">
<iframe src="http://127.0.0.1:${trap.port}/frame"></iframe>
<script>
fetch("http://127.0.0.1:${trap.port}/fetch", { mode: "no-cors" }).catch(() => {});
try { new WebSocket("ws://127.0.0.1:${trap.port}/ws"); } catch (e) {}
navigator.sendBeacon && navigator.sendBeacon("http://127.0.0.1:${trap.port}/beacon", "x");
</script>`;
      const host = createHttpServer((_req, res) => {
        res.setHeader("content-type", "text/html");
        res.end(page);
      });
      servers.push(host);
      await new Promise<void>((resolve) => host.listen(0, "127.0.0.1", resolve));
      const origin = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
      const blocked: string[] = [];
      const shooter = createScreenshotter({
        outDir: join(dir, "hostile"),
        allowOrigins: [origin],
        timeoutMs: 30_000,
        onBlocked: (url) => blocked.push(url),
      });
      shooters.push(shooter);
      const path = await shooter.capture(`${origin}/post/1`, "hostile");
      // Give stray requests time to arrive, should any have escaped.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(pngSize(await readFile(path))).toEqual({ width: 1024, height: 768 });
      expect(trap.hits).toEqual([]);
      const paths = blocked.map((u) => new URL(u).pathname).sort();
      expect(paths).toEqual(expect.arrayContaining(["/fetch", "/frame", "/img.png", "/style.css", "/ws"]));
    });

    it("does not trust a certificate from another CA", { timeout: 60_000 }, async () => {
      const other = await createTestCa({ commonName: "someone else's CA" });
      const cert = await other.issue(["b.test"]);
      const server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) =>
        res.end("<h1>b</h1>"),
      );
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const shooter = createScreenshotter({
        outDir: join(dir, "other"),
        ca: [caPem],
        hostMap: { "b.test": { address: "127.0.0.1", port: (server.address() as AddressInfo).port } },
        timeoutMs: 10_000,
      });
      shooters.push(shooter);
      const error = await shooter.capture("https://b.test/", "b").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ScreenshotError);
      expect((error as Error).message).toMatch(
        /did not verify against the run's CA.*ERR_CERT_AUTHORITY_INVALID/s,
      );
    });

    it("refuses URLs outside the run, and turns the refusal into a note", async () => {
      const shooter = createScreenshotter({
        outDir: join(dir, "none"),
        allowOrigins: ["http://127.0.0.1:9"],
      });
      shooters.push(shooter);
      await expect(shooter.capture("https://example.org/", "x")).rejects.toThrow(
        /not on one of the run's hosts/,
      );
      const evidence = await screenshotEvidence(shooter, {
        url: "https://example.org/",
        label: "web",
        name: "x",
        runDir: dir,
      });
      expect(evidence).toMatchObject({
        kind: "note",
        label: "web",
        text: expect.stringMatching(/^no screenshot of https:\/\/example\.org\//),
      });
    });
  },
);
