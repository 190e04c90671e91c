/**
 * fedicheck's own images (`fedicheck/probe`, `fedicheck/fedify-ref`) built on a machine with no
 * registry: a runtime image assembled from this machine's Node (binary, its shared libraries, the
 * dynamic loader, a few /etc files) plus the production `node_modules`, imported with `docker import`;
 * then one thin layer per image adding the repository's code and the runtime settings of the
 * image's Dockerfile in `fixtures/images/<name>/Dockerfile` (everything below its marker line), so the
 * local build and the registry build cannot drift apart. Images are cached by a content hash label.
 * @module
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Dockerode, dockerClient, isNotFound, LABEL_IMAGE_HASH } from "./docker.ts";
import { REPO_ROOT } from "./repo.ts";
import { type TarEntry, tarStream } from "./tar.ts";

/** Images fedicheck builds itself, by short name. */
export const LOCAL_IMAGES = ["probe", "fedify-ref"] as const;
/** A short name from {@link LOCAL_IMAGES}. */
export type LocalImageName = (typeof LOCAL_IMAGES)[number];

/** The marker line in our Dockerfiles: what follows it is applied to local builds verbatim. */
export const RUNTIME_SETTINGS_MARKER = "# --- runtime settings";

/** Label telling what a locally built image is: `runtime` or one of {@link LOCAL_IMAGES}. */
const LABEL_KIND = "fedicheck.image-kind";
// Bump when the way images are assembled changes, so cached images are rebuilt.
const BUILDER_VERSION = "1";
// Repository paths copied into the app layer (the same the Dockerfiles COPY).
const APP_PATHS = ["package.json", "bin", "harness", "fixtures"];

/** Result of {@link ensureLocalImages}: the image reference per short name, and what it cost. */
export interface LocalImages {
  images: Record<LocalImageName, string>;
  /** Per image: `cached` when the hash matched an existing image, else build time. */
  built: Record<string, { cached: boolean; ms: number }>;
}

/** Options of {@link ensureLocalImages}. */
export interface EnsureImagesOptions {
  /** Which images. Default all of {@link LOCAL_IMAGES}. */
  only?: LocalImageName[];
  /** Progress lines (build steps). Default: silent. */
  log?: (line: string) => void;
}

/**
 * Makes sure `fedicheck/<name>:local` exists and matches the current code and dependencies,
 * building what changed (the runtime image when Node or the lockfile changed, the app layer when
 * the code changed). Safe to call from parallel processes: builds hold a file lock.
 */
export async function ensureLocalImages(options: EnsureImagesOptions = {}): Promise<LocalImages> {
  const { client } = await dockerClient();
  const docker = client.container.dockerode;
  const names = options.only ?? [...LOCAL_IMAGES];
  const log = options.log ?? (() => {});
  const built: LocalImages["built"] = {};
  return withFileLock("fedicheck-images", async () => {
    const runtime = runtimeInputs();
    const runtimeRef = `fedicheck/node-runtime:${runtime.hash.slice(0, 16)}`;
    let started = Date.now();
    if (!(await hasImage(docker, runtimeRef, runtime.hash))) {
      log(`building ${runtimeRef} from this machine's Node ${process.version} and production node_modules`);
      await importRuntime(docker, runtimeRef, runtime);
      built[runtimeRef] = { cached: false, ms: Date.now() - started };
    } else built[runtimeRef] = { cached: true, ms: Date.now() - started };

    const app = appInputs();
    const images = {} as Record<LocalImageName, string>;
    for (const name of names) {
      started = Date.now();
      const settings = runtimeSettings(name);
      const hash = sha256([runtime.hash, app.hash, settings, BUILDER_VERSION].join("\n"));
      const ref = `fedicheck/${name}:local`;
      const pinned = `fedicheck/${name}:local-${hash.slice(0, 16)}`;
      if (!(await hasImage(docker, pinned, hash))) {
        log(`building ${pinned}`);
        await buildAppImage(docker, { name, ref: pinned, hash, runtimeRef, settings, files: app.files });
        built[pinned] = { cached: false, ms: Date.now() - started };
      } else built[pinned] = { cached: true, ms: Date.now() - started };
      await docker.getImage(pinned).tag({ repo: `fedicheck/${name}`, tag: "local" });
      images[name] = ref;
      await removeStaleImages(docker, name, hash, log);
    }
    await removeStaleImages(docker, "runtime", runtime.hash, log);
    return { images, built };
  });
}

