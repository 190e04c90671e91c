import dns from "node:dns";
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Dispatcher, getGlobalDispatcher, MockAgent, setGlobalDispatcher } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expandOffline, validate } from "./index.ts";

const CORPUS = fileURLToPath(new URL("../../fixtures/payloads/", import.meta.url));

/** Every outgoing connection, lookup or request attempted while the recorder is installed. */
const attempts: string[] = [];

type Restore = () => void;
const restores: Restore[] = [];

function isLoopback(host: unknown): boolean {
  return host === "127.0.0.1" || host === "::1" || host === "localhost";
}

/** Replaces `target[name]` with a wrapper that records each call (and blocks non-loopback ones). */
function record<T extends object>(
  target: T,
  name: keyof T & string,
  label: string,
  hostOf: (args: unknown[]) => unknown,
): void {
  const original = target[name] as unknown as (...args: unknown[]) => unknown;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    const host = hostOf(args);
    attempts.push(`${label} ${String(host)}`);
    if (!isLoopback(host)) throw new Error(`network access blocked in tests: ${label} ${String(host)}`);
    return original.apply(this, args);
  };
  (target as Record<string, unknown>)[name] = wrapper;
  restores.push(() => {
    (target as Record<string, unknown>)[name] = original;
  });
}

function hostOfConnect(args: unknown[]): unknown {
  const [first, second] = args;
  if (Array.isArray(first)) return hostOfConnect(first); // internal normalised form
  if (typeof first === "object" && first !== null) {
    const options = first as { host?: unknown; path?: unknown };
    return options.path !== undefined ? "ipc" : (options.host ?? "localhost");
  }
  if (typeof first === "number") return typeof second === "string" ? second : "localhost";
  return first;
}

function hostOfRequest(args: unknown[]): unknown {
  const [first] = args;
  if (typeof first === "string" || first instanceof URL) return new URL(String(first)).hostname;
  if (typeof first === "object" && first !== null)
    return (first as { hostname?: unknown; host?: unknown }).hostname ?? (first as { host?: unknown }).host;
  return first;
}

let previousDispatcher: Dispatcher;

beforeAll(() => {
  record(net.Socket.prototype, "connect", "connect", hostOfConnect);
  record(dns, "lookup", "dns.lookup", (args) => args[0]);
  record(dns.promises, "lookup", "dns.promises.lookup", (args) => args[0]);
  record(http, "request", "http.request", hostOfRequest);
  record(http, "get", "http.get", hostOfRequest);
  record(https, "request", "https.request", hostOfRequest);
  record(https, "get", "https.get", hostOfRequest);
  record(globalThis, "fetch", "fetch", hostOfRequest);
  previousDispatcher = getGlobalDispatcher();
  const mock = new MockAgent();
  mock.disableNetConnect();
  mock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
  setGlobalDispatcher(mock);
});

afterAll(() => {
  setGlobalDispatcher(previousDispatcher);
  for (const restore of restores.reverse()) restore();
});

function corpusDocuments(): unknown[] {
  const docs: unknown[] = [];
  for (const folder of ["valid", "invalid"]) {
    for (const name of readdirSync(join(CORPUS, folder))) {
      if (name.endsWith(".json") && !name.endsWith(".expect.json")) {
        docs.push(JSON.parse(readFileSync(join(CORPUS, folder, name), "utf8")));
      }
    }
  }
  return docs;
}

// Documents that would make a naive JSON-LD processor fetch: unknown remote contexts, nested and
// imported ones, and every known context URL spelled the way servers send them.
const remoteContextDocuments: unknown[] = [
  {
    "@context": "https://unknown.example/context.jsonld",
    type: "Note",
    id: "https://a.example/1",
    content: "x",
  },
  {
    "@context": [
      "https://www.w3.org/ns/activitystreams",
      "https://unknown.example/ns",
      "http://joinmastodon.org/ns",
    ],
    type: "Create",
    id: "https://a.example/2",
    actor: "https://a.example/u",
    object: { "@context": "https://nested.example/ctx", type: "Note", id: "https://a.example/3", mood: "x" },
  },
  {
    "@context": [
      { "@import": "https://imported.example/ctx", x: "https://x.example/#x" },
      "https://www.w3.org/ns/activitystreams",
    ],
    type: "Note",
    id: "https://a.example/4",
  },
  {
    "@context": "https://odd-host.example:8443/schemas/litepub-0.1.jsonld",
    type: "ChatMessage",
    id: "https://a.example/5",
  },
  { "@context": "http://www.w3.org/ns/activitystreams", type: "Note", id: "https://a.example/6" },
  { "@context": "relative/context.jsonld", type: "Note", id: "https://a.example/7" },
];

describe("validation makes no network request", () => {
  it("the recorder sees a loopback connection (so an empty record means something)", async () => {
    const server = http.createServer((_req, res) => res.end("{}"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    const before = attempts.length;
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(await response.text()).toBe("{}");
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(attempts.length).toBeGreaterThan(before);
    expect(attempts.slice(before).some((a) => a.startsWith("connect 127.0.0.1"))).toBe(true);
    expect(() => net.connect(443, "remote.example")).toThrow(/blocked/);
    attempts.length = 0;
  });

  it("validates the corpus and documents with remote contexts without any attempt", async () => {
    attempts.length = 0;
    const docs = [...corpusDocuments(), ...remoteContextDocuments];
    for (const doc of docs) {
      const findings = await validate(doc, { delivered: true });
      expect(Array.isArray(findings)).toBe(true);
    }
    const unknown = await validate(remoteContextDocuments[0]);
    expect(unknown.some((f) => f.ruleId === "JSONLD-UNKNOWN-CONTEXT")).toBe(true);
    for (const doc of remoteContextDocuments) await expandOffline(doc).catch(() => undefined);
    expect(attempts).toEqual([]);
  });
});
