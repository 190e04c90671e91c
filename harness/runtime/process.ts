/**
 * Targets that run as local Node processes (the fedify-ref server, or any script that prints the
 * same ready line). Every child is registered so that it is stopped when the harness exits, is
 * interrupted, or calls {@link stopAll}: no orphans.
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleScript } from "./bundle.ts";
import { makeTempDir } from "./temp-dirs.ts";

/** The repository root (this file is harness/runtime/process.ts). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RUN_TS = join(REPO_ROOT, "bin", "run-ts.js");

/** Options of {@link startProcessTarget}. */
export interface ProcessTargetOptions {
  /** Name used in logs and errors, e.g. `fedify-a`. */
  name: string;
  /** TypeScript (or JavaScript) file to run, relative to the repository root or absolute. */
  script: string;
  /** Arguments after the script. Default none. */
  args?: string[];
  /** Extra environment variables (added to this process's environment). Default none. */
  env?: Record<string, string>;
  /** How long to wait for the ready line, in ms. Default 20 000. */
  readyTimeoutMs?: number;
  /** Bytes of stderr kept for evidence (the newest). Default 256 KiB. */
  logLimitBytes?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL, in ms. Default 5 000. */
  stopTimeoutMs?: number;
  /**
   * Run an esbuild bundle of the script (see bundle.ts) in plain Node instead of going through tsx:
   * much less CPU per start. Default false.
   */
  bundle?: boolean;
}

/** What the child printed when ready: `{"ready":true,"origin":…,"port":N}` plus anything else. */
export interface ReadyLine {
  ready: true;
  origin: string;
  port: number;
  [key: string]: unknown;
}

/** A running process target. */
export interface ProcessTarget {
  name: string;
  origin: string;
  port: number;
  pid: number;
  /** The whole ready line, for fields beyond origin and port. */
  ready: ReadyLine;
  /** Stops the process (SIGTERM, then SIGKILL after `stopTimeoutMs`); idempotent. */
  stop(): Promise<void>;
  /** The newest stderr output (bounded), for evidence. */
  logs(): string;
  /** Whether the process has exited. */
  exited(): boolean;
}

/** Keeps the newest `limit` bytes of a stream's text. */
class RingText {
  #chunks: string[] = [];
  #size = 0;
  constructor(readonly limit: number) {}
  push(text: string): void {
    this.#chunks.push(text);
    this.#size += text.length;
    while (this.#size > this.limit && this.#chunks.length > 1) this.#size -= this.#chunks.shift()!.length;
    if (this.#size > this.limit) {
      const only = this.#chunks[0]!;
      this.#chunks = [only.slice(only.length - this.limit)];
      this.#size = this.limit;
    }
  }
  toString(): string {
    return this.#chunks.join("");
  }
}

// ---- the registry of children -------------------------------------------------------------------

/** Running children with their SIGTERM grace period. */
const children = new Map<ChildProcess, number>();
let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // On exit only synchronous work runs: SIGKILL whatever is left.
  process.on("exit", () => {
    for (const child of children.keys()) child.kill("SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const onSignal = () => {
      void stopAll().finally(() => {
        // When nobody else listens, behave as the default handler would and end the process.
        if (process.listenerCount(signal) === 1) {
          process.off(signal, onSignal);
          process.kill(process.pid, signal);
        }
      });
    };
    process.on(signal, onSignal);
  }
}

/** Waits for the child to exit (true) or `ms` to pass (false); then briefly for its output to drain. */
async function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  const closed = new Promise<void>((resolve) => {
    if (child.stdout?.closed !== false && child.stderr?.closed !== false) resolve();
    else child.once("close", () => resolve());
  });
  const exited =
    child.exitCode !== null || child.signalCode !== null
      ? true
      : await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), ms);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
  // "exit" can come before the last stderr bytes are read; "close" comes after.
  if (exited) await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
  return exited;
}

async function stopChild(child: ChildProcess, graceMs = children.get(child) ?? 5_000): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    if (!(await waitForExit(child, graceMs))) {
      child.kill("SIGKILL");
      await waitForExit(child, 2_000);
    }
  }
  children.delete(child);
}

/** Stops every process target started by this process. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children.keys()].map((child) => stopChild(child)));
}

/** How many process targets are running (for tests and diagnostics). */
export function runningCount(): number {
  return children.size;
}

