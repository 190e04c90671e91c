/**
 * Issue 8, "no fixed sleeps": every wait in the harness and the suites is an event (the probe's
 * inbox) or a budgeted poll with backoff (harness/core/wait.ts), so a run never idles on a guess.
 * This scans harness/ and suites/ (tests excluded) for the shapes a sleep takes:
 * - a timer whose callback only resolves a promise (`new Promise((r) => setTimeout(r, ms))`), unless
 *   it is a timeout (its handle is cleared, or it is `unref()`ed as a cap in a race);
 * - promise timers from `timers/promises` and calls of `sleep(`/`delay(` helpers;
 * - `setInterval`, `Atomics.wait`, and shelling out to `sleep`.
 * Timers that end a wait early (`setTimeout(() => reject(…))`, `setTimeout(() => controller.abort())`)
 * are timeouts, not sleeps, and are not flagged. The few deliberate waits left are listed in
 * {@link ALLOWED} with their reason; an entry that no longer matches anything fails too, so the
 * list stays true.
 *
 * Sources are parsed with esbuild (comments and types stripped) so that prose about sleeps does not
 * count.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

type Rule = "sleep-timer" | "promise-timer" | "sleep-helper" | "interval" | "blocking-wait";

interface Finding {
  file: string;
  line: number;
  rule: Rule;
  snippet: string;
}

/** Deliberate timer-based waits, each with why it is not a fixed sleep. `match` is part of the snippet. */
const ALLOWED: Array<{ file: string; rule: Rule | "*"; match: string; reason: string }> = [
  {
    file: "harness/core/wait.ts",
    rule: "*",
    match: "",
    reason: "the waiting module itself: budgeted polls with backoff, woken early by events",
  },
  {
    file: "harness/protocol/http-client.ts",
    rule: "*",
    match: "",
    reason: "retry backoff of the HTTP client (Retry-After or exponential), within the request budget",
  },
  {
    file: "harness/drivers/api-http.ts",
    rule: "sleep-timer",
    match: "setTimeout(r, ms)",
    reason: "429 rate limits: waits as long as the server asks, within the rateLimit.maxWaitMs budget",
  },
  {
    file: "harness/drivers/api-http.ts",
    rule: "sleep-helper",
    match: "sleep(",
    reason: "the same rate-limit wait (injectable for tests)",
  },
  {
    file: "harness/drivers/mastodon-api.ts",
    rule: "sleep-timer",
    match: "setTimeout(r, interval)",
    reason: "media processing: budgeted poll with backoff (the API has no event to wait on)",
  },
  {
    file: "harness/runtime/container.ts",
    rule: "sleep-timer",
    match: "setTimeout(resolve, delay)",
    reason: "container health: budgeted poll with backoff (100 ms → 1 s) until the start deadline",
  },
  {
    file: "harness/runtime/images.ts",
    rule: "*",
    match: "",
    reason: "image build lock held by another process: poll with backoff, bounded by the stale limit",
  },
  {
    file: "harness/runtime/sigint-child.ts",
    rule: "interval",
    match: "setInterval",
    reason: "a child process for the interrupt tests: the interval only keeps it alive, nothing waits",
  },
  {
    file: "harness/replay/replay.ts",
    rule: "*",
    match: "",
    reason: "replay with `--timing preserve` reproduces the captured gaps between deliveries on purpose",
  },
  {
    file: "suites/support.ts",
    rule: "promise-timer",
    match: "timers/promises",
    reason:
      "429 on a delivery: waits out Retry-After (at most 3 times, capped at 10 s); should move to ctx.waitFor",
  },
  {
    file: "suites/support.ts",
    rule: "sleep-helper",
    match: "delay(",
    reason: "the same Retry-After wait as above",
  },
];

