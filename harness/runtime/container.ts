/**
 * The container runtime: boots the targets of a run as containers (testcontainers' GenericContainer)
 * on a network of the run's own, under real hostnames (`fedify-a.test`, `mastodon.test`), over HTTPS
 * with certificates from the run's CA, and joins the harness's in-process probe to that network as
 * `probe.test` through a relay container. From the host, the harness reaches every target through
 * the returned host map (hostname → published loopback port, keeping Host and SNI), so URLs are the
 * same inside and outside the network.
 *
 * Everything created carries the label `fedicheck.run=<runId>` and is removed by label on `stop()`,
 * on failure while starting, on SIGINT/SIGTERM, and — through a detached reaper process — when the
 * harness dies without cleaning up. `fedicheck stack down --all` sweeps anything left.
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { Readable } from "node:stream";
import { rootCertificates } from "node:tls";
import type { StartedTestContainer } from "testcontainers";
import { Agent, buildConnector } from "undici";
import type { TargetSpec } from "../core/config.ts";
import type { ImplementationProfile } from "../core/model.ts";
import { createHttpClient } from "../protocol/http-client.ts";
import type { HostMapping, HttpClientOptions } from "../protocol/types.ts";
import {
  type ContainerSpec,
  type InitSpec,
  renderTarget,
  secret,
  type TargetPlan,
} from "./container-spec.ts";
import {
  type Dockerode,
  dockerClient,
  LABEL_RUN,
  LABEL_SERVICE,
  LABEL_STACK,
  LABEL_TARGET,
  sweep,
} from "./docker.ts";
import { ensureLocalImages, LOCAL_IMAGES, type LocalImageName } from "./images.ts";
import { loadProfile } from "./profiles.ts";
import { type Reaper, startReaper } from "./reaper.ts";
import type { TestCa } from "./test-ca.ts";

/** The probe's name on every run network. */
export const PROBE_HOSTNAME = "probe.test";

/** Options of {@link startContainerTargets}. */
export interface ContainerRunOptions {
  /** Run id: names the network and labels everything. */
  runId: string;
  /** The run's CA (see test-ca.ts); every container trusts it, every hostname gets a certificate. */
  ca: TestCa;
  /** Image overrides: implementation id (or `<implementation>/<service>`) → image reference. */
  images?: Record<string, string>;
  /** Aborting stops the start and removes what was created. */
  signal?: AbortSignal;
  /**
   * How the probe joins the network. `relay` (default): the harness runs the probe in-process and a
   * relay container named probe.test forwards to it (see {@link ContainerRun.probe}); `container`:
   * the standalone `fedicheck peer` image runs as target `probe` (for `stack up`); `none`.
   */
  probe?: "relay" | "container" | "none";
  /**
   * On SIGINT/SIGTERM remove everything, then exit with 130/143. Default true. Pass false when the
   * caller handles signals itself (e.g. to write its results first) and calls `stop()`.
   */
  handleSignals?: boolean;
  /** Start a detached reaper that cleans up if this process dies without `stop()`. Default true. */
  reaper?: boolean;
  /** Label the objects as the named stack (for `fedicheck stack up`). Default none. */
  stack?: string;
  /** Progress lines. Default: silent. */
  log?: (line: string) => void;
}

/** One target running in containers. */
export interface ContainerTarget {
  spec: TargetSpec;
  implementation: string;
  version: string;
  hostname: string;
  /** `https://<hostname>`. */
  origin: string;
  /** Where the harness connects for this hostname (published loopback port). */
  hostMapping: HostMapping;
  /** fedify-ref only: the bearer token of its control API. */
  controlToken?: string;
  /** Container logs of every service of the target, newest last, each line prefixed by the service. */
  logs(): string;
  /** Runs a command in one of the target's services (provisioning); rejects on a non-zero exit. */
  exec(service: string, command: string[]): Promise<string>;
  /** What starting it took, ms: containers up, then healthy. */
  timings: { startedMs: number; healthyMs: number };
}

/** The probe's place on the run network, as options for `startProbe()`. */
export interface ProbeAttachment {
  /** Listen here (the run network's gateway address on the host)… */
  host: string;
  /** … on this port; the relay container forwards probe.test:443 to it. */
  port: number;
  /** Certificate for probe.test. */
  tls: { cert: string; key: string };
  /** `https://probe.test`. */
  publicOrigin: string;
  /** Client options that trust the CA and resolve every hostname of the run. */
  client: HttpClientOptions;
}

