/**
 * Child process for the writer's kill test: writes cells as fast as it can until it is killed.
 * Usage: `node --import tsx writer-child.ts <run-dir>`.
 * @module
 */
import { sampleResults } from "../sample.ts";
import { createResultsWriter } from "../writer.ts";

const [dir] = process.argv.slice(2);
if (dir === undefined) throw new Error("usage: writer-child.ts <run-dir>");
const { cells, ...rest } = sampleResults({ checks: 42, implementations: ["a", "b", "c"] });
const { status: _status, ...header } = rest;
const writer = createResultsWriter(dir, header);
for (let i = 0; ; i++) {
  // Cycle through the sample's cells, renamed so each stays unique.
  const cell = { ...cells[i % cells.length]!, scenarioId: `kill.${i}` };
  await writer.add([cell]);
}