/** Every .ts file under `dir` except tests. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith(".ts") && !name.endsWith(".test.ts") && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** Index just past the `)` that closes the `(` at `open`, skipping strings; -1 if unbalanced. */
function closingParen(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    const c = code[i];
    if (c === '"' || c === "'" || c === "`") {
      for (i++; i < code.length && code[i] !== c; i++) if (code[i] === "\\") i++;
    } else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * `code` (esbuild's output: no comments) with the contents of string, template and regular-expression
 * literals blanked (quotes and `${…}` expressions kept), so that text about sleeps is not a sleep.
 */
function codeOnly(code: string): string {
  const out = code.split("");
  let i = 0;
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  // Whether a `/` at `at` starts a regular expression rather than a division.
  const regexAllowed = (at: number) => {
    let j = at - 1;
    while (j >= 0 && /\s/.test(code[j] ?? "")) j--;
    return (
      j < 0 ||
      /[(,=:[!&|?{};+\-*%<>~^]/.test(code[j] ?? "") ||
      /\b(return|typeof|case)$/.test(code.slice(0, j + 1))
    );
  };
  const skipString = (quote: string) => {
    const start = ++i;
    while (i < code.length && code[i] !== quote) i += code[i] === "\\" ? 2 : 1;
    blank(start, i);
    i++;
  };
  const skipRegex = () => {
    const start = ++i;
    let inClass = false;
    while (i < code.length && (code[i] !== "/" || inClass) && code[i] !== "\n") {
      if (code[i] === "\\") i++;
      else if (code[i] === "[") inClass = true;
      else if (code[i] === "]") inClass = false;
      i++;
    }
    blank(start, i);
    i++;
  };
  const skipTemplate = () => {
    let start = ++i;
    while (i < code.length && code[i] !== "`") {
      if (code[i] === "\\") i += 2;
      else if (code[i] === "$" && code[i + 1] === "{") {
        blank(start, i);
        i += 2;
        scanCode(true);
        start = i;
      } else i++;
    }
    blank(start, i);
    i++;
  };
  // Scans code; inside `${…}` (nested) it returns after the brace that closes the expression.
  function scanCode(nested: boolean): void {
    let depth = 0;
    while (i < code.length) {
      const c = code[i] ?? "";
      if (c === '"' || c === "'") skipString(c);
      else if (c === "`") skipTemplate();
      else if (c === "/" && regexAllowed(i)) skipRegex();
      else if (c === "{") {
        depth++;
        i++;
      } else if (c === "}") {
        i++;
        if (nested && depth-- === 0) return;
      } else i++;
    }
  }
  scanCode(false);
  return out.join("");
}

/** The line in `source` of the `occurrence`-th (0-based) `token` outside line comments. */
function lineOf(source: string, token: string, occurrence: number): number {
  let seen = 0;
  const lines = source.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const trimmed = line.trim();
    if (trimmed.startsWith("//") || trimmed.startsWith("*") || trimmed.startsWith("/*")) continue;
    const code = line.replace(/(^|[^:"'`])\/\/.*$/, "$1");
    let at = code.indexOf(token);
    while (at >= 0) {
      if (seen++ === occurrence) return i + 1;
      at = code.indexOf(token, at + token.length);
    }
  }
  return 0;
}

/** The sleeps in one TypeScript source (see the module doc). */
function findSleeps(file: string, source: string): Finding[] {
  const raw = transformSync(source, { loader: "ts", format: "esm", legalComments: "none" }).code;
  // Module specifiers and shelled-out commands are strings: those rules read `raw`, the rest `code`.
  const code = codeOnly(raw);
  const findings: Finding[] = [];
  const counts = new Map<string, number>();
  const add = (rule: Rule, token: string, snippet: string) => {
    const occurrence = counts.get(token) ?? 0;
    counts.set(token, occurrence + 1);
    findings.push({ file, line: lineOf(source, token, occurrence), rule, snippet: snippet.trim() });
  };

  // Timers: a callback that only resolves (a bare identifier, or an arrow calling one without
  // arguments) is a sleep, unless the handle is cleared or unref()ed (then it is a timeout or a cap).
  const timer = /\bsetTimeout\s*\(/g;
  for (let m = timer.exec(code); m !== null; m = timer.exec(code)) {
    const open = m.index + m[0].length - 1;
    const close = closingParen(code, open);
    const call = close > 0 ? code.slice(m.index, close) : code.slice(m.index, m.index + 80);
    const callback =
      /^setTimeout\s*\(\s*(?:([A-Za-z_$][\w$]*)\s*,|\(\s*\)\s*=>\s*\{?\s*([A-Za-z_$][\w$]*)\s*\(\s*\)\s*;?\s*\}?\s*,)/.exec(
        call,
      );
    if (callback === null) {
      counts.set("setTimeout", (counts.get("setTimeout") ?? 0) + 1);
      continue;
    }
    const unrefed = close > 0 && /^\s*\.\s*unref\s*\(/.test(code.slice(close));
    const assigned = /([A-Za-z_$][\w$]*)\s*=\s*$/.exec(code.slice(Math.max(0, m.index - 60), m.index));
    const cleared = assigned !== null && new RegExp(`clearTimeout\\(\\s*${assigned[1]}\\s*\\)`).test(code);
    if (unrefed || cleared) {
      counts.set("setTimeout", (counts.get("setTimeout") ?? 0) + 1);
      continue;
    }
    add("sleep-timer", "setTimeout", call);
  }
  for (const m of raw.matchAll(/import\s*[^;]*?from\s*["'](?:node:)?timers\/promises["']/g))
    add("promise-timer", "timers/promises", m[0]);
  for (const m of raw.matchAll(/require\(\s*["'](?:node:)?timers\/promises["']\s*\)/g))
    add("promise-timer", "timers/promises", m[0]);
  for (const m of code.matchAll(/\b(sleep|delay)\s*\(/g)) add("sleep-helper", `${m[1]}(`, m[0]);
  for (const m of code.matchAll(/\bsetInterval\s*\(/g)) add("interval", "setInterval", m[0]);
  for (const m of code.matchAll(/\bAtomics\.wait\s*\(/g)) add("blocking-wait", "Atomics.wait", m[0]);
  for (const m of raw.matchAll(/\b(?:execSync|spawnSync|execFileSync)\s*\(\s*["'`]sleep\b/g))
    add("blocking-wait", "sleep", m[0]);
  return findings;
}

function allowed(finding: Finding): boolean {
  return ALLOWED.some(
    (a) =>
      a.file === finding.file &&
      (a.rule === "*" || a.rule === finding.rule) &&
      finding.snippet.includes(a.match),
  );
}

describe("the sleep detector", () => {
  const scan = (source: string) => findSleeps("x.ts", source).map((f) => f.rule);

  it("flags the shapes a sleep takes", () => {
    expect(scan("await new Promise((r) => setTimeout(r, 100));")).toEqual(["sleep-timer"]);
    expect(scan("await new Promise<void>((resolve) => setTimeout(() => resolve(), 50));")).toEqual([
      "sleep-timer",
    ]);
    expect(scan("await new Promise((resolve) => { setTimeout(resolve, 50); });")).toEqual(["sleep-timer"]);
    expect(scan('import { setTimeout as wait } from "node:timers/promises";\nawait wait(10);')).toEqual([
      "promise-timer",
    ]);
    expect(
      scan("const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));\nawait sleep(5);"),
    ).toEqual(["sleep-timer", "sleep-helper"]);
    expect(scan("await this.options.delay(200);")).toEqual(["sleep-helper"]);
    expect(scan("setInterval(poll, 500);")).toEqual(["interval"]);
    expect(scan('execSync("sleep 1");')).toEqual(["blocking-wait"]);
    // A handle kept but never cleared is still a sleep.
    expect(scan("const t = setTimeout(resolve, 10); await p;")).toEqual(["sleep-timer"]);
  });

  it("leaves timeouts, caps, comments and strings alone", () => {
    expect(
      scan(
        "const timer = setTimeout(() => reject(new Error('late')), ms);\ntry { await p; } finally { clearTimeout(timer); }",
      ),
    ).toEqual([]);
    expect(scan("const timer = setTimeout(done, ms); const off = () => clearTimeout(timer);")).toEqual([]);
    expect(
      scan("await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);"),
    ).toEqual([]);
    expect(scan("const timer = setTimeout(() => resolve(false), ms);")).toEqual([]);
    expect(scan("setTimeout(() => controller.abort(new Error('budget')), ms);")).toEqual([]);
    expect(scan("// await new Promise((r) => setTimeout(r, 100));\n/* sleep(5) */ const x = 1;")).toEqual([]);
    expect(scan('const help = "never sleep(…) here";')).toEqual([]);
  });

  it("points at the line in the source", () => {
    const source =
      "// setTimeout(r, 1) in a comment\nconst a = 1;\nawait new Promise((r) => setTimeout(r, 5));\n";
    expect(findSleeps("x.ts", source)[0]?.line).toBe(3);
  });
});

describe("no fixed sleeps in harness/ and suites/ (issue 8)", () => {
  const findings = ["harness", "suites"].flatMap((dir) =>
    sources(join(ROOT, dir)).flatMap((path) => findSleeps(relative(ROOT, path), readFileSync(path, "utf8"))),
  );

  it("finds no sleep outside the allowed waits", () => {
    const violations = findings
      .filter((f) => !allowed(f))
      .map((f) => `${f.file}:${f.line} ${f.rule}: ${f.snippet.slice(0, 120)}`);
    expect(
      violations,
      "wait on an event (ctx.waitFor, the probe's inbox) or a budgeted poll with backoff (harness/core/wait.ts)",
    ).toEqual([]);
  });

  it("has no allowance left that matches nothing", () => {
    const stale = ALLOWED.filter(
      (a) =>
        a.match !== "" &&
        !findings.some(
          (f) => f.file === a.file && (a.rule === "*" || a.rule === f.rule) && f.snippet.includes(a.match),
        ),
    ).map((a) => `${a.file} ${a.rule} '${a.match}'`);
    expect(stale, "remove allowances whose sleep is gone").toEqual([]);
  });
});
