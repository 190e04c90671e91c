/**
 * Collections: what a server publishes about an actor as AS2 collections — the outbox (paged, newest
 * first), the inbox's answer to a GET, and followers/following counts. Each scenario is `single`: the
 * target is judged alone, the probe acting as the other server. Every scenario gives its account
 * something to list first (posts, a private message, follows), so a collection is judged against
 * what the target's own driver says it holds.
 * @module
 */
import { randomUUID } from "node:crypto";
import {
  PreconditionError,
  type Scenario,
  type ScenarioContext,
  WaitTimeoutError,
} from "../harness/core/scenario.ts";
import type { PostRef } from "../harness/drivers/driver.ts";
import type { HttpResponse } from "../harness/protocol/types.ts";
import {
  AS2_ACCEPT,
  asArray,
  fetchAs2,
  fetchEvidence,
  idOf,
  inboxOf,
  isObject,
  type Json,
  jsonBody,
  type Party,
  party,
  precondition,
  show,
  token,
  typeOf,
  waitHeld,
  who,
} from "./steps.ts";

/** Pages followed at most through `first`/`next` (a loop or an endless chain stops there). */
const MAX_PAGES = 10;

/** Whether a Content-Type is one of the AS2 media types. */
function isAs2MediaType(contentType: string | undefined): boolean {
  const value = (contentType ?? "").toLowerCase();
  if (value.startsWith("application/activity+json")) return true;
  return value.startsWith("application/ld+json") && value.includes("https://www.w3.org/ns/activitystreams");
}

/** Whether a document's type (one of its types) is `name`. */
function hasType(document: unknown, name: string): boolean {
  return isObject(document) && asArray(document.type).includes(name);
}

/** The actor document of `p`, fetched as a federating server would (signed when needed). */
async function actorDocument(ctx: ScenarioContext, p: Party, checkId: string): Promise<Json> {
  const response = await fetchAs2(ctx, p.account.actorId);
  ctx.evidence(checkId, fetchEvidence("actor document", p.account.actorId, {}, response));
  const doc = jsonBody(response);
  if (!doc)
    throw new PreconditionError(`the actor document of ${who(p)} could not be read (${response.status})`);
  return doc;
}

/** A collection as read: its answer, and the items of its inline list or of its pages. */
interface CollectionReading {
  url: string;
  response: HttpResponse;
  document: Json | undefined;
  /** Items listed inline on the collection itself. */
  inline: unknown[];
  /** Whether the collection links pages through `first`. */
  paged: boolean;
  /** Every item: inline ones, then those of each page in order. */
  items: unknown[];
  /** Whether any items are shown at all (inline or paged): hidden ones give only totalItems. */
  itemsShown: boolean;
  /** What went wrong while paging (a page not served, not a page). */
  problems: string[];
  /** Every response read, for evidence. */
  exchanges: Array<{ label: string; url: string; response: HttpResponse }>;
}

/** Reads a collection and walks its pages (`first`, then `next`), at most {@link MAX_PAGES}. */
async function readCollection(ctx: ScenarioContext, url: string, label: string): Promise<CollectionReading> {
  const response = await fetchAs2(ctx, url);
  const document = response.status === 200 ? jsonBody(response) : undefined;
  const inline = asArray(document?.orderedItems ?? document?.items);
  const reading: CollectionReading = {
    url,
    response,
    document,
    inline,
    paged: document?.first !== undefined && document.first !== null,
    items: [...inline],
    itemsShown: document?.orderedItems !== undefined || document?.items !== undefined,
    problems: [],
    exchanges: [{ label, url, response }],
  };
  let next: unknown = document?.first;
  const seen = new Set<string>();
  for (let n = 1; next !== undefined && next !== null && n <= MAX_PAGES; n++) {
    let page: Json | undefined;
    const pageUrl = idOf(next);
    if (isObject(next) && (next.orderedItems !== undefined || next.items !== undefined)) {
      page = next;
    } else if (pageUrl !== undefined) {
      if (seen.has(pageUrl)) break;
      seen.add(pageUrl);
      const pageResponse = await fetchAs2(ctx, pageUrl);
      reading.exchanges.push({ label: `${label}, page ${n}`, url: pageUrl, response: pageResponse });
      page = pageResponse.status === 200 ? jsonBody(pageResponse) : undefined;
      if (!page) {
        reading.problems.push(`page ${pageUrl} answered ${pageResponse.status}`);
        break;
      }
    } else {
      break;
    }
    if (!/CollectionPage$/.test(typeOf(page) ?? "")) {
      reading.problems.push(
        `page ${n} is a ${typeOf(page) ?? "document without type"}, not a CollectionPage`,
      );
    }
    reading.itemsShown = true;
    reading.items.push(...asArray(page.orderedItems ?? page.items));
    next = page.next;
  }
  return reading;
}

