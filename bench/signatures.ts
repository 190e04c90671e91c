/**
 * Signing and verifying throughput of both HTTP signature schemes with RSA 2048 keys, measured
 * side by side in one process. Run: `node bin/run-ts.js bench/signatures.ts`.
 * @module
 */
import { pathToFileURL } from "node:url";
import { generateSigningKeyPair } from "../harness/protocol/keys.ts";
import { signRequest, verifyRequest } from "../harness/protocol/signatures.ts";
import type { KeyResolver, SignableRequest, SignatureScheme, SigningKey } from "../harness/protocol/types.ts";

const SCHEMES: SignatureScheme[] = ["draft-cavage-12", "rfc9421"];

async function measure(durationMs: number, operation: () => unknown | Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await operation(); // warm-up
  let count = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    await operation();
    count++;
    elapsed = performance.now() - started;
  }
  return Math.round((count * 1000) / elapsed);
}

/**
 * Measures signatures per second, signing and verifying, per scheme (rsa-sha256, a 1 KiB POST;
 * the key comes from memory, so verification is pure parsing, digest and crypto). Each measurement
 * runs `durationMs` (default 1000). Returns `{ "<scheme> sign/s": n, "<scheme> verify/s": n, … }`
 * and prints a table.
 */
export async function benchSignatures(
  options: { durationMs?: number } = {},
): Promise<Record<string, number>> {
  const durationMs = options.durationMs ?? 1000;
  const pair = await generateSigningKeyPair("rsa-sha256");
  const key: SigningKey = {
    keyId: "https://b.test/users/bob#main-key",
    privateKey: pair.privateKey,
    algorithm: "rsa-sha256",
  };
  const resolver: KeyResolver = {
    resolve: async (keyId) => ({
      keyId,
      publicKey: pair.publicKey,
      ownerActorId: "https://b.test/users/bob",
    }),
  };
  const request: SignableRequest = {
    method: "POST",
    url: "https://a.test/users/alice/inbox",
    headers: { "content-type": "application/activity+json" },
    body: JSON.stringify({ type: "Create", content: "x".repeat(960) }),
  };
  const results: Record<string, number> = {};
  const rows: Array<{ scheme: SignatureScheme; "sign/s": number; "verify/s": number }> = [];
  for (const scheme of SCHEMES) {
    const sign = await measure(durationMs, () => signRequest(request, key, { scheme }));
    const signed = { ...request, headers: { ...request.headers, ...signRequest(request, key, { scheme }) } };
    const verify = await measure(durationMs, async () => {
      const verdict = await verifyRequest(signed, resolver);
      if (!verdict.ok) throw new Error(`benchmark request failed to verify: ${verdict.reason}`);
    });
    results[`${scheme} sign/s`] = sign;
    results[`${scheme} verify/s`] = verify;
    rows.push({ scheme, "sign/s": sign, "verify/s": verify });
  }
  console.log(`HTTP signatures, rsa-sha256 (RSA 2048), 1 KiB POST body, ${durationMs} ms per cell`);
  console.table(rows);
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchSignatures();
}
