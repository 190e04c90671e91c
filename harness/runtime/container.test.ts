import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startProbe } from "../peer/probe.ts";
import type { Probe } from "../peer/types.ts";
import { createHttpClient } from "../protocol/http-client.ts";
import {
  type ContainerRun,
  type ContainerTarget,
  hostMapDispatcher,
  startContainerTargets,
} from "./container.ts";
import { dockerClient, LABEL_RUN } from "./docker.ts";
import { describeDocker } from "./docker-test-helper.ts";
import { ensureLocalImages } from "./images.ts";
import { REPO_ROOT } from "./repo.ts";
import { createTestCa, type TestCa } from "./test-ca.ts";

const unique = () => `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

async function labelled(runId: string): Promise<{ containers: string[]; networks: string[] }> {
  const docker = (await dockerClient()).client.container.dockerode;
  const filters = { label: [`${LABEL_RUN}=${runId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  return { containers: containers.map((c) => c.Names[0] ?? c.Id), networks: networks.map((n) => n.Name) };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await fn();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describeDocker("container runtime", () => {
  let ca: TestCa;
  let run: ContainerRun;
  let probe: Probe;
  let coldMs = 0;

  beforeAll(async () => {
    // Images are built once per test run (cached by content hash); the start below is then "cold"
    // for containers (fresh network, fresh containers), not for images.
    const images = await ensureLocalImages();
    console.log(`[timing] images: ${JSON.stringify(images.built)}`);
    ca = await createTestCa();
    const started = Date.now();
    run = await startContainerTargets(
      [
        { id: "fedify-a", implementation: "fedify-ref" },
        { id: "fedify-b", implementation: "fedify-ref" },
      ],
      { runId: unique(), ca },
    );
    coldMs = Date.now() - started;
    probe = await startProbe(run.probe!);
  }, 180_000);

  afterAll(async () => {
    await probe?.close();
    const runId = run?.runId;
    await run?.stop();
    if (runId) expect(await labelled(runId)).toEqual({ containers: [], networks: [] });
  }, 60_000);

  function control(target: ContainerTarget) {
    const http = createHttpClient({ ca: [run.caPem], hostMap: run.hostMap });
    return async (method: string, route: string, body?: unknown): Promise<Record<string, unknown>> => {
      const response = await http.request(`${target.origin}/_control/${route}`, {
        method,
        headers: { authorization: `Bearer ${target.controlToken}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (response.status >= 300)
        throw new Error(`${method} ${route}: ${response.status} ${response.text()}`);
      return response.json() as Record<string, unknown>;
    };
  }

  it("serves each target over HTTPS under its real hostname, trusted only through the run's CA", async () => {
    const [a] = run.targets;
    expect(run.targets.map((t) => t.origin)).toEqual(["https://fedify-a.test", "https://fedify-b.test"]);
    expect(a?.hostMapping.address).toBe("127.0.0.1");
    const trusting = createHttpClient({ ca: [run.caPem], hostMap: run.hostMap });
    const nodeinfo = await trusting.request("https://fedify-a.test/.well-known/nodeinfo");
    expect(nodeinfo.status).toBe(200);
    expect(nodeinfo.text()).toContain("https://fedify-a.test/");
    // Drivers that take an undici dispatcher get the same mapping and trust.
    const dispatcher = hostMapDispatcher(run);
    try {
      const answer = await request("https://fedify-b.test/.well-known/nodeinfo", { dispatcher });
      expect(answer.statusCode).toBe(200);
      await answer.body.text();
    } finally {
      await dispatcher.close();
    }
    const untrusting = createHttpClient({ hostMap: run.hostMap });
    await expect(untrusting.request("https://fedify-a.test/.well-known/nodeinfo")).rejects.toMatchObject({
      code: "tls",
    });
  });

  it("federates between two fedify-ref containers: follow is accepted and a post arrives", async () => {
    const [a, b] = run.targets as [ContainerTarget, ContainerTarget];
    const ctlA = control(a);
    const ctlB = control(b);
    const alice = await ctlA("POST", "actors", { name: "alice" });
    await ctlB("POST", "actors", { name: "bob" });
    const started = Date.now();
    await ctlB("POST", "follow", { actor: "bob", target: alice.actorId });
    const target = encodeURIComponent(String(alice.actorId));
    await until("bob follows alice", async () => {
      const state = await ctlB("GET", `following?actor=bob&target=${target}`);
      return state.state === "following" ? true : undefined;
    });
    const followMs = Date.now() - started;
    const post = await ctlA("POST", "post", { actor: "alice", content: "hello from a container" });
    const postStarted = Date.now();
    const received = await until("the post on fedify-b", () =>
      ctlB("GET", `received?uri=${encodeURIComponent(String(post.uri))}`).catch(() => undefined),
    );
    console.log(`[timing] follow→accept ${followMs} ms, post arrived ${Date.now() - postStarted} ms`);
    expect(String(post.uri)).toMatch(/^https:\/\/fedify-a\.test\//);
    expect(JSON.stringify(received)).toContain("hello from a container");
  });

  it("lets containers deliver to the in-process probe as https://probe.test, signed", async () => {
    const [a] = run.targets as [ContainerTarget];
    expect(run.probeOrigin).toBe("https://probe.test");
    const carol = await probe.createActor("carol");
    expect(carol.id).toBe("https://probe.test/users/carol");
    await control(a)("POST", "actors", { name: "dave" });
    await control(a)("POST", "follow", { actor: "dave", target: carol.id });
    const entry = await probe.inbox.waitFor((e) => e.activity?.type === "Follow", { timeoutMs: 15_000 });
    expect(entry.activity?.actor).toBe("https://fedify-a.test/users/dave");
    expect(entry.signature.ok).toBe(true);
    expect(entry.headers.host).toBe("probe.test");
  });

  it("captures container logs for evidence and labels every container and the network", async () => {
    const [a] = run.targets as [ContainerTarget];
    expect(a.logs()).toMatch(/\[main\] .*"ready":true/);
    const objects = await labelled(run.runId);
    // Two targets and the probe relay, on one network of the run's own.
    expect(objects.containers).toHaveLength(3);
    expect(objects.networks).toEqual([`fedicheck-${run.runId}`]);
  });

  it("measures a warm start (images and engine caches ready)", async () => {
    const started = Date.now();
    const second = await startContainerTargets([{ id: "fedify-c", implementation: "fedify-ref" }], {
      runId: unique(),
      ca,
      probe: "none",
    });
    const warmMs = Date.now() - started;
    await second.stop();
    console.log(
      `[timing] cold start of 2 fedify-ref + relay: ${coldMs} ms (healthy ${run.targets.map((t) => t.timings.healthyMs).join("/")} ms); ` +
        `warm start of 1 fedify-ref: ${warmMs} ms (images ${second.timings.imagesMs} ms)`,
    );
    expect(second.targets[0]?.timings.healthyMs).toBeGreaterThan(0);
    expect(await labelled(second.runId)).toEqual({ containers: [], networks: [] });
  }, 120_000);
});

describeDocker("container runtime cleanup", () => {
  function startChild(runId: string): { child: ChildProcess; started: Promise<void> } {
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, "bin/run-ts.js"), join(REPO_ROOT, "harness/runtime/sigint-child.ts"), runId],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } },
    );
    let output = "";
    const started = new Promise<void>((resolve, reject) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(`STARTED ${runId}`)) resolve();
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once("exit", (code) => reject(new Error(`child exited ${code} before starting: ${output}`)));
    });
    return { child, started };
  }

  const exited = (child: ChildProcess) =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );

  it("leaves no container or network behind when the run is interrupted with SIGINT", async () => {
    const runId = unique();
    const { child, started } = startChild(runId);
    await started;
    const before = await labelled(runId);
    expect(before.containers.length).toBe(2); // fedify-a and the probe relay
    expect(before.networks).toHaveLength(1);
    const done = exited(child);
    child.kill("SIGINT");
    expect((await done).code).toBe(130);
    expect(await labelled(runId)).toEqual({ containers: [], networks: [] });
  }, 180_000);

  it("cleans up through the reaper even when the run is killed with SIGKILL", async () => {
    const runId = unique();
    const { child, started } = startChild(runId);
    await started;
    expect((await labelled(runId)).containers.length).toBe(2);
    const done = exited(child);
    child.kill("SIGKILL");
    expect((await done).signal).toBe("SIGKILL");
    const left = await until(
      "the reaper to remove the run",
      async () => {
        const objects = await labelled(runId);
        return objects.containers.length === 0 && objects.networks.length === 0 ? objects : undefined;
      },
      30_000,
    );
    expect(left).toEqual({ containers: [], networks: [] });
  }, 180_000);
});
