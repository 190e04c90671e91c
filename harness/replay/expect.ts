/**
 * Expectations for a capture: a small sidecar (`<capture>.expect.json`) naming, per check id, which
 * captured activity decides it and what the receiver must have made of it. With it a capture becomes
 * a regression test: each check passes when every expectation naming it holds in the replay report.
 * @module
 */
import { readFileSync } from "node:fs";
import type { Capability } from "../core/model.ts";
import type { AttachmentView } from "../drivers/driver.ts";
import type { ActivityReport, Outcome } from "./observe.ts";
import type { ReplayReport } from "./replay.ts";

/** Version of the sidecar format this code reads. */
export const EXPECTATIONS_VERSION = 1;

/** What must hold for one activity; every field given must hold. */
export interface Expectation {
  /** The outcome (or one of these outcomes), see observe.ts. */
  outcome?: Outcome | Outcome[];
  /** The target answered the POST with 2xx. */
  accepted?: boolean;
  /** The receiver holds the post right after this activity. */
  stored?: boolean;
  /** The post is on the receiving account's timeline. */
  visible?: boolean;
  /** The post is gone after this (Delete) activity. */
  deleted?: boolean;
  /** The post changed after this (Update) activity. */
  updated?: boolean;
  /** Number of attachments kept. */
  attachments?: number;
  /** Kinds of the kept attachments, in order (`image`, `video`, `audio`, `gifv`, `unknown`, `link`). */
  mediaKinds?: AttachmentView["kind"][];
  /** Every kept attachment has a description (alt text). */
  descriptions?: boolean;
  /** The post's text contains each of these. */
  textIncludes?: string | string[];
  /** The post's text contains none of these. */
  textExcludes?: string | string[];
  contentWarning?: string;
  sensitive?: boolean;
  /** Fallback: the text shows the object's `name`. */
  nameShown?: boolean;
  /** Fallback: the text shows the object's name or its content. */
  readable?: boolean;
  /** Fallback: the post links to the object's `url`. */
  linkToUrl?: boolean;
  /** Fallback: every option of a Question appears in the text. */
  optionsShown?: boolean;
}

/** One expectation of the sidecar. */
export interface ExpectedOutcome {
  /** Check id from the catalogue, e.g. `DEL-01`. */
  check: string;
  /** The captured activity: its position among the deliveries (from 1), or its activity id. */
  activity: number | string;
  expect: Expectation;
  /** Why, in a few words (shown with a failure). */
  reason?: string;
}

/** The sidecar file. */
export interface ExpectationsFile {
  version: 1;
  /** File name of the capture it belongs to (informational). */
  capture?: string;
  description?: string;
  /** Receiver capabilities the capture needs beyond what its checks declare. */
  requires?: Capability[];
  checks: ExpectedOutcome[];
}

/** The verdict on one check id. */
export interface CheckOutcome {
  check: string;
  /** `skipped` when the activity that decides it was not replayed (the replay stopped before it). */
  verdict: "passed" | "failed" | "skipped";
  /** One line: which activity, what happened. */
  message: string;
  expected: string;
  observed: string;
  /** Positions of the activities that decided it. */
  activities: number[];
}

/** A sidecar that cannot be read; the message says what to fix. */
export class ExpectationsFormatError extends Error {
  constructor(source: string, problems: string[]) {
    super(`${source} is not a readable capture expectations file:\n  ${problems.join("\n  ")}`);
    this.name = "ExpectationsFormatError";
  }
}

const EXPECTATION_KEYS = new Set<string>([
  "outcome",
  "accepted",
  "stored",
  "visible",
  "deleted",
  "updated",
  "attachments",
  "mediaKinds",
  "descriptions",
  "textIncludes",
  "textExcludes",
  "contentWarning",
  "sensitive",
  "nameShown",
  "readable",
  "linkToUrl",
  "optionsShown",
]);

/** Checks the shape of a parsed sidecar; throws {@link ExpectationsFormatError} listing every problem. */
export function parseExpectations(json: unknown, source = "the expectations"): ExpectationsFile {
  const problems: string[] = [];
  const file = json as Partial<ExpectationsFile> | null;
  if (typeof file !== "object" || file === null || Array.isArray(file)) {
    throw new ExpectationsFormatError(source, ["it is not a JSON object"]);
  }
  if (file.version !== EXPECTATIONS_VERSION) problems.push(`needs "version": ${EXPECTATIONS_VERSION}`);
  if (!Array.isArray(file.checks) || file.checks.length === 0)
    problems.push(`needs a non-empty "checks" list`);
  (Array.isArray(file.checks) ? file.checks : []).forEach((entry, i) => {
    const where = `checks[${i}]`;
    if (typeof entry?.check !== "string" || entry.check === "")
      problems.push(`${where}.check must be a check id`);
    const activity = entry?.activity;
    if (!(typeof activity === "string" || (Number.isInteger(activity) && (activity as number) >= 1))) {
      problems.push(`${where}.activity must be a position (1, 2, …) or an activity id`);
    }
    if (
      typeof entry?.expect !== "object" ||
      entry.expect === null ||
      Object.keys(entry.expect).length === 0
    ) {
      problems.push(`${where}.expect must name at least one outcome to check`);
    } else {
      for (const key of Object.keys(entry.expect)) {
        if (!EXPECTATION_KEYS.has(key))
          problems.push(`${where}.expect.${key} is unknown (known: ${[...EXPECTATION_KEYS].join(", ")})`);
      }
    }
  });
  if (problems.length > 0) throw new ExpectationsFormatError(source, problems);
  return file as ExpectationsFile;
}

