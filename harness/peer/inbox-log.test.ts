import { describe, expect, it } from "vitest";
import { createInboxLog, InboxWaitTimeoutError, redactHeaders } from "./inbox-log.ts";
import type { InboxEntry } from "./types.ts";

function entry(path: string, status = 202): Omit<InboxEntry, "seq"> {
  return {
    at: new Date().toISOString(),
    method: "POST",
    path,
    headers: {},
    body: "{}",
    signature: { ok: true },
    findings: [],
    status,
  };
}

describe("createInboxLog", () => {
  it("numbers entries and answers all/query in arrival order", () => {
    const log = createInboxLog();
    log.record(entry("/a"));
    log.record(entry("/b", 401));
    log.record(entry("/c"));
    expect(log.all().map((e) => [e.seq, e.path])).toEqual([
      [1, "/a"],
      [2, "/b"],
      [3, "/c"],
    ]);
    expect(log.query((e) => e.status === 202).map((e) => e.path)).toEqual(["/a", "/c"]);
    // all() is a copy: callers cannot rewrite history.
    log.all().pop();
    expect(log.all()).toHaveLength(3);
  });

  it("waitFor resolves at once with an entry already logged", async () => {
    const log = createInboxLog();
    log.record(entry("/x"));
    await expect(log.waitFor((e) => e.path === "/x")).resolves.toMatchObject({ seq: 1, path: "/x" });
  });

  it("waitFor resolves when a matching entry arrives later, skipping others", async () => {
    const log = createInboxLog();
    const waiting = log.waitFor((e) => e.path === "/wanted", { timeoutMs: 5000 });
    log.record(entry("/other"));
    log.record(entry("/wanted"));
    log.record(entry("/wanted"));
    await expect(waiting).resolves.toMatchObject({ seq: 2 });
  });

  it("waitFor rejects after the timeout naming what it waited for", async () => {
    const log = createInboxLog();
    log.record(entry("/nope"));
    const started = Date.now();
    const error = await log
      .waitFor((e) => e.path === "/never", { timeoutMs: 50, description: "the Accept from bob" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InboxWaitTimeoutError);
    expect((error as Error).message).toContain("the Accept from bob");
    expect((error as Error).message).toContain("50 ms");
    expect((error as Error).message).toContain("1 request");
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it("waitFor stops on abort and unsubscribes", async () => {
    const log = createInboxLog();
    const controller = new AbortController();
    const waiting = log.waitFor(() => true, { signal: controller.signal, timeoutMs: 5000 });
    controller.abort(new Error("cell budget"));
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
    // A later entry must not resolve anything (nor throw).
    log.record(entry("/late"));
  });

  it("waitFor rejects with a thrown predicate error and when the log closes", async () => {
    const log = createInboxLog();
    const throwing = log.waitFor(() => {
      throw new Error("bad predicate");
    });
    log.record(entry("/a"));
    await expect(throwing).rejects.toThrow("bad predicate");
    const pending = log.waitFor((e) => e.path === "/never");
    log.close();
    await expect(pending).rejects.toThrow(/closed/);
  });

  it("subscribe delivers every new entry until unsubscribed, and a faulty listener harms nobody", () => {
    const log = createInboxLog();
    const seen: string[] = [];
    log.subscribe(() => {
      throw new Error("faulty");
    });
    const unsubscribe = log.subscribe((e) => seen.push(e.path));
    log.record(entry("/1"));
    unsubscribe();
    log.record(entry("/2"));
    expect(seen).toEqual(["/1"]);
    expect(log.all()).toHaveLength(2);
  });
});

describe("redactHeaders", () => {
  it("redacts bearer tokens and cookies but keeps signatures as evidence", () => {
    const out = redactHeaders({
      Authorization: "Bearer s3cret",
      Cookie: "session=abc",
      "Set-Cookie": ["a=1", "b=2"],
      Signature: 'keyId="k",signature="xyz"',
      "Signature-Input": "sig1=()",
      Digest: "SHA-256=abc",
      Host: "a.test",
    });
    expect(out.authorization).toBe("Bearer [redacted]");
    expect(out.cookie).toBe("[redacted]");
    expect(out["set-cookie"]).toBe("[redacted]");
    expect(out.signature).toBe('keyId="k",signature="xyz"');
    expect(out["signature-input"]).toBe("sig1=()");
    expect(out.digest).toBe("SHA-256=abc");
    expect(out.host).toBe("a.test");
    expect(JSON.stringify(out)).not.toContain("s3cret");
  });

  it("keeps an Authorization that carries a draft-cavage signature", () => {
    const value = 'Signature keyId="k",headers="date",signature="abc"';
    expect(redactHeaders({ authorization: value }).authorization).toBe(value);
  });
});
