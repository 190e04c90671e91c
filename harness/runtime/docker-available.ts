/**
 * Is a Docker engine reachable, and what should a test that needs one do? Tests that need Docker
 * skip with a visible reason when it is missing, except under `CI=true`, where a missing engine is a
 * failure (CI installs and starts dockerd, so its absence is a broken build, not an excuse).
 * @module
 */
import { request } from "node:http";

/** Outcome of {@link probeDocker}. */
export interface DockerStatus {
  available: boolean;
  /** Where the engine was looked for, e.g. `unix:///var/run/docker.sock`. */
  endpoint: string;
  /** Engine version when available, e.g. `20.10.24+dfsg1`. */
  version?: string;
  /** Why it is not available, phrased for a person. */
  reason?: string;
}

/** What a Docker-dependent test does: run, skip (with the reason shown) or fail (CI without Docker). */
export type DockerTestMode = "run" | "skip" | "fail";

let cached: Promise<DockerStatus> | undefined;

/**
 * Asks the engine named by `DOCKER_HOST` (default the local unix socket) for its version, within
 * `timeoutMs` (default 3000). Never throws. The answer is cached for the process.
 */
export function probeDocker(options: { timeoutMs?: number; refresh?: boolean } = {}): Promise<DockerStatus> {
  if (!cached || options.refresh) cached = ask(options.timeoutMs ?? 3000);
  return cached;
}

/** Decides what a Docker-dependent test does, from the engine status and the environment (`CI`). */
export function dockerTestMode(status: DockerStatus, env: NodeJS.ProcessEnv = process.env): DockerTestMode {
  if (status.available) return "run";
  return env.CI === "true" || env.CI === "1" ? "fail" : "skip";
}

/** The one-line reason a skipped or failed Docker test shows. */
export function dockerSkipReason(status: DockerStatus): string {
  return `Docker is not available (${status.reason ?? "unknown reason"}) at ${status.endpoint}`;
}

function ask(timeoutMs: number): Promise<DockerStatus> {
  const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  let target: { socketPath: string } | { host: string; port: number };
  if (host.startsWith("unix://")) target = { socketPath: host.slice("unix://".length) };
  else if (host.startsWith("tcp://")) {
    const url = new URL(host.replace(/^tcp:/, "http:"));
    target = { host: url.hostname, port: Number(url.port || 2375) };
  } else {
    return Promise.resolve({
      available: false,
      endpoint: host,
      reason: "DOCKER_HOST scheme is not unix:// or tcp://",
    });
  }
  return new Promise((resolve) => {
    const req = request({ ...target, path: "/version", method: "GET", timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => {
        if (res.statusCode !== 200) {
          resolve({ available: false, endpoint: host, reason: `the engine answered HTTP ${res.statusCode}` });
          return;
        }
        try {
          const { Version } = JSON.parse(body) as { Version?: string };
          resolve({ available: true, endpoint: host, version: Version });
        } catch {
          resolve({ available: false, endpoint: host, reason: "the engine's /version answer is not JSON" });
        }
      });
    });
    req.on("timeout", () => {
      req.destroy();
      resolve({ available: false, endpoint: host, reason: `no answer within ${timeoutMs} ms` });
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      resolve({ available: false, endpoint: host, reason: error.code ?? error.message });
    });
    req.end();
  });
}
