import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../tests/temp-dir.ts";
import { makeTempDir, sweepStaleTempDirs } from "./temp-dirs.ts";

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

describe("temporary folders of a harness process", () => {
  it("are named after the process that made them", async () => {
    const dir = await makeTempDir("fc-temp-dirs-test-");
    try {
      expect(basename(dir)).toMatch(new RegExp(`^fc-temp-dirs-test-${process.pid}-`));
      expect(existsSync(dir)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("of processes no longer running are swept; those of running ones and others are kept", async () => {
    const parent = await tempDir("fc-temp-dirs-");
    const dead = join(parent, `fedicheck-x-${await deadPid()}-abc123`);
    const alive = join(parent, `fedicheck-x-${process.pid}-def456`);
    const unnamed = join(parent, "fedicheck-x-q1w2e3");
    const otherPrefix = join(parent, `fedicheck-y-${await deadPid()}-abc123`);
    for (const dir of [dead, alive, unnamed, otherPrefix])
      await mkdir(join(dir, "inner"), { recursive: true });
    expect(await sweepStaleTempDirs("fedicheck-x-", parent)).toEqual([dead]);
    expect([dead, alive, unnamed, otherPrefix].map((d) => existsSync(d))).toEqual([false, true, true, true]);
  });

  it("looks in the system temp folder by default", async () => {
    const leftover = join(tmpdir(), `fc-temp-dirs-default-${await deadPid()}-zzz999`);
    await mkdir(leftover);
    expect(await sweepStaleTempDirs("fc-temp-dirs-default-")).toEqual([leftover]);
  });
});