/** The lines below the marker of `fixtures/images/<name>/Dockerfile` (ENV, USER, ENTRYPOINT…). */
export function runtimeSettings(name: LocalImageName): string {
  const file = join(REPO_ROOT, "fixtures/images", name, "Dockerfile");
  const text = readFileSync(file, "utf8");
  const at = text.indexOf(RUNTIME_SETTINGS_MARKER);
  if (at < 0) throw new Error(`${file} has no '${RUNTIME_SETTINGS_MARKER}' line`);
  const body = text.slice(text.indexOf("\n", at) + 1);
  const allowed = /^(ENV|USER|EXPOSE|ENTRYPOINT|CMD|WORKDIR|LABEL|STOPSIGNAL)\b/;
  for (const line of body.split("\n")) {
    if (line.trim() && !line.startsWith("#") && !allowed.test(line)) {
      throw new Error(
        `${file}: '${line}' below the runtime-settings marker cannot be applied to a local build`,
      );
    }
  }
  return body;
}

interface RuntimeInputs {
  hash: string;
  /** Listed only when building: walking node_modules is the slow part. */
  entries: () => TarEntry[];
}

// Files of this machine's Node runtime and the production dependencies, as archive entries.
function runtimeInputs(): RuntimeInputs {
  const node = realpathSync(process.execPath);
  const libraries = sharedLibraries(node);
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean; version?: string; integrity?: string }>;
  };
  const production = Object.entries(lock.packages)
    .filter(([path, info]) => path.startsWith("node_modules/") && !info.dev)
    .sort(([a], [b]) => a.localeCompare(b));
  const hash = sha256(
    JSON.stringify({
      builder: BUILDER_VERSION,
      node: [process.version, statSync(node).size],
      libraries,
      production: production.map(([path, info]) => [path, info.version, info.integrity]),
    }),
  );
  const entries = (): TarEntry[] => [...fixedEntries(node, libraries), ...productionEntries(production)];
  return { hash, entries };
}

function fixedEntries(node: string, libraries: string[]): TarEntry[] {
  const entries: TarEntry[] = [
    { type: "dir", path: "tmp", mode: 0o1777 },
    { type: "dir", path: "home/node", uid: 1000, gid: 1000 },
    { type: "dir", path: "app" },
    { type: "file", path: "usr/bin/node", mode: 0o755, source: node, size: statSync(node).size },
    {
      type: "file",
      path: "etc/passwd",
      content: "root:x:0:0:root:/root:/sbin/nologin\nnode:x:1000:1000:node:/home/node:/sbin/nologin\n",
    },
    { type: "file", path: "etc/group", content: "root:x:0:\nnode:x:1000:\n" },
    { type: "file", path: "etc/nsswitch.conf", content: "passwd: files\ngroup: files\nhosts: files dns\n" },
  ];
  for (const library of libraries) {
    const real = realpathSync(library);
    entries.push({
      type: "file",
      path: library.slice(1),
      mode: 0o755,
      source: real,
      size: statSync(real).size,
    });
  }
  const bundle = "/etc/ssl/certs/ca-certificates.crt";
  if (existsSync(bundle))
    entries.push({ type: "file", path: bundle.slice(1), source: bundle, size: statSync(bundle).size });
  return entries;
}

function productionEntries(production: Array<[string, unknown]>): TarEntry[] {
  const entries: TarEntry[] = [];
  for (const [path] of production) {
    const dir = join(REPO_ROOT, path);
    // Optional platform packages for other systems are in the lockfile but not on disk.
    if (existsSync(dir)) entries.push(...walk(dir, `app/${path}`, (name) => name !== "node_modules"));
  }
  return entries;
}

/** Absolute paths of the shared libraries (and loader) `ldd` lists for a binary. */
export function sharedLibraries(binary: string): string[] {
  const output = execFileSync("ldd", [binary], { encoding: "utf8" });
  const paths = new Set<string>();
  for (const line of output.split("\n")) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1]) paths.add(match[1]);
  }
  if (paths.size === 0) throw new Error(`ldd found no libraries for ${binary}: ${output.trim()}`);
  return [...paths].sort();
}

interface AppInputs {
  hash: string;
  files: TarEntry[];
}

// The repository's code for the app layer, hashed by content.
function appInputs(): AppInputs {
  const files: TarEntry[] = [];
  const digest = createHash("sha256");
  for (const path of APP_PATHS) {
    const full = join(REPO_ROOT, path);
    const entries = lstatSync(full).isDirectory()
      ? walk(full, `app/${path}`, (name) => name !== "node_modules" && !name.endsWith(".test.ts"))
      : [{ type: "file" as const, path: `app/${path}`, source: full, size: statSync(full).size }];
    for (const entry of entries) {
      if (entry.type !== "file") continue;
      const content = "source" in entry ? readFileSync(entry.source) : Buffer.from(entry.content);
      digest.update(`${entry.path}\0${content.length}\0`).update(content);
      files.push({ type: "file", path: entry.path, mode: entry.mode ?? 0o644, content });
    }
  }
  return { hash: digest.digest("hex"), files };
}

