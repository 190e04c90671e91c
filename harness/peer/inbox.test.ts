import { describe, expect, it } from "vitest";
import type { Json } from "../protocol/as2.ts";
import { applyActivity, type InboxContext } from "./inbox.ts";
import { followKey, ProbeState } from "./state.ts";

const ME = "https://probe.test/users/alice";
const BOB = "https://b.test/users/bob";
const EVE = "https://e.test/users/eve";

function context(options: { locked?: boolean; autoAccept?: boolean } = {}) {
  const accepted: Json[] = [];
  const ctx: InboxContext = {
    state: new ProbeState(),
    autoAccept: options.autoAccept ?? true,
    localActor: (id) => (id === ME ? { name: "alice", locked: options.locked ?? false } : undefined),
    sendAccept: (_name, follow) => accepted.push(follow),
  };
  return { ctx, accepted };
}

function pendingFollow(ctx: InboxContext): Json {
  const follow = { id: "https://probe.test/follows/1", type: "Follow", actor: ME, object: BOB };
  ctx.state.outgoing.set(followKey("alice", BOB), { state: "pending", follow });
  return follow;
}

describe("applyActivity", () => {
  it("adds a follower and answers, or holds the request when locked", () => {
    const open = context();
    const follow = { id: "https://b.test/f/1", type: "Follow", actor: BOB, object: ME };
    expect(applyActivity(open.ctx, follow)).toBe("follower-added");
    expect(open.accepted).toEqual([follow]);
    expect([...(open.ctx.state.followers.get("alice")?.keys() ?? [])]).toEqual([BOB]);

    const locked = context({ locked: true });
    expect(applyActivity(locked.ctx, follow)).toBe("follow-request-held");
    expect(locked.accepted).toEqual([]);
    expect(locked.ctx.state.requests.get("alice")?.get(BOB)).toBe(follow);
    expect(applyActivity(locked.ctx, { ...follow, object: "https://probe.test/users/nobody" })).toBe(
      "ignored",
    );
  });

  it("completes a follow on an Accept naming the Follow by id or embedding it", () => {
    for (const object of [
      "https://probe.test/follows/1",
      { id: "https://probe.test/follows/1", type: "Follow" },
    ]) {
      const { ctx } = context();
      pendingFollow(ctx);
      expect(applyActivity(ctx, { type: "Accept", actor: BOB, object })).toBe("follow-accepted");
      expect(ctx.state.outgoing.get(followKey("alice", BOB))?.state).toBe("following");
    }
  });

  it("matches an embedded Follow without id by its actor and object", () => {
    const { ctx } = context();
    pendingFollow(ctx);
    const object = { type: "Follow", actor: ME, object: BOB };
    expect(applyActivity(ctx, { type: "Accept", actor: BOB, object })).toBe("follow-accepted");
  });

  it("ignores an Accept without object, from someone else, or for an unknown Follow", () => {
    const { ctx } = context();
    pendingFollow(ctx);
    expect(applyActivity(ctx, { type: "Accept", actor: BOB })).toBe("ignored");
    expect(applyActivity(ctx, { type: "Accept", actor: EVE, object: "https://probe.test/follows/1" })).toBe(
      "ignored",
    );
    expect(applyActivity(ctx, { type: "Accept", actor: BOB, object: "https://probe.test/follows/2" })).toBe(
      "ignored",
    );
    expect(ctx.state.outgoing.get(followKey("alice", BOB))?.state).toBe("pending");
    expect(applyActivity(ctx, { type: "Reject", actor: BOB, object: "https://probe.test/follows/1" })).toBe(
      "follow-rejected",
    );
  });

  it("removes a follower on Undo by id or embedded, only from the follower itself", () => {
    const { ctx } = context();
    const follow = { id: "https://b.test/f/1", type: "Follow", actor: BOB, object: ME };
    applyActivity(ctx, follow);
    expect(applyActivity(ctx, { type: "Undo", actor: EVE, object: follow.id })).toBe("ignored");
    expect(applyActivity(ctx, { type: "Undo", actor: BOB, object: follow.id })).toBe("follower-removed");
    applyActivity(ctx, follow);
    expect(
      applyActivity(ctx, { type: "Undo", actor: BOB, object: { type: "Follow", actor: BOB, object: ME } }),
    ).toBe("follower-removed");
    expect(ctx.state.followers.get("alice")?.size).toBe(0);
  });

  it("stores Create/Update from the author, ignores others, and Delete suppresses later Creates", () => {
    const { ctx } = context();
    const note = { id: "https://b.test/n/1", type: "Note", attributedTo: BOB, content: "v1" };
    expect(applyActivity(ctx, { type: "Create", actor: BOB, object: note })).toBe("object-stored");
    expect(applyActivity(ctx, { type: "Update", actor: EVE, object: { ...note, content: "forged" } })).toBe(
      "ignored",
    );
    expect(applyActivity(ctx, { type: "Delete", actor: EVE, object: note.id })).toBe("ignored");
    expect(ctx.state.received.get(note.id)?.content).toBe("v1");
    expect(applyActivity(ctx, { type: "Update", actor: BOB, object: { ...note, content: "v2" } })).toBe(
      "object-stored",
    );
    expect(ctx.state.received.get(note.id)?.content).toBe("v2");
    expect(
      applyActivity(ctx, { type: "Delete", actor: BOB, object: { id: note.id, type: "Tombstone" } }),
    ).toBe("object-deleted");
    expect(ctx.state.received.has(note.id)).toBe(false);
    expect(applyActivity(ctx, { type: "Create", actor: BOB, object: note })).toBe("ignored");
    expect([...ctx.state.deleted]).toEqual([note.id]);
  });

  it("ignores activities without actor and a Create whose object is only a reference", () => {
    const { ctx } = context();
    expect(applyActivity(ctx, { type: "Create", object: { id: "x" } })).toBe("ignored");
    expect(applyActivity(ctx, { type: "Create", actor: BOB, object: "https://b.test/n/9" })).toBe("ignored");
  });
});
