import fc from "fast-check";
import { it } from "vitest";
import { validate } from "../../harness/validate/index.ts";
import { as2Document, validationContext } from "./_tmp_arb.ts";
it("probe", async () => {
  const samples = fc.sample(fc.tuple(as2Document, validationContext), { numRuns: 300, seed: 42 });
  let worst = 0; let faults = 0; let total = 0;
  for (const [doc, ctx] of samples) {
    const t = Date.now();
    const f = await validate(doc, ctx as never);
    const ms = Date.now() - t; total += ms;
    if (ms > worst) { worst = ms; console.log("slow", ms, JSON.stringify(doc).length); }
    const bad = f.filter((x) => x.ruleId === "VALIDATOR-FAULT");
    if (bad.length) { faults++; if (faults < 4) console.log("FAULT", bad[0]!.message.slice(0, 300), JSON.stringify(doc).slice(0, 300)); }
  }
  console.log("total", total, "faults", faults);
}, 600_000);
