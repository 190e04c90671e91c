/**
 * The dashboard in a real browser: opened from disk in Chromium, it must draw the matrix, filter it,
 * show a cell's evidence, stay inert with hostile evidence and never touch the network. Screenshots
 * go to reports/screenshots/ (gitignored) for a person to look at, with the measured size and timings.
 *
 * Skips, saying why, when /usr/bin/chromium is missing; with CI=true a missing browser fails instead.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../tests/temp-dir.ts";
import type { RunResults } from "../core/model.ts";
import { renderDashboard } from "./html.ts";
import { sampleResults } from "./sample.ts";

// FEDICHECK_CHROMIUM points elsewhere (and lets the skip and CI paths be tried).
const CHROMIUM = process.env.FEDICHECK_CHROMIUM ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI === "true";
const SCREENSHOTS = fileURLToPath(new URL("../../reports/screenshots/", import.meta.url));
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

// The callbacks below run in the page; the project has no DOM lib, so declare the little they use
// (module-scoped: nothing leaks into other files).
declare const location: { hash: string };
declare const document: { getElementById(id: string): unknown };
declare const navigator: { clipboard: { readText(): Promise<string> } };
declare function getComputedStyle(element: unknown): { backgroundColor: string; position: string };
/** An element as the page callbacks use it. */
interface PageElement {
  getAttribute(name: string): string | null;
  closest(selector: string): PageElement | null;
  textContent: string | null;
  open?: boolean;
}

if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(`dashboard browser tests skipped: ${CHROMIUM} not found (install chromium to run them)`);
}

