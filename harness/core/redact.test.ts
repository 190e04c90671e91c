import { generateKeyPairSync } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { CellResult } from "./model.ts";
import {
  forgetSecrets,
  MAX_EVIDENCE_DEPTH,
  REDACTED,
  redactCellResult,
  redactHeaders,
  redactText,
  redactValue,
  registeredSecrets,
  registerSecret,
} from "./redact.ts";

const PEM = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();

afterEach(() => forgetSecrets());

describe("registerSecret / redactText", () => {
  it("redacts registered values in raw, JSON-escaped and URL-encoded forms", () => {
    registerSecret('tok/en+with"quote');
    const text = `raw tok/en+with"quote json ${JSON.stringify('tok/en+with"quote')} url ${encodeURIComponent('tok/en+with"quote')}`;
    const out = redactText(text);
    expect(out).not.toContain("tok/en");
    expect(out).not.toContain("tok%2Fen");
    expect(out.match(/\[redacted\]/g)?.length).toBe(3);
  });

  it("ignores values too short to redact safely", () => {
    registerSecret("abc");
    registerSecret(undefined);
    registerSecret("");
    expect(registeredSecrets()).toEqual([]);
    expect(redactText("abc")).toBe("abc");
  });

  it("redacts PEM private key blocks, registered or not, also truncated ones and JSON-escaped ones", () => {
    const out = redactText(`key:\n${PEM}\nafter`);
    expect(out).not.toContain("PRIVATE KEY");
    expect(out).toContain("after");
    expect(redactText(JSON.stringify({ key: PEM }))).not.toContain("PRIVATE KEY");
    expect(redactText(PEM.slice(0, 60))).not.toContain("PRIVATE KEY");
    // A registered PEM's key material is found even on one line.
    registerSecret(PEM);
    const body = PEM.split("\n")
      .filter((l) => l && !l.startsWith("-----"))
      .join("");
    expect(redactText(`logged ${body}`)).toBe(`logged ${REDACTED}`);
  });

  it("redacts JWT-like tokens, Bearer credentials, credential members and query parameters", () => {
    const jwt =
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    expect(redactText(`token ${jwt} end`)).toBe(`token ${REDACTED} end`);
    expect(redactText("Authorization: Bearer abcdef123456")).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactText('{"password": "hunter22", "name": "alice"}')).toBe(
      `{"password": "${REDACTED}", "name": "alice"}`,
    );
    expect(redactText("fedicheck run --target m=mastodon,origin=https://m.test,token=s3cr3t --debug")).toBe(
      `fedicheck run --target m=mastodon,origin=https://m.test,token=${REDACTED} --debug`,
    );
    expect(redactText("GET /api/v1/streaming?access_token=s3cr3t&stream=user")).toBe(
      `GET /api/v1/streaming?access_token=${REDACTED}&stream=user`,
    );
    // Prose that only looks like a scheme survives.
    expect(redactText("Basic authentication failed")).toBe("Basic authentication failed");
    expect(redactText(`Basic ${Buffer.from("alice:pw").toString("base64")}`)).toBe(`Basic ${REDACTED}`);
  });
});

describe("redactHeaders", () => {
  it("redacts credentials but keeps signatures and digests as evidence", () => {
    const signature =
      'keyId="https://a.test/users/alice#main-key",headers="(request-target) host date",signature="abc="';
    const out = redactHeaders({
      Authorization: "Bearer abcdef123456",
      Cookie: "session=1",
      "set-cookie": ["a=1", "b=2"],
      "X-Api-Key": "k-123456",
      "X-Misskey-Session-Token": "whatever",
      Signature: signature,
      "signature-input": 'sig1=("@method");keyid="k"',
      Digest: "SHA-256=abc",
      Accept: "application/activity+json",
      "content-length": 12,
    });
    expect(out).toEqual({
      authorization: `Bearer ${REDACTED}`,
      cookie: REDACTED,
      "set-cookie": REDACTED,
      "x-api-key": REDACTED,
      "x-misskey-session-token": REDACTED,
      signature,
      "signature-input": 'sig1=("@method");keyid="k"',
      digest: "SHA-256=abc",
      accept: "application/activity+json",
      "content-length": "12",
    });
    const cavage = `Signature ${signature}`;
    expect(redactHeaders({ authorization: cavage }).authorization).toBe(cavage);
  });

  it("redacts registered secrets inside other header values", () => {
    registerSecret("control-token-123");
    expect(redactHeaders({ referer: "http://x/?t=control-token-123" }).referer).toBe(
      `http://x/?t=${REDACTED}`,
    );
  });
});

describe("redactValue", () => {
  it("redacts nested members and headers, and caps depth and cycles so the copy serialises", () => {
    registerSecret("api-token-xyz");
    let deep: unknown = "bottom";
    for (let i = 0; i < 10_000; i++) deep = [deep];
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    const value = {
      access_token: "anything",
      nested: { note: "uses api-token-xyz", headers: { authorization: "Bearer zzzzzzzz" } },
      deep,
      cyclic,
      fn: () => 1,
      big: 10n,
    };
    const out = redactValue(value);
    const text = JSON.stringify(out);
    expect(text).not.toContain("api-token-xyz");
    expect(text).not.toContain("zzzzzzzz");
    expect(text).toContain(`nested deeper than ${MAX_EVIDENCE_DEPTH} levels`);
    expect(text).toContain("[truncated: cycle]");
    expect(out.access_token).toBe(REDACTED);
    expect(out.big as unknown).toBe("10");
    // The original is untouched.
    expect(value.nested.note).toBe("uses api-token-xyz");
  });
});

describe("redactCellResult", () => {
  it("redacts every text of a cell and its evidence", () => {
    registerSecret("the-control-token");
    const cell: CellResult = {
      checkId: "X-01",
      scenarioId: "x.y",
      suite: "x",
      sender: "a",
      receiver: "b",
      verdict: "errored",
      message: "driver failed with the-control-token",
      expected: "the-control-token",
      observed: PEM,
      evidence: [
        {
          kind: "http",
          label: "call",
          request: {
            method: "POST",
            url: "http://a/?token=the-control-token",
            headers: { "x-control-token": "t" },
          },
          response: { status: 200, headers: { "set-cookie": "s=1" }, body: '{"token":"abc123456"}' },
          at: new Date(0).toISOString(),
        },
        { kind: "log", label: "log", text: `boot\n${PEM}` },
        { kind: "view", label: "view", view: { raw: { password: "pw123456" } } },
        { kind: "payload", label: "doc", document: { privateKeyPem: PEM }, findings: [] },
      ],
      startedAt: new Date(0).toISOString(),
      durationMs: 1,
      waitingMs: 0,
      attempts: 1,
      reproduce: "npx fedicheck run --targets a:token=the-control-token",
    };
    // A field added to the model later is redacted too.
    Object.assign(cell, { support: { variants: [{ note: "with the-control-token" }] } });
    const text = JSON.stringify(redactCellResult(cell));
    expect(text).not.toContain("the-control-token");
    expect(text).not.toContain("PRIVATE KEY");
    expect(text).not.toContain("pw123456");
    expect(text).not.toContain("abc123456");
    expect(text).not.toContain("s=1");
    expect(text).toContain("driver failed with [redacted]");
  });
});
