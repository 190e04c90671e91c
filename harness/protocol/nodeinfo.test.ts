import { once } from "node:events";
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpClient } from "./http-client.ts";
import { fetchNodeInfo } from "./nodeinfo.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function serve(handler: RequestListener) {
  const server = createServer(handler).listen(0, "127.0.0.1");
  await once(server, "listening");
  const client = createHttpClient();
  cleanups.push(async () => {
    await client.close();
    server.closeAllConnections();
    server.close();
  });
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, client };
}

describe("fetchNodeInfo", () => {
  it("follows the well-known chain to the newest 2.x document", async () => {
    const { origin, client } = await serve((req, res) => {
      const base = `http://${req.headers.host}`;
      if (req.url === "/.well-known/nodeinfo") {
        res.end(
          JSON.stringify({
            links: [
              { rel: "http://nodeinfo.diaspora.software/ns/schema/2.0", href: `${base}/nodeinfo/2.0` },
              { rel: "http://nodeinfo.diaspora.software/ns/schema/2.1", href: "/nodeinfo/2.1" },
              { rel: "https://example.org/other", href: `${base}/other` },
            ],
          }),
        );
      } else res.end(JSON.stringify({ version: req.url!.slice(-3), software: { name: "x", version: "1" } }));
    });
    const result = await fetchNodeInfo(client, origin);
    expect(result.version).toBe("2.1");
    expect(result.href).toBe(`${origin}/nodeinfo/2.1`);
    expect(result.document.version).toBe("2.1");
    expect(result.links).toHaveLength(3);
  });

  it("says which step failed", async () => {
    const { origin, client } = await serve((_req, res) => res.end(JSON.stringify({ links: [] })));
    await expect(fetchNodeInfo(client, origin)).rejects.toThrow(/links no NodeInfo 2\.x schema/);
  });
});
