import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { formatEntry } from "./peer.ts";

const BIN = fileURLToPath(new URL("../../bin/fedicheck.js", import.meta.url));

/** Spawns `fedicheck peer` and gives line-by-line access to its output (both streams, tagged). */
function spawnPeer(args: string[]) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, "peer", ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  type Line = { stream: "stdout" | "stderr"; text: string };
  const lines: Line[] = [];
  const waiters: Array<{ test: (line: Line) => boolean; resolve: (line: string) => void }> = [];
  const onLine = (line: Line) => {
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.test(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line.text);
      }
    }
  };
  createInterface({ input: child.stdout }).on("line", (text) => onLine({ stream: "stdout", text }));
  createInterface({ input: child.stderr }).on("line", (text) => onLine({ stream: "stderr", text }));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    exited,
    text: (stream: Line["stream"]) => lines.filter((l) => l.stream === stream).map((l) => l.text),
    /** Resolves with the first line of `stream` (past or future) that matches. */
    line(
      test: (text: string) => boolean,
      stream: Line["stream"] = "stdout",
      timeoutMs = 20_000,
    ): Promise<string> {
      const matches = (l: Line) => l.stream === stream && test(l.text);
      const found = lines.find(matches);
      if (found) return Promise.resolve(found.text);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching line; got:\n${lines.map((l) => l.text).join("\n")}`)),
          timeoutMs,
        );
        waiters.push({
          test: matches,
          resolve: (text) => {
            clearTimeout(timer);
            resolve(text);
          },
        });
      });
    },
  };
}

describe("fedicheck peer", () => {
  it("prints its actors, then one line per request, and stops on Ctrl-C", async () => {
    const peer = spawnPeer(["--port", "0", "--actors", "alice,bob"]);
    try {
      const banner = await peer.line((l) => l.includes("listening on"));
      const origin = /listening on (\S+)/.exec(banner)![1]!;
      const aliceLine = await peer.line((l) => l.includes("/users/alice "));
      expect(aliceLine).toContain(`inbox ${origin}/users/alice/inbox`);
      await peer.line((l) => l.includes("/users/bob "));
      await peer.line((l) => l.startsWith("Waiting"));

      const response = await request(`${origin}/users/alice/inbox`, {
        method: "POST",
        headers: { "content-type": "application/activity+json" },
        body: JSON.stringify({
          type: "Create",
          actor: "http://127.0.0.1:9/users/x",
          object: { type: "Note" },
        }),
      });
      expect(response.statusCode).toBe(401);
      await response.body.text();
      const line = await peer.line((l) => l.includes("POST /users/alice/inbox"));
      expect(line).toContain("→ 401");
      expect(line).toContain("Create(Note) by http://127.0.0.1:9/users/x");
      expect(line).toMatch(/sig FAILED: .*not signed/);
      expect(line).toMatch(/findings \d+ error/);

      peer.child.kill("SIGINT");
      expect(await peer.exited).toBe(0);
      expect(peer.text("stdout").at(-1)).toBe("Stopped.");
    } finally {
      peer.child.kill("SIGKILL");
    }
  });

  it("--json prints one JSON InboxEntry per line on stdout, the banner on stderr", async () => {
    const peer = spawnPeer(["--port", "0", "--json"]);
    try {
      const banner = await peer.line((l) => l.includes("listening on"), "stderr");
      const origin = /listening on (\S+)/.exec(banner)![1]!;
      await peer.line((l) => l.startsWith("Waiting"), "stderr");
      expect(peer.text("stdout")).toEqual([]);
      const response = await request(`${origin}/users/alice`, {
        headers: { accept: "application/activity+json" },
      });
      expect(response.statusCode).toBe(200);
      await response.body.text();
      const line = await peer.line((l) => l.startsWith("{"));
      const entry = JSON.parse(line);
      expect(entry).toMatchObject({ seq: 1, method: "GET", path: "/users/alice", status: 200 });
      expect(entry.signature.ok).toBe(false);
      peer.child.kill("SIGTERM");
      expect(await peer.exited).toBe(0);
    } finally {
      peer.child.kill("SIGKILL");
    }
  });

  it("exits 2 with one line for bad options", async () => {
    const peer = spawnPeer(["--port", "nope"]);
    expect(await peer.exited).toBe(2);
    const stderr = peer.text("stderr").join("\n");
    expect(stderr).toContain("--port expects a number");
    expect(stderr).not.toContain("    at ");
  });
});

describe("formatEntry", () => {
  it("names method, path, status, activity, actor, verdict and findings", () => {
    const line = formatEntry({
      seq: 1,
      at: "2024-01-01T12:34:56.789Z",
      method: "POST",
      path: "/inbox",
      recipient: "shared",
      headers: { signature: "x" },
      body: "{}",
      activity: { type: "Follow", actor: "https://b.test/users/bob", object: "https://a.test/users/alice" },
      signature: { ok: true, scheme: "rfc9421", keyId: "https://b.test/users/bob#main-key" },
      findings: [
        {
          ruleId: "AS-03",
          severity: "warning",
          level: "MUST",
          impact: "DEGRADED",
          pointer: "",
          message: "m",
          source: "s",
        },
      ],
      status: 202,
    });
    expect(line).toBe(
      "12:34:56.789  POST /inbox → 202  Follow by https://b.test/users/bob  " +
        "sig ok (rfc9421, https://b.test/users/bob#main-key)  findings 0 error, 1 warning, 0 info",
    );
  });
});