// ---- starting -----------------------------------------------------------------------------------

/**
 * Node flags for every child: `FEDICHECK_TARGET_CPU_PROF=<dir>` writes a V8 CPU profile of each
 * child there (how issue 8's hot spots were found; NODE_OPTIONS refuses --cpu-prof).
 */
function nodeFlags(): string[] {
  const dir = process.env.FEDICHECK_TARGET_CPU_PROF;
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${resolve(dir)}`] : [];
}

/**
 * Spawns `node bin/run-ts.js <script> …args` (or `node <bundle> …args`) and resolves once it prints its ready line on stdout.
 * Rejects (after stopping the child) when it exits first or does not get ready in time; the error
 * carries the end of its stderr.
 */
export async function startProcessTarget(options: ProcessTargetOptions): Promise<ProcessTarget> {
  installHooks();
  const log = new RingText(options.logLimitBytes ?? 256 * 1024);
  const script = resolve(REPO_ROOT, options.script);
  const command = options.bundle ? [await bundleScript(script)] : [RUN_TS, script];
  const child = spawn(process.execPath, [...nodeFlags(), ...command, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    // stdin stays an open pipe: a child that honours FEDICHECK_EXIT_WITH_PARENT exits when it
    // closes, which happens even if this process is killed with SIGKILL.
    env: { ...process.env, FEDICHECK_EXIT_WITH_PARENT: "1", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
    detached: false,
  });
  children.set(child, options.stopTimeoutMs ?? 5_000);
  child.once("exit", () => children.delete(child));
  child.stdin!.on("error", () => {}); // never written; ignore EPIPE when the child is gone
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => log.push(text));
  child.stdout!.setEncoding("utf8");

  const timeoutMs = options.readyTimeoutMs ?? 20_000;
  const tail = () => {
    const text = log.toString().trimEnd();
    return text === "" ? "(no output on stderr)" : text.split("\n").slice(-20).join("\n");
  };
  let ready: ReadyLine;
  try {
    ready = await new Promise<ReadyLine>((resolvePromise, reject) => {
      let buffered = "";
      const timer = setTimeout(
        () =>
          reject(
            new Error(`${options.name} did not print its ready line within ${timeoutMs} ms.\n${tail()}`),
          ),
        timeoutMs,
      );
      const onData = (text: string) => {
        buffered += text;
        let newline = buffered.indexOf("\n");
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf("\n");
          if (!line.startsWith("{")) continue;
          try {
            const parsed = JSON.parse(line) as Partial<ReadyLine>;
            if (
              parsed.ready === true &&
              typeof parsed.origin === "string" &&
              typeof parsed.port === "number"
            ) {
              clearTimeout(timer);
              child.stdout!.off("data", onData);
              child.off("exit", onExit);
              // Keep draining stdout so the child never blocks on a full pipe.
              child.stdout!.resume();
              resolvePromise(parsed as ReadyLine);
              return;
            }
          } catch {
            // Not our line; keep reading.
          }
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        clearTimeout(timer);
        reject(
          new Error(`${options.name} exited before it was ready (${signal ?? `code ${code}`}).\n${tail()}`),
        );
      };
      child.stdout!.on("data", onData);
      child.once("exit", onExit);
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`${options.name} could not be started: ${error.message}`));
      });
    });
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    origin: ready.origin,
    port: ready.port,
    pid: child.pid!,
    ready,
    stop: () => (stopping ??= stopChild(child, options.stopTimeoutMs ?? 5_000)),
    logs: () => log.toString(),
    exited: () => child.exitCode !== null || child.signalCode !== null,
  };
}

/** Options of {@link startFedifyRefProcess}. */
export interface FedifyRefProcessOptions {
  name: string;
  /** Serve HTTPS with this certificate; `caPem` is trusted for outgoing requests. Default: HTTP. */
  https?: { certPem: string; keyPem: string; caPem: string };
  /** Defect ids to switch on. Default none. */
  defects?: string[];
  /** Canonical origin; may contain `{port}`. Default: the listening address. */
  origin?: string;
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port. Default 0 (a free one). */
  port?: number;
  /** Signature scheme tried first when delivering. Default `draft-cavage-12`. */
  firstKnock?: "draft-cavage-12" | "rfc9421";
  /** Fedify log level on stderr. Default `warning`. */
  logLevel?: string;
  /** Serve actors and objects only to signed GETs (`--authorized-fetch`). Default false. */
  authorizedFetch?: boolean;
  /** See {@link ProcessTargetOptions.readyTimeoutMs}. */
  readyTimeoutMs?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /**
   * RSA keys for the server's actors (key cache lines, see harness/protocol/key-pool.ts), used before it generates any; each key
   * must be given to one server only. Passed in a 0600 file, never on the command line. Default none.
   */
  rsaKeys?: string[];
  /**
   * Called once the server has stopped, with the RSA keys it generated (key cache lines), so the
   * harness can keep them for later runs (fedify-ref writes them to `FEDIFY_REF_KEY_OUT`). Default:
   * generated keys are not kept.
   */
  onGeneratedKeys?: (lines: string[]) => Promise<unknown>;
}

/** A running fedify-ref process with what a driver needs to talk to it. */
export interface FedifyRefProcess extends ProcessTarget {
  /** Where it listens (the control API is under `/_control/` there). */
  url: string;
  /** Bearer token of the control API. */
  token: string;
  /** The CA to trust when talking to it over HTTPS. */
  caPem?: string;
  defects: string[];
}

/** Starts the fedify-ref server (fixtures/fedify-ref/server.ts) as a child process. */
export async function startFedifyRefProcess(options: FedifyRefProcessOptions): Promise<FedifyRefProcess> {
  const token = randomBytes(24).toString("base64url");
  const args = [
    "--name",
    options.name,
    "--host",
    options.host ?? "127.0.0.1",
    "--port",
    String(options.port ?? 0),
    "--first-knock",
    options.firstKnock ?? "draft-cavage-12",
    "--log-level",
    options.logLevel ?? "warning",
  ];
  // The token goes through the environment: command lines are visible to every local user.
  const env: Record<string, string> = { ...options.env, FEDIFY_REF_CONTROL_TOKEN: token };
  let dir: string | undefined;
  if (options.https || options.rsaKeys?.length || options.onGeneratedKeys) {
    dir = await makeTempDir("fedicheck-fedify-ref-");
  }
  if (options.rsaKeys?.length && dir !== undefined) {
    const file = join(dir, "rsa-keys");
    await writeFile(file, `${options.rsaKeys.join("\n")}\n`, { mode: 0o600 });
    env.FEDIFY_REF_KEY_FILE = file;
  }
  const keysOut = options.onGeneratedKeys && dir !== undefined ? join(dir, "generated-keys") : undefined;
  if (keysOut !== undefined) env.FEDIFY_REF_KEY_OUT = keysOut;
  if (options.https && dir !== undefined) {
    const files = { cert: join(dir, "cert.pem"), key: join(dir, "key.pem"), ca: join(dir, "ca.pem") };
    await writeFile(files.cert, options.https.certPem);
    await writeFile(files.key, options.https.keyPem, { mode: 0o600 });
    await writeFile(files.ca, options.https.caPem);
    args.push("--https", "--cert", files.cert, "--key", files.key);
    env.NODE_EXTRA_CA_CERTS = files.ca;
  }
  if (options.origin) args.push("--origin", options.origin);
  if (options.defects && options.defects.length > 0) args.push("--defect", options.defects.join(","));
  if (options.authorizedFetch) args.push("--authorized-fetch");
  const cleanup = async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  };
  let target: ProcessTarget;
  try {
    target = await startProcessTarget({
      name: options.name,
      script: "fixtures/fedify-ref/server.ts",
      bundle: true,
      args,
      env,
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    });
  } catch (error) {
    await cleanup();
    throw error;
  }
  const url =
    typeof target.ready.url === "string"
      ? target.ready.url
      : `${options.https ? "https" : "http"}://${options.host ?? "127.0.0.1"}:${target.port}`;
  return {
    ...target,
    url,
    token,
    ...(options.https ? { caPem: options.https.caPem } : {}),
    defects: options.defects ?? [],
    stop: async () => {
      await target.stop();
      try {
        if (keysOut !== undefined) await options.onGeneratedKeys?.(await readLines(keysOut));
      } finally {
        await cleanup();
      }
    },
  };
}

/** The lines of a file, none when it is missing. */
async function readLines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, "utf8")).split("\n").filter((line) => line.length > 0);
  } catch {
    return [];
  }
}
