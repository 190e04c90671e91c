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
const variants: Record<string, (d: any) => unknown> = {
  scan: (d) => scanDocument(d),
  schema: (d) => checkAs2Schemas(scanDocument(d).nodes),
  rules: (d) => checkAs2Rules(d, scanDocument(d).nodes),
  expand: (d) => expandOffline(d).catch(() => 0),
  checkJsonLd: (d) => checkJsonLd(d),
  validate: (d) => validate(d),
  manual: async (d) => { const sc = scanDocument(d); const f = [...checkAs2Schemas(sc.nodes), ...checkAs2Rules(d, sc.nodes), ...(await checkJsonLd(d)).findings]; return f; },
  jThenS: async (d) => { const j = (await checkJsonLd(d)).findings; const sc = scanDocument(d); return [...j, ...checkAs2Schemas(sc.nodes)]; },
  jThenR: async (d) => { const j = (await checkJsonLd(d)).findings; const sc = scanDocument(d); return [...j, ...checkAs2Rules(d, sc.nodes)]; },
  jThenScan: async (d) => { const j = (await checkJsonLd(d)).findings; const sc = scanDocument(d); return [...j, sc]; },
  manualNoJ: async (d) => { const sc = scanDocument(d); const f = [...checkAs2Schemas(sc.nodes), ...checkAs2Rules(d, sc.nodes)]; return f; },
};
const times: Record<string, number[]> = {};
for (let round = 0; round < 15; round++) {
  for (const [name, fn] of Object.entries(variants)) {
    const s = process.cpuUsage();
    for (let r = 0; r < 20; r++) for (const d of as2) await fn(d);
    const u = process.cpuUsage(s);
    (times[name] ??= []).push((u.user + u.system) / (20 * as2.length));
  }
}
for (const [name, ts] of Object.entries(times)) { ts.sort((a, b) => a - b); console.log(name.padEnd(14), "median", ts[7]!.toFixed(1), "min", ts[0]!.toFixed(1)); }
