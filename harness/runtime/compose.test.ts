import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { COMPOSE_FILES_DIR, renderCompose } from "./compose.ts";
import { REPO_ROOT } from "./repo.ts";

const rendering = renderCompose();

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [relative(REPO_ROOT, full)];
  });
}

describe("docker-compose.yml", () => {
  it("is exactly what the profiles render (regenerate with `fedicheck stack compose --write`)", () => {
    const committed = readFileSync(join(REPO_ROOT, "docker-compose.yml"), "utf8");
    expect(committed).toBe(rendering.yaml);
  });

  it("mounts config files that are committed and match the profiles, and no stale ones", () => {
    expect(filesUnder(join(REPO_ROOT, COMPOSE_FILES_DIR)).sort()).toEqual(
      Object.keys(rendering.files).sort(),
    );
    for (const [path, content] of Object.entries(rendering.files)) {
      expect(readFileSync(join(REPO_ROOT, path), "utf8"), path).toBe(content);
    }
  });

  it("has the CA service, the probe without a profile, and one compose profile per implementation", () => {
    expect(rendering.yaml).toMatch(/^ {2}certs:\n/m);
    const probe = /^ {2}probe-main:\n((?: {4}.*\n)+)/m.exec(rendering.yaml)?.[1] ?? "";
    expect(probe).toContain('aliases: ["probe-main", "probe.test"]');
    expect(probe).not.toContain("profiles:");
    for (const implementation of ["mastodon", "gotosocial", "misskey", "akkoma"]) {
      expect(rendering.yaml).toContain(`profiles: ["${implementation}"]`);
      expect(rendering.yaml).toContain(`"${implementation}.test"`);
    }
    // Mastodon's web and sidekiq wait for the schema step to complete.
    const web = /^ {2}mastodon-web:\n((?: {4}.*\n)+)/m.exec(rendering.yaml)?.[1] ?? "";
    expect(web).toMatch(/mastodon-web-migrate:\n\s+condition: "service_completed_successfully"/);
    expect(web).toContain('SSL_CERT_FILE: "/fedicheck/bundle.pem"');
  });

  it("is valid for docker-compose when it is installed", (context) => {
    const probe = spawnSync("docker-compose", ["version", "--short"], { encoding: "utf8" });
    if (probe.status !== 0) {
      context.skip("docker-compose is not installed (apt-get install docker-compose)");
      return;
    }
    const profiles = ["mastodon", "gotosocial", "misskey", "akkoma"].flatMap((p) => ["--profile", p]);
    const output = execFileSync(
      "docker-compose",
      ["-f", "docker-compose.yml", ...profiles, "config", "--services"],
      {
        cwd: REPO_ROOT,
        encoding: "utf8",
      },
    );
    expect(output.split("\n")).toEqual(
      expect.arrayContaining(["certs", "probe-main", "mastodon-web", "gotosocial-main"]),
    );
  });
});
