/**
 * Turns an implementation's container profile into concrete container specs for one target: names,
 * network aliases, env with secrets filled in, commands, the files to place (CA, bundle, host
 * certificate, rendered config files), the trust settings and the TLS front. Pure: no Docker here,
 * so tests check the output against the documented facts, and docker-compose.yml is rendered from
 * the same specs.
 * @module
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ImplementationProfile } from "../core/model.ts";
import type { ContainerProfile, HealthCheck, ProvisionStep, ServiceTemplate } from "./container-profile.ts";
import { PATHS } from "./container-profile.ts";
import { REPO_ROOT } from "./repo.ts";

/** The reserved service name of the TLS front fedicheck adds for servers that do not serve TLS. */
export const FRONT_SERVICE = "front";

/** Where the TLS front's script lives inside the `fedicheck/probe` image. */
export const FRONT_SCRIPT = "/app/harness/runtime/tls-front.ts";

/** A file to place in a container, rendered. `source` tells where it came from (for tests and compose). */
export interface RenderedFile {
  path: string;
  content: string;
  mode: number;
  source: "ca" | "bundle" | "cert" | "key" | "system-bundle" | "template";
}

/** One container to start, fully rendered. */
export interface ContainerSpec {
  /** Target id the container belongs to. */
  targetId: string;
  /** Service name within the target (`main`, `web`, `db`, `front`…). */
  service: string;
  role: ServiceTemplate["role"] | "front";
  image: string;
  /** Names on the run network: `<targetId>-<service>`, plus the public hostname for the TLS end. */
  aliases: string[];
  env: Record<string, string>;
  entrypoint?: string[];
  command?: string[];
  files: RenderedFile[];
  user?: string;
  /** Container port to publish on the host loopback (the HTTPS port of the TLS end). */
  publish?: number;
  waitLog?: { pattern: string; times: number };
  /** Services of the same target that must be up first. */
  dependsOn: string[];
}

/** A one-shot container run to completion before the app services (migrations). */
export interface InitSpec extends ContainerSpec {
  step: string;
}

/** Everything needed to boot one target in containers. */
export interface TargetPlan {
  targetId: string;
  implementation: string;
  hostname: string;
  /** `https://<hostname>`: the same URL inside the network and, through the host map, outside. */
  origin: string;
  services: ContainerSpec[];
  init: InitSpec[];
  health: HealthCheck;
  startTimeoutMs: number;
  /** Provisioning steps with target placeholders filled in (`{{username}}` etc. stay). */
  provision: NonNullable<ContainerProfile["provision"]>;
  trust: ContainerProfile["trust"];
}

/** What differs between targets and runs, for {@link renderTarget}. */
export interface RenderContext {
  targetId: string;
  /** Public hostname. Default `<targetId>.test`. */
  hostname?: string;
  /** The run network's CIDR (for private-address allow lists), e.g. `172.18.0.0/16`. */
  subnet: string;
  /** Seed of the per-target secrets: random per run; fixed for docker-compose.yml. */
  secretSeed: string;
  /** PEM of the run's CA. */
  caPem: string;
  /** PEM bundle: system roots plus the CA. */
  bundlePem: string;
  /** Certificate and key for the hostname (PEM). */
  certPem: string;
  keyPem: string;
  /** Image overrides by implementation id (or by `<implementation>/<service>` for a companion). */
  images?: Record<string, string>;
  /** Image that runs fedicheck's TLS front. Default `fedicheck/probe:local`. */
  frontImage?: string;
  /** Arguments appended to the main service's command (e.g. fedify-ref's `--defect`). */
  extraArgs?: string[];
}

/** Thrown when a profile cannot be rendered: the message names the profile and what is wrong. */
export class ProfileError extends Error {
  override name = "ProfileError";
}

