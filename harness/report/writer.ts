/**
 * Writes a run's `results.json` while the run goes on. `cells.jsonl` next to it gets one line per
 * cell as it arrives (for consumers that follow a run live, `tail -f`), and `results.json` is replaced
 * atomically (written to a temporary file, then renamed over the old one) whenever the cells added
 * since its last rewrite reach an eighth of those it holds, and at the end. Rewriting it after every
 * cell made a long run quadratic (2 000 cells: 4 s of CPU; issue 8); this way the bytes written stay
 * within ~9× the final file. Whatever moment the process dies at, `results.json` is a complete,
 * schema-valid file with `status: "running"`, and {@link readResults} adds the cells only
 * `cells.jsonl` holds, so nothing is lost.
 * @module
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { CellResult, RunResults } from "../core/model.ts";
import { validateResults } from "./results-schema.ts";

/** Name of the results file inside a run directory. */
export const RESULTS_FILE = "results.json";
/** Name of the streaming cell log inside a run directory. */
export const CELLS_FILE = "cells.jsonl";

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** fsync the data before the rename, so it also survives a power loss. Default false. */
  durable?: boolean;
}

/**
 * Replaces `path` with `text` so readers see either the old or the new content, never a mix:
 * writes a temporary file in the same directory, then renames it over `path`.
 */
