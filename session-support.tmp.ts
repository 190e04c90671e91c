import { DEFAULT_CONFIG } from "./harness/core/config.ts";
import { runSession } from "./harness/core/session.ts";
import { CHECKS } from "./suites/catalogue.ts";
import { scenarios, SUPPORT_CHECKS } from "./suites/support.ts";
const t0 = Date.now();
const out = await runSession({
  config: { ...DEFAULT_CONFIG, outDir: "/tmp/fc-support-session", suites: ["support"], screenshots: false, allure: false },
  scenarios,
  checks: [...CHECKS, ...SUPPORT_CHECKS],
  command: "session-support",
  onEvent: (e) => { if (e.type === "planned" || e.type === "started") console.log(JSON.stringify(e).slice(0, 200)); },
});
console.log("wall", Date.now() - t0, "exit", out.exitCode, "dir", out.runDir);
const counts = new Map<string, number>();
for (const c of out.results.cells) counts.set(`${c.sender}->${c.receiver} ${c.verdict}`, (counts.get(`${c.sender}->${c.receiver} ${c.verdict}`) ?? 0) + 1);
console.log([...counts].sort().join("\n"));
for (const c of out.results.cells) if (c.verdict === "failed" || c.verdict === "errored" || c.verdict === "skipped") console.log(c.verdict, c.checkId, `${c.sender}->${c.receiver}`, c.message.slice(0, 300));