/** Attaches every exchange of a reading as evidence of `checkId`. */
function keepEvidence(ctx: ScenarioContext, checkId: string, reading: CollectionReading): void {
  for (const { label, url, response } of reading.exchanges) {
    ctx.evidence(checkId, fetchEvidence(label, url, { accept: AS2_ACCEPT.activityJson }, response));
  }
}

/** The post an outbox item stands for: a Create's (or any activity's) object, or the item itself. */
function postIdOf(item: unknown): string | undefined {
  if (isObject(item) && item.object !== undefined) return idOf(item.object);
  return idOf(item);
}

/** The post ids an outbox lists, resolving items given only by id (once each). */
async function outboxPostIds(ctx: ScenarioContext, reading: CollectionReading): Promise<string[]> {
  const ids: string[] = [];
  for (const item of reading.items) {
    if (typeof item === "string") {
      // Only the activity's id: the post is its object.
      const fetched = jsonBody(await fetchAs2(ctx, item));
      const id = fetched ? postIdOf(fetched) : item;
      if (id) ids.push(id);
      continue;
    }
    const id = postIdOf(item);
    if (id) ids.push(id);
  }
  return ids;
}

const outbox: Scenario = {
  id: "collections.outbox",
  suite: "collections",
  title: "The outbox is a paged OrderedCollection listing the newest posts first",
  shape: "single",
  checks: ["COL-01"],
  requires: { receiver: ["post"] },
  async run(ctx) {
    // 1. Roles: the target alone; a fresh account gives its outbox three public posts, one after the other.
    const author = await party(ctx, ctx.receiver, "author");
    const refs: PostRef[] = [];
    for (const n of [1, 2, 3]) {
      refs.push(
        await author.target.driver.post(author.account, {
          content: `outbox post ${n} ${token("col")}`,
          visibility: "public",
        }),
      );
    }
    const wanted = refs.map((r) => r.uri);

    // 2. The outbox named by the actor document.
    const doc = await actorDocument(ctx, author, "COL-01");
    const url = idOf(doc.outbox);
    if (!url) {
      ctx.assert("COL-01", false, "the actor document names no outbox", {
        expected: "an outbox URL in the actor document",
        observed: `outbox ${show(doc.outbox)}`,
      });
      return;
    }

    // 3. Wait until the outbox lists all three posts (servers may list them asynchronously).
    let reading: CollectionReading | undefined;
    let ids: string[] = [];
    try {
      await ctx.waitFor(`the outbox of ${who(author)} lists its three posts`, async () => {
        reading = await readCollection(ctx, url, "outbox");
        ids = await outboxPostIds(ctx, reading);
        return wanted.every((uri) => ids.includes(uri));
      });
    } catch (error) {
      // A timeout is judged below with what the last reading showed.
      if (!(error instanceof WaitTimeoutError)) throw error;
    }
    if (!reading) throw new Error("the outbox was never read");
    keepEvidence(ctx, "COL-01", reading);
    const { response, document } = reading;
    const observedPositions = `positions of posts 1, 2, 3 (oldest to newest): ${show(wanted.map((u) => ids.indexOf(u)))}`;

    // 4. COL-01: an OrderedCollection, …
    if (response.status !== 200 || !hasType(document, "OrderedCollection")) {
      ctx.assert("COL-01", false, `the outbox answered ${response.status} ${typeOf(document) ?? ""}`.trim(), {
        expected: "200, an OrderedCollection",
        observed: `${response.status}, ${show(document ?? response.text(), 300)}`,
      });
      return;
    }
    // … paged (items through `first`, not all inline), …
    if (!reading.paged) {
      ctx.assert(
        "COL-01",
        false,
        `the outbox is not paged: ${reading.inline.length} item(s) inline, no first page`,
        {
          expected: "an OrderedCollection with `first` linking OrderedCollectionPages",
          observed: `keys ${show(Object.keys(document ?? {}))}, ${reading.inline.length} inline item(s)`,
        },
      );
      return;
    }
    const missing = wanted.filter((uri) => !ids.includes(uri));
    if (reading.problems.length > 0 || missing.length > 0) {
      const problems = [...reading.problems, ...missing.map((uri) => `post ${uri} not listed`)];
      ctx.assert("COL-01", false, `the outbox pages do not list the posts: ${problems.join("; ")}`, {
        expected: `pages (OrderedCollectionPage) listing ${show(wanted)}`,
        observed: `${problems.join("; ")}; listed ${show(ids, 600)}`,
      });
      return;
    }
    // … newest first: post 3 before post 2 before post 1.
    const [p1, p2, p3] = wanted.map((uri) => ids.indexOf(uri)) as [number, number, number];
    const newestFirst = p3 < p2 && p2 < p1;
    const oldestFirst = p1 < p2 && p2 < p3;
    ctx.assert(
      "COL-01",
      newestFirst,
      newestFirst
        ? "the outbox is paged and lists the newest post first"
        : oldestFirst
          ? "the outbox lists the posts oldest first"
          : "the outbox lists the posts out of order",
      {
        expected: "reverse chronological order: post 3, post 2, post 1",
        observed: observedPositions,
      },
    );
  },
};

