/**
 * Realistic, deterministic {@link RunResults} for the report tests, the dashboard's browser test and
 * benchmarks: a catalogue drawn from the check list, a probe plus real implementations, every verdict,
 * flaky cells, matched expectations and evidence of every kind. Not used by runs.
 * @module
 */
import type {
  CellResult,
  CheckDefinition,
  Evidence,
  InteropImpact,
  RunResults,
  SpecLevel,
  TargetInfo,
  Verdict,
} from "../core/model.ts";

/** Options of {@link sampleResults}. */
export interface SampleOptions {
  /** Implementations besides the probe. Default `["fedify-ref", "mastodon"]` (3 targets with the probe). */
  implementations?: string[];
  /** How many checks of the catalogue to use (cycled with suffixes past its end). Default 40. */
  checks?: number;
  /** Seed of the pseudo-random verdicts; the same seed gives the same results. Default 1. */
  seed?: number;
  /** Share of decided cells that fail. Default 0.12. */
  failureRate?: number;
  /** Put hostile strings (`<script>`, `</script>`, `|`, control characters) into messages and bodies. Default false. */
  hostile?: boolean;
  /** Run id. Default `sample-<seed>`. */
  runId?: string;
  /** Start of the run. Default `2025-01-15T10:00:00.000Z`. */
  startedAt?: string;
  /** Status of the run. Default `completed`. */
  status?: RunResults["status"];
}

/** A check of the sample catalogue: id, suite, title, level, impact and whether it is one-sided. */
type SampleCheck = [string, string, string, SpecLevel, InteropImpact, "single" | "pair" | "probe-sender"];

const CATALOGUE: SampleCheck[] = [
  ["DSC-WF-01", "discovery", "JRD served for acct:", "MUST", "PROBLEM", "single"],
  ["DSC-WF-02", "discovery", "400 without resource", "SHOULD", "UNAFFECTED", "single"],
  ["DSC-WF-03", "discovery", "404 for an unknown account", "SHOULD", "DEGRADED", "single"],
  ["DSC-WF-04", "discovery", "CORS header on WebFinger", "SHOULD", "DEGRADED", "single"],
  ["DSC-WF-05", "discovery", "Exactly one AS2 self link", "MUST", "PROBLEM", "single"],
  ["DSC-NI-01", "discovery", "NodeInfo well-known chain", "SHOULD", "DEGRADED", "single"],
  ["DSC-NI-02", "discovery", "Schema-valid NodeInfo", "MUST", "DEGRADED", "single"],
  ["DSC-ACT-01", "discovery", "Actor served for both AS2 media types", "MUST", "PROBLEM", "single"],
  ["DSC-ACT-02", "discovery", "inbox and outbox present and absolute", "MUST", "PROBLEM", "single"],
  ["DSC-ACT-04", "discovery", "publicKey with id, owner and PEM", "IMPLIED", "PROBLEM", "single"],
  ["FOL-01", "follow", "Follow is well-formed", "MUST", "PROBLEM", "pair"],
  ["FOL-02", "follow", "Follow auto-accepted within budget", "SHOULD", "PROBLEM", "pair"],
  ["FOL-03", "follow", "Embedded Accept completes the follow", "MUST", "PROBLEM", "pair"],
  ["FOL-04", "follow", "Id-only Accept completes the follow", "SHOULD", "DEGRADED", "pair"],
  ["FOL-05", "follow", "Accept id on the accepter's origin", "MUST", "DEGRADED", "pair"],
  ["FOL-08", "follow", "Reject leaves the follower out", "MUST", "PROBLEM", "pair"],
  ["FOL-09", "follow", "Undo(Follow) embedded and by id", "MUST", "PROBLEM", "pair"],
  ["FOL-11", "follow", "Duplicate Follow and Accept are idempotent", "SHOULD", "DEGRADED", "pair"],
  ["PST-01", "post", "Create is well-formed", "MUST", "PROBLEM", "pair"],
  ["PST-02", "post", "Visibility encodings", "MUST", "PROBLEM", "pair"],
  ["PST-03", "post", "Delivered once (shared inbox dedup)", "SHOULD", "DEGRADED", "pair"],
  ["PST-04", "post", "Direct message stays direct", "MUST", "PROBLEM", "pair"],
  ["PST-05", "post", "Mentions arrive as mentions", "SHOULD", "DEGRADED", "pair"],
  ["PST-06", "post", "Hashtags arrive as hashtags", "MAY", "UNAFFECTED", "pair"],
  ["PST-08", "post", "Content warning kept", "SHOULD", "DEGRADED", "pair"],
  ["PST-09", "post", "Update reflected on the receiver", "SHOULD", "DEGRADED", "pair"],
  ["MED-01", "media-fallback", "Image with alt text", "SHOULD", "DEGRADED", "pair"],
  ["MED-02", "media-fallback", "Alt text sent in summary", "MAY", "UNAFFECTED", "pair"],
  ["MED-04", "media-fallback", "Unknown mediaType kept as a link", "SHOULD", "PROBLEM", "pair"],
  ["MED-05", "media-fallback", "attachment.url as an array of Links", "IMPLIED", "PROBLEM", "pair"],
  ["MED-07", "media-fallback", "Article falls back to text and link", "SHOULD", "PROBLEM", "pair"],
  ["MED-09", "media-fallback", "Question falls back to text", "MAY", "DEGRADED", "pair"],
  ["DEL-01", "delete", "Delete removes the copy", "SHOULD", "PROBLEM", "pair"],
  ["DEL-02", "delete", "Origin answers 410 with a Tombstone", "SHOULD", "DEGRADED", "pair"],
  ["DEL-04", "delete", "Delete before Create suppresses it", "SHOULD", "PROBLEM", "pair"],
  ["DEL-05", "delete", "Wrong-origin Delete ignored", "MUST", "PROBLEM", "probe-sender"],
  ["SIG-02", "signatures", "Unsigned POST rejected", "MUST", "PROBLEM", "probe-sender"],
  ["SIG-03", "signatures", "Bad signature or digest rejected", "MUST", "PROBLEM", "probe-sender"],
  ["SIG-05", "signatures", "Stale or future Date rejected", "SHOULD", "PROBLEM", "probe-sender"],
  ["SIG-07", "signatures", "hs2019 accepted", "SHOULD", "DEGRADED", "probe-sender"],
  ["SIG-01", "signatures", "Outbound cavage form and upper-case digest", "MUST", "PROBLEM", "pair"],
  ["SIG-06", "signatures", "RFC 9421 accepted (or double-knock)", "SHOULD", "DEGRADED", "pair"],
];

