/**
 * The JSON-LD contexts the validator knows offline, and a document loader that serves them without
 * ever touching the network. Most come from `@fedify/vocab-runtime`'s `preloadedContexts`; the rest are
 * written here from the vocabularies' published term lists.
 * @module
 */
import { preloadedContexts } from "@fedify/vocab-runtime";
import type { JsonObject } from "./util.ts";

/** The normative Activity Streams 2.0 context URL. */
export const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";

/** The path Pleroma and Akkoma serve their LitePub context at, on every host. */
export const LITEPUB_PATH = "/schemas/litepub-0.1.jsonld";

// FEP-7aa9 (featured collections): term list from the FEP's vocabulary section.
const FEP_7AA9: JsonObject = {
  "@context": {
    fep7aa9: "https://w3id.org/fep/7aa9#",
    FeaturedCollection: "fep7aa9:FeaturedCollection",
    FeaturedItem: "fep7aa9:FeaturedItem",
    FeatureRequest: "fep7aa9:FeatureRequest",
    FeatureAuthorization: "fep7aa9:FeatureAuthorization",
    featuredObject: { "@id": "fep7aa9:featuredObject", "@type": "@id" },
    featureAuthorization: { "@id": "fep7aa9:featureAuthorization", "@type": "@id" },
    featuredCollections: { "@id": "fep7aa9:featuredCollections", "@type": "@id" },
    topic: { "@id": "fep7aa9:topic", "@type": "@id" },
    canFeature: { "@id": "fep7aa9:canFeature", "@type": "@id" },
  },
};

// LitePub 0.1 as Pleroma and Akkoma serve it; the two differ by release, so this is the union of
// the terms they define (all of them map to the same IRIs wherever they overlap).
const LITEPUB: JsonObject = {
  "@context": [
    AS_CONTEXT,
    "https://w3id.org/security/v1",
    "https://purl.archive.org/socialweb/webfinger",
    {
      as: "https://www.w3.org/ns/activitystreams#",
      litepub: "http://litepub.social/ns#",
      ostatus: "http://ostatus.org#",
      schema: "http://schema.org#",
      toot: "http://joinmastodon.org/ns#",
      fedibird: "http://fedibird.com/ns#",
      misskey: "https://misskey-hub.net/ns#",
      firefish: "https://joinfirefish.org/ns#",
      sharkey: "https://joinsharkey.org/ns#",
      gts: "https://gotosocial.org/ns#",
      sm: "http://smithereen.software/ns#",
      vcard: "http://www.w3.org/2006/vcard/ns#",
      Emoji: "toot:Emoji",
      Hashtag: "as:Hashtag",
      PropertyValue: "schema:PropertyValue",
      value: "schema:value",
      atomUri: "ostatus:atomUri",
      conversation: { "@id": "ostatus:conversation", "@type": "@id" },
      discoverable: "toot:discoverable",
      featured: { "@id": "toot:featured", "@type": "@id" },
      manuallyApprovesFollowers: "as:manuallyApprovesFollowers",
      sensitive: "as:sensitive",
      capabilities: "litepub:capabilities",
      invisible: "litepub:invisible",
      directMessage: "litepub:directMessage",
      listMessage: { "@id": "litepub:listMessage", "@type": "@id" },
      oauthRegistrationEndpoint: { "@id": "litepub:oauthRegistrationEndpoint", "@type": "@id" },
      EmojiReact: "litepub:EmojiReact",
      ChatMessage: "litepub:ChatMessage",
      formerRepresentations: "litepub:formerRepresentations",
      quoteUrl: "as:quoteUrl",
      quoteUri: "fedibird:quoteUri",
      quote: { "@id": "https://w3id.org/fep/044f#quote", "@type": "@id" },
      quoteAuthorization: { "@id": "https://w3id.org/fep/044f#quoteAuthorization", "@type": "@id" },
      QuoteRequest: "https://w3id.org/fep/044f#QuoteRequest",
      QuoteAuthorization: "https://w3id.org/fep/044f#QuoteAuthorization",
      isCat: "misskey:isCat",
      speakAsCat: "firefish:speakAsCat",
      backgroundUrl: { "@id": "sharkey:backgroundUrl", "@type": "@id" },
      nonAnonymous: "sm:nonAnonymous",
      interactionPolicy: { "@id": "gts:interactionPolicy", "@type": "@id" },
      canQuote: { "@id": "gts:canQuote", "@type": "@id" },
      automaticApproval: { "@id": "gts:automaticApproval", "@type": "@id" },
      manualApproval: { "@id": "gts:manualApproval", "@type": "@id" },
      interactingObject: { "@id": "gts:interactingObject", "@type": "@id" },
      interactionTarget: { "@id": "gts:interactionTarget", "@type": "@id" },
    },
  ],
};

