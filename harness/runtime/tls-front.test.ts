import { createServer, type IncomingHttpHeaders } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpClient } from "../protocol/http-client.ts";
import { createTestCa } from "./test-ca.ts";
import { type Front, startFront } from "./tls-front.ts";

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe("tls-front", () => {
  it("terminates TLS under the server's name and proxies with X-Forwarded-Proto and the original Host", async () => {
    let seen: IncomingHttpHeaders = {};
    const upstream = createServer((req, res) => {
      seen = req.headers;
      res.writeHead(201, { "content-type": "text/plain", "x-upstream": "yes" });
      res.end(`${req.method} ${req.url}`);
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => upstream.close(() => resolve())));
    const port = (upstream.address() as { port: number }).port;
    const ca = await createTestCa();
    const cert = await ca.issue(["web.test"]);
    const front: Front = await startFront({
      listen: 0,
      host: "127.0.0.1",
      upstream: `http://127.0.0.1:${port}`,
      cert: cert.certPem,
      key: cert.keyPem,
    });
    closers.push(() => front.close());
    const http = createHttpClient({
      ca: [ca.certPem],
      hostMap: { "web.test": { address: "127.0.0.1", port: front.port } },
    });
    closers.push(() => http.close());
    const response = await http.request("https://web.test/api/ping?x=1", { method: "POST", body: "{}" });
    expect(response.status).toBe(201);
    expect(response.text()).toBe("POST /api/ping?x=1");
    expect(response.headers["x-upstream"]).toBe("yes");
    expect(seen.host).toBe("web.test");
    expect(seen["x-forwarded-proto"]).toBe("https");
    expect(seen["x-forwarded-for"]).toContain("127.0.0.1");
  });

  it("relays raw TCP in --tcp mode", async () => {
    const echo = createTcpServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => echo.close(() => resolve())));
    const front = await startFront({
      listen: 0,
      host: "127.0.0.1",
      tcp: `127.0.0.1:${(echo.address() as { port: number }).port}`,
    });
    closers.push(() => front.close());
    const { connect } = await import("node:net");
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(front.port, "127.0.0.1", () => socket.write("ping"));
      socket.on("data", (data) => {
        resolve(data.toString());
        socket.destroy();
      });
      socket.on("error", reject);
    });
    expect(reply).toBe("ping");
  });

  it("refuses to start without an upstream and certificate, or a TCP target", async () => {
    await expect(startFront({ listen: 0 })).rejects.toThrow(/needs --upstream/);
  });
});