const SOURCES: Record<string, string> = {
  discovery: "RFC 7033 §4; SocialCG report “ActivityPub and WebFinger”",
  follow: "ActivityPub §7.5, §7.6 — https://www.w3.org/TR/activitypub/#follow-activity-inbox",
  post: "ActivityPub §7.1.2 — https://www.w3.org/TR/activitypub/#create-activity-inbox",
  "media-fallback": "Mastodon ActivityPub docs — https://docs.joinmastodon.org/spec/activitypub/",
  delete: "ActivityPub §7.4 — https://www.w3.org/TR/activitypub/#delete-activity-inbox",
  signatures: "SocialCG report “ActivityPub and HTTP Signatures”",
};

const CAPABILITIES: TargetInfo["capabilities"] = [
  "follow",
  "post",
  "update",
  "delete",
  "mentions",
  "hashtags",
  "content-warning",
  "media-upload",
  "webfinger",
  "nodeinfo",
  "signature-cavage",
];

/** Small seeded PRNG (mulberry32): deterministic samples without a dependency. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function origin(id: string, index: number): string {
  return id === "probe" ? `http://127.0.0.1:${40100 + index}` : `https://${id}.test`;
}

function checkAt(i: number): SampleCheck {
  const base = CATALOGUE[i % CATALOGUE.length]!;
  const round = Math.floor(i / CATALOGUE.length);
  return round === 0
    ? base
    : ([
        `${base[0]}-${round + 1}`,
        base[1],
        `${base[2]} (variant ${round + 1})`,
        ...base.slice(3),
      ] as SampleCheck);
}

/** Generates a realistic run. The same options always give the same results. */
export function sampleResults(options: SampleOptions = {}): RunResults {
  const implementations = options.implementations ?? ["fedify-ref", "mastodon"];
  const seed = options.seed ?? 1;
  const failureRate = options.failureRate ?? 0.12;
  const hostile = options.hostile ?? false;
  const rand = random(seed);
  const base = Date.parse(options.startedAt ?? "2025-01-15T10:00:00.000Z");
  const ids = ["probe", ...implementations];
  const targets: TargetInfo[] = ids.map((id, i) => ({
    id,
    implementation: id === "probe" ? "probe" : id.replace(/-[a-z]$/, ""),
    version: id === "probe" ? "0.1.0" : `4.${i}.${seed % 10}`,
    origin: origin(id, i),
    runtime: id === "probe" ? "process" : "container",
    capabilities: id === "mastodon" ? CAPABILITIES : CAPABILITIES.filter((c) => c !== "media-upload"),
  }));

  const sampleChecks = Array.from({ length: options.checks ?? 40 }, (_, i) => checkAt(i));
  const checks: CheckDefinition[] = sampleChecks.map(([id, suite, title, level, impact]) => ({
    id,
    suite,
    title,
    requirement: `${level === "MUST" ? "Servers MUST" : level === "SHOULD" ? "Servers SHOULD" : "Servers MAY"} ensure: ${title.toLowerCase()}.`,
    source: SOURCES[suite] ?? "ActivityPub",
    level,
    impact,
  }));

  const cells: CellResult[] = [];
  let clock = base;
  for (const [id, suite, title, , , shape] of sampleChecks) {
    const pairs: Array<[string, string]> = [];
    if (shape === "single") {
      for (const t of ids) if (t !== "probe") pairs.push(["probe", t]);
    } else if (shape === "probe-sender") {
      for (const t of ids) if (t !== "probe") pairs.push(["probe", t]);
    } else {
      for (const s of ids) for (const r of ids) if (s !== r) pairs.push([s, r]);
    }
    for (const [sender, receiver] of pairs) {
      const roll = rand();
      let verdict: Verdict = "passed";
      if (suite === "media-fallback" && receiver !== "mastodon" && receiver !== "probe" && roll < 0.15) {
        verdict = "unsupported";
      } else if (roll < failureRate) verdict = "failed";
      else if (roll < failureRate + 0.02) verdict = "errored";
      else if (roll < failureRate + 0.05) verdict = "skipped";
      else if (roll < failureRate + 0.07) verdict = "inapplicable";
      const flaky = verdict === "passed" && rand() < 0.04;
      const known = verdict === "failed" && rand() < 0.3;
      const cell = makeCell({
        checkId: id,
        suite,
        title,
        sender,
        receiver,
        verdict,
        flaky,
        known,
        hostile,
        startedAt: new Date(clock).toISOString(),
        rand,
        origins: Object.fromEntries(targets.map((t) => [t.id, t.origin])),
      });
      clock += cell.durationMs + 5;
      cells.push(cell);
    }
  }
  const waitingMs = cells.reduce((sum, c) => sum + c.waitingMs, 0);
  const wallMs = clock - base;
  return {
    schemaVersion: 1,
    runId: options.runId ?? `sample-${seed}`,
    tool: { name: "fedicheck", version: "0.1.0" },
    startedAt: new Date(base).toISOString(),
    finishedAt: options.status === "running" ? undefined : new Date(clock).toISOString(),
    status: options.status ?? "completed",
    command: `fedicheck run --targets ${implementations.join(",")} --seed ${seed}`,
    targets,
    checks,
    cells,
    timing: { wallMs, waitingMs, workingMs: Math.max(0, wallMs - waitingMs) },
  };
}