// Written here because vocab-runtime does not ship them.
const OWN_CONTEXTS: Record<string, JsonObject> = {
  "https://w3id.org/fep/7aa9": FEP_7AA9,
};

// Spellings seen in the wild for contexts we know under another URL.
const ALIASES: Record<string, string> = {
  "http://www.w3.org/ns/activitystreams": AS_CONTEXT,
  "https://www.w3.org/ns/activitystreams.jsonld": AS_CONTEXT,
  "http://www.w3.org/ns/activitystreams.jsonld": AS_CONTEXT,
  "https://joinmastodon.org/ns": "http://joinmastodon.org/ns",
  "http://w3id.org/security/v1": "https://w3id.org/security/v1",
  "https://schema.org/": "http://schema.org/",
  "https://schema.org": "http://schema.org/",
  "http://schema.org": "http://schema.org/",
};

const PRELOADED = preloadedContexts as Record<string, unknown>;

/**
 * The canonical URL under which `url` is known offline, `"litepub"` for a LitePub context on any host,
 * or undefined when the context is unknown.
 */
export function knownContextKey(url: string): string | undefined {
  const trimmed = url.endsWith("#") ? url.slice(0, -1) : url;
  // Own properties only: a context named "toString" or "__proto__" must not reach Object.prototype.
  const key = Object.hasOwn(ALIASES, trimmed) ? (ALIASES[trimmed] as string) : trimmed;
  if (Object.hasOwn(OWN_CONTEXTS, key) || Object.hasOwn(PRELOADED, key)) return key;
  if (isLitepubUrl(trimmed)) return "litepub";
  return undefined;
}

/** True when `url` names the normative AS2 context (in any of its known spellings). */
export function isAs2ContextUrl(url: string): boolean {
  const key = knownContextKey(url);
  return key === AS_CONTEXT;
}

/** True when `url` is a LitePub context (`https://<host>/schemas/litepub-0.1.jsonld`). */
export function isLitepubUrl(url: string): boolean {
  if (!/^https?:\/\//i.test(url)) return false;
  try {
    return new URL(url).pathname === LITEPUB_PATH;
  } catch {
    return false;
  }
}

/** The context document known offline for `url` (a fresh copy), or undefined. */
export function getOfflineContext(url: string): JsonObject | undefined {
  const key = knownContextKey(url);
  if (key === undefined) return undefined;
  const doc = key === "litepub" ? LITEPUB : (OWN_CONTEXTS[key] ?? PRELOADED[key]);
  // jsonld rewrites relative IRIs inside context documents in place: hand it a copy.
  return structuredClone(doc) as JsonObject;
}

/** The list of context URLs known offline (LitePub is matched by path and listed by its path). */
export function knownContextUrls(): string[] {
  return [...Object.keys(PRELOADED), ...Object.keys(OWN_CONTEXTS), `https://<any host>${LITEPUB_PATH}`];
}

/** What a JSON-LD document loader returns (the shape jsonld expects). */
export interface LoadedDocument {
  contextUrl: string | undefined;
  documentUrl: string;
  document: unknown;
  /** `"static"` lets jsonld keep the processed context in its shared cache across calls. */
  tag?: string;
}

/** A JSON-LD document loader. */
export type DocumentLoader = (url: string) => Promise<LoadedDocument>;

/** Options of {@link createOfflineLoader}. */
export interface OfflineLoaderOptions {
  /** Called with every URL the loader does not know (it then serves an empty context). Default: none. */
  onUnknown?: (url: string) => void;
}

/**
 * A JSON-LD document loader that serves only the contexts known offline. It never touches the network:
 * an unknown URL is reported through `onUnknown` and served as an empty context, so expansion goes on
 * and the terms that context would have defined show up as undefined.
 */
export function createOfflineLoader(options: OfflineLoaderOptions = {}): DocumentLoader {
  // A bound function rather than a closure: this runs for every document validated.
  return loadOffline.bind(options);
}

function loadOffline(this: OfflineLoaderOptions, url: string): Promise<LoadedDocument> {
  const doc = getOfflineContext(url);
  if (doc !== undefined) {
    return Promise.resolve({ contextUrl: undefined, documentUrl: url, document: doc, tag: "static" });
  }
  this.onUnknown?.(url);
  // No tag: jsonld must not cache this stand-in, so the next document reports the URL again.
  return Promise.resolve({ contextUrl: undefined, documentUrl: url, document: { "@context": {} } });
}
