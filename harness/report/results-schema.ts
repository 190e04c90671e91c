/**
 * The results file's contract: the versioned JSON Schema of {@link RunResults} (kept as data in
 * `results-schema.json` so tools in other languages can use it as is), a validator, and a loader that
 * turns every way a results file can be wrong into a message a person can act on.
 * @module
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ErrorObject } from "ajv";
import type { RunResults } from "../core/model.ts";
import { lazyDraft2020Validator } from "../validate/ajv-cache.ts";
import schema from "./results-schema.json" with { type: "json" };

/** The results format version this code reads and writes. */
export const RESULTS_SCHEMA_VERSION = 1;

/** The JSON Schema (draft 2020-12) of `results.json`, schemaVersion 1. */
export const resultsSchema: Readonly<Record<string, unknown>> = schema;

/** Outcome of {@link validateResults}. */
export interface ResultsValidation {
  ok: boolean;
  /** One line per problem: `<JSON pointer>: <what is wrong>`. Empty when `ok`. */
  errors: string[];
}

// Loaded from the disk cache when an earlier process compiled it (see ajv-cache.ts).
const validator = lazyDraft2020Validator(schema, { strict: true, formats: ["date-time"] });

function describe(error: ErrorObject): string {
  const where = error.instancePath === "" ? "(root)" : error.instancePath;
  if (error.keyword === "enum" && "allowedValues" in error.params) {
    return `${where}: must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  }
  if (error.keyword === "const" && "allowedValue" in error.params) {
    return `${where}: must be ${JSON.stringify(error.params.allowedValue)}`;
  }
  return `${where}: ${error.message ?? error.keyword}`;
}

/**
 * Validates a parsed results document: the schema, then what a schema cannot say (every cell names a
 * known check and known targets; no two cells share checkId, scenarioId, sender and receiver).
 */
export function validateResults(json: unknown): ResultsValidation {
  const validate = validator();
  if (!validate(json)) {
    // `if`/`then` failures repeat the real error underneath them; keep only the real ones.
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== "if").map(describe);
    return { ok: false, errors: [...new Set(errors)] };
  }
  const results = json as RunResults;
  const errors: string[] = [];
  const checks = new Set(results.checks.map((c) => c.id));
  const targets = new Set(results.targets.map((t) => t.id));
  const seen = new Set<string>();
  results.cells.forEach((cell, i) => {
    if (!checks.has(cell.checkId)) errors.push(`/cells/${i}/checkId: '${cell.checkId}' is not in /checks`);
    for (const role of ["sender", "receiver"] as const) {
      if (!targets.has(cell[role])) errors.push(`/cells/${i}/${role}: '${cell[role]}' is not in /targets`);
    }
    const key = JSON.stringify([cell.checkId, cell.scenarioId, cell.sender, cell.receiver]);
    if (seen.has(key)) {
      errors.push(
        `/cells/${i}: a second cell for ${cell.checkId} in ${cell.scenarioId} on ${cell.sender}→${cell.receiver}`,
      );
    }
    seen.add(key);
  });
  return { ok: errors.length === 0, errors };
}

/** A results file that cannot be used; the message says what was expected and what to do. */
export class ResultsFileError extends Error {
  constructor(
    message: string,
    /** The file (or directory) that was read. */
    readonly path: string,
  ) {
    super(message);
    this.name = "ResultsFileError";
  }
}

/**
 * Loads and validates a results file. `path` is a `results.json` or a run directory holding one.
 * A file still being written (`status: "running"`) is accepted: reports can be made mid-run.
 * @throws {ResultsFileError} when the file is missing, is not JSON, has another schemaVersion or
 *   does not match the schema.
 */
export async function readResults(path: string): Promise<RunResults> {
  let file = path;
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) {
    throw new ResultsFileError(
      `no such file or directory: ${path}. Expected a results.json or a run directory holding one ` +
        "(runs write them under reports/<run-id>/); check the path.",
      path,
    );
  }
  if (info.isDirectory()) file = join(path, "results.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new ResultsFileError(
      `${path} is a directory without results.json. Expected a run directory written by ` +
        "`fedicheck run`; pass the run's directory or its results.json.",
      file,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ResultsFileError(
      `${file} is not valid JSON (${reason}). Expected the results.json a run writes (runs replace ` +
        "it atomically, so a damaged file was changed by something else); restore it or rerun the run.",
      file,
    );
  }
  const version =
    typeof json === "object" && json !== null && !Array.isArray(json)
      ? (json as Record<string, unknown>).schemaVersion
      : undefined;
  if (version !== RESULTS_SCHEMA_VERSION) {
    const found = version === undefined ? "no schemaVersion" : `schemaVersion ${JSON.stringify(version)}`;
    const hint =
      typeof version === "number" && version > RESULTS_SCHEMA_VERSION
        ? "it was written by a newer fedicheck: upgrade fedicheck to read it."
        : "is it a fedicheck results file? Pass the results.json a run wrote.";
    throw new ResultsFileError(
      `${file} has ${found}; this fedicheck reads schemaVersion ${RESULTS_SCHEMA_VERSION}: ${hint}`,
      file,
    );
  }
  const { ok, errors } = validateResults(json);
  if (!ok) {
    const shown = errors.slice(0, 10).map((e) => `  ${e}`);
    if (errors.length > 10) shown.push(`  … and ${errors.length - 10} more`);
    throw new ResultsFileError(
      `${file} does not match the results schema (schemaVersion ${RESULTS_SCHEMA_VERSION}):\n${shown.join("\n")}\n` +
        "It was probably edited by hand or written by a broken tool; rerun the run to get a fresh file.",
      file,
    );
  }
  const results = json as RunResults;
  return results.status === "running"
    ? withStreamedCells(results, join(dirname(file), "cells.jsonl"))
    : results;
}

/**
 * A run that never finished (it crashed, or still goes on) may have cells that only its streaming
 * log holds: `results.json` is rewritten at growing intervals, `cells.jsonl` after every cell, in the
 * same order. Returns the results with those cells added; a last line cut short by the crash, or a
 * line that is not a valid cell, ends the reading.
 */
async function withStreamedCells(results: RunResults, logFile: string): Promise<RunResults> {
  const text = await readFile(logFile, "utf8").catch(() => "");
  const lines = text.split("\n").filter((line) => line !== "");
  if (lines.length <= results.cells.length) return results;
  const cells = [...results.cells];
  for (const line of lines.slice(results.cells.length)) {
    let cell: unknown;
    try {
      cell = JSON.parse(line);
    } catch {
      break;
    }
    if (!validateResults({ ...results, cells: [cell] }).ok) break;
    cells.push(cell as RunResults["cells"][number]);
  }
  return { ...results, cells };
}
