/**
 * fedicheck's own reaper, for machines where Ryuk cannot run: a small detached process that watches
 * its parent through a pipe and, when the pipe closes without a `done` line (the parent crashed or
 * was killed, even with SIGKILL), removes every container and network labelled with the run id.
 * It talks to the engine over its HTTP API with Node built-ins only.
 *
 *   node bin/run-ts.js harness/runtime/reaper.ts <runId>
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { LABEL_RUN } from "./docker.ts";
import { REPO_ROOT } from "./repo.ts";

/** A started reaper: `disarm()` when the run cleaned up after itself. */
export interface Reaper {
  disarm(): void;
}

/** Starts a reaper for `runId`, detached so it outlives this process. */
export function startReaper(runId: string): Reaper {
  const child: ChildProcess = spawn(
    process.execPath,
    [join(REPO_ROOT, "bin/run-ts.js"), join(REPO_ROOT, "harness/runtime/reaper.ts"), runId],
    { detached: true, stdio: ["pipe", "ignore", "ignore"], env: process.env },
  );
  child.unref();
  // The pipe must not keep this process alive; stdin of a spawned child is a net.Socket.
  (child.stdin as unknown as Socket | null)?.unref();
  child.stdin?.on("error", () => {});
  return {
    disarm() {
      child.stdin?.end("done\n");
    },
  };
}

function engine(method: string, path: string): Promise<{ status: number; body: string }> {
  const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  const target = host.startsWith("tcp://")
    ? {
        host: new URL(host.replace(/^tcp:/, "http:")).hostname,
        port: Number(new URL(host.replace(/^tcp:/, "http:")).port || 2375),
      }
    : { socketPath: host.replace(/^unix:\/\//, "") };
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method, path, timeout: 30_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`engine ${method} ${path} timed out`)));
    req.end();
  });
}

/** Removes the containers, then the networks, of a run through the engine API. */
export async function reap(runId: string): Promise<number> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${LABEL_RUN}=${runId}`] }));
  let removed = 0;
  const containers = JSON.parse(
    (await engine("GET", `/containers/json?all=1&filters=${filters}`)).body,
  ) as Array<{ Id: string }>;
  await Promise.all(
    containers.map(async ({ Id }) => {
      if ((await engine("DELETE", `/containers/${Id}?force=1&v=1`)).status < 300) removed++;
    }),
  );
  const networks = JSON.parse((await engine("GET", `/networks?filters=${filters}`)).body) as Array<{
    Id: string;
  }>;
  for (const { Id } of networks) if ((await engine("DELETE", `/networks/${Id}`)).status < 300) removed++;
  return removed;
}

async function main(runId: string): Promise<void> {
  let input = "";
  process.stdin.setEncoding("utf8");
  for await (const chunk of process.stdin) input += chunk as string;
  if (input.includes("done")) return;
  await reap(runId);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const runId = process.argv[2];
  if (!runId) process.exit(2);
  main(runId).then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
