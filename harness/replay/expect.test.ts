import { describe, expect, it } from "vitest";
import {
  type ExpectationsFile,
  ExpectationsFormatError,
  evaluateExpectations,
  parseExpectations,
  sidecarPathOf,
} from "./expect.ts";
import type { ActivityReport } from "./observe.ts";
import type { ReplayReport } from "./replay.ts";

function activity(index: number, extra: Partial<ActivityReport>): ActivityReport {
  return {
    index,
    type: "Create(Note)",
    captured: {},
    replayed: { status: 202 },
    outcome: "stored",
    summary: "stored",
    notes: [],
    ...extra,
  };
}

const view = {
  uri: "https://a.example/notes/1",
  author: "https://a.example/users/a",
  text: "Hello world",
  html: "<p>Hello world</p>",
  sensitive: true,
  contentWarning: "cw",
  attachments: [{ kind: "image" as const, url: "https://a.example/m/1.png", description: "a dot" }],
  mentions: [],
  hashtags: [],
  links: [],
};

const report = {
  activities: [
    activity(1, { type: "Accept(Follow)", outcome: "following", activityId: "https://a.example/accept/1" }),
    activity(2, {
      objectId: "https://a.example/notes/1",
      view,
      visible: true,
      media: {
        sent: [{ url: "https://a.example/m/1.png" }, { url: "https://a.example/m/2.png" }],
        kept: view.attachments,
        lost: ["https://a.example/m/2.png"],
      },
    }),
    activity(3, {
      type: "Question",
      outcome: "stored",
      view: { ...view, text: "Tea or coffee? Tea" },
      fallback: {
        objectType: "Question",
        shown: true,
        readable: true,
        optionsShown: ["Tea"],
        optionsMissing: ["Coffee"],
      },
    }),
    activity(4, { type: "Delete", outcome: "delete-ignored", view, deleted: false }),
    activity(5, {
      type: "Update(Note)",
      outcome: "skipped",
      summary: "not replayed: the replay was stopped before this delivery",
    }),
  ],
} as unknown as ReplayReport;

function judge(checks: ExpectationsFile["checks"]) {
  return evaluateExpectations(report, { version: 1, checks });
}

describe("evaluateExpectations", () => {
  it("passes a check when every field holds, naming the activity", () => {
    const [result] = judge([
      {
        check: "MED-01",
        activity: 2,
        expect: {
          stored: true,
          visible: true,
          attachments: 1,
          mediaKinds: ["image"],
          descriptions: true,
          sensitive: true,
          contentWarning: "cw",
          textIncludes: ["Hello"],
          textExcludes: "Bye",
        },
      },
    ]);
    expect(result).toMatchObject({ check: "MED-01", verdict: "passed", activities: [2] });
    expect(result!.message).toBe("activity 2 (Create(Note) of https://a.example/notes/1): stored");
  });

  it("fails with what was expected and what was observed, only for the fields that failed", () => {
    const [result] = judge([
      {
        check: "MED-10",
        activity: 2,
        expect: { stored: true, attachments: 2 },
        reason: "both images matter",
      },
    ]);
    expect(result!.verdict).toBe("failed");
    expect(result!.expected).toBe("2 attachment(s) kept");
    expect(result!.observed).toBe("stored: 1 of 2 kept");
    expect(result!.message).toContain("both images matter");
  });

  it("finds activities by activity id or object id as well as by position", () => {
    const results = judge([
      { check: "FOL-03", activity: "https://a.example/accept/1", expect: { outcome: "following" } },
      { check: "DEL-01", activity: "https://a.example/notes/1", expect: { stored: true } },
    ]);
    expect(results.map((r) => [r.check, r.verdict, r.activities])).toEqual([
      ["FOL-03", "passed", [1]],
      ["DEL-01", "passed", [2]],
    ]);
  });

  it("judges Question fallbacks and deletions", () => {
    const results = judge([
      { check: "MED-09", activity: 3, expect: { optionsShown: true } },
      { check: "DEL-01", activity: 4, expect: { deleted: true, outcome: ["deleted", "not-held"] } },
    ]);
    expect(results.map((r) => r.verdict)).toEqual(["failed", "failed"]);
    expect(results[0]!.observed).toContain("missing Coffee");
    expect(results[1]!.observed).toBe("delete-ignored: still held; outcome delete-ignored");
  });

  it("lets the worst verdict of a check's expectations speak, and names every activity", () => {
    const [result] = judge([
      { check: "PST-09", activity: 2, expect: { stored: true } },
      { check: "PST-09", activity: 5, expect: { updated: true } },
      { check: "PST-09", activity: 4, expect: { deleted: true } },
    ]);
    expect(result).toMatchObject({ verdict: "failed", activities: [2, 5, 4] });
    expect(result!.message).toMatch(/^activity 4 \(Delete/);
  });

  it("skips a check whose activity was not replayed, and fails one naming a missing activity", () => {
    const results = judge([
      { check: "PST-09", activity: 5, expect: { updated: true } },
      { check: "DEL-01", activity: 9, expect: { deleted: true } },
    ]);
    expect(results.map((r) => r.verdict)).toEqual(["skipped", "failed"]);
    expect(results[1]!.message).toBe("the capture has no activity 9 (it has 5)");
  });
});

describe("parseExpectations", () => {
  it("accepts a well-formed sidecar", () => {
    const file = { version: 1, checks: [{ check: "DEL-01", activity: 4, expect: { deleted: true } }] };
    expect(parseExpectations(file)).toBe(file);
  });

  it("lists every problem", () => {
    let error: Error | undefined;
    try {
      parseExpectations(
        {
          version: 2,
          checks: [
            { check: "", activity: 0, expect: {} },
            { check: "X", activity: 1, expect: { colour: "red" } },
          ],
        },
        "x.expect.json",
      );
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeInstanceOf(ExpectationsFormatError);
    expect(error!.message).toContain("x.expect.json");
    expect(error!.message).toContain('needs "version": 1');
    expect(error!.message).toContain("checks[0].check must be a check id");
    expect(error!.message).toContain("checks[0].activity must be a position");
    expect(error!.message).toContain("checks[0].expect must name at least one outcome");
    expect(error!.message).toContain("checks[1].expect.colour is unknown");
  });

  it("puts the sidecar beside its capture", () => {
    expect(sidecarPathOf("fixtures/captures/a.jsonl")).toBe("fixtures/captures/a.expect.json");
  });
});
