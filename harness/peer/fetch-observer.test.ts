import { describe, expect, it } from "vitest";
import type { HttpClient, HttpRequestInit, HttpResponse } from "../protocol/types.ts";
import { observeFetches } from "./fetch-observer.ts";
import type { FetchRecord } from "./types.ts";

function response(url: string, status = 200, body = '{"id":"x"}'): HttpResponse {
  const bytes = Buffer.from(body);
  return {
    status,
    headers: { "content-type": "application/activity+json", "set-cookie": "sid=secret-session-1" },
    body: bytes,
    url,
    text: () => body,
    json: () => JSON.parse(body),
  };
}

function fakeClient(
  answer: (url: string, init?: HttpRequestInit) => HttpResponse,
): HttpClient & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async request(url, init) {
      calls.push(`${init?.method ?? "GET"} ${url}`);
      return answer(url, init);
    },
    close: async () => {},
  };
}

describe("observeFetches", () => {
  it("is the client itself when nobody observes", () => {
    const client = fakeClient((url) => response(url));
    expect(observeFetches(client, undefined)).toBe(client);
  });

  it("reports each GET with its answer, secrets redacted, and leaves POSTs alone", async () => {
    const records: FetchRecord[] = [];
    const client = observeFetches(
      fakeClient((url) => response(url.includes("moved") ? "https://a.example/final" : url)),
      (r) => records.push(r),
    );
    await client.request("https://a.example/users/a", {
      headers: { accept: "x", authorization: "Bearer abcdefghij" },
    });
    await client.request("https://a.example/moved");
    await client.request("https://a.example/inbox", { method: "POST", body: "{}" });
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      method: "GET",
      url: "https://a.example/users/a",
      status: 200,
      body: '{"id":"x"}',
      requestHeaders: { accept: "x", authorization: "Bearer [redacted]" },
      headers: { "set-cookie": "[redacted]" },
    });
    expect(records[0]!.finalUrl).toBeUndefined();
    expect(records[1]!.finalUrl).toBe("https://a.example/final");
  });

  it("reports a failed request and still throws it; a throwing observer changes nothing", async () => {
    const records: FetchRecord[] = [];
    const failing = observeFetches(
      fakeClient(() => {
        throw new Error("connection refused");
      }),
      (r) => records.push(r),
    );
    await expect(failing.request("https://down.example/x")).rejects.toThrow("connection refused");
    expect(records).toEqual([
      expect.objectContaining({ url: "https://down.example/x", error: "connection refused" }),
    ]);

    const rude = observeFetches(
      fakeClient((url) => response(url)),
      () => {
        throw new Error("observer bug");
      },
    );
    expect((await rude.request("https://a.example/x")).status).toBe(200);
  });
});
