import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpClient, HttpClientError, jsonNestingDepth } from "./http-client.ts";
import type { HttpClient } from "./types.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts a loopback server; counts requests and TCP connections. */
async function serve(handler: Handler) {
  const server: Server = createServer(handler);
  const stats = { requests: 0, connections: 0 };
  server.on("request", () => stats.requests++);
  server.on("connection", () => stats.connections++);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    server.closeAllConnections();
    server.close();
  });
  return { port, origin: `http://127.0.0.1:${port}`, stats };
}

function client(options: Parameters<typeof createHttpClient>[0] = {}): HttpClient {
  const c = createHttpClient(options);
  cleanups.push(() => c.close());
  return c;
}

async function failure(promise: Promise<unknown>): Promise<HttpClientError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HttpClientError);
    return error as HttpClientError;
  }
  throw new Error("expected the request to fail");
}

describe("createHttpClient", () => {
  it("returns status, lower-case headers joined, body, and parses JSON", async () => {
    const { origin } = await serve((req, res) => {
      res.setHeader("X-Thing", ["a", "b"]);
      res.setHeader("Content-Type", "application/json");
      res.end(
        JSON.stringify({
          method: req.method,
          ua: req.headers["user-agent"],
          custom: req.headers["x-custom"],
        }),
      );
    });
    const response = await client({ userAgent: "test-agent" }).request(`${origin}/x`, {
      headers: { "X-Custom": "1" },
    });
    expect(response.status).toBe(200);
    expect(response.headers["x-thing"]).toBe("a, b");
    expect(response.headers["content-type"]).toBe("application/json");
    expect(response.json()).toEqual({ method: "GET", ua: "test-agent", custom: "1" });
    expect(response.url).toBe(`${origin}/x`);
  });

  it("sends a POST body", async () => {
    const { origin } = await serve(async (req, res) => {
      let body = "";
      for await (const chunk of req) body += chunk;
      res.end(`${req.method}:${body}`);
    });
    const response = await client().request(origin, { method: "POST", body: "hello" });
    expect(response.text()).toBe("POST:hello");
  });

  it("maps a name to a loopback port over http, keeping the Host header", async () => {
    const { port } = await serve((req, res) => res.end(req.headers.host));
    const http = client({ hostMap: { "a.test": { address: "127.0.0.1", port } } });
    expect((await http.request("http://a.test/actor")).text()).toBe("a.test");
    const byPort = client({ hostMap: { "b.test:8080": { address: "127.0.0.1", port } } });
    expect((await byPort.request("http://b.test:8080/")).text()).toBe("b.test:8080");
  });

  it("times out when headers never come", async () => {
    const { origin } = await serve(() => {});
    const started = Date.now();
    const error = await failure(client({ timeoutMs: 200 }).request(`${origin}/slow`));
    expect(error.code).toBe("timeout");
    expect(error.message).toBe(`GET ${origin}/slow took longer than 200 ms`);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("times out when the body stalls", async () => {
    const { origin } = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("partial");
    });
    const error = await failure(client().request(origin, { timeoutMs: 200 }));
    expect(error.code).toBe("timeout");
  });

  it("refuses a declared Content-Length above the cap", async () => {
    const { origin } = await serve((_req, res) => {
      res.setHeader("content-length", "2000");
      res.end("x".repeat(2000));
    });
    const error = await failure(client({ maxBodyBytes: 1000 }).request(origin));
    expect(error.code).toBe("too-large");
    expect(error.message).toBe(`GET ${origin}: response body exceeds the limit of 1000 bytes`);
  });

  it("aborts a streamed body as soon as it passes the cap", async () => {
    let written = 0;
    let closed = false;
    const { origin } = await serve((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 120);
      const pump = () => {
        while (!closed && written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
      };
      res.on("close", () => {
        closed = true;
      });
      pump();
    });
    const error = await failure(client().request(origin, { maxBodyBytes: 100_000 }));
    expect(error.code).toBe("too-large");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(true);
    expect(written).toBeLessThan(16 * 1024 * 1024); // stopped long before the 64 MiB the server would send
  });

  it("follows redirects up to the cap, then fails", async () => {
    const { origin } = await serve((req, res) => {
      const n = Number(req.url!.slice(1));
      if (n > 0) res.writeHead(302, { location: `/${n - 1}` }).end();
      else res.end("landed");
    });
    const http = client({ maxRedirects: 3 });
    const ok = await http.request(`${origin}/3`);
    expect(ok.text()).toBe("landed");
    expect(ok.url).toBe(`${origin}/0`);
    const error = await failure(http.request(`${origin}/4`));
    expect(error.code).toBe("too-many-redirects");
    expect(error.message).toBe(`${origin}/4: more than 3 redirects (last to /0)`);
  });

  it("does not follow redirects for POST or when told not to", async () => {
    const { origin } = await serve((_req, res) => res.writeHead(307, { location: "/elsewhere" }).end());
    const http = client();
    expect((await http.request(origin, { method: "POST", body: "x" })).status).toBe(307);
    expect((await http.request(origin, { followRedirects: false })).status).toBe(307);
  });

  it("drops credentials and Host on a redirect to another origin", async () => {
    const target = await serve((req, res) => res.end(JSON.stringify(req.headers)));
    const { origin } = await serve((_req, res) =>
      res.writeHead(302, { location: `http://localhost:${target.port}/` }).end(),
    );
    const response = await client().request(origin, {
      headers: {
        authorization: "secret",
        signature: "sig",
        accept: "application/activity+json",
        host: "127.0.0.1",
      },
    });
    const seen = response.json() as Record<string, string>;
    expect(seen.authorization).toBeUndefined();
    expect(seen.signature).toBeUndefined();
    expect(seen.accept).toBe("application/activity+json");
    expect(seen.host).toBe(`localhost:${target.port}`);
  });

  it("refuses hosts outside the allow-list, also on a redirect, without connecting", async () => {
    const other = await serve((_req, res) => res.end("should not be reached"));
    const { origin, stats } = await serve((_req, res) =>
      res.writeHead(302, { location: `http://localhost:${other.port}/` }).end(),
    );
    const http = client({ allowHosts: ["127.0.0.1"] });
    const error = await failure(http.request(origin));
    expect(error.code).toBe("forbidden-host");
    expect(error.message).toMatch(
      /host localhost is not in the allowed hosts \(127\.0\.0\.1\); no connection was made/,
    );
    expect(stats.requests).toBe(1);
    expect(other.stats.connections).toBe(0);

    const direct = await failure(http.request(`http://localhost:${other.port}/`));
    expect(direct.code).toBe("forbidden-host");
    expect(other.stats.connections).toBe(0);
    expect((await failure(http.request("file:///etc/passwd"))).code).toBe("forbidden-host");
  });

  it("checks the allow-list by name for mapped hosts", async () => {
    const { port, stats } = await serve((_req, res) => res.end("ok"));
    const hostMap = { "a.test": { address: "127.0.0.1", port }, "b.test": { address: "127.0.0.1", port } };
    const http = client({ hostMap, allowHosts: ["a.test"] });
    expect((await http.request("http://a.test/")).text()).toBe("ok");
    expect((await failure(http.request("http://b.test/"))).code).toBe("forbidden-host");
    expect(stats.requests).toBe(1);
  });

  it("retries 5xx with exponential backoff and returns the success", async () => {
    let count = 0;
    const { origin } = await serve((_req, res) => {
      count++;
      res.statusCode = count <= 2 ? 503 : 200;
      res.end(String(count));
    });
    const started = Date.now();
    const response = await client({ retries: 2, retryBaseDelayMs: 40 }).request(origin);
    expect(response.text()).toBe("3");
    // Waits of 40·2⁰ and 40·2¹ ms, each with 50–100 % jitter: at least 20 + 40.
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it("returns the last 5xx once retries are used up, and does not retry 4xx", async () => {
    const { origin, stats } = await serve((req, res) => {
      res.statusCode = req.url === "/404" ? 404 : 500;
      res.end();
    });
    const http = client({ retries: 2, retryBaseDelayMs: 5 });
    expect((await http.request(origin)).status).toBe(500);
    expect(stats.requests).toBe(3);
    expect((await http.request(`${origin}/404`)).status).toBe(404);
    expect(stats.requests).toBe(4);
  });

  it("honours Retry-After within the timeout, and gives up when it asks for longer", async () => {
    let count = 0;
    const { origin } = await serve((req, res) => {
      count++;
      if (req.url === "/long") return void res.writeHead(429, { "retry-after": "3600" }).end();
      res.writeHead(count === 1 ? 429 : 200, count === 1 ? { "retry-after": "1" } : {}).end();
    });
    const http = client({ retries: 1, retryBaseDelayMs: 1, timeoutMs: 3000 });
    const started = Date.now();
    expect((await http.request(origin)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    const quick = Date.now();
    expect((await http.request(`${origin}/long`)).status).toBe(429);
    expect(Date.now() - quick).toBeLessThan(500);
  });

  it("retries a dropped connection", async () => {
    let count = 0;
    const { origin } = await serve((req, res) => {
      count++;
      if (count === 1) return void req.socket.destroy();
      res.end("second time");
    });
    expect((await client({ retries: 1, retryBaseDelayMs: 5 }).request(origin)).text()).toBe("second time");
    const error = await failure(client({ retries: 0 }).request(origin.replace(/:\d+$/, ":1")));
    expect(error.code).toBe("connect");
    expect(error.message).toMatch(
      /^Could not connect to 127\.0\.0\.1:1 for http:\/\/127\.0\.0\.1:1: ECONNREFUSED/,
    );
  });

  it("caps JSON depth before parsing, and reports invalid JSON", async () => {
    const { origin } = await serve((req, res) => {
      if (req.url === "/deep") res.end(`${"[".repeat(100)}${"]".repeat(100)}`);
      else if (req.url === "/strings") res.end(JSON.stringify({ a: '[[[[[[[[[[[[[[[[[[[[\\"{{{{{{' }));
      else res.end("{not json");
    });
    const http = client({ maxJsonDepth: 10 });
    const deep = await http.request(`${origin}/deep`);
    expect(() => deep.json()).toThrow(expect.objectContaining({ code: "json-too-deep" }));
    expect(() => deep.json()).toThrow(`${origin}/deep: JSON nests deeper than the limit of 10 levels`);
    expect((await http.request(`${origin}/strings`)).json()).toEqual({ a: '[[[[[[[[[[[[[[[[[[[[\\"{{{{{{' });
    const invalid = await http.request(`${origin}/bad`);
    expect(() => invalid.json()).toThrow(expect.objectContaining({ code: "invalid-json" }));
  });

  it("stops on the caller's abort signal", async () => {
    const { origin } = await serve(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await failure(client().request(origin, { signal: controller.signal }));
    expect(error.code).toBe("aborted");
  });
});

describe("jsonNestingDepth", () => {
  it("counts nesting outside strings only", () => {
    expect(jsonNestingDepth("1")).toBe(0);
    expect(jsonNestingDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonNestingDepth('{"a":"[[[{{{\\"]]"}')).toBe(1);
    expect(jsonNestingDepth("[".repeat(1_000_000), 64)).toBe(65);
  });
});