/** Renders one target's containers from its profile. Throws {@link ProfileError} on a bad profile. */
export function renderTarget(profile: ImplementationProfile, context: RenderContext): TargetPlan {
  const container = profile.container;
  if (!container)
    throw new ProfileError(`profile ${profile.id} has no 'container' section: it cannot run in containers`);
  const hostname = context.hostname ?? `${context.targetId}.test`;
  const origin = `https://${hostname}`;
  const names = new Set(container.services.map((s) => s.name));
  if (names.has(FRONT_SERVICE))
    throw new ProfileError(`profile ${profile.id}: the service name 'front' is reserved`);
  const fill = (text: string, extra: Record<string, string> = {}): string =>
    substitute(text, {
      profile: profile.id,
      targetId: context.targetId,
      hostname,
      origin,
      names,
      context,
      extra,
    });
  const fillAll = (record: Record<string, string> = {}): Record<string, string> =>
    Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fill(value)]));

  const certDir = `${PATHS.tlsDir}/${hostname}`;
  const common: RenderedFile[] = [
    { path: PATHS.ca, content: context.caPem, mode: 0o644, source: "ca" },
    { path: PATHS.bundle, content: context.bundlePem, mode: 0o644, source: "bundle" },
  ];
  // Keys are readable by the container's user (often not root): these are throwaway test keys.
  const tlsFiles: RenderedFile[] = [
    { path: `${certDir}/cert.pem`, content: context.certPem, mode: 0o644, source: "cert" },
    { path: `${certDir}/key.pem`, content: context.keyPem, mode: 0o644, source: "key" },
  ];
  const trustEnv: Record<string, string> = {};
  const trustFiles: RenderedFile[] = [];
  for (const method of container.trust) {
    if (method === "ssl-cert-file") trustEnv.SSL_CERT_FILE = PATHS.bundle;
    else if (method === "ssl-cert-dir") trustEnv.SSL_CERT_DIR = "/fedicheck";
    else if (method === "node-extra-ca-certs") trustEnv.NODE_EXTRA_CA_CERTS = PATHS.ca;
    else if (method === "system-bundle-mount") {
      trustFiles.push({
        path: PATHS.systemBundle,
        content: context.bundlePem,
        mode: 0o644,
        source: "system-bundle",
      });
    }
  }

  const mainImage = context.images?.[profile.id] ?? container.image;
  const tlsService =
    container.tls.mode === "self" ? container.services.find((s) => s.role === "main")?.name : undefined;
  if (container.tls.mode === "front" && !names.has(container.tls.service)) {
    throw new ProfileError(
      `profile ${profile.id}: the TLS front points at unknown service '${container.tls.service}'`,
    );
  }
  const specFor = (service: ServiceTemplate): ContainerSpec => {
    for (const dependency of service.dependsOn ?? []) {
      if (!names.has(dependency)) {
        throw new ProfileError(
          `profile ${profile.id}: service ${service.name} depends on unknown '${dependency}'`,
        );
      }
    }
    const app = service.role !== "companion";
    const image = service.image
      ? (context.images?.[`${profile.id}/${service.name}`] ?? fill(service.image))
      : mainImage;
    const files = [...common];
    if (app) files.push(...trustFiles);
    if (service.name === tlsService) files.push(...tlsFiles);
    for (const file of service.files ?? []) {
      const template = file.template ? readFileSync(join(REPO_ROOT, file.template), "utf8") : file.content;
      if (template === undefined)
        throw new ProfileError(`profile ${profile.id}: file ${file.path} has neither template nor content`);
      files.push({ path: file.path, content: fill(template), mode: file.mode ?? 0o644, source: "template" });
    }
    const spec: ContainerSpec = {
      targetId: context.targetId,
      service: service.name,
      role: service.role,
      image,
      aliases: [`${context.targetId}-${service.name}`],
      env: { ...(app ? fillAll(container.appEnv) : {}), ...fillAll(service.env), ...(app ? trustEnv : {}) },
      files,
      dependsOn: [...(service.dependsOn ?? [])],
    };
    if (service.entrypoint) spec.entrypoint = service.entrypoint.map((part) => fill(part));
    if (service.command) spec.command = service.command.map((part) => fill(part));
    if (service.role === "main" && context.extraArgs?.length)
      spec.command = [...(spec.command ?? []), ...context.extraArgs];
    if (service.user) spec.user = service.user;
    if (service.waitLog) spec.waitLog = { pattern: service.waitLog, times: service.waitLogTimes ?? 1 };
    if (service.name === tlsService && container.tls.mode === "self") {
      spec.aliases.push(hostname);
      spec.publish = container.tls.port;
    }
    return spec;
  };

  const services = container.services.map(specFor);
  if (container.tls.mode === "front") {
    const upstream = `http://${context.targetId}-${container.tls.service}:${container.tls.port}`;
    services.push({
      targetId: context.targetId,
      service: FRONT_SERVICE,
      role: "front",
      image: context.frontImage ?? "fedicheck/probe:local",
      aliases: [`${context.targetId}-${FRONT_SERVICE}`, hostname],
      env: {},
      entrypoint: ["node", "/app/bin/run-ts.js", FRONT_SCRIPT],
      command: [
        "--listen",
        "443",
        "--upstream",
        upstream,
        "--cert",
        `${certDir}/cert.pem`,
        "--key",
        `${certDir}/key.pem`,
      ],
      files: [...common, ...tlsFiles],
      publish: 443,
      waitLog: { pattern: "tls-front listening", times: 1 },
      dependsOn: [container.tls.service],
    });
  }

  const init: InitSpec[] = (container.init ?? []).map((step) => {
    const base = services.find((s) => s.service === step.service);
    if (!base)
      throw new ProfileError(
        `profile ${profile.id}: init step ${step.name} runs in unknown service '${step.service}'`,
      );
    return {
      ...base,
      step: step.name,
      service: `${step.service}-${step.name}`,
      aliases: [],
      command: step.command.map((part) => fill(part)),
      publish: undefined,
      waitLog: undefined,
    } as InitSpec;
  });

  const provision: TargetPlan["provision"] = {};
  const keep = { username: "{{username}}", email: "{{email}}", password: "{{password}}" };
  for (const key of ["account", "token"] as const) {
    const step = container.provision?.[key];
    if (step) provision[key] = renderProvision(step, (text) => fill(text, keep));
  }

  return {
    targetId: context.targetId,
    implementation: profile.id,
    hostname,
    origin,
    services,
    init,
    health: container.health,
    startTimeoutMs: container.startTimeoutMs,
    provision,
    trust: container.trust,
  };
}