describe.runIf(IN_CI && !HAVE_CHROMIUM)("dashboard browser tests under CI", () => {
  it(`need ${CHROMIUM} (CI=true: a missing browser is a failure, not a skip)`, () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing; install chromium on the CI machine`).toBe(true);
  });
});

const title = HAVE_CHROMIUM
  ? "dashboard in Chromium"
  : `dashboard in Chromium (skipped: ${CHROMIUM} not found)`;

describe.skipIf(!HAVE_CHROMIUM)(title, () => {
  let browser: Browser;
  let dir: string;
  const results = sampleResults({
    implementations: ["fedify-ref", "mastodon"],
    checks: 40,
    seed: 1,
    runId: "run-42",
  });
  const previous = sampleResults({
    implementations: ["fedify-ref", "mastodon"],
    checks: 40,
    seed: 7,
    runId: "run-41",
    startedAt: "2025-01-14T10:00:00.000Z",
  });
  const history = [3, 4, 5].map((seed, i) =>
    sampleResults({ checks: 40, seed, runId: `run-3${i}`, startedAt: `2025-01-1${i}T10:00:00.000Z` }),
  );
  let file: string;

  beforeAll(async () => {
    dir = await tempDir("fedicheck-dashboard-");
    await mkdir(SCREENSHOTS, { recursive: true });
    file = join(dir, "index.html");
    await writeFile(file, renderDashboard(results, { previous, history }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** A page that records every request, page error, console error and dialog. */
  async function open(path: string, hash = ""): Promise<{ page: Page; seen: string[]; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const seen: string[] = [];
    const problems: string[] = [];
    page.on("request", (r) => seen.push(r.url()));
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("dialog", async (d) => {
      problems.push(`dialog: ${d.message()}`);
      await d.dismiss();
    });
    await page.goto(`${pathToFileURL(path).href}${hash}`);
    await page.waitForSelector("table.matrix, .view .empty, #drawer", { timeout: 15_000 });
    return { page, seen, problems };
  }

  function failedWithFindings(run: RunResults): number {
    return run.cells.findIndex(
      (c) =>
        c.verdict === "failed" &&
        c.expectation === undefined &&
        c.evidence.some((e) => e.kind === "payload" && e.findings.length > 0),
    );
  }

  it("draws the matrix: one button per cell, in its row, coloured and with a symbol", async () => {
    const { page, seen, problems } = await open(file);
    const index = failedWithFindings(results);
    const cell = results.cells[index]!;
    const button = page.locator(`button.c[data-i="${index}"]`);
    await expect(button.getAttribute("class")).resolves.toContain("v-failed");
    expect(await button.textContent()).toBe("✗");
    expect(await button.evaluate((b: PageElement) => b.closest("tr")!.getAttribute("data-check"))).toBe(
      cell.checkId,
    );
    // Colour: failed cells are red, passed ones green.
    expect(await button.evaluate((b: PageElement) => getComputedStyle(b).backgroundColor)).toBe(
      "rgb(209, 36, 47)",
    );
    const slots = new Set(results.cells.map((c) => `${c.checkId}|${c.sender}|${c.receiver}`));
    expect(await page.locator("button.c").count()).toBe(slots.size);
    expect(await page.locator("tbody tr[data-check]").count()).toBe(results.checks.length);
    // Sticky header row and first column.
    expect(
      await page
        .locator("thead tr.senders th")
        .first()
        .evaluate((th: PageElement) => getComputedStyle(th).position),
    ).toBe("sticky");
    await page.screenshot({ path: join(SCREENSHOTS, "01-matrix.png") });
    // Hovering shows the tooltip with the cell's message.
    await button.hover();
    await expect(page.locator("#tip").textContent()).resolves.toContain(cell.message);
    await page.screenshot({ path: join(SCREENSHOTS, "02-tooltip.png") });
    expect(problems).toEqual([]);
    expect(seen.filter((u) => !u.startsWith("file://"))).toEqual([]);
    await page.close();
  });

  it("filters to failures: only failed cells and the rows and columns holding them stay visible", async () => {
    const { page, problems } = await open(file);
    await page.locator('.toolbar .vchip[data-verdict="failed"]').click();
    await page.waitForFunction(() => location.hash.includes("verdict=failed"));
    const visible = await page.$$eval("button.c:not(.off)", (bs: PageElement[]) =>
      bs.map((b) => b.getAttribute("data-v")),
    );
    const failed = results.cells.filter((c) => c.verdict === "failed");
    expect(visible.length).toBe(new Set(failed.map((c) => `${c.checkId}|${c.sender}|${c.receiver}`)).size);
    expect(new Set(visible)).toEqual(new Set(["failed"]));
    // Hidden cells really are invisible, and rows without failures are gone.
    const hidden = page.locator("button.c.off").first();
    if ((await page.locator("button.c.off").count()) > 0) expect(await hidden.isVisible()).toBe(false);
    const rows = await page.$$eval("tbody tr[data-check]", (trs: PageElement[]) =>
      trs.map((tr) => tr.getAttribute("data-check")),
    );
    expect(new Set(rows)).toEqual(new Set(failed.map((c) => c.checkId)));
    const columns = await page.locator("thead tr.senders th").count();
    expect(columns).toBe(new Set(failed.map((c) => `${c.sender}|${c.receiver}`)).size);
    await page.screenshot({ path: join(SCREENSHOTS, "03-failures-only.png") });
    // Narrow further by suite and implementation; the URL keeps the filters.
    await page.selectOption('select[data-filter="suite"]', "follow");
    await page.selectOption('select[data-filter="impl"]', "mastodon");
    const narrowed = await page.$$eval("tbody tr[data-check]", (trs: PageElement[]) =>
      trs.map((tr) => tr.getAttribute("data-check")),
    );
    expect(narrowed.length).toBeGreaterThan(0);
    for (const id of narrowed) expect(id).toMatch(/^FOL-/);
    const pairs = await page.$$eval("thead tr.senders th", (ths: PageElement[]) =>
      ths.map((th) => th.getAttribute("title")),
    );
    for (const p of pairs) expect(p).toContain("mastodon");
    expect(decodeURIComponent(await page.evaluate(() => location.hash))).toBe(
      "#suite=follow&impl=mastodon&verdict=failed",
    );
    expect(problems).toEqual([]);
    await page.close();
  });

  it("opens a failing cell with its evidence: requirement, expected vs observed, highlighted findings", async () => {
    const index = failedWithFindings(results);
    const cell = results.cells[index]!;
    const check = results.checks.find((c) => c.id === cell.checkId)!;
    const { page, problems } = await open(file);
    await page.locator(`button.c[data-i="${index}"]`).click();
    await page.waitForSelector("#drawer");
    expect(await page.evaluate(() => location.hash)).toBe(`#cell=${index}`);
    const drawer = page.locator("#drawer");
    await expect(drawer.locator("h2").textContent()).resolves.toBe(`${cell.checkId}${check.title}`);
    await expect(drawer.locator(".req").textContent()).resolves.toBe(check.requirement);
    await expect(drawer.locator(".eo .exp pre").textContent()).resolves.toBe(cell.expected);
    await expect(drawer.locator(".eo .obs pre").textContent()).resolves.toBe(cell.observed);
    await expect(drawer.locator(".repro code").textContent()).resolves.toBe(cell.reproduce);
    // The finding's line is highlighted, its message annotated under it, its pointer listed.
    const payload = drawer.locator('details.ev[data-kind="payload"]');
    const highlighted = payload.locator(".json .ln.hl-error");
    expect(await highlighted.count()).toBe(1);
    expect(await highlighted.getAttribute("data-ptr")).toBe("/object/published");
    expect(await highlighted.textContent()).toContain('"published"');
    await expect(payload.locator(".json .note.error").textContent()).resolves.toContain("AS-03");
    await expect(payload.locator(".finding .ptr").first().textContent()).resolves.toBe("/object/published");
    // Signed headers are marked.
    const signed = await drawer
      .locator('details.ev[data-kind="http"] tr.signed td.hn')
      .evaluateAll((tds: PageElement[]) => tds.map((td) => td.textContent));
    expect(signed).toEqual(expect.arrayContaining(["hostSIGNED", "dateSIGNED", "digestSIGNED"]));
    await page.screenshot({ path: join(SCREENSHOTS, "04-cell-detail.png") });
    // The validator chips at the top jump to the highlighted line.
    await expect(drawer.locator(".fsum .fchip.error").textContent()).resolves.toBe("AS-03 /object/published");
    await drawer.locator(".fsum .fchip.error").click();
    await page.waitForTimeout(700);
    const box = (await highlighted.boundingBox())!;
    expect(box.y).toBeGreaterThan(0);
    expect(box.y + box.height).toBeLessThan(900);
    await payload.scrollIntoViewIfNeeded();
    await payload.locator(".finding").first().click();
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(SCREENSHOTS, "05-cell-payload-findings.png") });
    // Copy the reproduce command: the button confirms, the clipboard holds the command.
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await drawer.locator(".repro button").click();
    await drawer.locator(".repro button", { hasText: "Copied" }).waitFor({ timeout: 5_000 });
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(cell.reproduce);
    // Escape closes; the hash follows.
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => !document.getElementById("drawer"));
    expect(await page.evaluate(() => location.hash)).toBe("");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("opens straight at a cell from the URL, and shows scorecards, changes and history", async () => {
    const index = failedWithFindings(results);
    const { page, problems } = await open(file, `#cell=${index}`);
    await expect(page.locator("#drawer .message").textContent()).resolves.toBe(results.cells[index]!.message);
    await page.goto(`${pathToFileURL(file).href}#view=impl`);
    await page.waitForSelector(".card[data-impl]");
    expect(
      await page.$$eval(".card[data-impl]", (cs: PageElement[]) =>
        cs.map((c) => c.getAttribute("data-impl")),
      ),
    ).toEqual(["fedify-ref", "mastodon"]);
    await page.screenshot({ path: join(SCREENSHOTS, "06-implementations.png") });
    await page.goto(`${pathToFileURL(file).href}#view=changes`);
    await page.waitForSelector(".changes");
    await expect(page.locator(".changes h3").first().textContent()).resolves.toMatch(/^New failures\s+\d+$/);
    await page.screenshot({ path: join(SCREENSHOTS, "07-changes.png") });
    await page.goto(`${pathToFileURL(file).href}#view=history`);
    await page.waitForSelector("svg.spark");
    expect(await page.locator("svg.spark").count()).toBe(2);
    await page.screenshot({ path: join(SCREENSHOTS, "08-history.png") });
    expect(problems).toEqual([]);
    await page.close();
  });

  it("picks between several runs, and warns about a partial one", async () => {
    const running = sampleResults({ checks: 10, seed: 2, runId: "run-43", status: "running" });
    const path = join(dir, "runs.html");
    await writeFile(path, renderDashboard([previous, results, running]));
    const { page, problems } = await open(path);
    await expect(page.locator(".runid").textContent()).resolves.toBe("run-43");
    await expect(page.locator(".banner").textContent()).resolves.toContain("results are partial");
    await page.selectOption("select.runpick", "0");
    await page.waitForFunction(() => location.hash === "#run=0");
    await expect(page.locator(".runid").textContent()).resolves.toBe("run-41");
    expect(await page.locator(".banner").count()).toBe(0);
    expect(await page.locator("tbody tr[data-check]").count()).toBe(previous.checks.length);
    // The second run is compared with the first.
    await page.selectOption("select.runpick", "1");
    await page.locator(".tab", { hasText: "Changes" }).click();
    await expect(page.locator(".view > .stack > p").first().textContent()).resolves.toContain("run-41");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("stays inert with hostile evidence and makes no request beyond its own file", async () => {
    const hostile = sampleResults({
      checks: 30,
      hostile: true,
      failureRate: 0.5,
      runId: "<img src=x onerror=alert(3)>",
    });
    const path = join(dir, "hostile.html");
    await writeFile(path, renderDashboard(hostile));
    const index = failedWithFindings(hostile);
    const { page, seen, problems } = await open(path, `#cell=${index}`);
    await page.waitForSelector("#drawer");
    // Open every evidence item so all hostile text is in the DOM.
    await page.$$eval("details", (ds: PageElement[]) => {
      for (const d of ds) d.open = true;
    });
    await page.waitForTimeout(300);
    expect(await page.locator("#drawer .message").textContent()).toContain("<script>alert(1)</script>");
    expect(await page.locator(".runid").textContent()).toBe("<img src=x onerror=alert(3)>");
    // No element came from the data: the only scripts are the page's two, no <img> but screenshots'.
    expect(await page.locator("script").count()).toBe(2);
    const images = await page.$$eval("img", (is: PageElement[]) => is.map((i) => i.getAttribute("src")));
    for (const src of images) expect(src).toMatch(/^screenshots\//);
    expect(problems.filter((p) => !p.includes("ERR_FILE_NOT_FOUND"))).toEqual([]);
    expect(seen.filter((u) => !u.startsWith("file://"))).toEqual([]);
    await page.close();
  });

  it("measures size and render time", async () => {
    const small = renderDashboard(results);
    const implementations = [
      "mastodon",
      "gotosocial",
      "misskey",
      "pleroma",
      "akkoma",
      "fedify-ref",
      "hollo",
      "lemmy",
    ];
    implementations.push("peertube", "sharkey");
    const big = sampleResults({ implementations, checks: 60, seed: 11 });
    const t0 = performance.now();
    const html = renderDashboard(big);
    const renderMs = performance.now() - t0;
    const path = join(dir, "big.html");
    await writeFile(path, html);
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const t1 = performance.now();
    await page.goto(pathToFileURL(path).href);
    await page.waitForSelector("table.matrix");
    const loadMs = performance.now() - t1;
    const buttons = await page.locator("button.c").count();
    await page.screenshot({ path: join(SCREENSHOTS, "09-ten-implementations.png") });
    // Filtering the big matrix stays quick.
    const t2 = performance.now();
    await page.locator('.toolbar .vchip[data-verdict="failed"]').click();
    await page.waitForFunction(() => location.hash.includes("verdict=failed"));
    const filterMs = performance.now() - t2;
    await page.close();
    const metrics = {
      threeTargets: { cells: results.cells.length, bytes: Buffer.byteLength(small) },
      tenImplementations: {
        targets: big.targets.length,
        cells: big.cells.length,
        bytes: Buffer.byteLength(html),
        renderMs: Math.round(renderMs),
        browserLoadMs: Math.round(loadMs),
        filterMs: Math.round(filterMs),
        matrixButtons: buttons,
      },
    };
    await writeFile(join(SCREENSHOTS, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
    console.log(`dashboard metrics: ${JSON.stringify(metrics)}`);
    expect(buttons).toBe(new Set(big.cells.map((c) => `${c.checkId}|${c.sender}|${c.receiver}`)).size);
    // Generous budgets: they catch an accidental quadratic, not a slow machine.
    expect(renderMs).toBeLessThan(10_000);
    expect(loadMs).toBeLessThan(20_000);
  });
});