/** The statuses that clearly refuse a GET of an inbox. */
const REFUSALS = [401, 403, 404, 405];

/** What is wrong with an answer to an inbox GET, or undefined when it is sane. */
async function inboxAnswerProblem(
  ctx: ScenarioContext,
  response: HttpResponse,
  secrets: string[],
): Promise<string | undefined> {
  const status = response.status;
  if (REFUSALS.includes(status)) return undefined;
  if (status >= 500) return `answered ${status} (a server error)`;
  if (status !== 200) return `answered ${status}, neither a collection nor a clear refusal`;
  const contentType = response.headers["content-type"] ?? "";
  if (!isAs2MediaType(contentType)) return `answered 200 as '${contentType}', not AS2`;
  const document = jsonBody(response);
  if (!hasType(document, "OrderedCollection") && !hasType(document, "OrderedCollectionPage")) {
    return `answered 200 with ${typeOf(document) ?? "no type"}, not an OrderedCollection`;
  }
  // What a stranger sees must not include the private message: the collection and its first page.
  let texts = [response.text()];
  const first = idOf(document?.first);
  if (first !== undefined && !isObject(document?.first))
    texts = [...texts, (await fetchAs2(ctx, first)).text()];
  const leaked = secrets.filter((s) => texts.some((t) => t.includes(s)));
  return leaked.length > 0 ? `shows the private message (${leaked[0]}) to a stranger` : undefined;
}