/** Fills `{{username}}`, `{{email}}` and `{{password}}` in a rendered provisioning step. */
export function provisionStep(
  step: ProvisionStep,
  values: { username: string; email: string; password: string },
): ProvisionStep {
  // Values end up in command lines and source code (Mastodon's rails runner): keep them plain.
  for (const [key, value] of Object.entries(values)) {
    if (!/^[A-Za-z0-9_.@+-]+$/.test(value))
      throw new ProfileError(`provisioning ${key} '${value}' has characters outside [A-Za-z0-9_.@+-]`);
  }
  return renderProvision(step, (text) =>
    text.replace(/\{\{(username|email|password)\}\}/g, (_, key: keyof typeof values) => values[key]),
  );
}

function renderProvision(step: ProvisionStep, fill: (text: string) => string): ProvisionStep {
  if (step.kind === "exec") return { ...step, command: step.command.map(fill) };
  if (step.kind === "http") {
    const rendered: ProvisionStep = { ...step, path: fill(step.path) };
    if (step.body)
      rendered.body = Object.fromEntries(Object.entries(step.body).map(([k, v]) => [k, fill(v)]));
    return rendered;
  }
  return { ...step };
}

interface Substitution {
  profile: string;
  targetId: string;
  hostname: string;
  origin: string;
  names: Set<string>;
  context: RenderContext;
  extra: Record<string, string>;
}

function substitute(text: string, s: Substitution): string {
  return text.replace(/\{\{([^}]+)\}\}/g, (whole, key: string) => {
    if (key in s.extra) return s.extra[key] as string;
    if (key === "host") return s.hostname;
    if (key === "origin") return s.origin;
    if (key === "targetId") return s.targetId;
    if (key === "subnet") return s.context.subnet;
    if (key === "ca") return PATHS.ca;
    if (key === "bundle") return PATHS.bundle;
    if (key === "cert") return `${PATHS.tlsDir}/${s.hostname}/cert.pem`;
    if (key === "key") return `${PATHS.tlsDir}/${s.hostname}/key.pem`;
    const service = /^service:([a-z0-9-]+)$/.exec(key);
    if (service?.[1]) {
      if (!s.names.has(service[1]))
        throw new ProfileError(`profile ${s.profile}: ${whole} names no service of the profile`);
      return `${s.targetId}-${service[1]}`;
    }
    const hex = /^hex:(\d+):([a-z0-9_]+)$/.exec(key);
    if (hex?.[1] && hex[2]) return secret(s.context.secretSeed, `${s.targetId}/${hex[2]}`, Number(hex[1]));
    throw new ProfileError(`profile ${s.profile}: unknown placeholder ${whole}`);
  });
}

/** A deterministic hex secret of `length` characters for `name` under `seed`. */
export function secret(seed: string, name: string, length: number): string {
  let out = "";
  for (let block = 0; out.length < length; block++) {
    out += createHmac("sha256", seed).update(`${name}#${block}`).digest("hex");
  }
  return out.slice(0, length);
}
