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
  /** Measuring rounds; each round runs every variant once, interleaved. Default: 15. */
  rounds?: number;
  /** Passes over the corpus per variant and round. Default: 10. */
  passes?: number;
  /** Print a table to stdout. Default: false. */
  print?: boolean;
}

function corpusTexts(): string[] {
  const texts: string[] = [];
  for (const folder of ["valid", "invalid"]) {
    const dir = join(CORPUS, folder);
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith(".json") && !name.endsWith(".expect.json"))
        texts.push(readFileSync(join(dir, name), "utf8"));
    }
  }
  return texts;
}

interface Variant {
  name: string;
  count: number;
  run: (i: number) => unknown;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Runs the variants interleaved (so that load from other processes hits them alike) and returns, per
 * variant, the median CPU microseconds per document. CPU time rather than wall time: a shared machine
 * steals wall time unevenly, CPU time much less so.
 */
async function measure(variants: Variant[], rounds: number, passes: number): Promise<Map<string, number>> {
  for (const v of variants) for (let p = 0; p < passes; p++) for (let i = 0; i < v.count; i++) await v.run(i);
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const start = process.cpuUsage();
      for (let p = 0; p < passes; p++) for (let i = 0; i < v.count; i++) await v.run(i);
      const used = process.cpuUsage(start);
      samples.get(v.name)?.push((used.user + used.system) / (passes * v.count));
    }
  }
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}

/**
 * Measures documents per CPU-second for `JSON.parse`, `jsonld.expand` (the AS2 documents, through the
 * same offline loader and AS2 base context the pipeline uses) and the full `validate()` over the corpus,
 * and peak RSS in MiB. Returns the figures and the pipeline/expansion ratio.
 */
export async function benchValidate(options: BenchValidateOptions = {}): Promise<Record<string, number>> {
  const rounds = options.rounds ?? 15;
  const passes = options.passes ?? 10;
  const texts = corpusTexts();
  const docs = texts.map((t) => JSON.parse(t) as unknown);
  const as2Index = docs.flatMap((d, i) =>
    isObject(d) && detectKind(d) !== "webfinger" && detectKind(d) !== "nodeinfo" ? [i] : [],
  );
  const as2 = as2Index.map((i) => docs[i]);
  const as2Texts = as2Index.map((i) => texts[i] as string);
  precompileSchemas();

  const perDoc = await measure(
    [
      { name: "parse", count: as2Texts.length, run: (i) => JSON.parse(as2Texts[i] as string) },
      { name: "expand", count: as2.length, run: (i) => expandOffline(as2[i]).catch(() => undefined) },
      { name: "validate", count: as2.length, run: (i) => validate(as2[i]) },
      { name: "validateAll", count: docs.length, run: (i) => validate(docs[i]) },
    ],
    rounds,
    passes,
  );
  const rate = (name: string): number => 1e6 / (perDoc.get(name) ?? Number.NaN);
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  const result = {
    documents: docs.length,
    as2Documents: as2.length,
    jsonParsePerSec: Math.round(rate("parse")),
    jsonldExpandPerSec: Math.round(rate("expand")),
    validatePerSec: Math.round(rate("validate")),
    validateAllKindsPerSec: Math.round(rate("validateAll")),
    pipelineToExpandRatio: Number((rate("validate") / rate("expand")).toFixed(3)),
    parseToPipelineRatio: Number((rate("parse") / rate("validate")).toFixed(1)),
    peakRssMiB: Number(peakRssMiB.toFixed(1)),
  };
  if (options.print) {
    const row = (label: string, value: number, note = ""): string =>
      `${label.padEnd(24)}${String(value).padStart(9)} docs/s${note}`;
    console.log(
      `corpus: ${result.documents} documents, ${result.as2Documents} of them AS2 (rates per CPU-second)`,
    );
    console.log(row("JSON.parse alone", result.jsonParsePerSec, " (AS2 documents)"));
    console.log(row("jsonld.expand alone", result.jsonldExpandPerSec, " (AS2 documents, offline loader)"));
    console.log(row("validate() pipeline", result.validatePerSec, " (AS2 documents)"));
    console.log(row("validate() all kinds", result.validateAllKindsPerSec, " (whole corpus)"));
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
