/**
 * Benchmark of the validator: documents per second for the full `validate()` pipeline over the payload
 * corpus, side by side with `jsonld.expand` alone (same offline loader and AS2 base context) and
 * `JSON.parse` alone on the same documents, plus peak RSS. Run directly with
 * `node bin/run-ts.js bench/validate.ts`, or call {@link benchValidate}.
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expandOffline, precompileSchemas, validate } from "../harness/validate/index.ts";
import { detectKind } from "../harness/validate/kinds.ts";
import { isObject } from "../harness/validate/util.ts";

const CORPUS = fileURLToPath(new URL("../fixtures/payloads/", import.meta.url));

/** Options of {@link benchValidate}. */
export interface BenchValidateOptions {
  /** Minimum time spent measuring each variant, in milliseconds. Default: 1500. */
  minMs?: number;
  /** Print a table to stdout. Default: false. */
  print?: boolean;
}

function corpusTexts(): string[] {
  const texts: string[] = [];
  for (const folder of ["valid", "invalid"]) {
    const dir = join(CORPUS, folder);
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith(".json") && !name.endsWith(".expect.json")) texts.push(readFileSync(join(dir, name), "utf8"));
    }
  }
  return texts;
}

/** Runs `body` over all documents repeatedly for at least `minMs`; returns documents per second. */
async function measure(count: number, minMs: number, body: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < count; i++) await body(i); // warm-up: JIT, jsonld's context caches, ajv compilation
  let done = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < count; i++) await body(i);
    done += count;
    elapsed = performance.now() - start;
  }
  return (done / elapsed) * 1000;
}

/**
 * Measures documents/second for `JSON.parse`, `jsonld.expand` (AS2 documents only, as the pipeline
 * expands only those) and the full `validate()` over the corpus, and peak RSS in MiB. Returns the
 * figures and the pipeline/expansion ratio.
 */
export async function benchValidate(options: BenchValidateOptions = {}): Promise<Record<string, number>> {
  const minMs = options.minMs ?? 1500;
  const texts = corpusTexts();
  const docs = texts.map((t) => JSON.parse(t) as unknown);
  const as2 = docs.filter((d) => isObject(d) && detectKind(d) !== "webfinger" && detectKind(d) !== "nodeinfo");
  precompileSchemas();

  const parsePerSec = await measure(texts.length, minMs, (i) => JSON.parse(texts[i] as string));
  const expandPerSec = await measure(as2.length, minMs, (i) => expandOffline(as2[i]).catch(() => undefined));
  const validatePerSec = await measure(as2.length, minMs, (i) => validate(as2[i]));
  const validateAllPerSec = await measure(docs.length, minMs, (i) => validate(docs[i]));
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;

  const result = {
    documents: docs.length,
    as2Documents: as2.length,
    jsonParsePerSec: Math.round(parsePerSec),
    jsonldExpandPerSec: Math.round(expandPerSec),
    validatePerSec: Math.round(validatePerSec),
    validateAllKindsPerSec: Math.round(validateAllPerSec),
    pipelineToExpandRatio: Number((validatePerSec / expandPerSec).toFixed(3)),
    parseToPipelineRatio: Number((parsePerSec / validatePerSec).toFixed(1)),
    peakRssMiB: Number(peakRssMiB.toFixed(1)),
  };
  if (options.print) {
    console.log(`corpus: ${result.documents} documents (${result.as2Documents} AS2)`);
    console.log(`JSON.parse alone        ${String(result.jsonParsePerSec).padStart(9)} docs/s`);
    console.log(`jsonld.expand alone     ${String(result.jsonldExpandPerSec).padStart(9)} docs/s (AS2 documents)`);
    console.log(`validate() pipeline     ${String(result.validatePerSec).padStart(9)} docs/s (AS2 documents)`);
    console.log(`validate() all kinds    ${String(result.validateAllKindsPerSec).padStart(9)} docs/s`);
    console.log(`pipeline / expansion    ${result.pipelineToExpandRatio.toFixed(3)}× (target ≥ 0.7×)`);
    console.log(`JSON.parse / pipeline   ${result.parseToPipelineRatio}×`);
    console.log(`peak RSS                ${result.peakRssMiB} MiB`);
  }
  return result;
}

// Run directly: node bin/run-ts.js bench/validate.ts
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchValidate({ print: true });
}
