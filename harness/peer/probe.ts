/**
 * The probe: the harness's own instrumented ActivityPub server (like Complement's fake federation
 * server). It serves actors, WebFinger, NodeInfo, collections and objects; records every request it
 * gets with the signature verdict and validator findings; follows, posts, updates, deletes, likes and
 * announces like a well-behaved server; and can misbehave on purpose through {@link Probe.deliver}.
 *
 * Replaying an activity needs no knob: deliver the same document twice.
 * @module
 */
import { randomUUID } from "node:crypto";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { idOf, idsOf, isObject, type Json, typeOf } from "../protocol/as2.ts";
import { createHttpClient } from "../protocol/http-client.ts";
import { probeKeyPool } from "../protocol/key-pool.ts";
import { AS2_ACCEPT, createKeyResolver } from "../protocol/signatures.ts";
import type { SigningKey } from "../protocol/types.ts";
import {
  ACTOR_NAME_PATTERN,
  createLocalActor,
  INSTANCE_ACTOR,
  type LocalActor,
  localActorDocument,
} from "./actors.ts";
import { audienceOf, postDocument, withoutHiddenRecipients } from "./delivery.ts";
import { AS_CONTEXT, keyDocument, PUBLIC, tombstoneDocument } from "./documents.ts";
import { observeFetches } from "./fetch-observer.ts";
import { applyActivity, type InboxContext } from "./inbox.ts";
import { createInboxLog } from "./inbox-log.ts";
import { createOutbound, DeliveryError } from "./outbound.ts";
import { createRequestHandler } from "./routes.ts";
import { followKey, ProbeState } from "./state.ts";
import type { Addressing, Misbehaviour, Probe, ProbeActor, ProbeOptions } from "./types.ts";

export { DeliveryError } from "./outbound.ts";

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function withoutContext(document: Json): Json {
  const { "@context": _context, ...rest } = document;
  return rest;
}

/** The visible addressing (to/cc) of a document, as id lists. */
function addressingOf(document: Json): Addressing {
  const out: Addressing = {};
  if (document.to !== undefined) out.to = idsOf(document.to);
  if (document.cc !== undefined) out.cc = idsOf(document.cc);
  return out;
}

/** The addressing fields to spread into an activity: the given addressing, else the fallback. */
function addressed(addressing: Addressing | undefined, fallback: Addressing): Json {
  const chosen = addressing ?? fallback;
  const out: Json = {};
  for (const field of ["to", "cc", "bto", "bcc"] as const) {
    if (chosen[field] !== undefined) out[field] = chosen[field];
  }
  return out;
}

/**
 * Starts a probe. Defaults: listens on 127.0.0.1 on a free port over plain HTTP, auto-accepts
 * follows, signs with draft-cavage first and double-knocks, requires signatures on inbox POSTs,
 * accepts 3600 s of clock skew and bodies up to 1 MiB.
 */
