/**
 * docker-compose.yml, rendered from the implementation profiles through the same
 * {@link renderTarget} the container runtime uses, so the two cannot drift (a test compares the
 * committed file with a fresh rendering). Regenerate with `fedicheck stack compose --write`.
 *
 * The compose stack: a one-shot `certs` service makes the CA and one certificate per hostname into a
 * volume mounted at /fedicheck in every service; `probe` (the standalone peer) always runs; each
 * implementation is a compose profile (`docker-compose --profile mastodon up`). Rendered config
 * files are committed under fixtures/compose/ and bind-mounted read-only.
 * @module
 */
import { type ContainerSpec, renderTarget, type TargetPlan } from "./container-spec.ts";
import { loadProfiles } from "./profiles.ts";

/** The compose network's fixed subnet (allow lists in the rendered configs name it). */
export const COMPOSE_SUBNET = "172.29.117.0/24";
/** Seed of the compose stack's secrets: fixed and public, as befits a throwaway test stack. */
export const COMPOSE_SECRET_SEED = "fedicheck docker-compose test stack (public, not secret)";
/** Folder of the rendered config files the compose file bind-mounts. */
export const COMPOSE_FILES_DIR = "fixtures/compose";

const CERTS_VOLUME = "fedicheck-certs";
const SYSTEM_CERTS_VOLUME = "fedicheck-system-certs";
const NETWORK = "fedicheck";

/** The compose file and the config files it mounts (path relative to the repository → content). */
export interface ComposeRendering {
  yaml: string;
  files: Record<string, string>;
}

/** Renders docker-compose.yml and its mounted files from every profile with a `container` section. */
export function renderCompose(): ComposeRendering {
  const profiles = loadProfiles().filter((profile) => profile.container);
  const plans: TargetPlan[] = profiles.map((profile) =>
    renderTarget(profile, {
      targetId: profile.id,
      subnet: COMPOSE_SUBNET,
      secretSeed: COMPOSE_SECRET_SEED,
      // The certificates come from the `certs` service at start; these placeholders are never written.
      caPem: "",
      bundlePem: "",
      certPem: "",
      keyPem: "",
    }),
  );
  const files: Record<string, string> = {};
  const services: Record<string, unknown> = {
    certs: {
      image: "fedicheck/probe:local",
      user: "0:0",
      command: [
        "stack",
        "certs",
        "--out",
        "/fedicheck",
        "--system-out",
        "/fedicheck-system",
        "--hosts",
        plans.map((plan) => plan.hostname).join(","),
      ],
      volumes: [`${CERTS_VOLUME}:/fedicheck`, `${SYSTEM_CERTS_VOLUME}:/fedicheck-system`],
      network_mode: "none",
      labels: { "fedicheck.stack": "compose" },
    },
  };
  for (const plan of plans) {
    const always = plan.implementation === "probe";
    for (const spec of [...plan.init, ...plan.services]) {
      const name = composeName(spec);
      services[name] = composeService(plan, spec, files, always);
    }
  }
  const document = {
    services,
    networks: {
      [NETWORK]: { ipam: { config: [{ subnet: COMPOSE_SUBNET }] }, labels: { "fedicheck.stack": "compose" } },
    },
    volumes: { [CERTS_VOLUME]: {}, [SYSTEM_CERTS_VOLUME]: {} },
  };
  const header = [
    "# fedicheck's reference stack for people who run compose themselves.",
    "# GENERATED from fixtures/profiles/*.json by `fedicheck stack compose --write`: do not edit by hand",
    "# (harness/runtime/compose.test.ts fails when this file and the profiles disagree).",
    "#",
    "#   fedicheck stack build                      # or build fixtures/images/*/Dockerfile with a registry",
    "#   docker-compose up -d                       # the CA, certificates and the probe (probe.test)",
    "#   docker-compose --profile mastodon up -d    # plus an implementation: mastodon, gotosocial, misskey…",
    "#",
    "# Secrets below are fixed and public: this stack is for tests only. Each HTTPS end is published on",
    "# a random loopback port (`docker-compose port <service> 443`); inside the network every server is",
    "# https://<implementation>.test and trusts the stack's CA at /fedicheck/ca.pem.",
    "",
  ].join("\n");
  return { yaml: `${header}${toYaml(document, 0).trimStart()}\n`, files };
}

/** The compose service name of a spec: `<targetId>-<service>`. */
export function composeName(spec: ContainerSpec): string {
  return `${spec.targetId}-${spec.service}`;
}

function composeService(
  plan: TargetPlan,
  spec: ContainerSpec,
  files: Record<string, string>,
  always: boolean,
): unknown {
  const volumes = [`${CERTS_VOLUME}:/fedicheck:ro`];
  // Init steps run in a copy of their service: they share its rendered files.
  const owner = "step" in spec ? spec.service.slice(0, -(String(spec.step).length + 1)) : spec.service;
  for (const file of spec.files) {
    if (file.source === "system-bundle")
      volumes.push(`${SYSTEM_CERTS_VOLUME}:${file.path.replace(/\/[^/]+$/, "")}:ro`);
    if (file.source === "template") {
      const local = `${COMPOSE_FILES_DIR}/${spec.targetId}/${owner}${file.path}`;
      files[local] = file.content;
      volumes.push(`./${local}:${file.path}:ro`);
    }
  }
  const dependsOn: Record<string, { condition: string }> = {
    certs: { condition: "service_completed_successfully" },
  };
  for (const dependency of spec.dependsOn) {
    const target = plan.services.find((s) => s.service === dependency);
    if (target) dependsOn[composeName(target)] = { condition: "service_started" };
  }
  const init = "step" in spec;
  if (!init && spec.role !== "companion" && spec.role !== "front") {
    for (const step of plan.init)
      dependsOn[composeName(step)] = { condition: "service_completed_successfully" };
  }
  const service: Record<string, unknown> = { image: spec.image };
  if (!always) service.profiles = [plan.implementation];
  if (spec.user) service.user = spec.user;
  if (spec.entrypoint) service.entrypoint = spec.entrypoint;
  if (spec.command) service.command = spec.command;
  if (Object.keys(spec.env).length > 0) service.environment = spec.env;
  service.volumes = volumes;
  service.networks = { [NETWORK]: { aliases: spec.aliases.length > 0 ? spec.aliases : [composeName(spec)] } };
  if (spec.publish !== undefined) service.ports = [`127.0.0.1::${spec.publish}`];
  service.depends_on = dependsOn;
  if (!init) service.restart = spec.role === "companion" ? "unless-stopped" : "on-failure";
  service.labels = {
    "fedicheck.stack": "compose",
    "fedicheck.target": spec.targetId,
    "fedicheck.service": spec.service,
  };
  return service;
}

// A small YAML emitter: block mappings and sequences, strings always double-quoted (JSON strings are
// valid YAML), so no value can be misread (`on`, `0755`, `*`…).
function toYaml(value: unknown, indent: number): string {
  const pad = " ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item !== "object" || item === null))
      return `[${value.map(scalar).join(", ")}]`;
    return value.map((item) => `\n${pad}- ${toYaml(item, indent + 2).replace(/^\n\s*/, "")}`).join("");
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    return entries
      .map(([key, item]) => {
        const rendered = toYaml(item, indent + 2);
        const inline = !rendered.startsWith("\n");
        return `\n${pad}${yamlKey(key)}:${inline ? " " : ""}${rendered}`;
      })
      .join("");
  }
  return scalar(value);
}

function yamlKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key) ? key : JSON.stringify(key);
}

function scalar(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === null || value === undefined) return "null";
  return JSON.stringify(String(value));
}