/** A started set of container targets; `stop()` removes everything the run created. */
export interface ContainerRun {
  runId: string;
  network: { name: string; subnet: string; gateway: string };
  targets: ContainerTarget[];
  /** hostname → where to connect from the host, for every target and the probe. */
  hostMap: Record<string, HostMapping>;
  /** PEM of the CA, to trust in the harness's clients. */
  caPem: string;
  /** Where the in-process probe must listen (relay mode); undefined otherwise. */
  probe?: ProbeAttachment;
  /** `https://probe.test` when the probe joined the network. */
  probeOrigin?: string;
  /** Whether Ryuk is active (otherwise fedicheck's own reaper and signal handlers clean up). */
  ryuk: boolean;
  /** What starting took: images (build or cache), network and containers, health. */
  timings: { imagesMs: number; startMs: number; totalMs: number };
  stop(): Promise<void>;
}

/** Thrown when a target does not come up: the message names it and ends with its last log lines. */
export class ContainerStartError extends Error {
  override name = "ContainerStartError";
}

const MAX_LOG_BYTES = 256 * 1024;

/**
 * Starts the given targets (in parallel) as containers on a fresh network, waits until each answers
 * its health check over HTTPS under its real hostname, and returns how to reach them. On any failure
 * everything created is removed before the error is thrown.
 */
export async function startContainerTargets(
  specs: TargetSpec[],
  options: ContainerRunOptions,
): Promise<ContainerRun> {
  const began = Date.now();
  const log = options.log ?? (() => {});
  const { client, ryuk } = await dockerClient();
  const docker = client.container.dockerode;
  const { runId } = options;
  if (!/^[a-z0-9][a-z0-9_.-]*$/i.test(runId))
    throw new Error(`run id '${runId}' must be letters, digits, '.', '_' or '-'`);
  const labels: Record<string, string> = { [LABEL_RUN]: runId };
  if (options.stack) labels[LABEL_STACK] = options.stack;

  const probeMode = options.probe ?? "relay";
  const targetSpecs = [...specs];
  if (probeMode === "container")
    targetSpecs.push({ id: "probe", implementation: "probe", runtime: "container" });
  const profiles = new Map<string, ImplementationProfile>();
  for (const spec of targetSpecs) profiles.set(spec.implementation, loadProfile(spec.implementation));

  // Cleanup first: whatever happens next, these undo it.
  let cleaning: Promise<void> | undefined;
  const reaper: Reaper | undefined = options.reaper === false || ryuk ? undefined : startReaper(runId);
  const onSignal = (signal: NodeJS.Signals) => {
    // Libraries (testcontainers' lock files) add signal listeners of their own, so listener counts
    // cannot tell whether someone else will exit: the contract is simply "handled here means exit".
    void cleanup().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }
  // One shared promise: a start that fails because a signal is cleaning up waits for that cleanup.
  function cleanup(): Promise<void> {
    cleaning ??= (async () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await sweep(docker, runId);
      reaper?.disarm();
    })();
    return cleaning;
  }

  try {
    options.signal?.throwIfAborted();
    const imagesStarted = Date.now();
    const images = await resolveImages(targetSpecs, profiles, probeMode, options, log);
    const imagesMs = Date.now() - imagesStarted;
    options.signal?.throwIfAborted();

    const network = await createNetwork(docker, `fedicheck-${runId}`, labels);
    log(`network ${network.name} (${network.subnet})`);
    const bundlePem = `${systemBundle()}${options.ca.certPem.trim()}\n`;
    const secretSeed = `${runId}:${options.ca.certPem}`;
    const plans = await Promise.all(
      targetSpecs.map(async (spec) => {
        const profile = profiles.get(spec.implementation)!;
        const hostname = spec.id === "probe" ? PROBE_HOSTNAME : `${spec.id}.test`;
        const issued = await options.ca.issue([hostname]);
        const extraArgs = spec.defects?.length ? ["--defect", spec.defects.join(",")] : undefined;
        return renderTarget(profile, {
          targetId: spec.id,
          hostname,
          subnet: network.subnet,
          secretSeed,
          caPem: options.ca.certPem,
          bundlePem,
          certPem: issued.certPem,
          keyPem: issued.keyPem,
          images,
          frontImage: images.probe,
          extraArgs,
        });
      }),
    );

    const startStarted = Date.now();
    const hostMap: Record<string, HostMapping> = {};
    let probe: ProbeAttachment | undefined;
    const relay = async (): Promise<void> => {
      if (probeMode !== "relay") return;
      const port = await freePort(network.gateway);
      const issued = await options.ca.issue([PROBE_HOSTNAME]);
      const spec: ContainerSpec = {
        targetId: "probe",
        service: "relay",
        role: "front",
        image: images.probe!,
        aliases: [PROBE_HOSTNAME, "probe-relay"],
        env: {},
        entrypoint: ["node", "/app/bin/run-ts.js", "/app/harness/runtime/tls-front.ts"],
        command: ["--listen", "443", "--tcp", `${network.gateway}:${port}`],
        files: [],
        waitLog: { pattern: "tcp-relay listening", times: 1 },
        dependsOn: [],
      };
      await startContainer(spec, network.name, labels, 30_000, () => {});
      hostMap[PROBE_HOSTNAME] = { address: network.gateway, port };
      probe = {
        host: network.gateway,
        port,
        tls: { cert: issued.certPem, key: issued.keyPem },
        publicOrigin: `https://${PROBE_HOSTNAME}`,
        client: { ca: [options.ca.certPem], hostMap },
      };
    };
    const [targets] = await Promise.all([
      Promise.all(
        plans.map((plan, index) =>
          startTarget(plan, targetSpecs[index]!, profiles.get(plan.implementation)!, {
            network: network.name,
            labels,
            log,
            hostMap,
            caPem: options.ca.certPem,
            secretSeed,
            signal: options.signal,
          }),
        ),
      ),
      relay(),
    ]);
    const startMs = Date.now() - startStarted;
    log(`started ${targets.length} target(s) in ${startMs} ms`);
    return {
      runId,
      network,
      targets: targets.filter((target) => probeMode !== "container" || target.spec.id !== "probe"),
      hostMap,
      caPem: options.ca.certPem,
      probe,
      probeOrigin: probeMode === "none" ? undefined : `https://${PROBE_HOSTNAME}`,
      ryuk,
      timings: { imagesMs, startMs, totalMs: Date.now() - began },
      stop: cleanup,
    };
  } catch (error) {
    await cleanup().catch(() => {});
    throw error;
  }
}

