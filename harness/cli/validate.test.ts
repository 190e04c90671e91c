import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "./main.ts";
import { AS2_ACCEPT, fetchDocument } from "./validate.ts";

const BIN = fileURLToPath(new URL("../../bin/fedicheck.js", import.meta.url));
const NOTE = {
  "@context": "https://www.w3.org/ns/activitystreams",
  id: "https://a.example/1",
  type: "Note",
  content: "hi",
};

let dir: string;
let server: Server;
let base: string;
let lastAccept: string | undefined;

/** Routes of the loopback server the URL tests fetch from. */
function route(req: IncomingMessage, res: ServerResponse): void {
  lastAccept = req.headers.accept;
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const hops = Number(url.searchParams.get("hops") ?? 0);
  switch (url.pathname) {
    case "/note":
      res.setHeader("content-type", "application/activity+json");
      res.end(JSON.stringify({ ...NOTE, id: `${base}/note` }));
      return;
    case "/foreign":
      res.setHeader("content-type", "application/activity+json");
      res.end(JSON.stringify(NOTE));
      return;
    case "/redirect":
      res.statusCode = 302;
      res.setHeader("location", hops > 0 ? `/redirect?hops=${hops - 1}` : "/note");
      res.end();
      return;
    case "/huge":
      res.setHeader("content-type", "application/json");
      res.end(`{"pad":"${"x".repeat(6 * 1024 * 1024)}"}`);
      return;
    case "/html":
      res.setHeader("content-type", "text/html");
      res.end("<!doctype html><p>not here</p>");
      return;
    case "/slow":
      return; // never answers
    default:
      res.statusCode = 404;
      res.end("not found");
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedicheck-validate-"));
  server = createServer(route);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs `fedicheck validate` in-process and captures what it prints. */
async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    out.push(args.join(" "));
  });
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    err.push(args.join(" "));
  });
  const code = await main(["validate", ...argv]);
  vi.restoreAllMocks();
  return { code, out: out.join("\n"), err: err.join("\n") };
}

async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

