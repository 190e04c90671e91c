/**
 * Rules over the HTTP headers a document came with: the Digest header's form (SHA-256 in upper case),
 * Content-Digest's RFC 9530 form, that either matches the body, and the delivery's Content-Type.
 * @module
 */
import { createHash } from "node:crypto";
import { parseDictionary } from "structured-headers";
import { finding } from "./catalogue.ts";
import type { Finding } from "./findings.ts";
import { isAs2MediaType } from "./rules.ts";
import { errorText, pointerJoin, preview } from "./util.ts";

/** What {@link checkHeaders} needs besides the headers. */
export interface HeaderContext {
  /** The raw body the headers describe (digests are checked against its UTF-8 bytes). Default: none. */
  body?: string;
  /** The request was a delivery (POST to an inbox). Default: false. */
  delivered?: boolean;
}

// Digest (RFC 3230) algorithm → digest length in bytes; the IANA registry names them in upper case.
const DIGEST_ALGORITHMS: Record<string, { hash: string; bytes: number; weak?: boolean }> = {
  "SHA-256": { hash: "sha256", bytes: 32 },
  "SHA-512": { hash: "sha512", bytes: 64 },
  SHA: { hash: "sha1", bytes: 20, weak: true },
  MD5: { hash: "md5", bytes: 16, weak: true },
};

// Content-Digest (RFC 9530 §5) algorithm keys.
const CONTENT_DIGEST_ALGORITHMS: Record<string, { hash: string; bytes: number; deprecated?: boolean }> = {
  "sha-256": { hash: "sha256", bytes: 32 },
  "sha-512": { hash: "sha512", bytes: 64 },
  md5: { hash: "md5", bytes: 16, deprecated: true },
  sha: { hash: "sha1", bytes: 20, deprecated: true },
};

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The header's value, whatever the case of its name. */
function header(headers: Record<string, string>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === "string") return value;
  }
  return undefined;
}

function digestOf(hash: string, body: string): Buffer {
  return createHash(hash).update(body, "utf8").digest();
}

/** Checks Digest, Content-Digest and Content-Type headers (pointers are `/headers/<name>`). */
export function checkHeaders(headers: Record<string, string>, context: HeaderContext = {}): Finding[] {
  const out: Finding[] = [];
  const digest = header(headers, "digest");
  const contentDigest = header(headers, "content-digest");
  if (digest !== undefined) checkDigest(digest, context.body, out);
  if (contentDigest !== undefined) checkContentDigest(contentDigest, context.body, out);
  if (context.delivered && context.body && digest === undefined && contentDigest === undefined) {
    out.push(
      finding(
        "SIG-DIGEST-MISSING",
        "/headers/digest",
        "expected a Digest (SHA-256=…) or Content-Digest (sha-256=:…:) header on a delivery with a body, found neither",
      ),
    );
  }
  const contentType = header(headers, "content-type");
  if (context.delivered && contentType !== undefined && !isAs2MediaType(contentType)) {
    const json = /^application\/(ld\+)?json\b/i.test(contentType.trim());
    out.push(
      finding(
        "AP-CONTENT-TYPE",
        "/headers/content-type",
        'expected application/activity+json or application/ld+json; profile="https://www.w3.org/ns/activitystreams", ' +
          `found ${preview(contentType)}`,
        json ? { severity: "warning", impact: "DEGRADED" } : {},
      ),
    );
  }
  return out;
}

