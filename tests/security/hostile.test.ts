/**
 * Issue 7: the harness against a hostile target. For each attack of fixtures/hostile/server.ts, the
 * HTTP client, the key resolver, signature verification and the validator survive with a clear,
 * bounded error; a run of cells against the attack ends `errored` with blame on the target (or
 * `failed` where the target's answer is merely wrong), the results file stays valid, and no
 * connection ever reaches a host outside the run.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Attack, type HostileServer, startHostileServer } from "../../fixtures/hostile/server.ts";
import { hostileTarget } from "../../fixtures/hostile/target.ts";
import { allowListFor } from "../../harness/core/allow-list.ts";
import type { CellResult, CheckDefinition, Target } from "../../harness/core/model.ts";
import { planCells } from "../../harness/core/plan.ts";
import { runCells } from "../../harness/core/runner.ts";
import type { Scenario } from "../../harness/core/scenario.ts";
import { createProbeDriver, PROBE_CAPABILITIES } from "../../harness/drivers/probe.ts";
import { startProbe } from "../../harness/peer/probe.ts";
import type { Probe } from "../../harness/peer/types.ts";
import { createHttpClient, HttpClientError, MAX_HEADER_BYTES } from "../../harness/protocol/http-client.ts";
import { createKeyResolver } from "../../harness/protocol/key-resolver.ts";
import { signRequest } from "../../harness/protocol/sign.ts";
import type { HttpClient, HttpErrorCode } from "../../harness/protocol/types.ts";
import { verifyRequest } from "../../harness/protocol/verify.ts";
import { webfingerLookup } from "../../harness/protocol/webfinger.ts";
import { writeReports } from "../../harness/report/index.ts";
import { validateResults } from "../../harness/report/results-schema.ts";
import { createResultsWriter } from "../../harness/report/writer.ts";
import { MAX_FINDINGS_PER_RULE, validate } from "../../harness/validate/index.ts";
import { CHECKS } from "../../suites/catalogue.ts";
import { scenarios as discovery } from "../../suites/discovery.ts";

/** Per-request timeout of the client tested directly. */
const TIMEOUT_MS = 500;
/**
 * Per-request timeout of the clients used in whole cells: larger, because cells run concurrently in
 * this one process (probe, hostile server, validator), and a busy event loop must not pass for a slow target.
 */
const RUN_TIMEOUT_MS = 2_000;
const CAP = 5 * 1024 * 1024;

/** A TCP listener that only counts connections: it stands for a host outside the run. */
interface Sentinel {
  origin: string;
  connections(): number;
  close(): Promise<void>;
}

async function startSentinel(host: string): Promise<Sentinel> {
  let count = 0;
  const server: Server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return {
    origin: `http://${host}:${address.port}`,
    connections: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Rejection of `promise` (or of `run()`), as an HttpClientError; fails the test when it resolves. */
async function clientError(run: () => unknown): Promise<HttpClientError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpClientError);
    return error as HttpClientError;
  }
  throw new Error("expected an HttpClientError, but the call succeeded");
}

/** What each attack that the client itself must stop yields. */
interface ClientCase {
  attack: Attack;
  code: HttpErrorCode;
  /** Whether `request()` fails, or `json()` on its response. */
  stage: "request" | "json";
  /** The limit, as the message states it, for a client with this timeout. */
  limit: (timeoutMs: number) => RegExp;
  /** URL the message names, when not the attack's own. */
  names?: (s: HostileServer) => string;
}

