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
  fetchEvidence,
  followingPair,
  heldBy,
  inboxOf,
  jsonBody,
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

/**
 * A scenario in which the probe delivers one Create signed in an unusual but valid way (no double
 * knock); the check passes when the receiver holds the note.
 */
function acceptanceScenario(
  id: string,
  checkId: string,
  title: string,
  requires: Scenario["requires"],
  signing: { label: string; misbehaviour: Misbehaviour },
): Scenario {
  return {
    id: `signatures.${id}`,
    suite: "signatures",
    title,
    shape: "pair",
    probeSenderOnly: true,
    checks: [checkId],
    ...(requires ? { requires } : {}),
    async run(ctx) {
      // 1. Roles: the receiver follows a probe actor A (sender).
      const sender = await party(ctx, ctx.sender, "author");
      const receiver = await party(ctx, ctx.receiver, "reader");
      await establishFollow(ctx, receiver, sender);
      const actor = probeActorOf(ctx, sender);
      // 2. The probe delivers a Create signed that way only.
      const note = craftNote(ctx, actor, { content: `<p>${signing.label} ${token("signed")}</p>` });
      ctx.probe.host({ "@context": AS_CONTEXT, ...note });
      const create = craftActivity(ctx, actor, "Create", note);
      const inbox = await inboxOf(ctx, receiver.account.actorId);
      const result = await ctx.probe.deliver(actor, inbox, create, signing.misbehaviour);
      ctx.evidence(checkId, deliveryEvidence(`Create ${signing.label}`, result));
      // 3. The check: the receiver holds it.
      const view = await waitHeld(ctx, receiver, String(note.id), {
        check: checkId,
        what: `the note ${signing.label}`,
      });
      ctx.view(checkId, "note on the receiver", view);
      ctx.assert(checkId, true, `accepted (HTTP ${result.status})`, {
        expected: "the note held",
        observed: `held; ${show(result.status)}`,
      });
    },
  };
}

const rfc9421 = acceptanceScenario(
  "rfc9421",
  "SIG-06",
  "A POST signed with RFC 9421 is accepted",
  { receiver: ["follow", "signature-rfc9421"] },
  { label: "signed with RFC 9421", misbehaviour: { scheme: "rfc9421" } },
);

const hs2019 = acceptanceScenario(
  "hs2019",
  "SIG-07",
  "A cavage signature whose algorithm is hs2019 is accepted",
  { receiver: ["follow", "signature-cavage"] },
  {
    label: 'signed with draft-cavage, algorithm="hs2019"',
    misbehaviour: { scheme: "draft-cavage-12", cavageAlgorithm: "hs2019" },
  },
);

const keyRotation: Scenario = {
  id: "signatures.key-rotation",
  suite: "signatures",
  title: "After a key rotation the new key is fetched and verified",
  shape: "pair",
  probeSenderOnly: true,
  checks: ["SIG-08"],
  requires: { receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the receiver follows a probe actor A. A's Accept, signed with its first key, has
    //    been verified, so the receiver knows (and may cache) that key.
    const sender = await party(ctx, ctx.sender, "author");
    const receiver = await party(ctx, ctx.receiver, "reader");
    await establishFollow(ctx, receiver, sender);
    const actor = probeActorOf(ctx, sender);
    const inbox = await inboxOf(ctx, receiver.account.actorId);
    const steps: string[] = [];
    // 2. Twice: A rotates its key (first under the same key id, which only a refetch can learn,
    //    then under a new one) and announces it with Update(A) signed with the new key; then A
    //    delivers a Create signed with the new key, which the receiver must hold.
    for (const [label, sameKeyId] of [
      ["same key id", true],
      ["new key id", false],
    ] as const) {
      const rotation = await ctx.probe.rotateKey(actor, { sameKeyId });
      ctx.evidence("SIG-08", {
        kind: "note",
        label: `key rotated (${label}): ${rotation.keyId}`,
        text:
          rotation.failures.length === 0
            ? "Update of the actor accepted by its followers"
            : `Update of the actor not accepted: ${rotation.failures.join("; ")}`,
      });
      const note = craftNote(ctx, actor, { content: `<p>after rotation (${label}) ${token("rot")}</p>` });
      ctx.probe.host({ "@context": AS_CONTEXT, ...note });
      const result = await ctx.probe.deliver(actor, inbox, craftActivity(ctx, actor, "Create", note));
      ctx.evidence("SIG-08", deliveryEvidence(`Create signed with the rotated key (${label})`, result));
      await waitHeld(ctx, receiver, String(note.id), {
        check: "SIG-08",
        what: `the note signed with the rotated key (${label})`,
      });
      steps.push(
        `${label}: Create held (HTTP ${result.status})${rotation.failures.length > 0 ? ", Update refused" : ""}`,
      );
    }
    // 3. SIG-08: both notes arrived.
    ctx.assert("SIG-08", true, "the rotated keys were verified", {
      expected: "the notes signed with each rotated key held",
      observed: steps.join("; "),
    });
  },
};

/** True for the answers that refuse an unsigned GET. */
function refused(status: number): boolean {
  return status === 401 || status === 403;
}

const authorizedFetch: Scenario = {
  id: "signatures.authorized-fetch",
  suite: "signatures",
  title: "An authorized-fetch target refuses unsigned GETs and serves signed ones",
  shape: "single",
  checks: ["SIG-09"],
  requires: { receiver: ["post"] },
  async run(ctx) {
    // Only targets that claim authorized fetch must refuse unsigned GETs.
    if (!ctx.receiver.capabilities.includes("authorized-fetch")) {
      ctx.record("SIG-09", "inapplicable", `${ctx.receiver.id} does not declare authorized fetch`);
      return;
    }
    // 1. Roles: a fresh account on the target posts a public note; a probe actor fetches.
    const author = await party(ctx, ctx.receiver, "author");
    const ref = await author.target.driver.post(author.account, {
      content: `fetch me signed ${token("af")}`,
      visibility: "public",
    });
    const client = await ctx.probe.createActor(`client-${token("c").slice(-8)}`);
    const problems: string[] = [];
    const observed: string[] = [];
    for (const [what, url] of [
      ["actor", author.account.actorId],
      ["note", ref.uri],
    ] as const) {
      // 2. Unsigned GET: refused with 401 or 403.
      const unsigned = await ctx.probe.fetch(url);
      ctx.evidence("SIG-09", fetchEvidence(`unsigned GET of the ${what}`, url, {}, unsigned));
      if (!refused(unsigned.status))
        problems.push(`the ${what} was served unsigned (HTTP ${unsigned.status})`);
      // 3. Signed GET: served, the document at its id.
      const signed = await ctx.probe.fetch(url, { signedAs: client });
      ctx.evidence("SIG-09", fetchEvidence(`GET of the ${what} signed by ${client.id}`, url, {}, signed));
      const id = jsonBody(signed)?.id;
      if (signed.status !== 200 || id !== url)
        problems.push(
          `the signed GET of the ${what} answered ${signed.status}${id === undefined ? "" : ` with id ${show(id)}`}`,
        );
      observed.push(`${what}: unsigned ${unsigned.status}, signed ${signed.status}`);
    }
    // 4. SIG-09: both refused unsigned, both served signed.
    ctx.assert(
      "SIG-09",
      problems.length === 0,
      problems.length === 0 ? "unsigned GETs refused, signed GETs served" : problems.join("; "),
      {
        expected:
          "unsigned GETs of the actor and a note answered 401/403; signed GETs answered 200 with the document",
        observed: observed.join("; "),
      },
    );
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
  hs2019,
  keyRotation,
  authorizedFetch,
];
