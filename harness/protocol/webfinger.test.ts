import { once } from "node:events";
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpClient } from "./http-client.ts";
import { selfLink, toAcctUri, webfingerLookup } from "./webfinger.ts";

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

describe("webfingerLookup", () => {
  it("normalises handles", () => {
    expect(toAcctUri("@alice@a.test")).toBe("acct:alice@a.test");
    expect(toAcctUri("alice@a.test")).toBe("acct:alice@a.test");
    expect(toAcctUri("acct:alice@a.test")).toBe("acct:alice@a.test");
    expect(() => toAcctUri("alice")).toThrow(/not a user@host handle/);
  });

  it("returns the JRD and the AS2 self link", async () => {
    let asked: string | undefined;
    const { origin, client } = await serve((req, res) => {
      asked = new URL(req.url!, "http://x").searchParams.get("resource") ?? undefined;
      res.setHeader("content-type", "application/jrd+json");
      res.end(
        JSON.stringify({
          subject: "acct:alice@a.test",
          links: [
            {
              rel: "http://webfinger.net/rel/profile-page",
              type: "text/html",
              href: "https://a.test/@alice",
            },
            {
              rel: "self",
              type: 'application/ld+json;  profile="https://www.w3.org/ns/activitystreams"',
              href: "https://a.test/users/alice",
            },
          ],
        }),
      );
    });
    const result = await webfingerLookup(client, "@alice@a.test", origin);
    expect(asked).toBe("acct:alice@a.test");
    expect(result.selfHref).toBe("https://a.test/users/alice");
    expect(result.jrd.subject).toBe("acct:alice@a.test");
  });

  it("has no self link when none is typed as AS2", () => {
    expect(selfLink({ links: [{ rel: "self", type: "text/html", href: "x" }] })).toBeUndefined();
  });

  it("throws with the URL and status on a non-2xx answer", async () => {
    const { origin, client } = await serve((_req, res) => res.writeHead(404).end());
    await expect(webfingerLookup(client, "bob@a.test", origin)).rejects.toThrow(
      `WebFinger ${origin}/.well-known/webfinger?resource=acct%3Abob%40a.test answered 404; expected 200 with a JRD`,
    );
  });
});
