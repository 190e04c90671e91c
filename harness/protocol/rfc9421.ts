/**
 * RFC 9421 HTTP Message Signatures for requests: component values, the signature base, the
 * `Signature-Input`/`Signature` fields (structured fields, RFC 8941) and the registered algorithms.
 * Policy (required components, clock skew) lives in verify.ts.
 * @module
 */
import { constants, type KeyObject, sign, verify } from "node:crypto";
import {
  type BareItem,
  type InnerList,
  type Item,
  isInnerList,
  parseDictionary,
  serializeDictionary,
  serializeInnerList,
  serializeItem,
} from "structured-headers";
import { SignatureFormatError } from "./cavage.ts";
import type { SignableRequest, SigningKey } from "./types.ts";

/** The `alg` parameter written for a key. */
export function rfc9421AlgorithmFor(key: SigningKey): "rsa-v1_5-sha256" | "ed25519" {
  return key.algorithm === "ed25519" ? "ed25519" : "rsa-v1_5-sha256";
}

/** One signature of a request, as `Signature-Input` and `Signature` describe it. */
export interface Rfc9421Signature {
  label: string;
  /** Covered component identifiers, e.g. `@method`, `content-digest`. */
  components: string[];
  /** The inner list as parsed, kept to rebuild `@signature-params` and component ids exactly. */
  input: InnerList;
  keyId?: string;
  alg?: string;
  /** `created` / `expires`, Unix seconds. */
  created?: number;
  expires?: number;
  signature: Buffer;
}

/** Value of a derived (`@…`) or header component; throws {@link SignatureFormatError} when it cannot be had. */
function componentValue(request: SignableRequest, item: Item): string {
  const [name, params] = item;
  if (typeof name !== "string")
    throw new SignatureFormatError("a covered component identifier is not a string");
  if (params.size > 0) {
    const keys = [...params.keys()].map((k) => `;${k}`).join("");
    throw new SignatureFormatError(`component parameters (${name}${keys}) are not supported`);
  }
  const url = new URL(request.url);
  switch (name) {
    case "@method":
      return request.method.toUpperCase();
    case "@target-uri":
      return request.url;
    case "@authority":
      return url.host.toLowerCase();
    case "@scheme":
      return url.protocol.slice(0, -1).toLowerCase();
    case "@request-target":
      return `${url.pathname}${url.search}`;
    case "@path":
      return url.pathname || "/";
    case "@query":
      return url.search || "?";
  }
  if (name.startsWith("@"))
    throw new SignatureFormatError(`derived component ${name} is not supported for requests`);
  const value = request.headers[name];
  if (value === undefined)
    throw new SignatureFormatError(`covered component '${name}' is missing from the request`);
  return value.trim();
}

/** The signature base (RFC 9421 §2.5) for a `Signature-Input` inner list. */
export function signatureBase(request: SignableRequest, input: InnerList): string {
  const lines = input[0].map((item) => `${serializeItem(item)}: ${componentValue(request, item)}`);
  lines.push(`"@signature-params": ${serializeInnerList(input)}`);
  return lines.join("\n");
}

/**
 * Signs the request over `components` and returns the `Signature-Input` and `Signature` values,
 * labelled `label` (default `sig1`), with `created`, `keyid` and `alg` parameters.
 */
export function signRfc9421(
  request: SignableRequest,
  key: SigningKey,
  components: readonly string[],
  created: number,
  label = "sig1",
): { signatureInput: string; signature: string } {
  const params = new Map<string, BareItem>([
    ["created", created],
    ["keyid", key.keyId],
    ["alg", rfc9421AlgorithmFor(key)],
  ]);
  const input: InnerList = [components.map((c): Item => [c, new Map()]), params];
  const data = Buffer.from(signatureBase(request, input), "utf8");
  const bytes =
    key.algorithm === "ed25519" ? sign(null, data, key.privateKey) : sign("sha256", data, key.privateKey);
  return {
    signatureInput: serializeDictionary(new Map([[label, input]])),
    signature: serializeDictionary(new Map([[label, [bytes, new Map()] as Item]])),
  };
}

/**
 * Parses `Signature-Input` and `Signature` into one entry per label present in both.
 * Throws {@link SignatureFormatError} when either field is not a valid dictionary.
 */
export function parseRfc9421Signatures(signatureInput: string, signatureField: string): Rfc9421Signature[] {
  let inputs: ReturnType<typeof parseDictionary>;
  let signatures: ReturnType<typeof parseDictionary>;
  try {
    inputs = parseDictionary(signatureInput);
  } catch (error) {
    throw new SignatureFormatError(
      `Signature-Input is not a valid structured field: ${(error as Error).message}`,
    );
  }
  try {
    signatures = parseDictionary(signatureField);
  } catch (error) {
    throw new SignatureFormatError(`Signature is not a valid structured field: ${(error as Error).message}`);
  }
  const result: Rfc9421Signature[] = [];
  for (const [label, input] of inputs) {
    if (!isInnerList(input)) throw new SignatureFormatError(`Signature-Input ${label} is not an inner list`);
    const member = signatures.get(label);
    if (member === undefined) throw new SignatureFormatError(`Signature has no value labelled ${label}`);
    if (isInnerList(member) || !(member[0] instanceof ArrayBuffer)) {
      throw new SignatureFormatError(`Signature ${label} is not a byte sequence`);
    }
    const params = input[1];
    const entry: Rfc9421Signature = {
      label,
      components: input[0].map(([name]) => String(name)),
      input,
      signature: Buffer.from(member[0]),
    };
    const keyId = params.get("keyid");
    const alg = params.get("alg");
    const created = params.get("created");
    const expires = params.get("expires");
    if (typeof keyId === "string") entry.keyId = keyId;
    if (typeof alg === "string") entry.alg = alg;
    if (typeof created === "number") entry.created = created;
    if (typeof expires === "number") entry.expires = expires;
    result.push(entry);
  }
  if (result.length === 0) throw new SignatureFormatError("Signature-Input holds no signatures");
  return result;
}

/**
 * Verifies bytes for an RFC 9421 `alg` (registered names; absent = from the key type).
 * Returns a reason when the algorithm does not fit the key or is not supported.
 */
export function verifyRfc9421Bytes(
  alg: string | undefined,
  key: KeyObject,
  data: Buffer,
  signature: Buffer,
): { ok: boolean; reason?: string } {
  const type = key.asymmetricKeyType;
  const chosen =
    alg ?? (type === "rsa" ? "rsa-v1_5-sha256" : type === "ed25519" ? "ed25519" : "ecdsa-p256-sha256");
  const needs = (expected: string, actual: string | undefined) =>
    actual === expected
      ? undefined
      : { ok: false, reason: `alg "${chosen}" needs a ${expected} key, but the key is ${type}` };
  switch (chosen) {
    case "rsa-v1_5-sha256":
      return needs("rsa", type) ?? { ok: verify("sha256", data, key, signature) };
    case "rsa-pss-sha512":
      return (
        needs("rsa", type) ?? {
          ok: verify(
            "sha512",
            data,
            { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 },
            signature,
          ),
        }
      );
    case "ed25519":
      return needs("ed25519", type) ?? { ok: verify(null, data, key, signature) };
    case "ecdsa-p256-sha256":
      return (
        needs("ec", type) ?? { ok: verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, signature) }
      );
    default:
      return { ok: false, reason: `unsupported alg "${chosen}"` };
  }
}
