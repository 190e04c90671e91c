import { describe, expect, it } from "vitest";
import { parseCapture } from "./capture.ts";
import { capturedDocument, planReplay } from "./plan.ts";

const AS = "https://www.w3.org/ns/activitystreams";

function capture(...lines: object[]) {
  return parseCapture(lines.map((l) => JSON.stringify({ version: 1, ...l })).join("\n"));
}

describe("planReplay", () => {
  it("takes the receiver from the header and the senders from the traffic, in order of appearance", () => {
    const plan = planReplay(
      capture(
        {
          kind: "capture",
          receiver: {
            origin: "https://r.example",
            actors: [{ name: "bob", id: "https://r.example/users/bob" }],
          },
        },
        {
          kind: "document",
          url: "https://a.example/users/a",
          document: { id: "https://a.example/users/a", type: "Person" },
        },
        {
          kind: "delivery",
          activity: {
            type: "Announce",
            actor: "https://c.example/c/group",
            object: {
              type: "Create",
              id: "https://b.example/create/1",
              actor: "https://b.example/u/e",
              object: { id: "https://b.example/post/1", attributedTo: "https://b.example/u/e" },
            },
          },
        },
        {
          kind: "delivery",
          activity: {
            type: "Create",
            actor: "https://a.example/users/a",
            object: { id: "https://a.example/notes/1" },
            to: ["https://r.example/users/bob"],
          },
        },
      ),
    );
    expect(plan).toEqual({
      receiverOrigin: "https://r.example",
      receiverActors: [{ name: "bob", id: "https://r.example/users/bob" }],
      senderOrigins: ["https://a.example", "https://c.example", "https://b.example"],
      senderActors: ["https://a.example/users/a", "https://c.example/c/group"],
    });
  });

  it("infers the receiver of a hand-made capture from inbox URLs, Follows, answered Follows and addressing", () => {
    const plan = planReplay(
      capture(
        {
          kind: "delivery",
          activity: {
            type: "Follow",
            actor: "https://a.example/users/a",
            object: "https://r.example/users/bob",
          },
        },
        {
          kind: "delivery",
          activity: {
            type: "Accept",
            actor: "https://a.example/users/a",
            object: {
              type: "Follow",
              id: "https://r.example/follows/1",
              actor: "https://r.example/@carol",
              object: "https://a.example/users/a",
            },
          },
        },
        {
          kind: "delivery",
          activity: {
            type: "Create",
            actor: "https://a.example/users/a",
            cc: ["https://r.example/users/bob/followers"],
            object: {
              id: "https://a.example/notes/1",
              tag: [{ type: "Mention", href: "https://r.example/users/dave" }],
            },
          },
        },
      ),
    );
    expect(plan.receiverOrigin).toBe("https://r.example");
    expect(plan.receiverActors).toEqual([
      { name: "bob", id: "https://r.example/users/bob" },
      { name: "carol", id: "https://r.example/@carol" },
      { name: "dave", id: "https://r.example/users/dave" },
    ]);
    // The receiver's Follow id is not a sender's: its origin stays the receiver's.
    expect(plan.senderOrigins).toEqual(["https://a.example"]);
  });

  it("names the actor of a recorded inbox path, and keeps names unique", () => {
    const plan = planReplay(
      capture(
        {
          kind: "delivery",
          url: "http://127.0.0.1:4000/users/alice/inbox",
          recipient: "alice",
          activity: {
            type: "Like",
            actor: "https://a.example/u/1",
            object: "http://127.0.0.1:4000/objects/1",
          },
        },
        {
          kind: "delivery",
          url: "http://127.0.0.1:4000/inbox",
          recipient: "shared",
          activity: {
            type: "Create",
            actor: "https://a.example/u/1",
            to: ["http://127.0.0.1:4000/people/alice"],
            object: { id: "https://a.example/n/1" },
          },
        },
      ),
    );
    expect(plan.receiverOrigin).toBe("http://127.0.0.1:4000");
    expect(plan.receiverActors.map((a) => [a.name, a.id])).toEqual([
      ["alice", "http://127.0.0.1:4000/users/alice"],
      ["alice2", "http://127.0.0.1:4000/people/alice"],
    ]);
  });

  it("ignores documents that were not found when collecting sender origins", () => {
    const plan = planReplay(
      capture(
        { kind: "capture", receiver: { origin: "https://r.example" } },
        { kind: "document", url: "https://gone.example/x", status: 410 },
        {
          kind: "delivery",
          activity: {
            id: "https://a.example/1",
            type: "Delete",
            actor: "https://a.example/u",
            object: "https://a.example/n",
          },
        },
      ),
    );
    expect(plan.senderOrigins).toEqual(["https://a.example"]);
    expect(plan.receiverActors).toEqual([]);
  });
});

describe("capturedDocument", () => {
  it("gives the last successful copy, found by id or by URL without fragment", () => {
    const c = capture(
      {
        kind: "document",
        url: "https://a.example/users/a#main-key",
        document: { id: "https://a.example/users/a", name: "first" },
      },
      {
        kind: "document",
        url: "https://a.example/users/a",
        status: 500,
        document: { id: "https://a.example/users/a", name: "error page" },
      },
      {
        kind: "document",
        url: "https://a.example/@a",
        document: { "@context": AS, id: "https://a.example/users/a", name: "second" },
      },
    );
    expect(capturedDocument(c, "https://a.example/users/a")?.name).toBe("second");
    expect(capturedDocument(c, "https://a.example/users/b")).toBeUndefined();
  });
});
