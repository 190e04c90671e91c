/**
 * Issue 7: no secret reaches what a run writes. A real probe, the real discovery suite and scenarios
 * that put tokens, passwords, cookies and private keys into every place a cell can carry them
 * (HTTP evidence, logs, views, payloads, messages, expected/observed, the reproduce command) run
 * through the runner; the results are written incrementally and rendered to every report; then every
 * output file is scanned for every secret and for `PRIVATE KEY`.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckDefinition, Target } from "../../harness/core/model.ts";
import { planCells } from "../../harness/core/plan.ts";
import { forgetSecrets, redactText, registeredSecrets, registerSecret } from "../../harness/core/redact.ts";
import { runCells } from "../../harness/core/runner.ts";
import type { Scenario } from "../../harness/core/scenario.ts";
import { createProbeDriver, PROBE_CAPABILITIES } from "../../harness/drivers/probe.ts";
import { startProbe } from "../../harness/peer/probe.ts";
import type { Probe } from "../../harness/peer/types.ts";
import { createHttpClient } from "../../harness/protocol/http-client.ts";
import type { HttpClient } from "../../harness/protocol/types.ts";
import { writeReports } from "../../harness/report/index.ts";
import { validateResults } from "../../harness/report/results-schema.ts";
import { createResultsWriter } from "../../harness/report/writer.ts";
import { validate } from "../../harness/validate/index.ts";
import { CHECKS } from "../../suites/catalogue.ts";
import { scenarios as discovery } from "../../suites/discovery.ts";
import { deliveryEvidence } from "../../suites/steps.ts";

// Plain alphanumerics, so no renderer's escaping can hide a leak from the scan.
const hex = (n: number) => randomBytes(n).toString("hex");
const CONTROL_TOKEN = `ctl${hex(16)}`;
const API_TOKEN = `api${hex(20)}`;
const PASSWORD = `pw${hex(8)}`;
const COOKIE = `sess${hex(12)}`;
const PRIVATE_KEY_PEM = generateKeyPairSync("rsa", { modulusLength: 1024 })
  .privateKey.export({ type: "pkcs8", format: "pem" })
  .toString();
// Never registered: must be caught by shape alone.
const UNREGISTERED_PEM = generateKeyPairSync("ed25519")
  .privateKey.export({ type: "pkcs8", format: "pem" })
  .toString();
const JWT = `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ${hex(8)}In0.${hex(16)}`;
const BASIC = Buffer.from(`alice:${PASSWORD}`).toString("base64");

/** Every string that must not appear in any output file. */
function forbidden(): string[] {
  const pemLines = [PRIVATE_KEY_PEM, UNREGISTERED_PEM].flatMap((pem) =>
    pem.split("\n").filter((line) => line.length >= 16 && !line.startsWith("-----")),
  );
  return [
    CONTROL_TOKEN,
    API_TOKEN,
    PASSWORD,
    COOKIE,
    JWT,
    BASIC,
    "PRIVATE KEY",
    ...pemLines,
    ...registeredSecrets(),
  ];
}

const LEAK_CHECKS: CheckDefinition[] = ["LEAK-01", "LEAK-02", "LEAK-03"].map((id) => ({
  id,
  suite: "leak",
  title: `leak ${id}`,
  requirement: "secrets stay out of reports",
  source: "issue 7",
  level: "MUST",
  impact: "PROBLEM",
}));

/** Puts secrets everywhere a cell can carry them, then fails so target logs are attached too. */
const leaky: Scenario = {
  id: "leak.everywhere",
  suite: "leak",
  title: "secrets in every kind of evidence",
  shape: "single",
  checks: ["LEAK-01", "LEAK-02", "LEAK-03"],
  async run(ctx) {
    // 1. A real signed delivery from the probe to itself: its Signature must survive as evidence.
    const account = await ctx.account(ctx.receiver, "leaker");
    const actor = ctx.probeActor(account);
    const note = {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: ctx.probe.newId(),
      type: "Note",
      actor: actor.id,
    };
    const delivery = await ctx.probe.deliver(actor, actor.inbox, {
      ...note,
      type: "Create",
      object: ctx.probe.newId(),
    });
    ctx.evidence("LEAK-01", deliveryEvidence("signed delivery", delivery));
    // 2. An API call with every kind of credential, in headers, URL and bodies.
    ctx.evidence("LEAK-01", {
      kind: "http",
      label: `POST with token ${API_TOKEN}`,
      request: {
        method: "POST",
        url: `${ctx.receiver.origin}/api/v1/statuses?access_token=${API_TOKEN}`,
        headers: {
          authorization: `Bearer ${API_TOKEN}`,
          cookie: `session=${COOKIE}`,
          "x-control-token": CONTROL_TOKEN,
          "x-api-key": API_TOKEN,
        },
        body: JSON.stringify({ i: API_TOKEN, password: PASSWORD, status: "hello" }),
      },
      response: {
        status: 200,
        headers: { "set-cookie": `session=${COOKIE}; HttpOnly` },
        body: JSON.stringify({ access_token: API_TOKEN, id_token: JWT, basic: `Basic ${BASIC}` }),
      },
      at: new Date().toISOString(),
    });
    // 3. A view and a payload that carry a private key and the control token.
    ctx.view("LEAK-02", "driver view", { raw: { token: CONTROL_TOKEN, privateKeyPem: PRIVATE_KEY_PEM } });
    await ctx.validate("LEAK-02", "document", { ...note, content: `key follows ${UNREGISTERED_PEM}` });
    ctx.evidence(undefined, {
      kind: "note",
      label: "note",
      text: `logged in as alice/${PASSWORD} with ${JWT}`,
    });
    // 4. A verdict whose texts hold secrets, then a failure so the target's log is attached.
    ctx.assert("LEAK-02", false, `compared with ${CONTROL_TOKEN}`, {
      expected: `password ${PASSWORD}`,
      observed: `Authorization: Bearer ${API_TOKEN}`,
    });
    // 5. A driver error quoting its credentials stops the cell: LEAK-01 and LEAK-03 end errored.
    throw new Error(
      `driver call failed: POST /api/v1/statuses (Authorization: Bearer ${API_TOKEN}, token=${CONTROL_TOKEN})`,
    );
  },
};

