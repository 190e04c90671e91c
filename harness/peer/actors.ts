/**
 * The probe's own actors: their ids, keys and documents.
 * @module
 */

import type { Json } from "../protocol/as2.ts";
import { probeKeyPool } from "../protocol/key-pool.ts";
import type { SigningKey } from "../protocol/types.ts";
import { actorDocument } from "./documents.ts";
import type { ProbeActor } from "./types.ts";

/** A probe actor together with its private key. */
export interface LocalActor {
  actor: ProbeActor;
  /** AS2 actor type: Person, Service, or Application for the instance actor. */
  type: string;
  key: SigningKey;
  publicKeyPem: string;
}

/** Names an actor may have (they appear in paths and `acct:` handles). */
export const ACTOR_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Name of the hidden instance actor that signs fetches for authorized-fetch targets. */
export const INSTANCE_ACTOR = "fedicheck.instance";

/**
 * Creates an actor with an RSA key no other actor of this process has (from the probe's key pool,
 * harness/protocol/key-pool.ts); ids live under `${origin}/users/<name>`.
 */
export async function createLocalActor(
  origin: string,
  name: string,
  options: { locked: boolean; type: string },
): Promise<LocalActor> {
  const pair = await probeKeyPool().take();
  const id = `${origin}/users/${name}`;
  const actor: ProbeActor = {
    name,
    id,
    handle: `${name}@${new URL(origin).host}`,
    inbox: `${id}/inbox`,
    outbox: `${id}/outbox`,
    followers: `${id}/followers`,
    following: `${id}/following`,
    keyId: `${id}#main-key`,
    locked: options.locked,
  };
  return {
    actor,
    type: options.type,
    key: { keyId: actor.keyId, privateKey: pair.privateKey, algorithm: "rsa-sha256" },
    publicKeyPem: pair.publicKeyPem,
  };
}

/** The actor document a local actor serves. */
export function localActorDocument(entry: LocalActor, origin: string): Json {
  return actorDocument(entry.actor, {
    type: entry.type,
    publicKeyPem: entry.publicKeyPem,
    sharedInbox: `${origin}/inbox`,
  });
}