const inboxGet: Scenario = {
  id: "collections.inbox-get",
  suite: "collections",
  title: "A GET of the inbox is served as a filtered collection or clearly refused",
  shape: "single",
  checks: ["COL-02"],
  async run(ctx) {
    // 1. Roles: the target alone; a fresh account there, a probe actor that writes to it privately and
    // another probe actor, a stranger, who asks for its inbox.
    const recipient = await party(ctx, ctx.receiver, "recipient");
    const suffix = randomUUID().slice(0, 8);
    const writer = await ctx.probe.createActor(`col-writer-${suffix}`);
    const stranger = await ctx.probe.createActor(`col-stranger-${suffix}`);

    // 2. The writer sends a direct message; the recipient's server holds it (so the inbox has
    // something private in it when we look).
    const secret = token("private");
    const create = await ctx.probe.post(
      writer,
      {
        type: "Note",
        content: `<p>private to you ${secret}</p>`,
        tag: [{ type: "Mention", href: recipient.account.actorId, name: `@${recipient.account.handle}` }],
      },
      { to: [recipient.account.actorId] },
    );
    const messageId = idOf(create.object);
    if (!messageId) throw new Error("the probe's Create has no object id");
    await waitHeld(ctx, recipient, messageId, { what: "the direct message" });

    // 3. GET the inbox named by the actor document: unsigned, then signed by the stranger.
    const inbox = await inboxOf(ctx, recipient.account.actorId);
    const answers: Array<{ label: string; response: HttpResponse }> = [
      { label: "inbox, unsigned GET", response: await ctx.probe.fetch(inbox) },
      {
        label: "inbox, GET signed by a stranger",
        response: await ctx.probe.fetch(inbox, { signedAs: stranger }),
      },
    ];
    const problems: string[] = [];
    for (const { label, response } of answers) {
      ctx.evidence("COL-02", fetchEvidence(label, inbox, { accept: AS2_ACCEPT.activityJson }, response));
      const problem = await inboxAnswerProblem(ctx, response, [messageId, secret]);
      if (problem) problems.push(`${label}: ${problem}`);
    }

    // 4. COL-02: each answer a sane collection or a clear refusal.
    const observed = answers
      .map(({ label, response }) => `${label}: ${response.status} ${response.headers["content-type"] ?? ""}`)
      .join("; ");
    ctx.assert(
      "COL-02",
      problems.length === 0,
      problems.length === 0 ? `inbox GET answered sanely (${observed})` : `inbox GET ${problems.join("; ")}`,
      {
        expected: `an AS2 OrderedCollection not showing ${messageId}, or 401/403/404/405`,
        observed,
      },
    );
  },
};

/** How one of followers/following must look, from what the target holds. */
interface Expectation {
  name: "followers" | "following";
  /** totalItems the target's own state implies, when the driver can tell. */
  total?: number;
  /** Actor ids the items must include, and must not include. */
  include: string[];
  exclude: string[];
}

/** What is wrong with a served followers/following collection (empty when consistent). */
function collectionProblems(reading: CollectionReading, expectation: Expectation): string[] {
  const { name } = expectation;
  const problems = [...reading.problems.map((p) => `${name}: ${p}`)];
  const total = reading.document?.totalItems;
  if (!/Collection$/.test(typeOf(reading.document) ?? "")) {
    problems.push(`${name} is a ${typeOf(reading.document) ?? "document without type"}, not a collection`);
  }
  if (typeof total !== "number" || !Number.isInteger(total) || total < 0) {
    problems.push(`${name} has no usable totalItems (${show(total)})`);
    return problems;
  }
  if (expectation.total !== undefined && total !== expectation.total) {
    problems.push(`${name} totalItems ${total} but the server lists ${expectation.total}`);
  }
  if (expectation.total === undefined && total < expectation.include.length) {
    problems.push(`${name} totalItems ${total} after ${expectation.include.length} accepted follow(s)`);
  }
  if (reading.itemsShown) {
    const ids = reading.items.map(idOf);
    if (ids.length !== total)
      problems.push(`${name} totalItems ${total} but ${ids.length} item(s) in its pages`);
    for (const id of expectation.include) if (!ids.includes(id)) problems.push(`${name} items lack ${id}`);
    for (const id of expectation.exclude)
      if (ids.includes(id)) problems.push(`${name} items still list ${id}`);
  }
  return problems;
}

