import { readdirSync, readFileSync } from "node:fs";
import { checkJsonLd, expandOffline } from "./jsonld.ts";
import { checkAs2Schemas, precompileSchemas } from "./schema.ts";
import { checkAs2Rules } from "./rules.ts";
import { scanDocument, isObject } from "./util.ts";
import { detectKind } from "./kinds.ts";
import { validate } from "./index.ts";
const docs: any[] = [];
for (const k of ["valid", "invalid"]) for (const f of readdirSync(`fixtures/payloads/${k}`)) if (!f.endsWith(".expect.json")) docs.push(JSON.parse(readFileSync(`fixtures/payloads/${k}/${f}`, "utf8")));
const as2 = docs.filter((d) => isObject(d) && !["webfinger","nodeinfo"].includes(detectKind(d)));
precompileSchemas();
async function t(name: string, fn: (d: any) => unknown) {
  for (const d of as2) await fn(d);
  const n = 200; const s = performance.now();
  for (let r = 0; r < n; r++) for (const d of as2) await fn(d);
  console.log(name.padEnd(20), ((performance.now() - s) / (n * as2.length) * 1000).toFixed(1), "µs/doc");
}
for (let k = 0; k < 2; k++) {
await t("scan", (d) => scanDocument(d));
await t("schema", (d) => checkAs2Schemas(scanDocument(d).nodes));
await t("rules", (d) => checkAs2Rules(d, scanDocument(d).nodes));
await t("expand", (d) => expandOffline(d).catch(() => 0));
await t("expand+events", (d) => expandOffline(d, { onEvent: () => {}, onUnknownContext: () => {} }).catch(() => 0));
await t("checkJsonLd", (d) => checkJsonLd(d));
await t("validate", (d) => validate(d));
}