let probe: Probe;
let http: HttpClient;
let workDir: string;

beforeAll(async () => {
  forgetSecrets();
  // What drivers and runtimes do with the secrets they hold.
  for (const secret of [CONTROL_TOKEN, API_TOKEN, PASSWORD, COOKIE, PRIVATE_KEY_PEM]) registerSecret(secret);
  probe = await startProbe();
  http = createHttpClient({ timeoutMs: 5_000 });
  workDir = await mkdtemp(join(tmpdir(), "fedicheck-secrets-"));
});

afterAll(async () => {
  forgetSecrets();
  await http?.close();
  await probe?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("secrets in a run's output", () => {
  it("appear in no output file, while the evidence (signatures included) is kept", async () => {
    const target: Target = {
      id: "probe",
      implementation: "probe",
      version: "0",
      origin: probe.origin,
      runtime: "process",
      capabilities: [...PROBE_CAPABILITIES],
      driver: createProbeDriver(probe),
      logs: () => `booting with token ${CONTROL_TOKEN}\nloaded key\n${PRIVATE_KEY_PEM}\nlistening`,
    };
    const checks = [...CHECKS, ...LEAK_CHECKS];
    const cells = planCells({ scenarios: [...discovery, leaky], targets: [target] });
    const command = `npx fedicheck run --target probe:token=${CONTROL_TOKEN}`;
    const runDir = join(workDir, "run");
    const writer = createResultsWriter(runDir, {
      schemaVersion: 1,
      runId: "secrets",
      tool: { name: "fedicheck", version: "test" },
      startedAt: new Date().toISOString(),
      // The run's header is written by the session: it must redact the command line the same way.
      command: redactText(command),
      targets: [{ ...target, driver: undefined, logs: undefined }].map(
        ({ driver: _d, logs: _l, ...info }) => info,
      ),
      checks,
    });
    const outcome = await runCells({
      cells,
      checks,
      probe,
      http,
      validate: (document, context) => validate(document, context),
      reproduceCommand: command,
      onCellResults: (results) => writer.add(results),
      waitBudgetMs: 2_000,
    });
    const results = await writer.finish("completed");
    await writeReports(runDir, results, { json: false });

    // The run did what it should, so the scan below is over real content.
    expect(validateResults(results).errors).toEqual([]);
    const leak = outcome.results.filter((r) => r.scenarioId === "leak.everywhere");
    expect(leak.map((r) => r.verdict)).toEqual(["errored", "failed", "errored"]);
    expect(outcome.results.some((r) => r.scenarioId.startsWith("discovery.") && r.verdict === "passed")).toBe(
      true,
    );

    const files = await readdir(runDir);
    expect(files).toEqual(
      expect.arrayContaining(["results.json", "cells.jsonl", "junit.xml", "summary.md", "index.html"]),
    );
    const secrets = forbidden();
    expect(secrets.length).toBeGreaterThan(10);
    for (const file of files) {
      const text = await readFile(join(runDir, file), "utf8");
      expect(text.length, file).toBeGreaterThan(0);
      for (const secret of secrets) {
        expect(text.includes(secret), `${file} contains ${secret.slice(0, 12)}…`).toBe(false);
      }
    }

    // Redacted, not dropped: the placeholders and the evidence around them are there.
    const stored = await readFile(join(runDir, "results.json"), "utf8");
    expect(stored).toContain("[redacted]");
    expect(stored).toContain("[redacted: private key]");
    expect(stored).toContain("driver call failed: POST /api/v1/statuses (Authorization: Bearer [redacted]");
    const signature = (
      leak[0]?.evidence.find((e) => e.label === "signed delivery") as {
        request?: { headers: Record<string, string> };
      }
    )?.request?.headers.signature;
    expect(signature).toMatch(/keyId="[^"]+",.*signature="[A-Za-z0-9+/=]{40,}"/);
    expect(stored).toContain(JSON.stringify(signature).slice(1, -1));
  });
});