interface CellSeed {
  checkId: string;
  suite: string;
  title: string;
  sender: string;
  receiver: string;
  verdict: Verdict;
  flaky: boolean;
  known: boolean;
  hostile: boolean;
  startedAt: string;
  rand: () => number;
  origins: Record<string, string>;
}

const HOSTILE = `<script>alert(1)</script> </script><img src=x onerror=alert(2)> a|b \u0001\u001b[31m`;

function makeCell(seed: CellSeed): CellResult {
  const { checkId, suite, sender, receiver, verdict, hostile, rand } = seed;
  const from = seed.origins[sender]!;
  const to = seed.origins[receiver]!;
  const durationMs = Math.round(80 + rand() * (verdict === "failed" ? 9000 : 1200));
  const waitingMs = Math.round(durationMs * (0.3 + rand() * 0.5));
  const noteId = `${from}/users/alice/statuses/${Math.floor(rand() * 1e9)}`;
  const document = {
    "@context": ["https://www.w3.org/ns/activitystreams", { sensitive: "as:sensitive" }],
    id: `${noteId}/activity`,
    type: "Create",
    actor: `${from}/users/alice`,
    published: seed.startedAt,
    to: ["https://www.w3.org/ns/activitystreams#Public"],
    cc: [`${from}/users/alice/followers`],
    object: {
      id: noteId,
      type: "Note",
      attributedTo: `${from}/users/alice`,
      content: hostile ? `<p>hello ${HOSTILE}</p>` : "<p>hello from the harness</p>",
      published: seed.startedAt,
      tag: [{ type: "Mention", href: `${to}/users/bob`, name: "@bob" }],
    },
  };
  const body = JSON.stringify(document, null, 2);
  const date = new Date(Date.parse(seed.startedAt)).toUTCString();
  const evidence: Evidence[] = [];
  if (verdict !== "unsupported" && verdict !== "inapplicable") {
    evidence.push({
      kind: "http",
      label: "delivery to inbox",
      request: {
        method: "POST",
        url: `${to}/users/bob/inbox`,
        headers: {
          host: new URL(to).host,
          date,
          digest: "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
          "content-type": "application/activity+json",
          signature: `keyId="${from}/users/alice#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="[redacted]"`,
        },
        body,
      },
      response: {
        status: verdict === "failed" ? 401 : 202,
        headers: { "content-type": "application/json" },
        body:
          verdict === "failed" ? JSON.stringify({ error: hostile ? HOSTILE : "Verification failed" }) : "",
      },
      signature: { ok: true, scheme: "draft-cavage-12", keyId: `${from}/users/alice#main-key` },
      at: seed.startedAt,
      durationMs: Math.round(5 + rand() * 60),
    });
    const findings =
      verdict === "failed"
        ? [
            {
              ruleId: "AS-03",
              severity: "error" as const,
              level: "MUST" as const,
              impact: "PROBLEM" as const,
              pointer: "/object/published",
              message: hostile
                ? `expected an RFC 3339 date, found ${HOSTILE}`
                : "expected an RFC 3339 date with upper-case T and Z, found '2025-01-15 10:00:00'",
              source: "AS2 Core §2.3",
            },
            {
              ruleId: "AS-07",
              severity: "warning" as const,
              level: "SHOULD" as const,
              impact: "DEGRADED" as const,
              pointer: "/object/url",
              message: "expected url on the actor's origin; it is missing",
              source: "ActivityPub §3.1",
            },
          ]
        : [];
    evidence.push({ kind: "payload", label: "Create(Note) as delivered", document, findings });
  }
  if (verdict === "failed" || verdict === "errored") {
    evidence.push({
      kind: "view",
      label: `${receiver}'s home timeline`,
      view: { statuses: [], polledTimes: 7, lastStatus: 200 },
    });
    evidence.push({
      kind: "log",
      label: `${receiver} container log`,
      text: [
        `${seed.startedAt} INFO  POST /users/bob/inbox 401`,
        `${seed.startedAt} WARN  Signature verification failed: ${hostile ? HOSTILE : "Date header too old"}`,
      ].join("\n"),
    });
  }
  if (verdict === "errored") {
    evidence.push({
      kind: "note",
      label: "harness",
      text: `${receiver} container exited with code 137 (OOM)`,
    });
  }
  if (verdict === "failed" && seed.rand() < 0.3) {
    evidence.push({
      kind: "screenshot",
      label: `${receiver} web UI`,
      path: `screenshots/${checkId}-${receiver}.png`,
    });
  }
  const messages: Record<Verdict, string> = {
    passed: `${seed.title}: as expected`,
    failed: hostile
      ? `the receiver answered ${HOSTILE}`
      : `${receiver} did not show the post within 10 000 ms (expected it on the home timeline)`,
    errored: `${receiver} stopped answering (container exited with code 137)`,
    unsupported: `${receiver} declares no 'media-upload' capability`,
    inapplicable: `${receiver} shows only media posts; a text post is out of scope`,
    skipped: "precondition not met: the follow did not complete",
  };
  const cell: CellResult = {
    checkId,
    scenarioId: `${suite}.${checkId.toLowerCase()}`,
    suite,
    sender,
    receiver,
    verdict,
    message: messages[verdict],
    evidence,
    startedAt: seed.startedAt,
    durationMs,
    waitingMs,
    attempts: seed.flaky ? 2 : 1,
    reproduce: `fedicheck run --check ${checkId} --sender ${sender} --receiver ${receiver}`,
  };
  if (verdict === "failed") {
    cell.expected = "the post on bob's home timeline within 10 000 ms";
    cell.observed = hostile ? `401 ${HOSTILE}` : "home timeline empty after 7 polls; inbox answered 401";
  }
  if (seed.flaky) cell.flaky = true;
  if (seed.known) {
    cell.expectation = {
      verdict: "failed",
      reason: `${receiver} rejects Date headers older than 30 s`,
      link: `https://example.invalid/${receiver}/issues/1234`,
    };
  }
  return cell;
}
