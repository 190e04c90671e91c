/**
 * Where fedicheck keeps what it can rebuild (test keys, bundles): `node_modules/.cache/fedicheck`
 * when the repository has node_modules (so `rm -rf node_modules` clears it), else a per-user folder
 * under the system's temporary directory.
 * @module
 */
import { existsSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./repo.ts";

/** The cache folder (not created here). */
export function fedicheckCacheDir(): string {
  const modules = join(REPO_ROOT, "node_modules");
  return existsSync(modules)
    ? join(modules, ".cache", "fedicheck")
    : join(tmpdir(), `fedicheck-cache-${safeUser()}`);
}

function safeUser(): string {
  try {
    return userInfo().username.replace(/[^A-Za-z0-9_-]/g, "_");
  } catch {
    return "user";
  }
}
