/**
 * Temporary folders named after the harness process that made them (`<prefix><pid>-XXXXXX`), so a
 * later run can remove those of a harness that died without cleaning up (SIGKILL, a lost machine):
 * they hold test keys and certificates. Docker leftovers get the same treatment from the reaper.
 * @module
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const swept = new Map<string, Promise<string[]>>();

/**
 * A new folder in the system temp folder, `<prefix><pid>-XXXXXX`. The first call for a prefix in this
 * process first removes that prefix's folders left by processes no longer running.
 */
export async function makeTempDir(prefix: string): Promise<string> {
  let sweeping = swept.get(prefix);
  if (sweeping === undefined) {
    sweeping = sweepStaleTempDirs(prefix).catch(() => []);
    swept.set(prefix, sweeping);
  }
  await sweeping;
  return await mkdtemp(join(tmpdir(), `${prefix}${process.pid}-`));
}

/**
 * Removes the folders `<prefix><pid>-*` in `parent` (default: the system temp folder) whose process
 * is not running. Folders of running processes, and names without a pid, are left alone.
 * @returns the paths removed.
 */
export async function sweepStaleTempDirs(prefix: string, parent: string = tmpdir()): Promise<string[]> {
  const pattern = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\d+)-[^/]+$`);
  const removed: string[] = [];
  for (const name of await readdir(parent)) {
    const pid = pattern.exec(name)?.[1];
    if (pid === undefined || isRunning(Number(pid))) continue;
    const path = join(parent, name);
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