const CLIENT_CASES: ClientCase[] = [
  {
    attack: "slow-headers",
    code: "timeout",
    stage: "request",
    limit: (ms) => new RegExp(`took longer than ${ms} ms`),
  },
  {
    attack: "slow-body",
    code: "timeout",
    stage: "request",
    limit: (ms) => new RegExp(`took longer than ${ms} ms`),
  },
  {
    attack: "endless",
    code: "too-large",
    stage: "request",
    limit: () => /response body exceeds the limit of 5242880 bytes/,
  },
  {
    attack: "huge",
    code: "too-large",
    stage: "request",
    limit: () => /response body exceeds the limit of 5242880 bytes/,
  },
  {
    attack: "redirect-loop",
    code: "too-many-redirects",
    stage: "request",
    limit: () => /more than 3 redirects/,
  },
  {
    attack: "redirect-off-run",
    code: "forbidden-host",
    stage: "request",
    limit: () => /host 127\.0\.0\.9 is not in the allowed hosts .*; no connection was made/,
    names: (s) => `${s.offRunOrigin}/stolen`,
  },
  {
    attack: "redirect-external",
    code: "forbidden-host",
    stage: "request",
    limit: () => /host attacker\.invalid is not in the allowed hosts/,
    names: () => "http://attacker.invalid/stolen",
  },
  {
    attack: "redirect-file",
    code: "forbidden-host",
    stage: "request",
    limit: () => /only http and https URLs can be fetched/,
    names: () => "file:///etc/passwd",
  },
  {
    attack: "json-bomb",
    code: "json-too-deep",
    stage: "json",
    limit: () => /nests deeper than the limit of 64 levels/,
  },
  {
    attack: "json-bomb-object",
    code: "json-too-deep",
    stage: "json",
    limit: () => /nests deeper than the limit of 64 levels/,
  },
  {
    attack: "invalid-utf8",
    code: "invalid-json",
    stage: "json",
    limit: () => /invalid UTF-8 at byte 193 of \d+/,
  },
  // undici's request API does not inflate: the bomb stays 64 KiB of gzip, which is not JSON.
  { attack: "gzip-bomb", code: "invalid-json", stage: "json", limit: () => /invalid UTF-8 at byte 1 of \d+/ },
  {
    attack: "header-flood",
    code: "too-large",
    stage: "request",
    limit: () => new RegExp(`response headers exceed the limit of ${MAX_HEADER_BYTES} bytes`),
  },
  {
    attack: "huge-header",
    code: "too-large",
    stage: "request",
    limit: () => new RegExp(`response headers exceed the limit of ${MAX_HEADER_BYTES} bytes`),
  },
];

let server: HostileServer;
let offRun: Sentinel;
let sameHostOtherPort: Sentinel;
let allowHosts: string[];
let http: HttpClient;
let runHttp: HttpClient;
let probe: Probe;
let workDir: string;

beforeAll(async () => {
  offRun = await startSentinel("127.0.0.9");
  sameHostOtherPort = await startSentinel("127.0.0.1");
  server = await startHostileServer({ offRunOrigin: offRun.origin });
  // Filled once the probe listens: the client reads the list on every request.
  allowHosts = [];
  probe = await startProbe({ client: { allowHosts, timeoutMs: RUN_TIMEOUT_MS } });
  allowHosts.push(...allowListFor([{ id: "hostile", origin: server.origin }], probe));
  http = createHttpClient({ allowHosts, timeoutMs: TIMEOUT_MS });
  runHttp = createHttpClient({ allowHosts, timeoutMs: RUN_TIMEOUT_MS });
  // Warm the validator up (schemas, contexts), so its first run does not stall the cells' event loop.
  await validate({
    "@context": "https://www.w3.org/ns/activitystreams",
    type: "Note",
    id: `${server.origin}/n`,
  });
  workDir = await mkdtemp(join(tmpdir(), "fedicheck-hostile-"));
});

