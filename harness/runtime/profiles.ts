/**
 * Loads implementation profiles from `fixtures/profiles/<id>.json`.
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ImplementationProfile } from "../core/model.ts";
import { REPO_ROOT } from "./repo.ts";

/** The folder holding the profiles. */
export const PROFILES_DIR = join(REPO_ROOT, "fixtures/profiles");

/** Reads one profile; throws naming the known ids when there is none with this id. */
export function loadProfile(id: string): ImplementationProfile {
  const file = join(PROFILES_DIR, `${id}.json`);
  if (!/^[a-z0-9-]+$/.test(id) || !existsSync(file)) {
    throw new Error(`no implementation profile '${id}' (known: ${profileIds().join(", ")})`);
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as ImplementationProfile;
  if (profile.id !== id) throw new Error(`${file} declares id '${profile.id}', expected '${id}'`);
  return profile;
}

/** Ids of every profile, sorted. */
export function profileIds(): string[] {
  return readdirSync(PROFILES_DIR)
    .filter((name) => name.endsWith(".json"))
    .map((name) => name.slice(0, -".json".length))
    .sort();
}

/** Every profile, sorted by id. */
export function loadProfiles(): ImplementationProfile[] {
  return profileIds().map(loadProfile);
}