// Regular files and symlinks under a directory, sorted, skipping names `keep` rejects.
function walk(dir: string, prefix: string, keep: (name: string) => boolean): TarEntry[] {
  const out: TarEntry[] = [];
  const visit = (current: string): void => {
    for (const name of readdirSync(current).sort()) {
      if (!keep(name)) continue;
      const full = join(current, name);
      const path = `${prefix}/${relative(dir, full)}`;
      const stat = lstatSync(full);
      if (stat.isDirectory()) visit(full);
      else if (stat.isSymbolicLink()) out.push({ type: "symlink", path, target: readlinkSync(full) });
      else if (stat.isFile()) {
        out.push({
          type: "file",
          path,
          mode: stat.mode & 0o111 ? 0o755 : 0o644,
          source: full,
          size: stat.size,
        });
      }
    }
  };
  visit(dir);
  return out;
}

async function importRuntime(docker: Dockerode, ref: string, inputs: RuntimeInputs): Promise<void> {
  const [repo, tag] = ref.split(":");
  const stream = await docker.importImage(tarStream(inputs.entries()), {
    repo,
    tag,
    // The engine reads repeated `changes` query parameters; docker-modem repeats array values.
    changes: [
      "ENV PATH=/usr/local/bin:/usr/bin:/bin",
      "WORKDIR /app",
      `LABEL ${LABEL_IMAGE_HASH}=${inputs.hash} ${LABEL_KIND}=runtime`,
    ],
  } as Record<string, unknown>);
  await followProgress(docker, stream, ref);
}

async function buildAppImage(
  docker: Dockerode,
  build: {
    name: LocalImageName;
    ref: string;
    hash: string;
    runtimeRef: string;
    settings: string;
    files: TarEntry[];
  },
): Promise<void> {
  const dockerfile = [
    `FROM ${build.runtimeRef}`,
    "COPY app/ /app/",
    build.settings,
    `LABEL ${LABEL_IMAGE_HASH}=${build.hash} ${LABEL_KIND}=${build.name}`,
    "",
  ].join("\n");
  const context = tarStream([{ type: "file", path: "Dockerfile", content: dockerfile }, ...build.files]);
  const stream = await docker.buildImage(context, { t: build.ref, rm: true, forcerm: true });
  await followProgress(docker, stream, build.ref);
}

function followProgress(docker: Dockerode, stream: NodeJS.ReadableStream, ref: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) => {
      const failed = error ?? output.find((line) => line.error);
      if (failed)
        reject(
          new Error(`building ${ref} failed: ${failed instanceof Error ? failed.message : failed.error}`),
        );
      else resolvePromise();
    });
  });
}

async function hasImage(docker: Dockerode, ref: string, hash: string): Promise<boolean> {
  try {
    const info = await docker.getImage(ref).inspect();
    return info.Config?.Labels?.[LABEL_IMAGE_HASH] === hash;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

// Keeps the newest few images of a kind (parallel sessions may still use a previous one) and removes
// older ones by id; an image still in use by a container is simply kept.
async function removeStaleImages(
  docker: Dockerode,
  kind: string,
  currentHash: string,
  log: (line: string) => void,
) {
  const images = await docker.listImages({ filters: { label: [`${LABEL_KIND}=${kind}`] } });
  const stale = images
    .filter((image) => image.Labels?.[LABEL_IMAGE_HASH] !== currentHash)
    .sort((a, b) => b.Created - a.Created)
    .slice(2);
  for (const image of stale) {
    try {
      await docker.getImage(image.Id).remove({ force: false });
      log(`removed stale image ${image.RepoTags?.join(", ") ?? image.Id}`);
    } catch {
      // In use or already gone: keep going.
    }
  }
}

/**
 * Runs `fn` while holding a lock directory in the temp folder, so parallel processes (test
 * workers, CLI runs) do not build the same image twice. A lock older than `staleMs` (default 5 min)
 * is taken over.
 */
export async function withFileLock<T>(name: string, fn: () => Promise<T>, staleMs = 300_000): Promise<T> {
  const path = join(tmpdir(), `${name}.lock`);
  let lockDelay = 25;
  for (;;) {
    try {
      mkdirSync(path);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      try {
        if (Date.now() - statSync(path).mtimeMs > staleMs) rmSync(path, { recursive: true, force: true });
      } catch {
        // Removed meanwhile by its owner: try again.
      }
      await sleep(lockDelay);
      lockDelay = Math.min(lockDelay * 2, 1_000); // backoff: no event crosses processes
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
