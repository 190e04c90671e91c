import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createHttpClient, type HttpClientError } from "../protocol/http-client.ts";
import type { HttpClient } from "../protocol/types.ts";
import { createTestCa, type TestCa } from "./test-ca.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let ca: TestCa;
beforeAll(async () => {
  ca = await createTestCa({ commonName: "fedicheck unit-test CA" });
});

/** An HTTPS server on loopback that answers with the SNI and Host it saw. */
async function serveTls(cert: { certPem: string; keyPem: string }) {
  const server: Server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const servername = (req.socket as TLSSocket).servername;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ servername, host: req.headers.host, path: req.url }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanups.push(async () => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

function client(options: Parameters<typeof createHttpClient>[0]): HttpClient {
  const c = createHttpClient(options);
  cleanups.push(() => c.close());
  return c;
}

describe("createTestCa", () => {
  it("makes a CA root and issues certificates with DNS and IP SANs", async () => {
    const root = new X509Certificate(ca.certPem);
    expect(root.ca).toBe(true);
    expect(root.subject).toBe("CN=fedicheck unit-test CA");
    const issued = await ca.issue(["a.test", "localhost", "127.0.0.1"]);
    const leaf = new X509Certificate(issued.certPem);
    expect(leaf.ca).toBe(false);
    expect(leaf.subjectAltName).toBe("DNS:a.test, DNS:localhost, IP Address:127.0.0.1");
    expect(leaf.checkIssued(root)).toBe(true);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(issued.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const days = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 86_400_000;
    expect(days).toBeGreaterThan(2);
    expect(days).toBeLessThan(2.1); // 2 days plus the 1 h backdating
  });

  it("is reached over HTTPS through a host map, with SNI and Host kept as the name", async () => {
    const port = await serveTls(await ca.issue(["a.test"]));
    const https = client({ ca: [ca.certPem], hostMap: { "a.test": { address: "127.0.0.1", port } } });
    const response = await https.request("https://a.test/users/alice");
    expect(response.json()).toEqual({ servername: "a.test", host: "a.test", path: "/users/alice" });
  });

  it("is reached by IP address when the certificate lists it", async () => {
    const port = await serveTls(await ca.issue(["localhost", "127.0.0.1"]));
    const response = await client({ ca: [ca.certPem] }).request(`https://127.0.0.1:${port}/`);
    expect(response.status).toBe(200);
  });

  it("fails with code 'tls' when the CA is not trusted", async () => {
    const port = await serveTls(await ca.issue(["a.test"]));
    const stranger = await createTestCa();
    const https = client({ ca: [stranger.certPem], hostMap: { "a.test": { address: "127.0.0.1", port } } });
    const error = (await https.request("https://a.test/").catch((e: unknown) => e)) as HttpClientError;
    expect(error.code).toBe("tls");
    expect(error.message).toMatch(/^TLS with a\.test failed for https:\/\/a\.test\/: /);
  });

  it("fails with code 'tls' when the certificate names another host", async () => {
    const port = await serveTls(await ca.issue(["b.test"]));
    const https = client({ ca: [ca.certPem], hostMap: { "a.test": { address: "127.0.0.1", port } } });
    const error = (await https.request("https://a.test/").catch((e: unknown) => e)) as HttpClientError;
    expect(error.code).toBe("tls");
  });

  it("rejects an empty hostname list", async () => {
    await expect(ca.issue([])).rejects.toThrow(/at least one hostname/);
  });
});