interface StartContext {
  network: string;
  labels: Record<string, string>;
  log: (line: string) => void;
  hostMap: Record<string, HostMapping>;
  caPem: string;
  secretSeed: string;
  signal?: AbortSignal;
}

async function startTarget(
  plan: TargetPlan,
  spec: TargetSpec,
  profile: ImplementationProfile,
  context: StartContext,
): Promise<ContainerTarget> {
  const began = Date.now();
  const logs: Array<{ service: string; line: string }> = [];
  let logBytes = 0;
  const collect = (service: string) => (stream: Readable) => {
    stream.setEncoding("utf8");
    let rest = "";
    stream.on("data", (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        logs.push({ service, line });
        logBytes += line.length;
        while (logBytes > MAX_LOG_BYTES && logs.length > 1) logBytes -= logs.shift()!.line.length;
      }
    });
  };
  const text = () => logs.map((entry) => `[${entry.service}] ${entry.line}`).join("\n");
  const containers = new Map<string, StartedTestContainer>();
  const labels = { ...context.labels, [LABEL_TARGET]: plan.targetId };
  const timeout = plan.startTimeoutMs;
  try {
    const phase = async (list: ContainerSpec[]) => {
      await Promise.all(
        list.map(async (service) => {
          context.signal?.throwIfAborted();
          containers.set(
            service.service,
            await startContainer(service, context.network, labels, timeout, collect(service.service)),
          );
        }),
      );
    };
    await phase(plan.services.filter((s) => s.role === "companion"));
    for (const step of plan.init)
      await runInit(step, context.network, labels, timeout, collect(step.service));
    await phase(plan.services.filter((s) => s.role === "main" || s.role === "worker"));
    await phase(plan.services.filter((s) => s.role === "front"));
    const published = plan.services.find((s) => s.publish !== undefined);
    const container = published && containers.get(published.service);
    if (!published?.publish || !container)
      throw new Error(`${plan.targetId}: no service publishes the HTTPS port`);
    const hostMapping = { address: "127.0.0.1", port: container.getMappedPort(published.publish) };
    context.hostMap[plan.hostname] = hostMapping;
    const startedMs = Date.now() - began;
    context.log(
      `${plan.targetId}: containers up in ${startedMs} ms, https://${plan.hostname} → 127.0.0.1:${hostMapping.port}`,
    );
    await waitHealthy(plan, context, began + timeout);
    const healthyMs = Date.now() - began;
    context.log(`${plan.targetId}: healthy after ${healthyMs} ms`);
    const target: ContainerTarget = {
      spec,
      implementation: plan.implementation,
      version: profile.version,
      hostname: plan.hostname,
      origin: plan.origin,
      hostMapping,
      logs: text,
      exec: async (service, command) => {
        const running = containers.get(service);
        if (!running)
          throw new Error(
            `${plan.targetId} has no service '${service}' (has ${[...containers.keys()].join(", ")})`,
          );
        const result = await running.exec(command);
        if (result.exitCode !== 0) {
          throw new Error(
            `${plan.targetId}/${service}: '${command.join(" ")}' exited ${result.exitCode}: ${result.output.slice(-2000)}`,
          );
        }
        return result.stdout;
      },
      timings: { startedMs, healthyMs },
    };
    if (plan.implementation === "fedify-ref")
      target.controlToken = secret(context.secretSeed, `${plan.targetId}/control_token`, 48);
    return target;
  } catch (error) {
    // One event-loop turn reads the log lines already buffered (no fixed sleep, issue 8).
    await new Promise((resolve) => setImmediate(resolve));
    const tail = text().split("\n").slice(-30).join("\n");
    throw new ContainerStartError(
      `target ${plan.targetId} (${plan.implementation}) did not start: ${(error as Error).message}` +
        (tail ? `\nlast log lines:\n${tail}` : ""),
      { cause: error },
    );
  }
}

