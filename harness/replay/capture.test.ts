import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  CAPTURE_VERSION,
  CaptureFormatError,
  CaptureWriter,
  captureLineSchema,
  deliveriesOf,
  documentsOf,
  formatCapture,
  formatLine,
  lineProblems,
  parseCapture,
} from "./capture.ts";

const dir = mkdtempSync(join(tmpdir(), "fedicheck-capture-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const note = { id: "https://a.example/notes/1", type: "Note", content: "hi" };
const create = {
  id: "https://a.example/notes/1/activity",
  type: "Create",
  actor: "https://a.example/users/a",
  object: note,
};

describe("parseCapture", () => {
  it("reads a hand-made capture: no header, the least each line needs", () => {
    const text = [
      JSON.stringify({
        version: 1,
        kind: "document",
        url: "https://a.example/users/a",
        document: { id: "https://a.example/users/a", type: "Person" },
      }),
      "",
      JSON.stringify({ version: 1, kind: "delivery", activity: create }),
    ].join("\n");
    const capture = parseCapture(text, "hand.jsonl");
    expect(capture.header).toEqual({ version: 1, kind: "capture" });
    expect(deliveriesOf(capture).map((d) => d.activity?.type)).toEqual(["Create"]);
    expect(documentsOf(capture).map((d) => d.url)).toEqual(["https://a.example/users/a"]);
    expect(capture.events.map((e) => e.kind)).toEqual(["document", "delivery"]);
  });

  it("skips x- extension lines and keeps file order", () => {
    const capture = parseCapture(
      [
        JSON.stringify({ version: 1, kind: "capture", title: "t" }),
        JSON.stringify({ version: 1, kind: "x-note", text: "anything goes here" }),
        JSON.stringify({ version: 1, kind: "delivery", seq: 9, activity: create }),
        JSON.stringify({ version: 1, kind: "delivery", seq: 2, body: "not json" }),
      ].join("\r\n"),
    );
    expect(capture.header.title).toBe("t");
    expect(capture.events.map((e) => e.seq)).toEqual([9, 2]);
  });

  it("lists every problem with its line number", () => {
    const text = [
      JSON.stringify({ version: 1, kind: "delivery", activity: create }),
      "{not json",
      JSON.stringify({ version: 1, kind: "capture" }),
      JSON.stringify({ version: 1, kind: "delivery" }),
      JSON.stringify({ version: 1, kind: "document", document: note }),
      JSON.stringify({ version: 1, kind: "delivery", activity: create, extra: true }),
      JSON.stringify({ version: 1, kind: "delivery", activity: create, at: "yesterday" }),
      JSON.stringify({ kind: "delivery", activity: create }),
      JSON.stringify({ version: 1, kind: "request", activity: create }),
      JSON.stringify([1, 2]),
    ].join("\n");
    let error: CaptureFormatError | undefined;
    try {
      parseCapture(text, "broken.jsonl");
    } catch (e) {
      error = e as CaptureFormatError;
    }
    expect(error).toBeInstanceOf(CaptureFormatError);
    const problems = error!.problems.join("\n");
    expect(problems).toMatch(/^line 2: not JSON/m);
    expect(problems).toMatch(/^line 3: the "capture" header must be the first line/m);
    expect(problems).toMatch(/^line 4: .*(activity|body)/m);
    expect(problems).toMatch(/^line 5: .*url/m);
    expect(problems).toMatch(/^line 6: .*unknown member 'extra'/m);
    expect(problems).toMatch(/^line 7: \/at must match format "date-time"/m);
    expect(problems).toMatch(/^line 8: needs "version": 1/m);
    expect(problems).toMatch(/^line 9: has kind "request"/m);
    expect(problems).toMatch(/^line 10: is not a JSON object/m);
    expect(error!.message).toContain("broken.jsonl is not a readable fedicheck capture");
    expect(error!.message).toContain("FORMAT.md");
  });

  it("tells a newer format version to upgrade instead of guessing", () => {
    expect(lineProblems({ version: 2, kind: "delivery", activity: create })).toEqual([
      `has format version 2; this fedicheck reads version ${CAPTURE_VERSION}: upgrade it`,
    ]);
  });

  it("has a versioned JSON Schema that the reader enforces", () => {
    expect((captureLineSchema.properties as Record<string, { const?: number }>).version?.const).toBe(1);
    expect(lineProblems({ version: 1, kind: "delivery", activity: create, status: 99 })).not.toEqual([]);
    expect(lineProblems({ version: 1, kind: "capture", receiver: { origin: "https://r.example" } })).toEqual(
      [],
    );
  });
});

describe("writing", () => {
  it("removes secrets but keeps signatures as evidence", () => {
    const line = formatLine({
      version: 1,
      kind: "delivery",
      headers: {
        authorization: "Bearer s3cr3t-t0ken-value",
        cookie: "session=abcdef123456",
        "x-api-key": "k-1234567890",
        signature: 'keyId="https://a.example/users/a#main-key",signature="AAAA"',
        digest: "SHA-256=xyz",
      },
      activity: { ...create, object: { ...note, content: "token leaked: Bearer abcdefghijkl" } },
    });
    expect(line).not.toContain("s3cr3t");
    expect(line).not.toContain("abcdef123456");
    expect(line).not.toContain("k-1234567890");
    expect(line).not.toContain("abcdefghijkl");
    const parsed = JSON.parse(line);
    expect(parsed.headers.authorization).toBe("Bearer [redacted]");
    expect(parsed.headers.signature).toContain('signature="AAAA"');
    expect(parsed.headers.digest).toBe("SHA-256=xyz");
  });

  it("appends numbered events after the header, and reads back what it wrote", () => {
    const path = join(dir, "w.jsonl");
    const writer = new CaptureWriter(path, { version: 1, kind: "capture", title: "w" });
    writer.append({
      version: 1,
      kind: "document",
      url: "https://a.example/users/a",
      status: 200,
      document: { id: "x" },
    });
    writer.append({ version: 1, kind: "delivery", activity: create, status: 202 });
    expect(writer.count).toBe(2);
    const lines = readFileSync(path, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.kind, l.seq])).toEqual([
      ["capture", undefined],
      ["document", 1],
      ["delivery", 2],
    ]);
    // Every line leads with version, kind and seq, so a person reading the file sees them first.
    expect(Object.keys(lines[2]).slice(0, 3)).toEqual(["version", "kind", "seq"]);
    const capture = parseCapture(readFileSync(path, "utf8"));
    expect(parseCapture(formatCapture(capture))).toEqual(capture);
  });
});

describe("FORMAT.md", () => {
  it("shows a hand-made capture that reads", () => {
    const doc = readFileSync(join(import.meta.dirname, "FORMAT.md"), "utf8");
    const example = /```jsonl\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const capture = parseCapture(example!, "FORMAT.md");
    expect(deliveriesOf(capture).map((d) => d.activity?.type)).toEqual(["Accept", "Create"]);
  });
});
