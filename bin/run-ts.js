#!/usr/bin/env node
import { resolve } from "node:path";
// Runs one TypeScript file (benchmarks, fixture servers) through tsx: `node bin/run-ts.js file.ts args…`.
import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";

// Built-ins that dependencies' polyfills replace, saved before any of them loads; programs may put
// them back (fixtures/fedify-ref/natives.ts). Bundles save them in their banner (harness/runtime/bundle.ts).
globalThis[Symbol.for("fedicheck.natives")] ??= {
  push: Array.prototype.push,
  stringify: JSON.stringify,
  toString: Function.prototype.toString,
};
register();
const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error("usage: node bin/run-ts.js <file.ts> [args…]");
  process.exit(2);
}
process.argv = [process.argv[0], resolve(file), ...rest];
await import(pathToFileURL(resolve(file)).href);
