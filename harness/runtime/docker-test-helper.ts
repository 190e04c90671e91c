/**
 * Vitest glue for tests that need Docker: `describeDocker` runs its body when an engine answers,
 * skips it with the reason in the suite name when none does, and under `CI=true` replaces it with a
 * failing test (see {@link dockerTestMode}). Only test files import this module.
 * @module
 */
import { describe, it } from "vitest";
import { type DockerStatus, dockerSkipReason, dockerTestMode, probeDocker } from "./docker-available.ts";

/** The engine status, probed once per test file (top-level await keeps the decision synchronous). */
export const dockerStatus: DockerStatus = await probeDocker();

/** A `describe` that runs only with Docker; see the module doc for the skip/fail rule. */
export function describeDocker(name: string, body: () => void): void {
  const mode = dockerTestMode(dockerStatus);
  if (mode === "run") {
    describe(name, body);
  } else if (mode === "skip") {
    // The reason is part of the name so it shows in every reporter's list of skipped tests.
    describe.skip(`${name} [skipped: ${dockerSkipReason(dockerStatus)}]`, body);
  } else {
    describe(name, () => {
      it("needs Docker (CI=true makes a missing engine a failure)", () => {
        throw new Error(dockerSkipReason(dockerStatus));
      });
    });
  }
}
