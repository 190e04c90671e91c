import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { parseCapture } from "../replay/capture.ts";
import { UsageError } from "./main.ts";
import { parseReplayTarget, run } from "./replay.ts";

const BIN = fileURLToPath(new URL("../../bin/fedicheck.js", import.meta.url));
const FIXTURE = fileURLToPath(
  new URL("../../fixtures/captures/mastodon-follow-post-update-delete.jsonl", import.meta.url),
);
const dir = mkdtempSync(join(tmpdir(), "fedicheck-cli-replay-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** Runs `fedicheck replay` in-process and collects what it prints. */
async function replay(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => void out.push(String(line)));
  vi.spyOn(console, "error").mockImplementation((line: unknown) => void err.push(String(line)));
  const code = await run(args);
  vi.restoreAllMocks();
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

describe("parseReplayTarget", () => {
  it("takes a bare implementation, with options, or a full target spec", () => {
    expect(parseReplayTarget("fedify-ref")).toEqual({ id: "target", implementation: "fedify-ref" });
    expect(parseReplayTarget("fedify-ref,defects=ignore-delete+drop-attachments")).toEqual({
      id: "target",
      implementation: "fedify-ref",
      defects: ["ignore-delete", "drop-attachments"],
    });
    expect(parseReplayTarget("m=mastodon,origin=https://m.test,token=env:TOK")).toEqual({
      id: "m",
      implementation: "mastodon",
      origin: "https://m.test",
      token: "env:TOK",
    });
    expect(() => parseReplayTarget("fedify-ref,colour=blue")).toThrow(UsageError);
  });
});

describe("fedicheck replay", () => {
  it("replays a fixture to a local fedify-ref, prints one line per activity, judges the sidecar", async () => {
    const outFile = join(dir, "report.json");
    const { code, stdout } = await replay([
      FIXTURE,
      "--to",
      "fedify-ref",
      "--settle-ms",
      "1000",
      "--out",
      outFile,
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /replaying .*mastodon-follow-post-update-delete\.jsonl \(4 deliveries, 1 documents\) to target \(fedify-ref/,
    );
    expect(stdout).toMatch(/ {2}1 {2}Accept\(Follow\) +→ 202 +following/);
    expect(stdout).toMatch(/ {2}4 {2}Delete +→ 202 +deleted/);
    expect(stdout).toContain("✓ DEL-01");
    const written = JSON.parse(readFileSync(outFile, "utf8"));
    expect(written.report.activities).toHaveLength(4);
    expect(written.checks.map((c: { verdict: string }) => c.verdict)).toEqual([
      "passed",
      "passed",
      "passed",
      "passed",
    ]);
  });

  it("exits 1 when a bug-zoo target breaks an expected check, and --json keeps stdout to the document", async () => {
    const { code, stdout, stderr } = await replay([
      FIXTURE,
      "--to",
      "fedify-ref,defects=ignore-delete",
      "--settle-ms",
      "800",
      "--json",
    ]);
    expect(code).toBe(1);
    const document = JSON.parse(stdout);
    const failed = document.checks.filter((c: { verdict: string }) => c.verdict === "failed");
    expect(failed.map((c: { check: string }) => c.check)).toEqual(["DEL-01"]);
    expect(failed[0].message).toMatch(/^activity 4 \(Delete/);
    expect(stderr).toContain("delete-ignored");
  });

  it("rejects bad input with a usage error that says what to do", async () => {
    await expect(run([])).rejects.toThrow(/exactly one capture file/);
    await expect(run([FIXTURE])).rejects.toThrow(/--to is required/);
    await expect(run([FIXTURE, "--to", "fedify-ref", "--timing", "fast"])).rejects.toThrow(
      /--timing expects preserve, compress, step/,
    );
    await expect(run([FIXTURE, "--to", "fedify-ref", "--settle-ms", "soon"])).rejects.toThrow(/whole number/);
    const broken = join(dir, "broken.jsonl");
    writeFileSync(broken, '{"version":1,"kind":"delivery"}\nnot json\n');
    const error = await run([broken, "--to", "fedify-ref"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/line 1: .*\n.*line 2: not JSON/);
    await expect(run([FIXTURE, "--to", "fedify-ref", "--expect", join(dir, "none.json")])).rejects.toThrow(
      UsageError,
    );
  });
});

describe("fedicheck peer --record", () => {
  it("writes what arrives to a capture file and says how much it recorded on Ctrl-C", async () => {
    const file = join(dir, "peer.jsonl");
    const child = spawn(process.execPath, [BIN, "peer", "--port", "0", "--record", file], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    try {
      const lines: string[] = [];
      const waitFor = (pattern: RegExp) =>
        new Promise<string>((resolve, reject) => {
          const found = lines.find((l) => pattern.test(l));
          if (found) return resolve(found);
          const timer = setTimeout(
            () => reject(new Error(`no line ${pattern}: ${lines.join("\n")}`)),
            20_000,
          );
          rl.on("line", (line) => {
            if (pattern.test(line)) {
              clearTimeout(timer);
              resolve(line);
            }
          });
        });
      const rl = createInterface({ input: child.stdout });
      rl.on("line", (line) => lines.push(line));
      const origin = /listening on (\S+)/.exec(await waitFor(/listening on/))![1]!;
      await waitFor(/^Recording a capture to /);
      await waitFor(/^Waiting/);
      const response = await request(`${origin}/users/alice/inbox`, {
        method: "POST",
        headers: { "content-type": "application/activity+json", cookie: "sid=do-not-keep-me" },
        body: JSON.stringify({
          type: "Create",
          actor: "http://127.0.0.1:9/users/x",
          object: { type: "Note" },
        }),
      });
      expect(response.statusCode).toBe(401);
      await response.body.text();
      await waitFor(/POST \/users\/alice\/inbox/);
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(lines).toContain(`Recorded 1 event(s) to ${file}.`);
      const capture = parseCapture(readFileSync(file, "utf8"));
      expect(capture.header.receiver).toMatchObject({
        origin,
        actors: [{ name: "alice", id: `${origin}/users/alice` }],
      });
      expect(capture.events).toEqual([
        expect.objectContaining({
          kind: "delivery",
          seq: 1,
          recipient: "alice",
          status: 401,
          activity: { type: "Create", actor: "http://127.0.0.1:9/users/x", object: { type: "Note" } },
          signature: expect.objectContaining({ ok: false }),
        }),
      ]);
      expect(readFileSync(file, "utf8")).not.toContain("do-not-keep-me");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