describe("fedicheck validate on files", () => {
  it("exits 0 for a valid document and prints a one-line ok", async () => {
    const path = await file("ok.json", NOTE);
    const { code, out } = await capture([path]);
    expect(code).toBe(0);
    expect(out).toBe(`${path}: ok (0 errors, 0 warnings, 0 notes)`);
  });

  it("exits 1 and groups findings by severity, with rule, pointer, message and source", async () => {
    const path = await file("bad.json", { ...NOTE, name: "<b>x</b>", to: ["as:Public"], glitter: 1 });
    const { code, out } = await capture([path]);
    expect(code).toBe(1);
    const lines = out.split("\n");
    expect(lines[0]).toBe(`${path}: FAIL (1 error, 1 warning, 1 note)`);
    expect(lines).toContain("  errors:");
    expect(lines).toContain("  warnings:");
    expect(lines).toContain("  notes:");
    expect(out).toContain('AS-05 /name expected plain text in name, found HTML "<b>x</b>"');
    expect(out).toContain("MUST, DEGRADED; AS2 Vocabulary");
    expect(out.indexOf("errors:")).toBeLessThan(out.indexOf("warnings:"));
    expect(out.includes("\u001b[")).toBe(false); // no colour when stdout is not a TTY
  });

  it("prints [{input, findings}] with --json and sums up several inputs in text", async () => {
    const good = await file("good.json", NOTE);
    const bad = await file("bad2.json", { ...NOTE, published: "2024-05-01" });
    const json = await capture(["--json", good, bad]);
    expect(json.code).toBe(1);
    const reports = JSON.parse(json.out) as { input: string; findings: { ruleId: string }[] }[];
    expect(reports.map((r) => [r.input, r.findings.map((f) => f.ruleId)])).toEqual([
      [good, []],
      [bad, ["AS-03"]],
    ]);
    const text = await capture([good, bad]);
    expect(text.out.split("\n").at(-1)).toBe("2 documents: 1 with errors, 1 without");
  });

  it("passes --kind, --delivered, --origin and --header on to the validator", async () => {
    const body = JSON.stringify({ ...NOTE, bcc: ["https://b.example/u"] });
    const path = await file("delivered.json", body);
    const { code, out } = await capture([
      "--json",
      "--kind=actor",
      "--delivered",
      "--origin",
      "https://mirror.example",
      "--header",
      "Digest: SHA-256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      path,
    ]);
    expect(code).toBe(1);
    const ids = (JSON.parse(out) as { findings: { ruleId: string }[] }[])[0]?.findings.map((f) => f.ruleId);
    expect(ids).toEqual(expect.arrayContaining(["DOC-KIND", "AS-06", "AS-07", "SIG-DIGEST-MISMATCH"]));
  });

  it("exits 2 with one line for a missing file, a directory, empty input and non-JSON", async () => {
    const empty = await file("empty.json", "  \n");
    const broken = await file("broken.json", '{"type": "Note",');
    for (const [input, expected] of [
      [join(dir, "missing.json"), "no such file"],
      [dir, "it is a directory"],
      [empty, "is empty"],
      [broken, "is not JSON"],
    ] as const) {
      const { code, err } = await capture([input]);
      expect(code, input).toBe(2);
      expect(err.split("\n"), input).toHaveLength(1);
      expect(err).toContain(expected);
      expect(err).toContain("expected");
    }
  });

  it("still validates the readable inputs when one is not, and exits 2", async () => {
    const good = await file("good2.json", NOTE);
    const { code, out, err } = await capture([join(dir, "nope.json"), good]);
    expect(code).toBe(2);
    expect(out).toContain(`${good}: ok`);
    expect(err).toContain("nope.json");
  });

  it("exits 2 on usage errors and 0 on --help", async () => {
    expect((await capture([])).code).toBe(2);
    expect((await capture([])).err).toContain("expected at least one file");
    expect((await capture(["--kind", "banana", "x.json"])).err).toContain("--kind expects one of");
    expect((await capture(["--frobnicate", "x.json"])).code).toBe(2);
    expect((await capture(["--header", "no-colon", "x.json"])).code).toBe(2);
    const help = await capture(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("usage: fedicheck validate");
  });
});

describe("fedicheck validate on URLs", () => {
  it("fetches with the AS2 Accept header and checks ids against the serving origin", async () => {
    const ok = await capture([`${base}/note`]);
    expect(ok.code).toBe(0);
    expect(lastAccept).toBe(AS2_ACCEPT);
    const foreign = await capture(["--json", `${base}/foreign`]);
    expect(foreign.code).toBe(1);
    const ids = (JSON.parse(foreign.out) as { findings: { ruleId: string }[] }[])[0]?.findings.map(
      (f) => f.ruleId,
    );
    expect(ids).toContain("AS-07");
  });

  it("follows up to 3 redirects and gives up on the 4th", async () => {
    const fetched = await fetchDocument(`${base}/redirect?hops=2`);
    expect(fetched.url).toBe(`${base}/note`);
    expect((await capture([`${base}/redirect?hops=2`])).code).toBe(0);
    const tooMany = await capture([`${base}/redirect?hops=3`]);
    expect(tooMany.code).toBe(2);
    expect(tooMany.err).toContain("expected at most 3 redirects");
  });

  it("exits 2 with one line for 404, HTML, an oversized body, a dead port and a non-http URL", async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/`;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    for (const [url, expected] of [
      [`${base}/missing`, "got HTTP 404"],
      [`${base}/html`, "is not JSON"],
      [`${base}/huge`, "expected at most 5242880 bytes"],
      [deadUrl, "cannot fetch"],
    ] as const) {
      const { code, err } = await capture([url]);
      expect(code, url).toBe(2);
      expect(err.split("\n"), url).toHaveLength(1);
      expect(err, url).toContain(expected);
    }
    await expect(fetchDocument("ftp://127.0.0.1/x")).rejects.toThrow(/expected an http or https URL/);
  });

  it("gives up after the timeout", async () => {
    const started = Date.now();
    await expect(fetchDocument(`${base}/slow`, { timeoutMs: 300 })).rejects.toThrow(
      /no complete answer within 0.3 s/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("caps the body size", async () => {
    await expect(fetchDocument(`${base}/note`, { maxBytes: 10 })).rejects.toThrow(
      /expected at most 10 bytes/,
    );
  });
});

describe("fedicheck validate as a process", () => {
  it("exits 2 on `echo '{' | fedicheck validate -` with one clear line and no stack trace", async () => {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [BIN, "validate", "-"], (error, stdout, stderr) => {
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      });
      child.stdin?.end("{\n");
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^fedicheck validate: standard input is not JSON \(.+\): expected one JSON document/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