const followCollections: Scenario = {
  id: "collections.follow-collections",
  suite: "collections",
  title: "followers and following give totalItems consistent with their items and the server's state",
  shape: "single",
  checks: ["COL-03"],
  requires: { receiver: ["follow"] },
  async run(ctx) {
    // 1. Roles: the target alone; a fresh account there (the owner) and three probe actors: two
    // follow the owner (one of them unfollows again), the owner follows the third.
    const owner = await party(ctx, ctx.receiver, "owner");
    const driver = owner.target.driver;
    const suffix = randomUUID().slice(0, 8);
    const stays = await ctx.probe.createActor(`col-fan-${suffix}`);
    const leaves = await ctx.probe.createActor(`col-leaver-${suffix}`);
    const followee = await ctx.probe.createActor(`col-idol-${suffix}`);

    // 2. Both probe actors follow the owner; its server lists them and the probe sees them accepted.
    await Promise.all([stays, leaves].map((actor) => ctx.probe.follow(actor, owner.account.actorId)));
    await precondition(
      ctx,
      `${who(owner)} lists both probe actors as followers, and they see the follows accepted`,
      async () => {
        const followers = await driver.followers(owner.account);
        return (
          followers.includes(stays.id) &&
          followers.includes(leaves.id) &&
          ctx.probe.followState(leaves, owner.account.actorId) === "following"
        );
      },
      `the follows of ${who(owner)} by probe actors were never accepted`,
    );

    // 3. One of them unfollows; the owner's server drops it.
    await ctx.probe.unfollow(leaves, owner.account.actorId);
    await precondition(
      ctx,
      `${who(owner)} no longer lists ${leaves.id} after its Undo(Follow)`,
      async () => !(await driver.followers(owner.account)).includes(leaves.id),
      `${who(owner)} kept the follower ${leaves.id} after its Undo(Follow)`,
    );

    // 4. The owner follows the third probe actor (the probe accepts at once).
    await driver.follow(owner.account, followee.id);
    await precondition(
      ctx,
      `${who(owner)} sees its follow of ${followee.id} as established`,
      async () => (await driver.followState(owner.account, followee.id)) === "following",
      `${who(owner)} could not follow ${followee.id}`,
    );

    // 5. Read both collections named by the actor document; judge them against the server's state.
    const doc = await actorDocument(ctx, owner, "COL-03");
    const held = await driver.followers(owner.account);
    const expectations: Expectation[] = [
      { name: "followers", total: held.length, include: [stays.id], exclude: [leaves.id] },
      { name: "following", include: [followee.id], exclude: [] },
    ];
    const problems: string[] = [];
    const summary: string[] = [];
    let judged = 0;
    for (const expectation of expectations) {
      const url = idOf(doc[expectation.name]);
      if (!url) {
        summary.push(`${expectation.name}: not in the actor document`);
        continue;
      }
      const reading = await readCollection(ctx, url, expectation.name);
      keepEvidence(ctx, "COL-03", reading);
      const status = reading.response.status;
      if ([401, 403, 404].includes(status)) {
        // Deliberately hidden (DSC-ACT-03 allows it): nothing to count.
        summary.push(`${expectation.name}: hidden (${status})`);
        continue;
      }
      judged++;
      if (status !== 200 || !reading.document) {
        problems.push(`${expectation.name} answered ${status}`);
        continue;
      }
      problems.push(...collectionProblems(reading, expectation));
      summary.push(
        `${expectation.name}: totalItems ${show(reading.document.totalItems)}, ` +
          (reading.itemsShown ? `${reading.items.length} item(s)` : "items hidden"),
      );
    }
    if (judged === 0) {
      ctx.record(
        "COL-03",
        "inapplicable",
        `no followers/following collection is served (${summary.join("; ")})`,
      );
      return;
    }

    // 6. COL-03: counts agree with the items and with what the server holds.
    ctx.assert(
      "COL-03",
      problems.length === 0,
      problems.length === 0 ? `consistent: ${summary.join("; ")}` : problems.join("; "),
      {
        expected:
          `followers totalItems ${held.length} (the server's list), items (if shown) as many and ` +
          `including ${stays.id}, not ${leaves.id}; following totalItems ≥ 1, items (if shown) as many, including ${followee.id}`,
        observed: summary.join("; "),
      },
    );
  },
};

/** The collections suite. */
export const scenarios: Scenario[] = [outbox, inboxGet, followCollections];