afterAll(async () => {
  await http?.close();
  await runHttp?.close();
  await probe?.close();
  await server?.close();
  await offRun?.close();
  await sameHostOtherPort?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("the HTTP client against each attack", () => {
  for (const c of CLIENT_CASES) {
    it(`${c.attack}: ${c.code} naming the URL and the limit, in bounded time and memory`, async () => {
      const before = process.memoryUsage();
      const started = Date.now();
      const error = await clientError(async () => {
        const response = await http.request(server.url(c.attack), {
          headers: { accept: "application/activity+json" },
        });
        expect(c.stage).toBe("json"); // a request-stage attack must not get this far
        return response.json();
      });
      const elapsed = Date.now() - started;
      expect(error.code).toBe(c.code);
      expect(error.message).toMatch(c.limit(TIMEOUT_MS));
      expect(error.message).toContain(c.names ? c.names(server) : server.url(c.attack));
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 2_000);
      const after = process.memoryUsage();
      const grown = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
      expect(grown).toBeLessThan(100 * 1024 * 1024);
    });
  }

  it("endless and huge bodies: the client stops reading near the cap", () => {
    // What the server got out is the cap plus socket buffers, far from the 64 MiB it would send.
    expect(server.bytesSent("/endless")).toBeGreaterThan(CAP);
    expect(server.bytesSent("/endless")).toBeLessThan(CAP + 16 * 1024 * 1024);
    expect(server.bytesSent("/huge")).toBeLessThan(16 * 1024 * 1024);
  });

  it("redirect loop: follows at most 3 redirects", () => {
    expect(server.hits("/redirect-loop") + server.hits("/redirect-loop/b")).toBeLessThanOrEqual(4 * 3);
  });

  it("invalid UTF-8: reported by json(), while text() stays lenient", async () => {
    const response = await http.request(server.url("invalid-utf8"));
    expect(response.text()).toContain("\uFFFD");
    expect(() => response.json()).toThrow(/invalid UTF-8 at byte 193/);
    // What a lenient caller then parses still validates without throwing.
    const findings = await validate(JSON.parse(response.text()));
    expect(Array.isArray(findings)).toBe(true);
  });

  it("gzip bomb: never inflated", async () => {
    const response = await http.request(server.url("gzip-bomb"));
    expect(response.headers["content-encoding"]).toBe("gzip");
    expect(response.body.length).toBeLessThan(1024 * 1024);
  });

  it("wrong content type: the document is returned with its content type, for the checks to judge", async () => {
    const response = await http.request(server.url("wrong-content-type"));
    expect(response.headers["content-type"]).toMatch(/^text\/html/);
    expect(response.json()).toMatchObject({ type: "Person" });
  });
});

describe("the validator against what the attacks yield", () => {
  it("json-wide: 100 000 members validate in bounded time with a bounded list of findings", async () => {
    const response = await http.request(server.url("json-wide"));
    const document = response.json();
    const started = Date.now();
    const findings = await validate(document);
    expect(Date.now() - started).toBeLessThan(20_000);
    const perRule = new Map<string, number>();
    for (const f of findings) perRule.set(f.ruleId, (perRule.get(f.ruleId) ?? 0) + 1);
    for (const n of perRule.values()) expect(n).toBeLessThanOrEqual(MAX_FINDINGS_PER_RULE + 1);
    expect(findings.some((f) => /and \d+ more .* finding\(s\)/.test(f.message))).toBe(true);
    expect(findings.some((f) => f.ruleId === "VALIDATOR-FAULT")).toBe(false);
  });

  it("json bombs parsed by a lenient caller: reported as too deep, never thrown", async () => {
    for (const attack of ["json-bomb", "json-bomb-object"] as const) {
      const text = (await http.request(server.url(attack))).text();
      const findings = await validate(JSON.parse(text));
      expect(findings.map((f) => f.ruleId)).toContain("DOC-TOO-DEEP");
    }
  });
});

describe("key resolution and signature verification against the attacks", () => {
  const resolver = () => createKeyResolver(http);

  for (const c of CLIENT_CASES) {
    it(`a keyId at ${c.attack}: no key, a reason naming the limit`, async () => {
      const keys = resolver();
      const keyId = `${server.url(c.attack)}#main-key`;
      expect(await keys.resolve(keyId)).toBeNull();
      expect(keys.failureReason(keyId)).toMatch(c.limit(TIMEOUT_MS));
    });
  }

  it("offsite-key: the actor's keyId points off the run; resolving it is refused before connecting", async () => {
    const actor = (await http.request(server.url("offsite-key"))).json() as { publicKey: { id: string } };
    const keys = resolver();
    expect(await keys.resolve(actor.publicKey.id)).toBeNull();
    expect(keys.failureReason(actor.publicKey.id)).toMatch(
      /not in the allowed hosts.*no connection was made/,
    );
    // A signature naming that keyId does not verify.
    const url = `${probe.origin}/inbox`;
    const headers = signRequest(
      { method: "POST", url, headers: {}, body: "{}" },
      { ...server.honestKey, keyId: actor.publicKey.id },
    );
    const verdict = await verifyRequest({ method: "POST", url, headers, body: "{}" }, keys);
    expect(verdict.ok).toBe(false);
    expect(verdict.reason).toMatch(/not in the allowed hosts/);
  });

  it("foreign-id: an actor served here but claiming an off-run id vouches for no key", async () => {
    const keys = resolver();
    const keyId = `${server.url("foreign-id")}#main-key`;
    expect(await keys.resolve(keyId)).toBeNull();
    expect(keys.failureReason(keyId)).toMatch(
      /whose id http:\/\/127\.0\.0\.9:\d+\/users\/foreign-id is on another origin/,
    );
  });

  it("orphan-key: a key document claiming an owner that does not list it is rejected (SIG-04b)", async () => {
    const url = `${probe.origin}/inbox`;
    const body = JSON.stringify({ type: "Create", actor: `${server.origin}/users/honest` });
    const headers = signRequest({ method: "POST", url, headers: {}, body }, server.orphanKey);
    const verdict = await verifyRequest({ method: "POST", url, headers, body }, resolver());
    expect(verdict.ok).toBe(false);
    expect(verdict.reason).toMatch(
      /claims owner .*\/users\/honest, but that actor's document does not list the key/,
    );
  });

  it("honest (control): the same set-up verifies a well-formed signature", async () => {
    const url = `${probe.origin}/inbox`;
    const body = JSON.stringify({ type: "Create", actor: `${server.origin}/users/honest` });
    const headers = signRequest({ method: "POST", url, headers: {}, body }, server.honestKey);
    const verdict = await verifyRequest({ method: "POST", url, headers, body }, resolver());
    expect(verdict).toMatchObject({ ok: true, actorId: `${server.origin}/users/honest` });
  });
});

describe("links that point off the run", () => {
  it("offsite-links: every collection of the actor is refused before connecting", async () => {
    const actor = (await http.request(server.url("offsite-links"))).json() as Record<string, unknown>;
    for (const name of ["inbox", "outbox", "followers", "following"]) {
      const error = await clientError(() => http.request(String(actor[name])));
      expect(error.code).toBe("forbidden-host");
      expect(error.message).toContain(`${offRun.origin}/${name}`);
    }
  });

  it("webfinger-offsite: the self link is returned as is, and fetching it is refused", async () => {
    const found = await webfingerLookup(http, `offsite-self@${new URL(server.origin).host}`, server.origin);
    expect(found.selfHref).toBe(`${offRun.origin}/users/offsite-self`);
    const error = await clientError(() => http.request(found.selfHref!));
    expect(error.code).toBe("forbidden-host");
  });

  it("the allow-list is per port: another service on the target's own host is refused too", async () => {
    const other = await startHostileServer({ offRunOrigin: sameHostOtherPort.origin });
    const client = createHttpClient({
      allowHosts: allowListFor([{ id: "other", origin: other.origin }], probe),
    });
    try {
      const error = await clientError(() => client.request(other.url("redirect-off-run")));
      expect(error.code).toBe("forbidden-host");
      expect(error.message).toMatch(/host 127\.0\.0\.1 is not in the allowed hosts/);
    } finally {
      await client.close();
      await other.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Whole cells: what a run records
// ---------------------------------------------------------------------------------------------

const HOSTILE_CHECK: CheckDefinition = {
  id: "HOSTILE-01",
  suite: "hostile",
  title: "fetch and parse the target's document",
  requirement: "the target serves a readable AS2 document",
  source: "issue 7",
  level: "MUST",
  impact: "PROBLEM",
};

/** Fetches the account's actor URL through the harness client and parses it. */
const fetchAndParse: Scenario = {
  id: "hostile.fetch",
  suite: "hostile",
  title: "fetch and parse",
  shape: "single",
  checks: ["HOSTILE-01"],
  async run(ctx) {
    const account = await ctx.account(ctx.receiver, "x");
    const response = await ctx.http.request(account.actorId, {
      headers: { accept: "application/activity+json" },
    });
    const document = response.json() as Record<string, unknown>;
    // Follow the actor's links, as a server delivering to it would.
    for (const name of ["inbox", "followers"]) {
      if (typeof document[name] === "string") await ctx.http.request(document[name] as string);
    }
    ctx.assert("HOSTILE-01", true, "parsed");
  },
};

/** Waits on the target with a request longer than the cell's budget. */
const outOfTime: Scenario = {
  id: "hostile.out-of-time",
  suite: "hostile",
  title: "a cell that runs out of time on the target",
  shape: "single",
  checks: ["HOSTILE-01"],
  timeoutMs: 300,
  async run(ctx) {
    const account = await ctx.account(ctx.receiver, "x");
    await ctx.http.request(account.actorId, { timeoutMs: 10_000 });
  },
};

const stuck: Scenario = {
  ...outOfTime,
  id: "hostile.stuck",
  title: "a cell that runs out of time on nothing",
  run: () => new Promise<void>(() => {}),
};

const buggy: Scenario = {
  ...outOfTime,
  id: "hostile.buggy",
  title: "a scenario with a bug",
  run: async () => {
    const nothing: { x?: { y: number } } = {};
    nothing.x!.y = 1;
  },
};

function probeTarget(): Target {
  return {
    id: "probe",
    implementation: "probe",
    version: "0",
    origin: probe.origin,
    runtime: "process",
    capabilities: [...PROBE_CAPABILITIES],
    driver: createProbeDriver(probe),
  };
}

async function run(scenarios: Scenario[], targets: Target[]): Promise<CellResult[]> {
  const all = [probeTarget(), ...targets];
  const cells = planCells({
    scenarios,
    targets: all,
    pairs: targets.map((t) => ({ sender: "probe", receiver: t.id })),
  });
  const { results } = await runCells({
    cells,
    checks: [...CHECKS, HOSTILE_CHECK],
    probe,
    http: runHttp,
    validate: (document, context) => validate(document, context),
    waitBudgetMs: 1_000,
    concurrency: 8,
  });
  return results;
}

/** Writes results and every report, and checks the results file still validates. */
async function writeAndCheck(name: string, cells: CellResult[], targets: Target[]): Promise<string> {
  const dir = join(workDir, name);
  const writer = createResultsWriter(dir, {
    schemaVersion: 1,
    runId: name,
    tool: { name: "fedicheck", version: "test" },
    startedAt: new Date().toISOString(),
    command: "vitest tests/security/hostile.test.ts",
    targets: [probeTarget(), ...targets].map(({ driver: _driver, logs: _logs, ...info }) => info),
    checks: [...CHECKS, HOSTILE_CHECK],
  });
  await writer.add(cells);
  const results = await writer.finish("completed");
  await writeReports(dir, results, { json: false });
  const stored = JSON.parse(await readFile(join(dir, "results.json"), "utf8")) as unknown;
  const validation = validateResults(stored);
  expect(validation.errors).toEqual([]);
  return dir;
}

describe("cells run against the attacks", () => {
  const byAttack = (attack: Attack) => hostileTarget(server, { id: `hostile-${attack}`, actor: attack });

  it("every client-stopped attack: errored, blamed on the target, naming it, the URL and the limit", async () => {
    const targets = CLIENT_CASES.map((c) => byAttack(c.attack));
    const results = await run([fetchAndParse], targets);
    expect(results).toHaveLength(CLIENT_CASES.length);
    for (const c of CLIENT_CASES) {
      const cell = results.find((r) => r.receiver === `hostile-${c.attack}`);
      expect(cell, c.attack).toMatchObject({ verdict: "errored", blame: "target" });
      expect(cell?.message).toMatch(new RegExp(`^target hostile-${c.attack} broke .* \\(${c.code}\\): `));
      expect(cell?.message).toMatch(c.limit(RUN_TIMEOUT_MS));
    }
    await writeAndCheck("client-attacks", results, targets);
  });

  it("offsite-links: following the actor's links is refused, errored on the target, nothing connects", async () => {
    const targets = [byAttack("offsite-links")];
    const [cell] = await run([fetchAndParse], targets);
    expect(cell).toMatchObject({ verdict: "errored", blame: "target" });
    expect(cell?.message).toMatch(
      /^target hostile-offsite-links broke the run's allow-list \(forbidden-host\)/,
    );
    expect(offRun.connections()).toBe(0);
  });

  it("the discovery suite against the attacks: no crash, target faults errored on the target, wrong answers failed", async () => {
    const targets = [
      byAttack("endless"),
      byAttack("slow-body"),
      byAttack("offsite-links"),
      hostileTarget(server, { id: "hostile-json-bomb", actor: "json-bomb-object" }),
      byAttack("wrong-content-type"),
      byAttack("invalid-utf8"),
      hostileTarget(server, { id: "hostile-webfinger-offsite", actor: "honest", username: "offsite-self" }),
    ];
    const results = await run(discovery, targets);
    const of = (target: string, checkId: string) =>
      results.find((r) => r.receiver === target && r.checkId === checkId);
    // Streams and slow bodies stop the actor fetch: errored, on the target.
    for (const target of ["hostile-endless", "hostile-slow-body"]) {
      expect(of(target, "DSC-ACT-01"), target).toMatchObject({ verdict: "errored", blame: "target" });
      expect(of(target, "DSC-ACT-01")?.message).toContain(`target ${target} broke`);
    }
    // Collections off the run: refused when followed (DSC-ACT-03), after the checks already decided.
    expect(of("hostile-offsite-links", "DSC-ACT-02")?.verdict).toBe("passed");
    expect(of("hostile-offsite-links", "DSC-ACT-03")).toMatchObject({ verdict: "errored", blame: "target" });
    expect(of("hostile-offsite-links", "DSC-ACT-03")?.message).toMatch(
      /forbidden-host.*no connection was made/,
    );
    // A bomb inside the actor is reported, and the evidence keeps it only to a safe depth.
    const bomb = of("hostile-json-bomb", "DSC-ACT-02");
    expect(bomb?.verdict).not.toBe("errored");
    const serialised = JSON.stringify(results.filter((r) => r.receiver === "hostile-json-bomb"));
    expect(serialised).toContain("DOC-TOO-DEEP");
    expect(serialised).toContain("nested deeper than");
    // Served as text/html: a failed check, the target's answer being wrong rather than hostile.
    expect(of("hostile-wrong-content-type", "DSC-ACT-01")?.verdict).toBe("failed");
    // Invalid UTF-8 read leniently: decided, not crashed.
    expect(of("hostile-invalid-utf8", "DSC-ACT-01")?.verdict).toMatch(/passed|failed/);
    // A JRD whose self link points off the run: DSC-WF-05 fails; nobody follows it off the run.
    expect(of("hostile-webfinger-offsite", "DSC-WF-05")?.verdict).toBe("failed");
    // Only target-fault errors here: nothing is blamed on the harness.
    expect(results.filter((r) => r.verdict === "errored" && r.blame !== "target")).toEqual([]);
    expect(results.filter((r) => r.verdict !== "errored" && r.blame !== undefined)).toEqual([]);
    expect(offRun.connections()).toBe(0);
    await writeAndCheck("discovery-attacks", results, targets);
  });

  it("a cell out of time is blamed on the target it waited on, else on the infrastructure; bugs on the harness", async () => {
    const target = byAttack("slow-headers");
    const results = await run([outOfTime, stuck, buggy], [target]);
    const of = (id: string) => results.find((r) => r.scenarioId === id);
    expect(of("hostile.out-of-time")).toMatchObject({ verdict: "errored", blame: "target" });
    expect(of("hostile.out-of-time")?.message).toBe(
      `the cell exceeded its budget of 300 ms while waiting on target hostile-slow-headers: GET ${server.url("slow-headers")}`,
    );
    expect(of("hostile.stuck")).toMatchObject({ verdict: "errored", blame: "infrastructure" });
    expect(of("hostile.buggy")).toMatchObject({ verdict: "errored", blame: "harness" });
    expect(of("hostile.buggy")?.message).toMatch(/^harness or infrastructure error: /);
  });
});

describe("nothing left the run", () => {
  it("no connection reached the off-run listeners, which do count connections when contacted", async () => {
    expect(offRun.connections()).toBe(0);
    expect(sameHostOtherPort.connections()).toBe(0);
    // Control: the listener counts a connection that does happen (so the zeros above mean something).
    const { connect } = await import("node:net");
    await new Promise<void>((resolve) => {
      const socket = connect(Number(new URL(offRun.origin).port), "127.0.0.9");
      socket.on("close", () => resolve());
      socket.on("error", () => resolve());
    });
    expect(offRun.connections()).toBe(1);
  });
});
