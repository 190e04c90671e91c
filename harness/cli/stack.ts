/**
 * `fedicheck stack`: build fedicheck's images, bring a container stack up and down outside a run,
 * list what is running, and keep docker-compose.yml in step with the profiles.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseTargetSpec, type TargetSpec } from "../core/config.ts";
import { renderCompose } from "../runtime/compose.ts";
import { startContainerTargets } from "../runtime/container.ts";
import {
  dockerClient,
  LABEL_RUN,
  LABEL_SERVICE,
  LABEL_STACK,
  LABEL_TARGET,
  sweep,
} from "../runtime/docker.ts";
import { probeDocker } from "../runtime/docker-available.ts";
import { ensureLocalImages } from "../runtime/images.ts";
import { REPO_ROOT } from "../runtime/repo.ts";
import { createTestCa } from "../runtime/test-ca.ts";
import { UsageError } from "./main.ts";

const HELP = `usage: fedicheck stack <command> [options]

commands:
  build                 build fedicheck/probe and fedicheck/fedify-ref from this machine's Node (no registry needed)
  up [options]          start targets in containers and leave them running (default: fedify-a, fedify-b)
      --name <name>       stack name (default 'default'); its CA and host map go to reports/stacks/<name>/
      --target <spec>     id=implementation[,defects=a+b], repeatable
      --image <impl=ref>  use this image for an implementation (or <impl>/<service>), repeatable
  status [--json]       list fedicheck's containers (stacks and runs), by run
  down [<name>|--all]   remove a stack's containers and network; --all removes everything fedicheck labelled
  compose [--write|--check]  print docker-compose.yml rendered from the profiles; --write updates it and
                        fixtures/compose/; --check exits 1 when the committed files differ
  certs --out <dir> --hosts <a,b> [--system-out <dir>]
                        write a CA and one certificate per host (the compose stack's 'certs' service)`;

/** Parses repeated `--image implementation=ref` values into an override map. */
export function parseImageOverrides(values: string[]): Record<string, string> {
  const images: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf("=");
    if (at <= 0 || at === value.length - 1) {
      throw new UsageError(
        `--image expects implementation=image, e.g. mastodon=ghcr.io/mastodon/mastodon:v4.4.0; got '${value}'`,
      );
    }
    images[value.slice(0, at)] = value.slice(at + 1);
  }
  return images;
}

