import { readdirSync, readFileSync } from "node:fs";
import jsonld from "jsonld";
import { createOfflineLoader } from "./contexts.ts";
import { isObject } from "./util.ts";
import { detectKind } from "./kinds.ts";
const docs: any[] = [];
for (const k of ["valid", "invalid"]) for (const f of readdirSync(`fixtures/payloads/${k}`)) if (!f.endsWith(".expect.json")) docs.push(JSON.parse(readFileSync(`fixtures/payloads/${k}/${f}`, "utf8")));
const as2 = docs.filter((d) => isObject(d) && !["webfinger","nodeinfo"].includes(detectKind(d)));
const exp = jsonld.expand as any;
async function t(name: string, fn: (d: any) => unknown) {
  for (let r = 0; r < 50; r++) for (const d of as2) await fn(d);
  const n = 300; const s = process.cpuUsage();
  for (let r = 0; r < n; r++) for (const d of as2) await fn(d);
  const u = process.cpuUsage(s);
  console.log(name.padEnd(20), ((u.user + u.system) / (n * as2.length)).toFixed(1), "µs/doc");
}
for (let k = 0; k < 3; k++) {
await t("noctx", (d) => exp(d, { documentLoader: createOfflineLoader() }).catch(() => 0));
await t("expandContext", (d) => exp(d, { documentLoader: createOfflineLoader(), expandContext: "https://www.w3.org/ns/activitystreams" }).catch(() => 0));
await t("structuredClone", (d) => structuredClone(d));
}
