import { planCells } from "./harness/core/plan.ts";
import { runCells } from "./harness/core/runner.ts";
import { startTargets } from "./harness/core/targets.ts";
import { validate } from "./harness/validate/index.ts";
import { scenarios, SUPPORT_CHECKS } from "./suites/support.ts";
const defects = process.argv[2] ? [process.argv[2]] : [];
const t0 = Date.now();
const run = await startTargets({ targets: [{ id: "recv", implementation: "fedify-ref", runtime: "process", defects }], pairs: "all", concurrency: 4, retries: 0, waitBudgetMs: 10000, tls: false, expectations: [], outDir: "reports" } as never, { runId: "smoke" });
console.log("started", Date.now() - t0);
try {
  const cells = planCells({ scenarios, targets: run.targets, pairs: [{ sender: "probe", receiver: "recv" }] });
  const t1 = Date.now();
  const out = await runCells({ cells, checks: [...SUPPORT_CHECKS], probe: run.probe, http: run.http, validate: (d, c) => validate(d, c), concurrency: 4 });
  console.log("ran", cells.length, "cells in", Date.now() - t1, "ms");
  let n = 0;
  for (const c of out.results) {
    console.log(`${c.verdict} ${c.checkId} ${c.message}`);
    for (const o of c.support?.variants ?? []) { n++; console.log(`   ${o.variant.padEnd(48)} ${o.kind.padEnd(16)} ${o.value}${o.requirement ? ` [${o.check} ${o.requirement}]` : ""}${o.detail ? `  — ${o.detail.slice(0, 100)}` : ""}`); }
  }
  console.log("variants", n);
  const fs = await import("node:fs"); fs.writeFileSync("/tmp/smoke-results.json", JSON.stringify(out.results));
} finally { await run.stop(); }
