import { readdirSync, readFileSync, existsSync } from "node:fs";
import { validate } from "./index.ts";
for (const kind of ["valid", "invalid"]) {
  const dir = `fixtures/payloads/${kind}`;
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".json") && !f.endsWith(".expect.json")).sort()) {
    const text = readFileSync(`${dir}/${f}`, "utf8");
    const side = `${dir}/${f.replace(/\.json$/, ".expect.json")}`;
    const expect = existsSync(side) ? JSON.parse(readFileSync(side, "utf8")) : { rules: [] };
    const ctx = { ...(expect.context ?? {}) };
    if (ctx.headers) ctx.body = text;
    const findings = await validate(JSON.parse(text), ctx);
    const rules = findings.map((x) => `${x.severity[0]}:${x.ruleId}`);
    const errs = findings.filter((x) => x.severity === "error");
    const missing = (expect.rules as string[]).filter((r) => !findings.some((x) => x.ruleId === r));
    const bad = (kind === "valid" && errs.length > 0) || (kind === "invalid" && errs.length === 0) || missing.length > 0;
    console.log(`${bad ? "BAD " : "    "}${kind}/${f}: ${rules.join(" ")}${missing.length ? ` MISSING ${missing}` : ""}`);
    if (bad || process.env.V) for (const x of findings) console.log(`      ${x.severity} ${x.ruleId} ${x.pointer} ${x.message}`);
  }
}
