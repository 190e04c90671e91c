/**
 * How many cases each fuzz property tries: bounded for CI, raised with `FEDICHECK_FUZZ_RUNS`
 * (e.g. `FEDICHECK_FUZZ_RUNS=20000 npx vitest run tests/fuzz`). Also `FEDICHECK_FUZZ_SEED` replays a
 * failure fast-check reported.
 * @module
 */

/** Runs per property when `FEDICHECK_FUZZ_RUNS` is not set. */
export const DEFAULT_FUZZ_RUNS = 200;

/** Runs per property: `FEDICHECK_FUZZ_RUNS` when it is a positive integer, else {@link DEFAULT_FUZZ_RUNS}. */
export const FUZZ_RUNS = positiveInteger(process.env.FEDICHECK_FUZZ_RUNS) ?? DEFAULT_FUZZ_RUNS;

/** fast-check parameters for a property: the run count, and the seed when one is given. */
export function fuzzParameters(share = 1): { numRuns: number; seed?: number } {
  const seed = Number(process.env.FEDICHECK_FUZZ_SEED);
  return {
    numRuns: Math.max(1, Math.round(FUZZ_RUNS * share)),
    ...(Number.isInteger(seed) ? { seed } : {}),
  };
}

/**
 * A vitest timeout that grows with the run count: `msPerRun` per run plus a fixed margin, so raising
 * `FEDICHECK_FUZZ_RUNS` does not need editing tests.
 */
export function fuzzTimeout(msPerRun: number): number {
  return 30_000 + FUZZ_RUNS * msPerRun;
}

function positiveInteger(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`FEDICHECK_FUZZ_RUNS must be a positive integer, found ${JSON.stringify(text)}`);
  }
  return value;
}