function checkDigest(value: string, body: string | undefined, out: Finding[]): void {
  const pointer = "/headers/digest";
  let sawSha256 = false;
  for (const part of value.split(",")) {
    const item = part.trim();
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq <= 0) {
      out.push(finding("SIG-DIGEST-FORM", pointer, `expected <algorithm>=<base64>, found ${preview(item)}`));
      continue;
    }
    const algorithm = item.slice(0, eq);
    const encoded = item.slice(eq + 1);
    const canonical = algorithm.toUpperCase();
    // Own keys only: a header naming `constructor` must not find Object.prototype (issue 7 fuzzing).
    const known = Object.hasOwn(DIGEST_ALGORITHMS, canonical) ? DIGEST_ALGORITHMS[canonical] : undefined;
    if (!known) {
      out.push(
        finding(
          "SIG-DIGEST-FORM",
          pointer,
          `expected the algorithm SHA-256, found unknown ${preview(algorithm)}`,
          {
            severity: "warning",
          },
        ),
      );
      continue;
    }
    if (canonical === "SHA-256") sawSha256 = true;
    if (algorithm !== canonical) {
      out.push(
        finding(
          "SIG-DIGEST-FORM",
          pointer,
          `expected the upper-case prefix ${canonical}=, found ${algorithm}= (Threads rejected lower-case; fedify #125)`,
          { severity: "warning", source: "RFC 3230 §4.1.1 (case-insensitive), but see fedify #125" },
        ),
      );
    }
    if (known.weak) {
      out.push(
        finding("SIG-DIGEST-FORM", pointer, `expected SHA-256, found the weak algorithm ${canonical}`, {
          severity: "warning",
        }),
      );
    }
    const bytes = BASE64.test(encoded) ? Buffer.from(encoded, "base64") : undefined;
    if (!bytes || bytes.length !== known.bytes || encoded.length % 4 !== 0) {
      out.push(
        finding(
          "SIG-DIGEST-FORM",
          pointer,
          `expected ${canonical}= followed by the base64 of ${known.bytes} bytes, found ${preview(encoded)}`,
        ),
      );
      continue;
    }
    if (body !== undefined && !bytes.equals(digestOf(known.hash, body))) {
      out.push(
        finding(
          "SIG-DIGEST-MISMATCH",
          pointer,
          `expected ${canonical}=${digestOf(known.hash, body).toString("base64")} for this body, found ${encoded}`,
        ),
      );
    }
  }
  if (!sawSha256) {
    out.push(
      finding(
        "SIG-DIGEST-FORM",
        pointer,
        `expected a SHA-256= digest (Mastodon requires it), found ${preview(value)}`,
      ),
    );
  }
}

function checkContentDigest(value: string, body: string | undefined, out: Finding[]): void {
  const pointer = "/headers/content-digest";
  let dictionary: ReturnType<typeof parseDictionary>;
  try {
    dictionary = parseDictionary(value);
  } catch (error) {
    out.push(
      finding(
        "SIG-CONTENT-DIGEST-FORM",
        pointer,
        `expected a structured-field dictionary such as sha-256=:<base64>:, found ${preview(value)} (${errorText(error)})`,
      ),
    );
    return;
  }
  let sawActive = false;
  for (const [algorithm, member] of dictionary) {
    const where = pointerJoin(pointer, algorithm);
    const known = Object.hasOwn(CONTENT_DIGEST_ALGORITHMS, algorithm)
      ? CONTENT_DIGEST_ALGORITHMS[algorithm]
      : undefined;
    if (!known) {
      out.push(
        finding(
          "SIG-CONTENT-DIGEST-FORM",
          where,
          `expected the algorithm sha-256 or sha-512, found ${preview(algorithm)}`,
          {
            severity: "warning",
          },
        ),
      );
      continue;
    }
    if (known.deprecated) {
      out.push(
        finding(
          "SIG-CONTENT-DIGEST-FORM",
          where,
          `expected sha-256 or sha-512, found the deprecated ${algorithm}`,
          {
            severity: "warning",
          },
        ),
      );
    } else {
      sawActive = true;
    }
    const [item] = member;
    if (!(item instanceof ArrayBuffer)) {
      out.push(
        finding(
          "SIG-CONTENT-DIGEST-FORM",
          where,
          `expected ${algorithm}=:<base64>: (a byte sequence between colons), found ${preview(String(item))}`,
        ),
      );
      continue;
    }
    const bytes = Buffer.from(item);
    if (bytes.length !== known.bytes) {
      out.push(
        finding(
          "SIG-CONTENT-DIGEST-FORM",
          where,
          `expected ${known.bytes} bytes of ${algorithm} digest, found ${bytes.length}`,
        ),
      );
      continue;
    }
    if (body !== undefined && !bytes.equals(digestOf(known.hash, body))) {
      out.push(
        finding(
          "SIG-DIGEST-MISMATCH",
          where,
          `expected ${algorithm}=:${digestOf(known.hash, body).toString("base64")}: for this body, ` +
            `found :${bytes.toString("base64")}:`,
        ),
      );
    }
  }
  if (!sawActive) {
    out.push(
      finding(
        "SIG-CONTENT-DIGEST-FORM",
        pointer,
        `expected a sha-256 or sha-512 member, found ${preview(value)}`,
      ),
    );
  }
}