async function waitHealthy(plan: TargetPlan, context: StartContext, deadline: number): Promise<void> {
  const http = createHttpClient({
    ca: [context.caPem],
    hostMap: context.hostMap,
    timeoutMs: 5000,
    maxRedirects: 0,
  });
  const url = `${plan.origin}${plan.health.path}`;
  const expected = plan.health.status ?? 200;
  const body = plan.health.bodyMatches ? new RegExp(plan.health.bodyMatches) : undefined;
  let last = "no answer yet";
  let delay = 100;
  try {
    while (Date.now() < deadline) {
      context.signal?.throwIfAborted();
      try {
        const init: { method: string; headers?: Record<string, string>; body?: string } = {
          method: plan.health.method ?? "GET",
        };
        if (plan.health.body !== undefined) {
          init.headers = { "content-type": "application/json" };
          init.body = plan.health.body;
        }
        const response = await http.request(url, init);
        if (response.status === expected && (!body || body.test(response.text().trim()))) return;
        last = `HTTP ${response.status}: ${response.text().slice(0, 200)}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 1000);
    }
  } finally {
    await http.close();
  }
  throw new Error(`${url} was not healthy within ${plan.startTimeoutMs} ms (last: ${last})`);
}

async function startContainer(
  spec: ContainerSpec,
  network: string,
  labels: Record<string, string>,
  timeoutMs: number,
  consumer: (stream: Readable) => void,
): Promise<StartedTestContainer> {
  const { RunContainer, RunningStrategy, Wait } = await loadTestcontainers();
  const container = new RunContainer(spec.image)
    .joinNetwork(network, spec.aliases)
    .withName(`${labels[LABEL_RUN]}-${spec.targetId}-${spec.service}`.replace(/[^a-zA-Z0-9_.-]/g, "-"))
    .withLabels({ ...labels, [LABEL_TARGET]: spec.targetId, [LABEL_SERVICE]: spec.service })
    .withEnvironment(spec.env)
    .withLogConsumer(consumer)
    .withStartupTimeout(timeoutMs);
  if (spec.entrypoint) container.withEntrypoint(spec.entrypoint);
  if (spec.command) container.withCommand(spec.command);
  if (spec.user) container.withUser(spec.user);
  if (spec.files.length > 0) {
    container.withCopyContentToContainer(
      spec.files.map((file) => ({ content: file.content, target: file.path, mode: file.mode })),
    );
  }
  if (spec.publish !== undefined) container.publishOnLoopback(spec.publish);
  if ("step" in spec) container.withWaitStrategy(Wait.forOneShotStartup());
  else if (spec.waitLog)
    container.withWaitStrategy(Wait.forLogMessage(new RegExp(spec.waitLog.pattern), spec.waitLog.times));
  else container.withWaitStrategy(new RunningStrategy());
  return container.start();
}

let loaded: ReturnType<typeof defineClasses> | undefined;

// testcontainers is imported on first use, so commands that never start a container load faster.
async function loadTestcontainers() {
  loaded ??= defineClasses(await import("testcontainers"));
  return loaded;
}

function defineClasses(tc: typeof import("testcontainers")) {
  // GenericContainer's protected create options let us join the network with aliases directly (its
  // own withNetworkAliases first attaches to the default bridge) and bind the port on loopback only.
  class RunContainer extends tc.GenericContainer {
    joinNetwork(name: string, aliases: string[]): this {
      this.withNetworkMode(name);
      this.createOpts.NetworkingConfig = { EndpointsConfig: { [name]: { Aliases: aliases } } };
      return this;
    }
    publishOnLoopback(port: number): this {
      this.withExposedPorts(port);
      this.hostConfig.PortBindings = {
        ...this.hostConfig.PortBindings,
        [`${port}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: "0" }],
      };
      return this;
    }
  }
  // The default wait probes ports with a shell inside the container, which FROM-scratch images lack;
  // for services without a log line "running" is enough (health is then checked over HTTPS).
  class RunningStrategy extends tc.StartupCheckStrategy {
    override async checkStartupState(client: Dockerode, id: string): Promise<"PENDING" | "SUCCESS" | "FAIL"> {
      const info = await client.getContainer(id).inspect();
      if (info.State.Running) return "SUCCESS";
      return info.State.Status === "created" ? "PENDING" : "FAIL";
    }
  }
  return { RunContainer, RunningStrategy, Wait: tc.Wait };
}