export async function writeFileAtomic(
  path: string,
  text: string | Uint8Array | readonly Uint8Array[],
  options: AtomicWriteOptions = {},
): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  try {
    const handle = await open(tmp, "w");
    try {
      // Pieces are written as they are (one writev), not joined into one more copy first.
      if (Array.isArray(text)) await handle.writev(text as Uint8Array[]);
      else await handle.writeFile(text as string | Uint8Array);
      if (options.durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** The results file's text: the header pretty-printed, then one line per cell (diffable, greppable). */
function assemble(header: Omit<RunResults, "cells">, cellTexts: readonly string[]): string {
  const head = JSON.stringify({ ...header, cells: [] }, null, 2);
  // `cells` is the last key, and an unescaped `"cells": []` cannot occur inside a JSON string.
  const at = head.lastIndexOf('"cells": []');
  const list = cellTexts.length === 0 ? "[]" : `[\n${cellTexts.join(",\n")}\n]`;
  return `${head.slice(0, at)}"cells": ${list}${head.slice(at + '"cells": []'.length)}\n`;
}

/** Serialises results the way `results.json` is written: pretty header, one cell per line. */
export function serializeResults(results: RunResults): string {
  const { cells, ...header } = results;
  return assemble(
    header,
    cells.map((cell) => JSON.stringify(cell)),
  );
}

/** What a run writes into and reads back from; see {@link createResultsWriter}. */
export interface ResultsWriter {
  /** Path of `results.json`. */
  readonly path: string;
  /**
   * Adds finished cells. Resolves once `cells.jsonl` holds them, and `results.json` too when this add
   * made a rewrite due (see the module comment). Calls may overlap: writes are serialised, and adds
   * that arrive during a write share the next one.
   */
  add(cells: CellResult[]): Promise<void>;
  /**
   * Sets the final status (and `finishedAt`, default now; `timing` when given), writes the file one
   * last time and returns the results. Later calls to `add` throw.
   */
  finish(
    status: "completed" | "interrupted",
    details?: Pick<RunResults, "finishedAt" | "timing">,
  ): Promise<RunResults>;
  /** A snapshot of the results as they stand (cells added so far). */
  results(): RunResults;
}

/** Options of {@link createResultsWriter}. */
export interface ResultsWriterOptions extends AtomicWriteOptions {}

/**
 * Creates `runDir` if needed, writes `results.json` with no cells and `status: "running"` right away
 * (synchronously, so the file exists when this returns) and empties `cells.jsonl`.
 * @throws {TypeError} when the header does not match the results schema (a harness bug).
 */
export function createResultsWriter(
  runDir: string,
  header: Omit<RunResults, "cells" | "status">,
  options: ResultsWriterOptions = {},
): ResultsWriter {
  const path = join(runDir, RESULTS_FILE);
  const jsonlPath = join(runDir, CELLS_FILE);
  const base: Omit<RunResults, "cells" | "status"> = structuredClone(header);
  let status: RunResults["status"] = "running";
  const cells: CellResult[] = [];
  // Each cell is serialised and encoded once, into one buffer grown by doubling; a rewrite writes a
  // view of it. Joining, re-encoding or copying every cell on each rewrite was the costliest part of
  // the harness's own work in a long run (O(cells²) work and garbage; issue 8). Appends only write
  // past the end, so a view handed to a write in flight never changes.
  let cellBytes = Buffer.alloc(64 * 1024);
  let cellLength = 0;
  let finished = false;

  const snapshot = (): RunResults => ({ ...base, status, cells: [...cells] });
  const { ok, errors } = validateResults(snapshot());
  if (!ok) throw new TypeError(`results header does not match the results schema: ${errors.join("; ")}`);

  // The same bytes as assemble() makes, from the pre-encoded cells.
  const render = (): Buffer[] => {
    const head = JSON.stringify({ ...base, status, cells: [] }, null, 2);
    if (cells.length === 0) return [Buffer.from(`${head}\n`)];
    const at = head.lastIndexOf('"cells": []');
    return [
      Buffer.from(`${head.slice(0, at)}"cells": [\n`),
      cellBytes.subarray(0, cellLength),
      Buffer.from(`\n]${head.slice(at + '"cells": []'.length)}\n`),
    ];
  };

  mkdirSync(runDir, { recursive: true });
  const tmp = `${path}.${process.pid}.init.tmp`;
  writeFileSync(tmp, Buffer.concat(render()));
  renameSync(tmp, path);
  writeFileSync(jsonlPath, "");

  let tail: Promise<void> = Promise.resolve();
  let queued: Promise<void> | undefined;
  /** Cells the newest scheduled rewrite of results.json holds (at least). */
  let covered = 0;
  const rewriteDue = () => cells.length - covered >= Math.max(1, Math.ceil(covered / 8));
  const flush = (): Promise<void> => {
    if (queued !== undefined) return queued;
    covered = cells.length;
    const write = async () => {
      queued = undefined; // changes from now on need another write
      covered = cells.length;
      await writeFileAtomic(path, render(), options);
    };
    const next = tail.then(write, write);
    queued = next;
    tail = next.catch(() => undefined);
    return next;
  };

  let jsonlTail: Promise<void> = Promise.resolve();
  // One handle for the whole run: opening the file for every cell cost more than writing it.
  let jsonl: Promise<FileHandle> | undefined;
  const append = (text: string): Promise<void> => {
    const next = jsonlTail.then(async () => {
      jsonl ??= open(jsonlPath, "a");
      await (await jsonl).appendFile(text, "utf8");
    });
    jsonlTail = next.catch(() => undefined);
    return next;
  };

  return {
    path,
    async add(added) {
      if (finished) throw new Error(`results writer for ${path} is finished; cannot add cells`);
      if (added.length === 0) return;
      const texts = added.map((cell) => JSON.stringify(cell));
      const encoded = Buffer.from(`${cells.length === 0 ? "" : ",\n"}${texts.join(",\n")}`);
      if (cellLength + encoded.length > cellBytes.length) {
        const grown = Buffer.alloc(Math.max(cellBytes.length * 2, cellLength + encoded.length));
        cellBytes.copy(grown, 0, 0, cellLength);
        cellBytes = grown;
      }
      encoded.copy(cellBytes, cellLength);
      cellLength += encoded.length;
      for (const cell of added) cells.push(structuredClone(cell));
      await Promise.all([append(`${texts.join("\n")}\n`), rewriteDue() ? flush() : undefined]);
    },
    async finish(finalStatus, details = {}) {
      finished = true;
      status = finalStatus;
      base.finishedAt = details.finishedAt ?? new Date().toISOString();
      if (details.timing !== undefined) base.timing = details.timing;
      await Promise.all([jsonlTail, flush()]);
      await (await jsonl)?.close();
      return snapshot();
    },
    results: snapshot,
  };
}
