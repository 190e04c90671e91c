/**
 * Known outcomes per implementation (like web-platform-tests' metadata): a check expected to fail on
 * an implementation, with a reason and a link, optionally only for some versions. Matching cells are
 * not regressions; expectations that no longer match are reported as stale so they get cleaned up.
 * @module
 */
import { readFile } from "node:fs/promises";
import type { CellResult, TargetInfo, Verdict } from "./model.ts";

/** One expected outcome. */
export interface Expectation {
  /** Check id or glob (`MED-*`). */
  check: string;
  verdict: Verdict;
  reason: string;
  link?: string;
  /** Which role the implementation plays in the cell. Default: either. */
  role?: "sender" | "receiver";
  /** Only for versions matching this prefix or glob (`2.*`). Default: every version. */
  version?: string;
}

/** An expectations file: `{ "implementation": "mastodon", "expectations": [ … ] }`. */
export interface ExpectationsFile {
  implementation: string;
  expectations: Expectation[];
}

/** An expectation that matched no cell with its verdict. */
export interface StaleExpectation {
  implementation: string;
  expectation: Expectation;
  /** Verdicts actually seen for cells it covers. */
  observed: Verdict[];
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
}

/** Reads and checks an expectations file; errors say what shape was expected. */
export async function loadExpectations(path: string): Promise<ExpectationsFile> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new Error(`cannot read expectations file ${path}: ${(error as Error).message}`);
  }
  const file = data as Partial<ExpectationsFile>;
  if (typeof file?.implementation !== "string" || !Array.isArray(file.expectations)) {
    throw new Error(
      `expectations file ${path} must be {"implementation": "<id>", "expectations": [{"check", "verdict", "reason"}…]}`,
    );
  }
  for (const [i, e] of file.expectations.entries()) {
    if (typeof e?.check !== "string" || typeof e.verdict !== "string" || typeof e.reason !== "string") {
      throw new Error(`expectations file ${path}: entry ${i} needs string fields check, verdict and reason`);
    }
  }
  return file as ExpectationsFile;
}

/**
 * Marks each cell with the expectation that covers it (if its verdict matches) and returns the
 * expectations that matched nothing (stale).
 */
export function applyExpectations(
  cells: CellResult[],
  targets: TargetInfo[],
  files: ExpectationsFile[],
): StaleExpectation[] {
  const byId = new Map(targets.map((t) => [t.id, t]));
  const stale: StaleExpectation[] = [];
  for (const file of files) {
    for (const expectation of file.expectations) {
      const pattern = globToRegExp(expectation.check);
      const versionPattern = expectation.version ? globToRegExp(expectation.version) : undefined;
      const covered = cells.filter((cell) => {
        if (!pattern.test(cell.checkId)) return false;
        const roles = expectation.role ? [expectation.role] : (["sender", "receiver"] as const);
        return roles.some((role) => {
          const target = byId.get(role === "sender" ? cell.sender : cell.receiver);
          return (
            target?.implementation === file.implementation &&
            (!versionPattern || versionPattern.test(target.version))
          );
        });
      });
      let matched = false;
      for (const cell of covered) {
        if (cell.verdict === expectation.verdict) {
          matched = true;
          cell.expectation = {
            verdict: expectation.verdict,
            reason: expectation.reason,
            ...(expectation.link ? { link: expectation.link } : {}),
          };
        }
      }
      if (!matched && covered.length > 0) {
        stale.push({
          implementation: file.implementation,
          expectation,
          observed: [...new Set(covered.map((c) => c.verdict))],
        });
      }
    }
  }
  return stale;
}

/** Stable identity of a cell across runs. */
export function cellIdentity(
  cell: Pick<CellResult, "checkId" | "scenarioId" | "sender" | "receiver">,
): string {
  return `${cell.checkId}|${cell.scenarioId}|${cell.sender}->${cell.receiver}`;
}

/** True when a cell's verdict counts against the run: failed or errored, not expected, not in the baseline. */
export function isRegression(cell: CellResult, baseline?: Map<string, Verdict>): boolean {
  if (cell.verdict !== "failed" && cell.verdict !== "errored") return false;
  if (cell.expectation?.verdict === cell.verdict) return false;
  if (baseline && baseline.get(cellIdentity(cell)) === cell.verdict) return false;
  return true;
}