async function runInit(
  step: InitSpec,
  network: string,
  labels: Record<string, string>,
  timeoutMs: number,
  consumer: (stream: Readable) => void,
): Promise<void> {
  const container = await startContainer(step, network, labels, timeoutMs, consumer);
  await container.stop({ remove: true, timeout: 0 }).catch(() => {});
}

async function createNetwork(
  docker: Dockerode,
  name: string,
  labels: Record<string, string>,
): Promise<{ name: string; subnet: string; gateway: string }> {
  const network = await docker.createNetwork({
    Name: name,
    Driver: "bridge",
    CheckDuplicate: true,
    Labels: labels,
  });
  const info = await network.inspect();
  const config = (info.IPAM?.Config ?? [])[0] as { Subnet?: string; Gateway?: string } | undefined;
  if (!config?.Subnet || !config.Gateway)
    throw new Error(`network ${name} has no IPv4 subnet/gateway: ${JSON.stringify(info.IPAM)}`);
  return { name, subnet: config.Subnet, gateway: config.Gateway };
}

async function resolveImages(
  specs: TargetSpec[],
  profiles: Map<string, ImplementationProfile>,
  probeMode: "relay" | "container" | "none",
  options: ContainerRunOptions,
  log: (line: string) => void,
): Promise<Record<string, string>> {
  const images: Record<string, string> = { ...options.images };
  const needed = new Set<LocalImageName>();
  const local = (name: LocalImageName) => !options.images?.[name];
  // The TLS front and the relay run from the probe image.
  if (
    probeMode !== "none" ||
    specs.some((s) => profiles.get(s.implementation)?.container?.tls.mode === "front")
  ) {
    if (local("probe")) needed.add("probe");
  }
  for (const spec of specs) {
    const name = LOCAL_IMAGES.find((image) => image === spec.implementation);
    if (name && local(name)) needed.add(name);
  }
  if (needed.size > 0) {
    const built = await ensureLocalImages({ only: [...needed], log });
    Object.assign(images, built.images);
  }
  images.probe ??= "fedicheck/probe:local";
  return images;
}

function systemBundle(): string {
  const path = "/etc/ssl/certs/ca-certificates.crt";
  if (!existsSync(path)) return "";
  const text = readFileSync(path, "utf8");
  return text.endsWith("\n") ? text : `${text}\n`;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * An undici dispatcher that trusts the run's CA and connects each mapped hostname to its published
 * loopback port, keeping Host and SNI — for drivers that take a dispatcher (e.g. fedify-ref's
 * `dispatcher` option) rather than the harness's HttpClient. Close it when done.
 */
export function hostMapDispatcher(run: Pick<ContainerRun, "caPem" | "hostMap">): Agent {
  const connector = buildConnector({ ca: [...rootCertificates, run.caPem] });
  return new Agent({
    connect(options, callback) {
      const port = options.port || (options.protocol === "https:" ? "443" : "80");
      const mapping = run.hostMap[options.hostname.toLowerCase()];
      if (!mapping) return connector(options, callback);
      connector(
        {
          ...options,
          host: options.host ?? `${options.hostname}:${port}`,
          hostname: mapping.address,
          port: String(mapping.port),
        },
        callback,
      );
    },
  });
}
