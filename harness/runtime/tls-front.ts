/**
 * The TLS front and the probe relay, run inside containers from the `fedicheck/probe` image:
 *
 *   tls-front.ts --listen 443 --upstream http://mastodon-web:3000 --cert c.pem --key k.pem
 *     HTTPS under the server's real name, proxied to a server that speaks plain HTTP, with
 *     `X-Forwarded-Proto: https` (Mastodon answers 301 without it) and the original Host; WebSocket
 *     upgrades are piped through.
 *   tls-front.ts --listen 443 --tcp 172.18.0.1:40123
 *     a raw TCP relay (TLS passes through untouched): how the probe, running inside the harness on
 *     the host, gets a name and port 443 on the run's network.
 *
 * Only Node built-ins, so it starts in well under a second. Prints one line `tls-front listening …`
 * (or `tcp-relay listening …`) when ready, which the runtime waits for.
 * @module
 */
import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, createServer as createTcpServer, type Socket } from "node:net";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

/** Options of {@link startFront}. */
export interface FrontOptions {
  /** Port to listen on. */
  listen: number;
  /** Address to listen on. Default `0.0.0.0`. */
  host?: string;
  /** HTTP mode: the plain-HTTP origin to proxy to, e.g. `http://mastodon-web:3000`. */
  upstream?: string;
  /** HTTP mode: certificate and key (PEM text). */
  cert?: string;
  key?: string;
  /** TCP mode: `host:port` to relay raw bytes to. */
  tcp?: string;
}

/** A running front; `close()` stops listening and drops open connections. */
export interface Front {
  port: number;
  close(): Promise<void>;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
]);

/** Starts a TLS front (with `upstream`) or a TCP relay (with `tcp`). */
export async function startFront(options: FrontOptions): Promise<Front> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };
  let server: ReturnType<typeof createTcpServer>;
  if (options.tcp) {
    const [host, port] = splitHostPort(options.tcp);
    server = createTcpServer((client) => {
      track(client);
      const upstream = connect(port, host);
      track(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", drop);
      upstream.on("error", drop);
    });
  } else if (options.upstream && options.cert && options.key) {
    const upstream = new URL(options.upstream);
    const https = createHttpsServer({ cert: options.cert, key: options.key }, (req, res) =>
      proxy(upstream, req, res),
    );
    https.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) =>
      tunnel(upstream, req, socket, head),
    );
    server = https;
  } else {
    throw new Error("tls-front needs --upstream with --cert and --key, or --tcp host:port");
  }
  server.on("connection", track);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listen, options.host ?? "0.0.0.0", () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : options.listen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function proxy(upstream: URL, req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  headers["x-forwarded-proto"] = "https";
  headers["x-forwarded-host"] = req.headers.host ?? "";
  headers["x-forwarded-for"] = [req.headers["x-forwarded-for"], req.socket.remoteAddress]
    .filter(Boolean)
    .join(", ");
  const outgoing = httpRequest(
    { host: upstream.hostname, port: upstream.port || 80, method: req.method, path: req.url, headers },
    (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, out);
      answer.pipe(res);
    },
  );
  outgoing.on("error", (error) => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
    res.end(`tls-front: upstream ${upstream.host} failed: ${error.message}\n`);
  });
  req.pipe(outgoing);
}

function tunnel(upstream: URL, req: IncomingMessage, socket: Socket, head: Buffer): void {
  const target = connect(Number(upstream.port || 80), upstream.hostname, () => {
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    lines.push("X-Forwarded-Proto: https", "", "");
    target.write(lines.join("\r\n"));
    if (head.length) target.write(head);
    socket.pipe(target).pipe(socket);
  });
  const drop = () => {
    socket.destroy();
    target.destroy();
  };
  target.on("error", drop);
  socket.on("error", drop);
}

function splitHostPort(text: string): [string, number] {
  const at = text.lastIndexOf(":");
  const port = Number(text.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port <= 0) throw new Error(`expected host:port, got '${text}'`);
  return [text.slice(0, at).replace(/^\[|\]$/g, ""), port];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      listen: { type: "string", default: "443" },
      host: { type: "string" },
      upstream: { type: "string" },
      tcp: { type: "string" },
      cert: { type: "string" },
      key: { type: "string" },
    },
  });
  const front = await startFront({
    listen: Number(values.listen),
    host: values.host,
    upstream: values.upstream,
    tcp: values.tcp,
    cert: values.cert ? readFileSync(values.cert, "utf8") : undefined,
    key: values.key ? readFileSync(values.key, "utf8") : undefined,
  });
  const what = values.tcp
    ? `tcp-relay listening on ${front.port} → ${values.tcp}`
    : `tls-front listening on ${front.port} → ${values.upstream}`;
  console.log(what);
  const stop = () => void front.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`tls-front: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  });
}
