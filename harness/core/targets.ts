/**
 * Starts (or connects to) the targets of a run and the probe, builds their drivers, and stops all of
 * it again. The process runtime is the embedded default; external targets are reached where they
 * already run; the container runtime lives in harness/runtime/containers.
 * @module
 */
import type { Driver } from "../drivers/driver.ts";
import { createFedifyRefDriver } from "../drivers/fedify-ref.ts";
import { createMastodonApiDriver } from "../drivers/mastodon-api.ts";
import { createMisskeyApiDriver } from "../drivers/misskey-api.ts";
import { createProbeDriver, PROBE_CAPABILITIES } from "../drivers/probe.ts";
import { startProbe } from "../peer/probe.ts";
import type { Probe } from "../peer/types.ts";
import { createHttpClient } from "../protocol/http-client.ts";
import { probeKeyPool } from "../protocol/key-pool.ts";
import type { HostMapping, HttpClient } from "../protocol/types.ts";
import { type ContainerRun, hostMapDispatcher, startContainerTargets } from "../runtime/container.ts";
import { startFedifyRefProcess } from "../runtime/process.ts";
import { loadProfile } from "../runtime/profiles.ts";
import { createTestCa, type TestCa } from "../runtime/test-ca.ts";
import { allowListFor } from "./allow-list.ts";
import { ConfigError, type RunConfig, type TargetSpec } from "./config.ts";
import type { ImplementationProfile, Target } from "./model.ts";
import { pidCpuMs } from "./timing.ts";

/** The running targets of one run. */
export interface RunTargets {
  probe: Probe;
  /** The probe's own target first, then the configured ones in order. */
  targets: Target[];
  /** The harness's client: trusts the run's CA, allow-listed to the run's hosts. */
  http: HttpClient;
  /** The run's CA (PEM), when targets serve HTTPS. */
  ca?: string[];
  /** hostname → where to connect, when targets have names the host cannot resolve (containers). */
  hostMap?: Record<string, HostMapping>;
  /** Stops everything started; safe to call twice. */
  stop(): Promise<void>;
}

/** A target failed to start: an infrastructure failure (exit code 3), not a verdict. */
export class TargetStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TargetStartError";
  }
}

interface Started {
  target: Target;
  stop: () => Promise<void>;
}

/** Options of {@link startTargets}. */
export interface StartTargetsOptions {
  runId: string;
  signal?: AbortSignal | undefined;
}

/** The runtime a spec resolves to: its own, else the run's default where the profile allows it. */
export function runtimeOf(
  spec: TargetSpec,
  config: Pick<RunConfig, "runtime">,
): "process" | "container" | "external" {
  if (spec.runtime) return spec.runtime;
  if (spec.origin) return "external";
  const profile = loadProfile(spec.implementation);
  return profile.runtimes.includes(config.runtime) ? config.runtime : (profile.runtimes[0] ?? "external");
}

/** Starts the probe and every configured target in parallel. */
export async function startTargets(config: RunConfig, options: StartTargetsOptions): Promise<RunTargets> {
  const specs = config.targets.map((spec) => {
    try {
      return { ...spec, runtime: runtimeOf(spec, config) };
    } catch (error) {
      throw new ConfigError(`target ${spec.id}: ${reason(error)}`);
    }
  });
  const inContainers = specs.filter((s) => s.runtime === "container");
  if (inContainers.length > 0 && specs.some((s) => s.runtime === "process")) {
    // Containers reach each other by name on the run network; a local process is not on it.
    throw new ConfigError(
      "mix of process and container targets: use one runtime for all non-external targets",
    );
  }
  const ca =
    config.tls || inContainers.length > 0
      ? await createTestCa({ commonName: `fedicheck run ${options.runId}` })
      : undefined;
  const containers =
    inContainers.length > 0 && ca
      ? await startContainerTargets(inContainers, {
          runId: options.runId,
          ca,
          images: config.images,
          handleSignals: false,
          ...(options.signal ? { signal: options.signal } : {}),
        }).catch((error: unknown) => {
          throw new TargetStartError(reason(error));
        })
      : undefined;
  try {
    return await startRest(specs, { ...options, ca, containers });
  } catch (error) {
    await containers?.stop();
    throw error;
  }
}

