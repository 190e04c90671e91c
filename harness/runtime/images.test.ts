import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dockerClient } from "./docker.ts";
import { describeDocker } from "./docker-test-helper.ts";
import { ensureLocalImages, LOCAL_IMAGES, runtimeSettings, sharedLibraries } from "./images.ts";
import { REPO_ROOT } from "./repo.ts";

describe("local image recipe", () => {
  it("takes each image's runtime settings from its Dockerfile, below the marker", () => {
    for (const name of LOCAL_IMAGES) {
      const settings = runtimeSettings(name);
      expect(settings).toMatch(/^ENTRYPOINT \["node", /m);
      expect(settings).toContain("NODE_EXTRA_CA_CERTS=/fedicheck/ca.pem");
      const dockerfile = readFileSync(join(REPO_ROOT, "fixtures/images", name, "Dockerfile"), "utf8");
      expect(dockerfile.endsWith(settings)).toBe(true);
      // The registry build starts from a normal Node image and installs production dependencies.
      expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\}$/m);
      expect(dockerfile).toContain("npm ci --omit=dev");
    }
  });

  it("lists the dynamic loader and libc among node's shared libraries", () => {
    const libraries = sharedLibraries(process.execPath);
    expect(libraries.some((path) => /\/ld-linux[^/]*\.so/.test(path))).toBe(true);
    expect(libraries.some((path) => /\/libc\.so/.test(path))).toBe(true);
    expect(libraries.every((path) => path.startsWith("/"))).toBe(true);
  });
});

describeDocker("local images", () => {
  it("builds images whose config matches the Dockerfiles and whose Node runs, cached on the second call", async () => {
    const first = await ensureLocalImages();
    const second = await ensureLocalImages();
    // Same content hash (same pinned ref) ⇒ no rebuild. (Refs differ only if the code changed meanwhile.)
    const same = Object.keys(second.built).filter((ref) => ref in first.built);
    expect(same.length).toBeGreaterThan(0);
    for (const ref of same) expect(second.built[ref]?.cached, ref).toBe(true);
    const docker = (await dockerClient()).client.container.dockerode;
    for (const name of LOCAL_IMAGES) {
      const info = await docker.getImage(first.images[name]).inspect();
      const entrypoint = /^ENTRYPOINT (.*)$/m.exec(runtimeSettings(name))?.[1];
      expect(info.Config.Entrypoint).toEqual(JSON.parse(entrypoint ?? "null"));
      expect(info.Config.User).toBe("node");
      expect(info.Config.Env).toContain("NODE_EXTRA_CA_CERTS=/fedicheck/ca.pem");
    }
    // The copied runtime works without anything from a registry.
    const container = await docker.createContainer({
      Image: first.images.probe,
      Entrypoint: ["node", "-e", "console.log(process.version, require('os').userInfo().username)"],
      Labels: { "fedicheck.run": "images-test" },
    });
    try {
      await container.start();
      await container.wait();
      const output = (await container.logs({ stdout: true, stderr: false })).toString("utf8");
      expect(output).toContain(`${process.version} node`);
    } finally {
      await container.remove({ force: true });
    }
  }, 180_000);
});
