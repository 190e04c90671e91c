/**
 * Signatures: how a target signs what it sends (seen by the probe), and what it does with deliveries
 * the probe forges — unsigned, badly signed, signed by someone else, signed with a key the actor does
 * not list, out of date — and with RFC 9421 signatures. A 2xx proves nothing (some servers answer 202
 * before verifying), so every forgery is judged on the receiver's state, behind a sentinel.
 * @module
 */
import type { Scenario, ScenarioContext } from "../harness/core/scenario.ts";
import type { InboxEntry, Misbehaviour, ProbeActor } from "../harness/peer/types.ts";
import {
  AS_CONTEXT,
  activitiesFrom,
  craftActivity,
  craftNote,
  deliveryEvidence,
  establishFollow,
  followingPair,
  heldBy,
  inboxOf,
  party,
  probeActorOf,
  probeReceived,
  probeSentinel,
  show,
  token,
  typeOf,
  waitHeld,
} from "./steps.ts";

/** The parameters of a draft-cavage `Signature` header. */
function cavageParams(header: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const m of header.matchAll(/([A-Za-z]+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  return params;
}

/** What is wrong with how one delivery was signed (empty when nothing). */
export function signatureProblems(entry: InboxEntry): string[] {
  const h = entry.headers;
  const problems: string[] = [];
  if (h["signature-input"] !== undefined) {
    const input = h["signature-input"];
    for (const component of ['"@method"', '"@target-uri"']) {
      if (!input.includes(component)) problems.push(`RFC 9421 signature does not cover ${component}`);
    }
    if (entry.body !== "" && !input.includes('"content-digest"'))
      problems.push("RFC 9421 signature does not cover content-digest");
    if (!/;\s*created=\d+/.test(input)) problems.push("RFC 9421 signature has no created parameter");
    if (entry.body !== "" && h["content-digest"] === undefined) problems.push("no Content-Digest header");
  } else {
    const header = h.signature ?? (h.authorization?.replace(/^Signature\s+/i, "") || undefined);
    if (header === undefined) return ["not signed"];
    const params = cavageParams(header);
    const covered = (params.headers ?? "date").toLowerCase().split(/\s+/);
    for (const name of ["(request-target)", "host", "date", "digest"]) {
      if (!covered.includes(name)) problems.push(`cavage signature does not cover ${name}`);
    }
    const algorithm = (params.algorithm ?? "hs2019").toLowerCase();
    if (!["rsa-sha256", "hs2019"].includes(algorithm)) problems.push(`algorithm ${algorithm}`);
    const digest = h.digest;
    if (digest === undefined) problems.push("no Digest header");
    else if (!/^SHA-256=/.test(digest))
      problems.push(`Digest prefix is not upper-case SHA-256= (got '${digest.split("=")[0]}=')`);
  }
  if (!entry.signature.ok) problems.push(`did not verify: ${entry.signature.reason ?? "unknown reason"}`);
  return problems;
}

const outbound: Scenario = {
  id: "signatures.outbound",
  suite: "signatures",
  title: "What a target sends is signed in a form peers verify",
  shape: "pair",
  probeReceiverOnly: true,
  checks: ["SIG-01"],
  requires: { sender: ["post"] },
  async run(ctx) {
    // 1. Roles: a probe actor (receiver) follows the target (sender); the target's Accept is signed too.
    const { sender } = await followingPair(ctx);
    // 2. The sender posts; wait for its Create at the probe.
    const ref = await sender.target.driver.post(sender.account, {
      content: `signed ${token("sig")}`,
      visibility: "public",
    });
    await probeReceived(
      ctx,
      `the Create of ${ref.uri}`,
      (e) =>
        e.status < 300 &&
        typeOf(e.activity) === "Create" &&
        JSON.stringify(e.activity?.object ?? "").includes(ref.uri),
      { check: "SIG-01" },
    );
    // 3. SIG-01: every POST from the sender's actor in this cell (every knock) was well signed.
    const entries = activitiesFrom(ctx, sender.account.actorId);
    const report: string[] = [];
    let ok = true;
    for (const entry of entries) {
      const problems = signatureProblems(entry);
      if (problems.length > 0) ok = false;
      report.push(
        `${typeOf(entry.activity)} (${entry.signature.scheme ?? "unsigned"}, ${entry.status}): ${problems.join("; ") || "ok"}`,
      );
      ctx.evidence("SIG-01", {
        kind: "http",
        label: `${typeOf(entry.activity)} received from the target`,
        request: {
          method: entry.method,
          url: entry.path,
          headers: entry.headers,
          body: entry.body.slice(0, 4000),
        },
        response: { status: entry.status, headers: {} },
        signature: {
          ok: entry.signature.ok,
          ...(entry.signature.scheme ? { scheme: entry.signature.scheme } : {}),
          ...(entry.signature.keyId ? { keyId: entry.signature.keyId } : {}),
          ...(entry.signature.reason ? { reason: entry.signature.reason } : {}),
        },
        at: entry.at,
      });
    }
    ctx.assert(
      "SIG-01",
      ok,
      ok
        ? `${entries.length} deliveries, all well signed`
        : report.filter((r) => !r.endsWith(": ok")).join(" | "),
      {
        expected:
          "cavage covering (request-target) host date digest with Digest: SHA-256=…, or RFC 9421 covering @method @target-uri content-digest with created; verifying",
        observed: report.join(" | "),
      },
    );
  },
};

/** One forged delivery of a scenario. */
interface Forgery {
  label: string;
  misbehaviour(ctx: ScenarioContext, actor: ProbeActor): Promise<Misbehaviour>;
}

/**
 * A scenario in which the probe delivers Creates forged in each given way, then a properly signed
 * sentinel; the check passes when none of the forged notes is held.
 */
function forgeryScenario(id: string, checkId: string, title: string, forgeries: Forgery[]): Scenario {
  return {
    id: `signatures.${id}`,
    suite: "signatures",
    title,
    shape: "pair",
    probeSenderOnly: true,
    checks: [checkId],
    requires: { receiver: ["follow"] },
    async run(ctx) {
      // 1. Roles: the receiver follows a probe actor A (sender).
      const sender = await party(ctx, ctx.sender, "author");
      const receiver = await party(ctx, ctx.receiver, "reader");
      await establishFollow(ctx, receiver, sender);
      const actor = probeActorOf(ctx, sender);
      const inbox = await inboxOf(ctx, receiver.account.actorId);
      // 2. The probe delivers one Create as A per forgery (the notes are hosted nowhere).
      const sent: Array<{ label: string; id: string; status: number }> = [];
      for (const forgery of forgeries) {
        const note = craftNote(ctx, actor, { content: `<p>forged: ${forgery.label} ${token("forged")}</p>` });
        const create = craftActivity(ctx, actor, "Create", note);
        const result = await ctx.probe.deliver(actor, inbox, create, await forgery.misbehaviour(ctx, actor));
        ctx.evidence(checkId, deliveryEvidence(`Create, ${forgery.label}`, result));
        sent.push({ label: forgery.label, id: String(note.id), status: result.status });
      }
      // 3. Sentinel: a properly signed post from A arrives after them.
      await probeSentinel(ctx, actor, receiver);
      // 4. The check: none of the forged notes is held.
      const accepted: string[] = [];
      for (const s of sent) {
        const copy = await heldBy(receiver, s.id);
        if (copy) {
          accepted.push(s.label);
          ctx.view(checkId, `note forged (${s.label}) but held`, copy);
        }
      }
      const statuses = sent.map((s) => `${s.label}: HTTP ${s.status}`).join("; ");
      ctx.assert(
        checkId,
        accepted.length === 0,
        accepted.length === 0
          ? "every forged delivery was rejected"
          : `accepted despite the forgery: ${accepted.join(", ")}`,
        {
          expected: "no forged note held (ideally answered 401)",
          observed: `${accepted.length === 0 ? "none held" : `held: ${accepted.join(", ")}`}; ${statuses}`,
        },
      );
    },
  };
}

const unsigned = forgeryScenario("unsigned", "SIG-02", "An unsigned POST is rejected", [
  { label: "no signature", misbehaviour: async () => ({ unsigned: true }) },
]);

const badSignature = forgeryScenario(
  "bad-signature",
  "SIG-03",
  "A bad signature or a digest mismatch is rejected",
  [
    { label: "signed with an unpublished key", misbehaviour: async () => ({ wrongKey: true }) },
    { label: "body changed after signing", misbehaviour: async () => ({ digestMismatch: true }) },
  ],
);

const otherSigner = forgeryScenario(
  "other-signer",
  "SIG-04",
  "An activity signed by someone other than its actor is rejected",
  [
    {
      label: "signed by another actor",
      misbehaviour: async (ctx) => ({
        signAs: await ctx.probe.createActor(`signer-${token("s").slice(-8)}`),
      }),
    },
  ],
);

const unlistedKey = forgeryScenario(
  "unlisted-key",
  "SIG-04b",
  "A key that claims the actor but that the actor does not list is rejected",
  [
    {
      label: "key document claiming the actor, not listed by it",
      misbehaviour: async (ctx, actor) => ({
        keyIdOverride: (await ctx.probe.hostKeyDocument(actor.id)).keyId,
      }),
    },
  ],
);

const staleDate = forgeryScenario(
  "date-window",
  "SIG-05",
  "A signature dated far in the past or future is rejected",
  [
    { label: "Date 24 h in the past", misbehaviour: async () => ({ dateOffsetSeconds: -24 * 3600 }) },
    { label: "Date 12 h in the future", misbehaviour: async () => ({ dateOffsetSeconds: 12 * 3600 }) },
  ],
);

const rfc9421: Scenario = {
  id: "signatures.rfc9421",
  suite: "signatures",
  title: "A POST signed with RFC 9421 is accepted",
  shape: "pair",
  probeSenderOnly: true,
  checks: ["SIG-06"],
  requires: { receiver: ["follow", "signature-rfc9421"] },
  async run(ctx) {
    // 1. Roles: the receiver follows a probe actor A (sender).
    const sender = await party(ctx, ctx.sender, "author");
    const receiver = await party(ctx, ctx.receiver, "reader");
    await establishFollow(ctx, receiver, sender);
    const actor = probeActorOf(ctx, sender);
    // 2. The probe delivers a Create signed only with RFC 9421 (no double knock).
    const note = craftNote(ctx, actor, { content: `<p>RFC 9421 ${token("rfc")}</p>` });
    ctx.probe.host({ "@context": AS_CONTEXT, ...note });
    const create = craftActivity(ctx, actor, "Create", note);
    const result = await ctx.probe.deliver(actor, await inboxOf(ctx, receiver.account.actorId), create, {
      scheme: "rfc9421",
    });
    ctx.evidence("SIG-06", deliveryEvidence("Create signed with RFC 9421", result));
    // 3. SIG-06: the receiver holds it.
    const view = await waitHeld(ctx, receiver, String(note.id), {
      check: "SIG-06",
      what: "the RFC 9421-signed note",
    });
    ctx.view("SIG-06", "note on the receiver", view);
    ctx.assert("SIG-06", true, `accepted (HTTP ${result.status})`, {
      expected: "the note held",
      observed: `held; ${show(result.status)}`,
    });
  },
};

/** The signatures suite. */
export const scenarios: Scenario[] = [
  outbound,
  unsigned,
  badSignature,
  otherSigner,
  unlistedKey,
  staleDate,
  rfc9421,
];