async function startRest(
  specs: TargetSpec[],
  options: StartTargetsOptions & { ca: TestCa | undefined; containers: ContainerRun | undefined },
): Promise<RunTargets> {
  const { ca, containers } = options;
  const leaf = ca && !containers ? await ca.issue(["127.0.0.1", "localhost"]) : undefined;
  // One allow-list for the harness's client and the probe's: filled once the origins are known, so a
  // hostile document (a keyId, an actor id, a redirect) cannot send either anywhere off the run.
  const allowHosts: string[] = [];
  const probe = containers?.probe
    ? await startProbe({ ...containers.probe, client: { ...containers.probe.client, allowHosts } })
    : await startProbe({
        ...(leaf ? { tls: { cert: leaf.certPem, key: leaf.keyPem } } : {}),
        client: { ...(ca ? { ca: [ca.certPem] } : {}), allowHosts },
      });
  const probeTarget: Target = {
    id: "probe",
    implementation: "probe",
    version: loadProfile("probe").version,
    origin: probe.origin,
    runtime: "process",
    capabilities: [...PROBE_CAPABILITIES],
    driver: createProbeDriver(probe),
  };
  const processCa = ca && leaf ? { caPem: ca.certPem, ...leaf } : undefined;
  // fedify-ref processes get their actors' keys from the key cache (an equal, disjoint share each,
  // as much left for the probe) instead of generating them: with many targets on one machine, key
  // generation was most of their CPU time (issue 8). No cap: the default run makes ~150 actors on
  // each target, and a share of 128 left each generating ~18 keys, a third of its CPU.
  const keys = probeKeyPool();
  const keyShare = Math.floor(keys.cachedLeft() / (specs.length + 1));
  const settled = await Promise.allSettled(
    specs.map((spec) =>
      spec.runtime === "container" && containers
        ? containerTarget(spec, containers)
        : startOne(spec, {
            ca: processCa,
            rsaKeys: spec.runtime === "process" ? keys.takeCached(keyShare) : [],
            // Keys a server had to generate all the same go into the cache for the next run.
            adoptKeys: (lines) => keys.adopt(lines),
          }),
    ),
  );
  const started = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  allowHosts.push(...allowListFor([probeTarget, ...started.map((s) => s.target)], probe));
  const http = createHttpClient({
    ...(ca ? { ca: [ca.certPem] } : {}),
    ...(containers ? { hostMap: containers.hostMap } : {}),
    allowHosts,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.allSettled([
      ...started.map(async (s) => {
        await s.target.driver.close();
        await s.stop();
      }),
      probeTarget.driver.close(),
    ]);
    await probe.close();
    await http.close();
    await containers?.stop();
  };
  const failures = settled.flatMap((s, i) =>
    s.status === "rejected" ? [`${specs[i]?.id}: ${reason(s.reason)}`] : [],
  );
  if (failures.length > 0) {
    await stop();
    throw new TargetStartError(`could not start ${failures.join("; ")}`);
  }
  return {
    probe,
    targets: [probeTarget, ...started.map((s) => s.target)],
    http,
    ...(ca ? { ca: [ca.certPem] } : {}),
    ...(containers ? { hostMap: containers.hostMap } : {}),
    stop,
  };
}

/** A target the container runtime started: only fedify-ref has a driver that needs no provisioning yet. */
async function containerTarget(spec: TargetSpec, run: ContainerRun): Promise<Started> {
  const started = run.targets.find((t) => t.spec.id === spec.id);
  if (!started) throw new Error(`the container runtime did not start ${spec.id}`);
  if (started.implementation !== "fedify-ref" || !started.controlToken) {
    throw new ConfigError(
      `target ${spec.id}: ${started.implementation} containers start, but account provisioning through its driver is not wired yet; run it yourself and use runtime=external,origin=…,token=…`,
    );
  }
  const dispatcher = hostMapDispatcher(run);
  const driver = createFedifyRefDriver({ url: started.origin, token: started.controlToken, dispatcher });
  return {
    target: {
      id: spec.id,
      implementation: started.implementation,
      version: started.version,
      origin: started.origin,
      runtime: "container",
      capabilities: [...driver.capabilities],
      driver,
      logs: () => started.logs(),
    },
    stop: () => dispatcher.close(),
  };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function startOne(
  spec: TargetSpec,
  options: {
    ca: { caPem: string; certPem: string; keyPem: string } | undefined;
    rsaKeys: string[];
    adoptKeys: (lines: string[]) => Promise<unknown>;
  },
): Promise<Started> {
  let profile: ImplementationProfile;
  try {
    profile = loadProfile(spec.implementation);
  } catch (error) {
    throw new ConfigError(`target ${spec.id}: ${reason(error)}`);
  }
  const runtime = spec.runtime ?? "external";
  if (!profile.runtimes.includes(runtime)) {
    throw new ConfigError(
      `target ${spec.id}: ${profile.id} cannot run as '${runtime}' (it supports: ${profile.runtimes.join(", ")})`,
    );
  }
  const info = { id: spec.id, implementation: profile.id, version: profile.version, runtime };
  if (runtime === "process") {
    if (profile.driver !== "fedify-ref") {
      throw new ConfigError(
        `target ${spec.id}: only fedify-ref runs as a local process; use runtime=external or container`,
      );
    }
    const proc = await startFedifyRefProcess({
      name: spec.id,
      ...(spec.defects?.length ? { defects: spec.defects } : {}),
      ...(spec.authorizedFetch ? { authorizedFetch: true } : {}),
      ...(options.ca ? { https: options.ca } : {}),
      ...(options.rsaKeys.length > 0 ? { rsaKeys: options.rsaKeys } : {}),
      onGeneratedKeys: options.adoptKeys,
    });
    const driver = createFedifyRefDriver({
      url: proc.url,
      token: proc.token,
      ...(proc.caPem ? { ca: proc.caPem } : {}),
      ...(spec.authorizedFetch ? { authorizedFetch: true } : {}),
    });
    return {
      target: {
        ...info,
        origin: proc.origin,
        capabilities: [...driver.capabilities],
        driver,
        logs: () => proc.logs(),
        cpuMs: () => pidCpuMs(proc.pid),
      },
      stop: () => proc.stop(),
    };
  }
  if (runtime === "external") {
    if (!spec.origin)
      throw new ConfigError(`target ${spec.id} is external: give its origin (origin=https://…)`);
    const token = resolveToken(spec);
    const driver = externalDriver(profile, spec.origin, token);
    return {
      target: { ...info, origin: spec.origin, capabilities: [...driver.capabilities], driver },
      stop: async () => {},
    };
  }
  throw new ConfigError(`target ${spec.id}: runtime '${runtime}' is not handled here`);
}

/** A token given as `env:NAME` is read from the environment so it never sits on a command line. */
function resolveToken(spec: TargetSpec): string | undefined {
  if (!spec.token) return undefined;
  if (!spec.token.startsWith("env:")) return spec.token;
  const name = spec.token.slice(4);
  const value = process.env[name];
  if (!value)
    throw new ConfigError(`target ${spec.id}: the environment variable ${name} holding its token is not set`);
  return value;
}

function externalDriver(profile: ImplementationProfile, origin: string, token: string | undefined): Driver {
  const common = {
    implementation: profile.id,
    origin,
    ...(token ? { token } : {}),
    capabilities: profile.capabilities,
  };
  switch (profile.driver) {
    case "mastodon-api":
      return createMastodonApiDriver(common);
    case "misskey-api":
      return createMisskeyApiDriver(common);
    default:
      throw new ConfigError(
        `${profile.id} has driver '${profile.driver}', which cannot reach an external server`,
      );
  }
}