/** Reads a sidecar file (see {@link parseExpectations}). */
export function readExpectations(path: string): ExpectationsFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ExpectationsFormatError(path, [(error as Error).message]);
  }
  return parseExpectations(json, path);
}

/** The sidecar path beside a capture: `x.jsonl` → `x.expect.json`. */
export function sidecarPathOf(capturePath: string): string {
  return `${capturePath.replace(/\.jsonl$/, "")}.expect.json`;
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

type Judgement = { ok: boolean; expected: string; observed: string };

/** Judges one expectation field against an activity's report. */
function judge(key: keyof Expectation, want: Expectation, got: ActivityReport): Judgement {
  const text = got.view?.text ?? "";
  const kept = got.media?.kept ?? got.view?.attachments ?? [];
  const sent = got.media?.sent.length;
  switch (key) {
    case "outcome": {
      const allowed = Array.isArray(want.outcome) ? want.outcome : [want.outcome];
      return {
        ok: allowed.includes(got.outcome),
        expected: `outcome ${allowed.join(" or ")}`,
        observed: `outcome ${got.outcome}`,
      };
    }
    case "accepted": {
      const status = got.replayed.status;
      const ok = status !== undefined && status >= 200 && status < 300;
      return {
        ok: ok === want.accepted,
        expected: want.accepted ? "a 2xx answer" : "a refusal",
        observed: `answered ${status ?? got.replayed.error ?? "nothing"}`,
      };
    }
    case "stored":
      return {
        ok: (got.view !== undefined) === want.stored,
        expected: want.stored ? "the post is held" : "the post is not held",
        observed: got.view ? "held" : "not held",
      };
    case "visible":
      return {
        ok: got.visible === want.visible,
        expected: want.visible ? "on the timeline" : "not on the timeline",
        observed:
          got.visible === undefined
            ? "timeline unknown"
            : got.visible
              ? "on the timeline"
              : "not on the timeline",
      };
    case "deleted":
      return {
        ok: (got.deleted === true) === want.deleted,
        expected: want.deleted ? "deleted" : "still held",
        observed: got.deleted ? "deleted" : "still held",
      };
    case "updated":
      return {
        ok: (got.updated === true) === want.updated,
        expected: want.updated ? "the post changed" : "the post unchanged",
        observed: got.updated ? "changed" : "unchanged",
      };
    case "attachments":
      return {
        ok: kept.length === want.attachments,
        expected: `${want.attachments} attachment(s) kept`,
        observed: `${kept.length}${sent === undefined ? "" : ` of ${sent}`} kept`,
      };
    case "mediaKinds": {
      const kinds = kept.map((a) => a.kind);
      return {
        ok: JSON.stringify(kinds) === JSON.stringify(want.mediaKinds),
        expected: `attachments shown as ${want.mediaKinds!.join(", ") || "nothing"}`,
        observed: `shown as ${kinds.join(", ") || "nothing"}`,
      };
    }
    case "descriptions": {
      const described = kept.length > 0 && kept.every((a) => (a.description ?? "") !== "");
      return {
        ok: described === want.descriptions,
        expected: want.descriptions ? "every attachment keeps its description" : "no description",
        observed:
          kept.length === 0
            ? "no attachment kept"
            : `${kept.filter((a) => a.description).length} of ${kept.length} described`,
      };
    }
    case "textIncludes": {
      const missing = list(want.textIncludes).filter((s) => !text.includes(s));
      return {
        ok: missing.length === 0,
        expected: `text with ${list(want.textIncludes)
          .map((s) => JSON.stringify(s))
          .join(", ")}`,
        observed:
          missing.length === 0
            ? "all there"
            : `text ${JSON.stringify(text.slice(0, 200))} lacks ${missing.map((s) => JSON.stringify(s)).join(", ")}`,
      };
    }
    case "textExcludes": {
      const found = list(want.textExcludes).filter((s) => text.includes(s));
      return {
        ok: found.length === 0,
        expected: `text without ${list(want.textExcludes)
          .map((s) => JSON.stringify(s))
          .join(", ")}`,
        observed:
          found.length === 0 ? "none there" : `text has ${found.map((s) => JSON.stringify(s)).join(", ")}`,
      };
    }
    case "contentWarning":
      return {
        ok: got.view?.contentWarning === want.contentWarning,
        expected: `content warning ${JSON.stringify(want.contentWarning)}`,
        observed: `content warning ${JSON.stringify(got.view?.contentWarning ?? null)}`,
      };
    case "sensitive":
      return {
        ok: got.view?.sensitive === want.sensitive,
        expected: `sensitive ${want.sensitive}`,
        observed: `sensitive ${got.view?.sensitive ?? "unknown"}`,
      };
    case "nameShown":
      return {
        ok: got.fallback?.nameShown === want.nameShown,
        expected: want.nameShown ? "the name shown" : "the name not shown",
        observed:
          got.fallback?.nameShown === undefined
            ? "no name to show"
            : got.fallback.nameShown
              ? "name shown"
              : "name missing",
      };
    case "readable":
      return {
        ok:
          (got.view === undefined ? false : (got.fallback?.readable ?? got.view.text.trim() !== "")) ===
          want.readable,
        expected: want.readable ? "its name or content readable" : "nothing readable",
        observed:
          got.view === undefined
            ? "no post"
            : got.fallback
              ? `name ${got.fallback.nameShown ? "shown" : "not shown"}, content ${got.fallback.contentShown ? "shown" : "not shown"}`
              : `text ${JSON.stringify(got.view.text.slice(0, 120))}`,
      };
    case "linkToUrl":
      return {
        ok: got.fallback?.linkToUrl === want.linkToUrl,
        expected: want.linkToUrl ? "a link to the object's url" : "no link to the url",
        observed:
          got.fallback?.linkToUrl === undefined
            ? "no url to link"
            : got.fallback.linkToUrl
              ? "linked"
              : "no link",
      };
    case "optionsShown": {
      const missing = got.fallback?.optionsMissing ?? [];
      const shown = got.fallback?.optionsShown !== undefined && missing.length === 0;
      return {
        ok: shown === want.optionsShown,
        expected: want.optionsShown ? "every option in the text" : "options not in the text",
        observed:
          got.fallback?.optionsShown === undefined
            ? "not a Question"
            : missing.length === 0
              ? "all options shown"
              : `missing ${missing.join(", ")}`,
      };
    }
    default:
      return { ok: false, expected: String(key), observed: "unknown expectation" };
  }
}

/** The activity report an expectation names, or undefined. */
function find(report: ReplayReport, activity: number | string): ActivityReport | undefined {
  if (typeof activity === "number") return report.activities[activity - 1];
  return (
    report.activities.find((a) => a.activityId === activity) ??
    report.activities.find((a) => a.objectId === activity)
  );
}

function describe(activity: ActivityReport): string {
  return `activity ${activity.index} (${activity.type}${activity.objectId ? ` of ${activity.objectId}` : ""})`;
}

const RANK: Record<CheckOutcome["verdict"], number> = { passed: 0, skipped: 1, failed: 2 };

/**
 * Judges a replay report against a sidecar: one outcome per check id, in the order the checks first
 * appear; a check passes when every expectation naming it holds, fails when one does not, and is
 * skipped when an activity it needs was not replayed.
 */
export function evaluateExpectations(report: ReplayReport, file: ExpectationsFile): CheckOutcome[] {
  const byCheck = new Map<string, CheckOutcome>();
  for (const entry of file.checks) {
    const activity = find(report, entry.activity);
    let outcome: CheckOutcome;
    if (!activity) {
      outcome = {
        check: entry.check,
        verdict: "failed",
        message: `the capture has no activity ${JSON.stringify(entry.activity)} (it has ${report.activities.length})`,
        expected: `activity ${entry.activity}`,
        observed: "none",
        activities: [],
      };
    } else if (activity.outcome === "skipped") {
      outcome = {
        check: entry.check,
        verdict: "skipped",
        message: `${describe(activity)}: ${activity.summary}`,
        expected: "the activity replayed",
        observed: "skipped",
        activities: [activity.index],
      };
    } else {
      const judgements = (Object.keys(entry.expect) as Array<keyof Expectation>).map((key) =>
        judge(key, entry.expect, activity),
      );
      const failed = judgements.filter((j) => !j.ok);
      const ok = failed.length === 0;
      const shown = ok ? judgements : failed;
      outcome = {
        check: entry.check,
        verdict: ok ? "passed" : "failed",
        message: ok
          ? `${describe(activity)}: ${activity.summary}`
          : `${describe(activity)}: ${failed.map((j) => j.observed).join("; ")} (${activity.summary})${entry.reason ? ` — ${entry.reason}` : ""}`,
        expected: shown.map((j) => j.expected).join("; "),
        observed: `${activity.outcome}: ${shown.map((j) => j.observed).join("; ")}`,
        activities: [activity.index],
      };
    }
    const previous = byCheck.get(entry.check);
    if (!previous) {
      byCheck.set(entry.check, outcome);
      continue;
    }
    // Several expectations for one check: the worst verdict speaks, every activity is named.
    const activities = [...previous.activities, ...outcome.activities];
    if (RANK[outcome.verdict] > RANK[previous.verdict]) byCheck.set(entry.check, { ...outcome, activities });
    else {
      previous.activities = activities;
      if (outcome.verdict === "passed" && previous.verdict === "passed") {
        previous.message = `${previous.message}; ${outcome.message}`;
      }
    }
  }
  return [...byCheck.values()];
}
