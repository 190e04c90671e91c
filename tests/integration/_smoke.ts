import { describeCells, runSuites } from "./run-suites.ts";

const suites = process.argv[2] ? process.argv[2].split(",") : undefined;
const defects = process.argv[3] ? process.argv[3].split(",") : undefined;
const targets = defects
  ? [
      { id: "zoo", implementation: "fedify-ref", runtime: "process" as const, defects },
      { id: "fedify-b", implementation: "fedify-ref", runtime: "process" as const },
    ]
  : [
      { id: "fedify-a", implementation: "fedify-ref", runtime: "process" as const },
      { id: "fedify-b", implementation: "fedify-ref", runtime: "process" as const },
    ];
const out = await runSuites({ targets, ...(suites ? { suites } : {}) });
const bad = out.cells.filter((c) => c.verdict !== "passed");
console.log(describeCells(bad));
const counts: Record<string, number> = {};
for (const c of out.cells) counts[c.verdict] = (counts[c.verdict] ?? 0) + 1;
console.log(counts, "wall", out.wallMs, "ms");
if (process.env.DUMP) {
  const fs = await import("node:fs");
  fs.writeFileSync(process.env.DUMP, JSON.stringify(out.cells, null, 2));
}
process.exit(0);
