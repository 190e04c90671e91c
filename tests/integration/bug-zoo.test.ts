/**
 * The bug zoo: every defect of fixtures/fedify-ref/defects.ts, switched on in one fedify-ref process
 * (`zoo`) run against the probe, must make exactly its `catches` checks fail on cells involving the
 * broken server — each of them at least once, nothing else (beyond the reference's documented gaps),
 * with a message that names the symptom. Only the suites holding the defect's checks run.
 */
import { describe, expect, it } from "vitest";
import { DEFECTS, type DefectId } from "../../fixtures/fedify-ref/defects.ts";
import type { TargetSpec } from "../../harness/core/config.ts";
import { checkById } from "../../suites/catalogue.ts";
import { KNOWN_REFERENCE_GAPS } from "./known-gaps.ts";
import { describeCells, runSuites } from "./run-suites.ts";

const ZOO = "zoo";

/**
 * Defects whose checks need a conformant peer besides the probe, because the probe must be a third
 * origin: DEL-05 (the probe forges a Delete of a post the peer made) and SEC-02 (the probe boosts a
 * forged copy of a post the peer made).
 */
const NEEDS_PEER = new Set<DefectId>(["no-owner-check", "trust-inline-announce"]);

/** How the broken server runs besides its defect: SIG-09 only judges servers claiming authorized fetch. */
const ZOO_OPTIONS: Partial<Record<DefectId, Partial<TargetSpec>>> = {
  "no-authorized-fetch": { authorizedFetch: true },
};

/** What the failing cells' message or observed text must mention: the defect's symptom. */
const SYMPTOMS: Record<DefectId, RegExp> = {
  "no-accept": /established/i,
  "accept-without-follow": /established|does not name the Follow/i,
  "ignore-delete": /no longer holds/i,
  "ignore-update": /edited text/i,
  "ignore-undo-follow": /stops listing/i,
  "deliver-after-undo": /delivered after Undo/i,
  "drop-attachments": /lost|vanished|without the image|of 6 attachments|downgraded/i,
  "drop-array-url": /attachment url is an array/i,
  "drop-content-warning": /content warning lost|sensitive flag or media lost/i,
  "dm-as-public": /arrived as public/i,
  "lowercase-digest": /upper-case SHA-256/i,
  "wrong-content-type": /not served as AS2/i,
  "no-tombstone": /answers 410 or 404/i,
  "no-cors": /no CORS header/i,
  "skip-signature-verification": /accepted despite the forgery/i,
  "no-owner-check": /forged (Update|Delete) was applied|foreign Delete removed/i,
  "no-dedup": /processed again/i,
  "reject-hs2019": /algorithm="hs2019"/i,
  "no-key-refetch": /signed with the rotated key/i,
  "no-authorized-fetch": /served unsigned/i,
  "trust-attributed-to": /shown as a post by/i,
  "trust-inline-announce": /forged copy embedded in the Announce was shown/i,
  "accept-oversized": /byte Create was processed and stored/i,
  "accept-deep-json": /held with its nesting/i,
  "reject-gone-actor-delete": /no longer has a follow of the deleted/i,
  "html-in-name": /plain text in name/i,
};

/** At most this many defect runs at once (each starts a probe and one or two fedify-ref processes). */
const PARALLEL = 2;
let running = 0;
const queue: Array<() => void> = [];
async function slot<T>(task: () => Promise<T>): Promise<T> {
  if (running >= PARALLEL) await new Promise<void>((resolve) => queue.push(resolve));
  running++;
  try {
    return await task();
  } finally {
    running--;
    queue.shift()?.();
  }
}

/** `FEDICHECK_ZOO=a,b` runs only those defects (handy while working on one). */
const only = process.env.FEDICHECK_ZOO?.split(",").filter(Boolean);

describe.concurrent("bug zoo", () => {
  for (const defect of DEFECTS.filter((d) => !only || only.includes(d.id))) {
    const catches: readonly string[] = defect.catches;
    const suites = [...new Set(catches.map((id) => checkById(id).suite))];
    it(`${defect.id} fails exactly ${catches.join(", ")}`, { timeout: 600_000 }, async () => {
      const targets: TargetSpec[] = [
        {
          id: ZOO,
          implementation: "fedify-ref",
          runtime: "process",
          defects: [defect.id],
          ...ZOO_OPTIONS[defect.id],
        },
      ];
      if (NEEDS_PEER.has(defect.id))
        targets.push({ id: "fedify-b", implementation: "fedify-ref", runtime: "process" });
      // Only cells involving the broken server: every ordered pair with it, and its single cells.
      const others = ["probe", ...targets.filter((t) => t.id !== ZOO).map((t) => t.id)];
      const pairs = others.flatMap((o) => [
        { sender: o, receiver: ZOO },
        { sender: ZOO, receiver: o },
      ]);
      const outcome = await slot(() => runSuites({ targets, suites, pairs, waitBudgetMs: 8_000 }));
      console.info(
        `${defect.id}: ${outcome.cells.length} cells (${suites.join(", ")}) in ${outcome.wallMs} ms`,
      );

      const errored = outcome.cells.filter((c) => c.verdict === "errored");
      expect(errored.length, `errored cells:\n${describeCells(errored)}`).toBe(0);

      const involved = (c: { sender: string; receiver: string }) => c.sender === ZOO || c.receiver === ZOO;
      const failed = outcome.cells.filter((c) => c.verdict === "failed");
      // Each check the defect names fails at least once on a cell involving the broken server.
      const caught = new Set(failed.filter(involved).map((c) => c.checkId));
      const missed = catches.filter((id) => !caught.has(id));
      expect(
        missed,
        `checks that did not fail:\n${describeCells(outcome.cells.filter((c) => missed.includes(c.checkId)))}`,
      ).toEqual([]);
      // Nothing else fails, anywhere, apart from the reference's documented gaps.
      const unexpected = failed.filter(
        (c) => !(involved(c) && catches.includes(c.checkId)) && !(c.checkId in KNOWN_REFERENCE_GAPS),
      );
      expect(unexpected.length, `unexpected failures:\n${describeCells(unexpected)}`).toBe(0);
      // Each failure of a named check says what went wrong in terms of the symptom.
      for (const cell of failed.filter(
        (c) => catches.includes(c.checkId) && !(c.checkId in KNOWN_REFERENCE_GAPS),
      )) {
        expect(
          `${cell.message} ${cell.observed ?? ""}`,
          `${cell.checkId} ${cell.sender}->${cell.receiver}`,
        ).toMatch(SYMPTOMS[defect.id]);
        expect(cell.evidence.length, `${cell.checkId} has evidence`).toBeGreaterThan(0);
      }
    });
  }
});
