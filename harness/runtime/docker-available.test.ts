import { describe, expect, it } from "vitest";
import { dockerSkipReason, dockerTestMode, probeDocker } from "./docker-available.ts";

describe("dockerTestMode", () => {
  const missing = { available: false, endpoint: "unix:///nowhere.sock", reason: "ENOENT" };

  it("runs with an engine, skips without one, and fails without one under CI=true", () => {
    expect(dockerTestMode({ available: true, endpoint: "x" }, {})).toBe("run");
    expect(dockerTestMode(missing, {})).toBe("skip");
    expect(dockerTestMode(missing, { CI: "true" })).toBe("fail");
    expect(dockerTestMode(missing, { CI: "false" })).toBe("skip");
  });

  it("says why and where in the skip reason", () => {
    expect(dockerSkipReason(missing)).toBe("Docker is not available (ENOENT) at unix:///nowhere.sock");
  });

  it("reports an unreachable engine as unavailable instead of throwing", async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = "unix:///nonexistent/docker.sock";
    try {
      const status = await probeDocker({ refresh: true, timeoutMs: 500 });
      expect(status).toMatchObject({ available: false, endpoint: "unix:///nonexistent/docker.sock" });
      expect(status.reason).toMatch(/ENOENT/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
      await probeDocker({ refresh: true });
    }
  });
});
