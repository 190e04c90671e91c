/**
 * The Docker engine as the container runtime sees it: testcontainers set up for machines where Ryuk
 * cannot run, the labels every object fedicheck creates carries, and the sweep that removes them by
 * label (never a global prune, which could take other people's containers and networks).
 * @module
 */
import type { ContainerRuntimeClient } from "testcontainers";

/** Label on everything fedicheck creates (containers, networks, images): the value is the run id. */
export const LABEL_RUN = "fedicheck.run";
/** Label on containers: the target id (or `probe`) the container belongs to. */
export const LABEL_TARGET = "fedicheck.target";
/** Label on containers: the service within the target (`main`, `db`, `front`…). */
export const LABEL_SERVICE = "fedicheck.service";
/** Label on objects of a `fedicheck stack up`, which outlive the command that made them. */
export const LABEL_STACK = "fedicheck.stack";
/** Label on locally built images: the content hash they were built from. */
export const LABEL_IMAGE_HASH = "fedicheck.image-hash";

/** The Dockerode client testcontainers holds, without naming Dockerode's package ourselves. */
export type Dockerode = ContainerRuntimeClient["container"]["dockerode"];

// Ryuk's image as testcontainers 11 names it (RYUK_CONTAINER_IMAGE overrides, as in testcontainers).
const RYUK_IMAGE = "testcontainers/ryuk:0.14.0";

let prepared: Promise<{ client: ContainerRuntimeClient; ryuk: boolean }> | undefined;

/**
 * Sets testcontainers up for this machine (once per process) and returns its client:
 * - `TESTCONTAINERS_HOST_OVERRIDE=localhost` unless set, so it never pulls an image to find the host;
 * - Ryuk (the reaper that removes containers after a crash) stays on only when the user did not
 *   decide and its image is already present locally; otherwise `TESTCONTAINERS_RYUK_DISABLED=true`,
 *   since pulling it fails without a registry. fedicheck's own labelled cleanup runs either way.
 */
export function dockerClient(): Promise<{ client: ContainerRuntimeClient; ryuk: boolean }> {
  prepared ??= (async () => {
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "localhost";
    const { getContainerRuntimeClient } = await import("testcontainers");
    const client = await getContainerRuntimeClient();
    if (process.env.TESTCONTAINERS_RYUK_DISABLED === undefined) {
      const image = process.env.RYUK_CONTAINER_IMAGE ?? RYUK_IMAGE;
      const present = await client.container.dockerode
        .getImage(image)
        .inspect()
        .then(
          () => true,
          () => false,
        );
      process.env.TESTCONTAINERS_RYUK_DISABLED = present ? "false" : "true";
    }
    return { client, ryuk: process.env.TESTCONTAINERS_RYUK_DISABLED !== "true" };
  })();
  return prepared;
}

/** What {@link sweep} removed. */
export interface SweepReport {
  containers: string[];
  networks: string[];
}

/**
 * Removes (forcefully, with volumes) every container, then every network, carrying the label
 * `fedicheck.run` — all of them, or only those of one run id. Images are kept (they are a cache).
 */
export async function sweep(docker: Dockerode, runId?: string): Promise<SweepReport> {
  const label = runId === undefined ? LABEL_RUN : `${LABEL_RUN}=${runId}`;
  const report: SweepReport = { containers: [], networks: [] };
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(
    containers.map(async (info) => {
      try {
        await docker.getContainer(info.Id).remove({ force: true, v: true });
        report.containers.push(info.Names[0]?.replace(/^\//, "") ?? info.Id);
      } catch (error) {
        // Already gone (removed by autoremove or a parallel sweep) is fine; anything else is not.
        if (!isNotFound(error)) throw error;
      }
    }),
  );
  const networks = await docker.listNetworks({ filters: { label: [label] } });
  for (const info of networks) {
    try {
      await docker.getNetwork(info.Id).remove();
      report.networks.push(info.Name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return report;
}

/** True for the engine's 404 (no such container/network/image). */
export function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { statusCode?: number }).statusCode === 404;
}
