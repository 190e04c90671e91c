import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

const made: string[] = [];

// Registered when a test file imports this module, so it runs after that file's own hooks (vitest's
// default "stack" order runs later-registered afterAll hooks first). Vitest's default per-file isolation
// gives each file its own list and hook.
afterAll(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/**
 * A fresh folder under the OS temp dir, removed once the calling test file finishes, so test runs
 * leave nothing in /tmp. Usable inside tests and in beforeAll/beforeEach alike.
 */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
