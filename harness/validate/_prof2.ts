import { readdirSync, readFileSync } from "node:fs";
import { isObject } from "./util.ts";
import { detectKind } from "./kinds.ts";
import { validate } from "./index.ts";
const docs: any[] = [];
for (const k of ["valid", "invalid"]) for (const f of readdirSync(`fixtures/payloads/${k}`)) if (!f.endsWith(".expect.json")) docs.push(JSON.parse(readFileSync(`fixtures/payloads/${k}/${f}`, "utf8")));
const as2 = docs.filter((d) => isObject(d) && !["webfinger","nodeinfo"].includes(detectKind(d)));
for (let r = 0; r < 800; r++) for (const d of as2) await validate(d);