export async function startProbe(options: ProbeOptions = {}): Promise<Probe> {
  const signing = {
    firstKnock: options.firstKnock ?? "draft-cavage-12",
    doubleKnock: options.doubleKnock ?? true,
  };
  const state = new ProbeState();
  const log = createInboxLog();
  const actors = new Map<string, LocalActor>();
  const keyDocuments = new Map<string, SigningKey>();
  const background = new Set<Promise<unknown>>();
  const backgroundErrors: string[] = [];

  // The handler needs the origin, which needs the port: bind it once listening.
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(503).end();
  };
  const server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => handler(req, res))
    : createHttpServer((req, res) => handler(req, res));
  const address = await listen(server, options.port ?? 0, options.host ?? "127.0.0.1");
  const scheme = options.tls ? "https" : "http";
  const listenHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const origin = options.publicOrigin
    ? new URL(options.publicOrigin).origin
    : `${scheme}://${listenHost}:${address.port}`;

  // Let the probe reach itself under its public name without the caller mapping it.
  const clientOptions = { ...options.client };
  const publicHost = new URL(origin).host;
  if (options.publicOrigin && !clientOptions.hostMap?.[publicHost]) {
    const self = { address: address.address, port: address.port };
    clientOptions.hostMap = { ...clientOptions.hostMap, [publicHost]: self };
  }
  // Every GET goes through this client, so `onFetch` sees key, actor and object fetches alike.
  const client = observeFetches(createHttpClient(clientOptions), options.onFetch);

  // The instance actor signs fetches that authorized-fetch targets refuse unsigned (SIG-09).
  const instanceActor = await createLocalActor(origin, INSTANCE_ACTOR, { locked: true, type: "Application" });
  actors.set(INSTANCE_ACTOR, instanceActor);
  const outbound = createOutbound({ origin, client, state, signing, actors, instanceActor });
  const { send } = outbound;

  function local(actor: ProbeActor | string): LocalActor {
    const name = typeof actor === "string" ? actor : actor.name;
    const found = name === INSTANCE_ACTOR ? undefined : actors.get(name);
    if (!found) {
      const known = [...actors.keys()].filter((n) => n !== INSTANCE_ACTOR);
      throw new Error(`The probe has no actor named '${name}'. Known actors: ${known.join(", ") || "none"}.`);
    }
    return found;
  }

  function newId(kind = "objects"): string {
    return `${origin}/${kind}/${randomUUID()}`;
  }

  function runInBackground(task: () => Promise<unknown>): void {
    // setImmediate: answer after the triggering POST got its response, as real servers do.
    const tracked = new Promise((resolve) => setImmediate(resolve)).then(task).catch((error: unknown) => {
      backgroundErrors.push(error instanceof Error ? error.message : String(error));
    });
    background.add(tracked);
    void tracked.finally(() => background.delete(tracked));
  }

  function hostedDocument(objectId: string): Json {
    const hosted = state.hosted.get(objectId);
    if (hosted?.kind !== "object") throw new Error(`The probe hosts no live object with id ${objectId}.`);
    return hosted.document;
  }

  async function authorOf(objectId: string): Promise<string | undefined> {
    const copy = state.hosted.get(objectId)?.document ?? state.received.get(objectId);
    if (copy) return idOf(copy.attributedTo) ?? idOf(copy.actor);
    try {
      const response = await outbound.get(objectId, AS2_ACCEPT);
      const document = response.status === 200 ? response.json() : undefined;
      return isObject(document) ? (idOf(document.attributedTo) ?? idOf(document.actor)) : undefined;
    } catch {
      return undefined;
    }
  }

  async function answer(
    entry: LocalActor,
    follow: Json,
    type: "Accept" | "Reject",
    embed: boolean,
  ): Promise<void> {
    const followerId = idOf(follow.actor);
    if (!followerId) throw new Error(`Cannot ${type.toLowerCase()} a Follow without an actor.`);
    await send(entry, {
      "@context": AS_CONTEXT,
      id: newId("activities"),
      type,
      actor: entry.actor.id,
      object: embed ? withoutContext(follow) : idOf(follow),
      to: [followerId],
    });
  }

  const inboxContext: InboxContext = {
    state,
    autoAccept: options.autoAccept ?? true,
    localActor(id) {
      for (const entry of actors.values()) {
        if (entry.actor.id === id && entry !== instanceActor) return entry.actor;
      }
      return undefined;
    },
    sendAccept(actorName, follow) {
      runInBackground(() => answer(local(actorName), follow, "Accept", true));
    },
  };

  handler = createRequestHandler({
    origin,
    scheme,
    publicOrigin: options.publicOrigin !== undefined,
    state,
    log,
    actors,
    // One GET per remote actor where one does: a follower's key fetch brings the actor document the
    // Accept is delivered with, and an actor just delivered to signs its answer with a key it lists.
    resolver: createKeyResolver(client, {
      signer: instanceActor.key,
      onActor: outbound.rememberActor,
      recentDocument: (url) => outbound.recentActor(url),
    }),
    requireSignatures: options.requireSignatures ?? true,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    skewSeconds: options.skewSeconds ?? 3600,
    apply: (activity) => void applyActivity(inboxContext, activity),
  });

  const probe: Probe = {
    origin,
    inbox: log,

    async createActor(name, actorOptions = {}) {
      if (!ACTOR_NAME_PATTERN.test(name) || name === INSTANCE_ACTOR) {
        throw new Error(`'${name}' is not a usable actor name: use letters, digits, '_', '.', '-'.`);
      }
      if (actors.has(name)) throw new Error(`The probe already has an actor named '${name}'.`);
      const entry = await createLocalActor(origin, name, {
        locked: actorOptions.locked ?? false,
        type: actorOptions.type ?? "Person",
      });
      actors.set(name, entry);
      return entry.actor;
    },
    actor: (name) => local(name).actor,
    setLocked(actor, locked) {
      local(actor).actor.locked = locked;
    },

    host(object) {
      const id = idOf(object);
      if (!id?.startsWith(`${origin}/`)) {
        throw new Error(`Only objects with an id on ${origin} can be hosted; got ${id ?? "no id"}.`);
      }
      state.hosted.set(id, { kind: "object", document: object });
    },
    tombstone(objectId) {
      const previous = state.hosted.get(objectId);
      const formerType = typeOf(previous?.document) ?? "Object";
      const formerTombstone = previous?.kind === "tombstone" ? previous.document : undefined;
      state.hosted.set(objectId, {
        kind: "tombstone",
        document: formerTombstone ?? tombstoneDocument(objectId, formerType, new Date().toISOString()),
      });
    },
    newId,

    async rotateKey(actor, rotateOptions = {}) {
      const entry = local(actor);
      const pair = await probeKeyPool().take();
      const keyId = rotateOptions.sameKeyId
        ? entry.actor.keyId
        : `${entry.actor.id}#key-${randomUUID().slice(0, 8)}`;
      entry.actor.keyId = keyId;
      entry.key = { keyId, privateKey: pair.privateKey, algorithm: "rsa-sha256" };
      entry.publicKeyPem = pair.publicKeyPem;
      const document = localActorDocument(entry, origin);
      const update: Json = {
        "@context": document["@context"],
        id: newId("activities"),
        type: "Update",
        actor: entry.actor.id,
        to: [PUBLIC],
        cc: [entry.actor.followers],
        object: withoutContext(document),
      };
      const failures: string[] = [];
      try {
        await send(entry, update);
      } catch (error) {
        // A receiver that cannot verify the new key refuses the Update: the scenario judges that.
        if (!(error instanceof DeliveryError)) throw error;
        failures.push(error.message);
      }
      return { keyId, update, failures };
    },
    deleteActor(actor) {
      const entry = local(actor);
      state.deletedActors.add(entry.actor.name);
      return {
        "@context": AS_CONTEXT,
        id: newId("activities"),
        type: "Delete",
        actor: entry.actor.id,
        to: [PUBLIC],
        cc: [entry.actor.followers],
        object: entry.actor.id,
      };
    },

    async follow(actor, targetActorId) {
      const entry = local(actor);
      const follow: Json = {
        "@context": AS_CONTEXT,
        id: newId("follows"),
        type: "Follow",
        actor: entry.actor.id,
        object: targetActorId,
      };
      const key = followKey(entry.actor.name, targetActorId);
      // Pending before sending: the Accept may arrive before our POST returns.
      state.outgoing.set(key, { state: "pending", follow });
      try {
        await send(entry, follow, [targetActorId]);
      } catch (error) {
        if (state.outgoing.get(key)?.follow === follow) state.outgoing.delete(key);
        throw error;
      }
      return follow;
    },
    async unfollow(actor, targetActorId, unfollowOptions = {}) {
      const entry = local(actor);
      const key = followKey(entry.actor.name, targetActorId);
      const outgoing = state.outgoing.get(key);
      if (!outgoing)
        throw new Error(`${entry.actor.handle} has not followed ${targetActorId}; nothing to undo.`);
      const undo: Json = {
        "@context": AS_CONTEXT,
        id: newId("activities"),
        type: "Undo",
        actor: entry.actor.id,
        object: unfollowOptions.byId ? outgoing.follow.id : withoutContext(outgoing.follow),
      };
      state.outgoing.delete(key);
      await send(entry, undo, [targetActorId]);
      return undo;
    },
    followState(actor, targetActorId) {
      return state.outgoing.get(followKey(local(actor).actor.name, targetActorId))?.state ?? "none";
    },
    followers: (actor) => [...(state.followers.get(local(actor).actor.name)?.keys() ?? [])],
    followRequests: (actor) => [...(state.requests.get(local(actor).actor.name)?.values() ?? [])],
    async accept(actor, follow, acceptOptions = {}) {
      const entry = local(actor);
      const followerId = idOf(follow.actor);
      if (!followerId) throw new Error("Cannot accept a Follow without an actor.");
      state.requests.get(entry.actor.name)?.delete(followerId);
      ProbeState.bucket(state.followers, entry.actor.name).set(followerId, follow);
      await answer(entry, follow, "Accept", acceptOptions.embed ?? true);
    },
    async reject(actor, follow) {
      const entry = local(actor);
      const followerId = idOf(follow.actor);
      if (!followerId) throw new Error("Cannot reject a Follow without an actor.");
      state.requests.get(entry.actor.name)?.delete(followerId);
      state.followers.get(entry.actor.name)?.delete(followerId);
      await answer(entry, follow, "Reject", true);
    },

    async post(actor, object, addressing) {
      const entry = local(actor);
      const now = new Date().toISOString();
      const id = idOf(object) ?? newId("objects");
      const context = object["@context"] ?? AS_CONTEXT;
      const note: Json = {
        type: "Note",
        ...withoutContext(object),
        id,
        attributedTo: object.attributedTo ?? entry.actor.id,
        published: object.published ?? now,
      };
      if (addressing.to ?? object.to) note.to = addressing.to ?? object.to;
      if (addressing.cc ?? object.cc) note.cc = addressing.cc ?? object.cc;
      const create: Json = {
        "@context": context,
        id: `${id}/activity`,
        type: "Create",
        actor: entry.actor.id,
        published: note.published,
        ...addressed(addressing, {}),
        object: note,
      };
      if (!id.startsWith(`${origin}/`))
        throw new Error(`A posted object's id must be on ${origin}; got ${id}.`);
      state.hosted.set(id, { kind: "object", document: { "@context": context, ...note } });
      state.audiences.set(id, audienceOf(create));
      return send(entry, create);
    },
    async update(actor, objectId, changes) {
      const entry = local(actor);
      const current = hostedDocument(objectId);
      const updated: Json = { ...current, ...changes, id: objectId, updated: new Date().toISOString() };
      state.hosted.set(objectId, { kind: "object", document: updated });
      const activity: Json = {
        "@context": updated["@context"] ?? AS_CONTEXT,
        id: newId("activities"),
        type: "Update",
        actor: entry.actor.id,
        ...addressingOf(updated),
        object: withoutContext(updated),
      };
      return send(entry, activity, state.audiences.get(objectId) ?? []);
    },
    async delete(actor, objectId) {
      const entry = local(actor);
      const current = hostedDocument(objectId);
      probe.tombstone(objectId);
      const activity: Json = {
        "@context": AS_CONTEXT,
        id: newId("activities"),
        type: "Delete",
        actor: entry.actor.id,
        ...addressingOf(current),
        object: { id: objectId, type: "Tombstone" },
      };
      return send(entry, activity, state.audiences.get(objectId) ?? []);
    },
    async like(actor, objectId, addressing) {
      const entry = local(actor);
      const author = await authorOf(objectId);
      if (!addressing && !author) {
        throw new Error(
          `Cannot tell who wrote ${objectId}, so the Like has no one to go to; pass addressing.`,
        );
      }
      const activity: Json = {
        "@context": AS_CONTEXT,
        id: newId("activities"),
        type: "Like",
        actor: entry.actor.id,
        object: objectId,
        ...addressed(addressing, { to: author ? [author] : [] }),
      };
      return send(entry, activity);
    },
    async announce(actor, objectId, addressing) {
      const entry = local(actor);
      const author = await authorOf(objectId);
      const cc = [entry.actor.followers, ...(author ? [author] : [])];
      const activity: Json = {
        "@context": AS_CONTEXT,
        id: newId("activities"),
        type: "Announce",
        actor: entry.actor.id,
        published: new Date().toISOString(),
        object: objectId,
        ...addressed(addressing, { to: [PUBLIC], cc }),
      };
      return send(entry, activity);
    },
    async undo(actor, activity, addressing, undoOptions = {}) {
      const entry = local(actor);
      const innerId = idOf(activity);
      if (undoOptions.byId && !innerId) throw new Error("Cannot undo by id an activity that has no id.");
      const undo: Json = {
        "@context": AS_CONTEXT,
        id: newId("activities"),
        type: "Undo",
        actor: entry.actor.id,
        ...addressed(addressing, addressingOf(activity)),
        object: undoOptions.byId ? innerId : withoutHiddenRecipients(withoutContext(activity)),
      };
      if (typeOf(activity) === "Follow") {
        const target = idOf(activity.object);
        if (target) state.outgoing.delete(followKey(entry.actor.name, target));
      }
      return send(entry, undo, (innerId && state.audiences.get(innerId)) || []);
    },

    async deliver(actor, inboxUrl, document, misbehaviour: Misbehaviour = {}) {
      const entry = local(actor);
      const signer: { key: SigningKey; signAsKey?: SigningKey; overrideKey?: SigningKey } = {
        key: entry.key,
      };
      if (misbehaviour.signAs) signer.signAsKey = local(misbehaviour.signAs).key;
      const overrideKey = misbehaviour.keyIdOverride
        ? keyDocuments.get(misbehaviour.keyIdOverride)
        : undefined;
      if (overrideKey) signer.overrideKey = overrideKey;
      return postDocument(client, inboxUrl, document, signer, signing, misbehaviour);
    },
    async fetch(url, fetchOptions = {}) {
      const as = fetchOptions.signedAs ? local(fetchOptions.signedAs) : undefined;
      return outbound.get(url, fetchOptions.accept ?? AS2_ACCEPT, as);
    },
    resolveActor: outbound.resolveActor,
    async hostKeyDocument(claimedOwner) {
      const pair = await probeKeyPool().take(); // a key no actor of the run has
      const keyId = newId("keys");
      state.hosted.set(keyId, {
        kind: "object",
        document: keyDocument(keyId, claimedOwner, pair.publicKeyPem),
      });
      const key: SigningKey = { keyId, privateKey: pair.privateKey, algorithm: "rsa-sha256" };
      keyDocuments.set(keyId, key);
      return { keyId, key };
    },

    receivedObject: (objectId) => state.received.get(objectId) ?? null,
    deletedObjects: () => [...state.deleted],
    backgroundErrors: () => [...backgroundErrors],

    async close() {
      log.close();
      await Promise.all([...background]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await client.close();
    },
  };
  return probe;
}
