/**
 * A throwaway certificate authority for a run: targets and the probe serve HTTPS with certificates
 * it issues, and the harness (and containers, via NODE_EXTRA_CA_CERTS) trust its root.
 * @module
 */
// @peculiar/x509 resolves its algorithms through tsyringe, which needs this polyfill loaded first.
import "reflect-metadata";
import { KeyObject, randomBytes, webcrypto } from "node:crypto";
import { isIP } from "node:net";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
} from "@peculiar/x509";

/** Options of {@link createTestCa}. */
export interface TestCaOptions {
  /** Common name of the root. Default `fedicheck test CA`. */
  commonName?: string;
  /** Validity of the root and of every issued certificate, in days. Default 2. */
  validityDays?: number;
}

/** A certificate and its private key, both PEM (key as PKCS#8). */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

/** A test CA: its root, and a way to issue server certificates. */
export interface TestCa extends IssuedCertificate {
  /** Issues a server certificate for DNS names and IP addresses (e.g. `a.test`, `localhost`, `127.0.0.1`). */
  issue(hostnames: string[]): Promise<IssuedCertificate>;
}

// ECDSA P-256: generating a key takes about a millisecond, against ~100 ms for RSA 2048.
const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;
// Containers' clocks and ours may differ slightly; start validity an hour back.
const BACKDATE_MS = 60 * 60 * 1000;

const crypto = webcrypto;
type KeyPair = webcrypto.CryptoKeyPair;

function keyPem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: "pkcs8", format: "pem" }).toString();
}

function serialNumber(): string {
  // Positive 16-byte serial: clear the top bit so DER does not read it as negative.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString("hex");
}

function cnEscape(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, "\\$1");
}

/** Creates a root CA (ECDSA P-256) valid for `validityDays` (default 2). Nothing is written to disk. */
export async function createTestCa(options: TestCaOptions = {}): Promise<TestCa> {
  const validityMs = (options.validityDays ?? 2) * 24 * 60 * 60 * 1000;
  const commonName = options.commonName ?? "fedicheck test CA";
  const caKeys = (await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"])) as KeyPair;
  const now = Date.now();
  const root = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: `CN=${cnEscape(commonName)}`,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + validityMs),
      signingAlgorithm: SIGNING_ALGORITHM,
      keys: caKeys,
      extensions: [
        new BasicConstraintsExtension(true, 0, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        await SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );

  return {
    certPem: root.toString("pem"),
    keyPem: keyPem(caKeys.privateKey),
    async issue(hostnames) {
      if (hostnames.length === 0) throw new Error("issue() needs at least one hostname or IP address");
      const keys = (await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"])) as KeyPair;
      const issuedAt = Date.now();
      const cert = await X509CertificateGenerator.create(
        {
          serialNumber: serialNumber(),
          subject: `CN=${cnEscape(hostnames[0]!)}`,
          issuer: root.subject,
          notBefore: new Date(issuedAt - BACKDATE_MS),
          notAfter: new Date(Math.min(issuedAt + validityMs, root.notAfter.getTime())),
          signingAlgorithm: SIGNING_ALGORITHM,
          publicKey: keys.publicKey,
          signingKey: caKeys.privateKey,
          extensions: [
            new BasicConstraintsExtension(false, undefined, true),
            new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment, true),
            new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth]),
            new SubjectAlternativeNameExtension(
              hostnames.map((name) => ({
                type: isIP(name) ? ("ip" as const) : ("dns" as const),
                value: name,
              })),
            ),
            await SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
            await AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
          ],
        },
        crypto,
      );
      return { certPem: cert.toString("pem"), keyPem: keyPem(keys.privateKey) };
    },
  };
}