/** Runs `fedicheck stack …`; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h") {
    console.log(HELP);
    return command ? 0 : 2;
  }
  if (command === "compose") return compose(rest);
  if (command === "certs") return certs(rest);
  const docker = await probeDocker();
  if (!docker.available)
    throw new Error(`Docker is needed for 'stack ${command}' but ${docker.reason} at ${docker.endpoint}`);
  if (command === "build") return build();
  if (command === "up") return up(rest);
  if (command === "status") return status(rest);
  if (command === "down") return down(rest);
  throw new UsageError(
    `unknown stack command '${command}' (expected build, up, status, down, compose or certs)`,
  );
}

async function build(): Promise<number> {
  const started = Date.now();
  const result = await ensureLocalImages({ log: (line) => console.log(line) });
  for (const [ref, info] of Object.entries(result.built)) {
    console.log(`${ref}: ${info.cached ? "up to date" : `built in ${info.ms} ms`}`);
  }
  console.log(`images ready in ${Date.now() - started} ms: ${Object.values(result.images).join(", ")}`);
  return 0;
}

async function up(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      name: { type: "string", default: "default" },
      target: { type: "string", multiple: true },
      image: { type: "string", multiple: true },
    },
  });
  const name = values.name ?? "default";
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
    throw new UsageError(`--name must be lower-case letters, digits and '-', got '${name}'`);
  const targets: TargetSpec[] = values.target?.length
    ? values.target.map(parseTargetSpec)
    : [
        { id: "fedify-a", implementation: "fedify-ref" },
        { id: "fedify-b", implementation: "fedify-ref" },
      ];
  const ca = await createTestCa({ validityDays: 30 });
  const started = await startContainerTargets(targets, {
    runId: `stack-${name}`,
    ca,
    images: parseImageOverrides(values.image ?? []),
    probe: "container",
    reaper: false, // a stack outlives this command: `stack down` removes it
    stack: name,
    log: (line) => console.log(line),
  });
  const dir = join(REPO_ROOT, "reports/stacks", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "ca.pem"), ca.certPem);
  const description = {
    name,
    network: started.network,
    hostMap: started.hostMap,
    probeOrigin: started.probeOrigin,
    targets: started.targets.map((t) => ({
      id: t.spec.id,
      implementation: t.implementation,
      origin: t.origin,
      ...t.hostMapping,
      ...(t.controlToken ? { controlToken: t.controlToken } : {}),
    })),
  };
  writeFileSync(join(dir, "stack.json"), `${JSON.stringify(description, null, 2)}\n`);
  console.log(`stack '${name}' is up in ${started.timings.totalMs} ms; CA and host map in ${dir}`);
  for (const [host, mapping] of Object.entries(started.hostMap))
    console.log(`  https://${host} → ${mapping.address}:${mapping.port}`);
  console.log(`remove it with: fedicheck stack down ${name}`);
  return 0;
}

async function status(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const docker = (await dockerClient()).client.container.dockerode;
  const containers = await docker.listContainers({ all: true, filters: { label: [LABEL_RUN] } });
  const rows = containers.map((c) => ({
    run: c.Labels[LABEL_RUN] ?? "",
    stack: c.Labels[LABEL_STACK] ?? "",
    target: c.Labels[LABEL_TARGET] ?? "",
    service: c.Labels[LABEL_SERVICE] ?? "",
    state: c.State,
    image: c.Image,
    ports: c.Ports.filter((p) => p.PublicPort)
      .map((p) => `${p.IP}:${p.PublicPort}→${p.PrivatePort}`)
      .join(" "),
  }));
  rows.sort((a, b) => `${a.run}/${a.target}/${a.service}`.localeCompare(`${b.run}/${b.target}/${b.service}`));
  if (json) console.log(JSON.stringify(rows, null, 2));
  else if (rows.length === 0) console.log("no fedicheck containers");
  else
    for (const r of rows)
      console.log(
        `${r.run.padEnd(24)} ${`${r.target}/${r.service}`.padEnd(24)} ${r.state.padEnd(8)} ${r.ports}`,
      );
  return 0;
}

async function down(argv: string[]): Promise<number> {
  const all = argv.includes("--all");
  const names = argv.filter((a) => a !== "--all");
  if (all && names.length > 0) throw new UsageError("give a stack name or --all, not both");
  const docker = (await dockerClient()).client.container.dockerode;
  const report = all ? await sweep(docker) : await sweep(docker, `stack-${names[0] ?? "default"}`);
  console.log(
    `removed ${report.containers.length} container(s) and ${report.networks.length} network(s)` +
      (report.containers.length + report.networks.length > 0
        ? `: ${[...report.containers, ...report.networks].join(", ")}`
        : ""),
  );
  return 0;
}

function compose(argv: string[]): number {
  const rendering = renderCompose();
  const target = join(REPO_ROOT, "docker-compose.yml");
  if (argv.includes("--check")) {
    const stale = [["docker-compose.yml", rendering.yaml] as const, ...Object.entries(rendering.files)]
      .filter(([path, content]) => {
        const full = join(REPO_ROOT, path);
        return !existsSync(full) || readFileSync(full, "utf8") !== content;
      })
      .map(([path]) => path);
    if (stale.length > 0) {
      console.error(`out of date (run 'fedicheck stack compose --write'): ${stale.join(", ")}`);
      return 1;
    }
    console.log("docker-compose.yml matches the profiles");
    return 0;
  }
  if (argv.includes("--write")) {
    writeFileSync(target, rendering.yaml);
    for (const [path, content] of Object.entries(rendering.files)) {
      mkdirSync(dirname(join(REPO_ROOT, path)), { recursive: true });
      writeFileSync(join(REPO_ROOT, path), content);
    }
    console.log(
      `wrote docker-compose.yml and ${Object.keys(rendering.files).length} file(s) under fixtures/compose/`,
    );
    return 0;
  }
  process.stdout.write(rendering.yaml);
  return 0;
}

async function certs(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: "string" }, "system-out": { type: "string" }, hosts: { type: "string" } },
  });
  if (!values.out || !values.hosts) throw new UsageError("stack certs needs --out <dir> and --hosts <a,b,…>");
  const out = resolve(values.out);
  const ca = await createTestCa({ validityDays: 30 });
  const roots = existsSync("/etc/ssl/certs/ca-certificates.crt")
    ? readFileSync("/etc/ssl/certs/ca-certificates.crt", "utf8")
    : "";
  const bundle = `${roots}${roots && !roots.endsWith("\n") ? "\n" : ""}${ca.certPem.trim()}\n`;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "ca.pem"), ca.certPem);
  writeFileSync(join(out, "bundle.pem"), bundle);
  for (const host of values.hosts.split(",").filter(Boolean)) {
    const issued = await ca.issue([host]);
    mkdirSync(join(out, "tls", host), { recursive: true });
    writeFileSync(join(out, "tls", host, "cert.pem"), issued.certPem);
    // Readable by the servers' own users (often not root): these are throwaway test keys.
    writeFileSync(join(out, "tls", host, "key.pem"), issued.keyPem, { mode: 0o644 });
  }
  if (values["system-out"]) {
    mkdirSync(values["system-out"], { recursive: true });
    writeFileSync(join(values["system-out"], "ca-certificates.crt"), bundle);
  }
  console.log(`wrote the CA and certificates for ${values.hosts} to ${out}`);
  return 0;
}
