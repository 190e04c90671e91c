/**
 * Where the repository is on disk, for modules that read its files (profiles, templates, the code
 * copied into images).
 * @module
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is harness/runtime/repo.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
