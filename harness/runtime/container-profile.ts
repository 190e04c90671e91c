/**
 * How an implementation boots in containers, as data in its profile (`container` in
 * `fixtures/profiles/<id>.json`). {@link renderTarget} in container-spec.ts turns it into concrete
 * container specs for one target of one run; docker-compose.yml is generated from the same data.
 *
 * Strings in env, commands and file templates may hold placeholders, replaced per target:
 * `{{host}}` (e.g. `mastodon.test`), `{{origin}}`, `{{targetId}}`, `{{service:db}}` (the network name
 * of another service of the target), `{{hex:N:name}}` (N hex characters of a per-target secret; the
 * same name gives the same value), `{{subnet}}` (the run network's CIDR), `{{ca}}`, `{{bundle}}`,
 * `{{cert}}`, `{{key}}` (the fixed paths of {@link PATHS}); in provisioning steps also
 * `{{username}}`, `{{email}}` and `{{password}}`. An unknown placeholder is an error.
 * @module
 */

/** Fixed paths inside every container: the contract between the runtime and the images. */
export const PATHS = {
  /** The run's CA certificate (PEM), in every container. */
  ca: "/fedicheck/ca.pem",
  /** The system roots plus the run's CA, for software that takes one bundle (SSL_CERT_FILE). */
  bundle: "/fedicheck/bundle.pem",
  /** Directory of host certificates: `<dir>/<hostname>/cert.pem` and `key.pem`. */
  tlsDir: "/fedicheck/tls",
  /** Where the system bundle is replaced for images that only read the OS store. */
  systemBundle: "/etc/ssl/certs/ca-certificates.crt",
} as const;

/**
 * How a server is made to trust the run's CA:
 * - `ssl-cert-file`: `SSL_CERT_FILE` = the bundle (OpenSSL, Ruby, Go);
 * - `ssl-cert-dir`: `SSL_CERT_DIR` = the directory holding the CA;
 * - `node-extra-ca-certs`: `NODE_EXTRA_CA_CERTS` = the CA (Node keeps its own roots);
 * - `system-bundle-mount`: the bundle replaces the OS store file;
 * - `config-file`: the server's config file names the bundle (its template does it).
 */
export type TrustMethod =
  | "ssl-cert-file"
  | "ssl-cert-dir"
  | "node-extra-ca-certs"
  | "system-bundle-mount"
  | "config-file";

/** Where TLS ends: in the server itself, or in fedicheck's TLS front proxying to a plain-HTTP service. */
export type TlsProfile =
  | { mode: "self" /** Port the server serves HTTPS on. */; port: number }
  | {
      mode: "front" /** Service behind the front. */;
      service: string /** Its plain-HTTP port. */;
      port: number;
    };

/** A file placed in a service's container before it starts. */
export interface FileTemplate {
  /** Absolute path in the container. */
  path: string;
  /** Template path relative to the repository (e.g. `fixtures/profiles/templates/misskey/default.yml`)… */
  template?: string;
  /** … or the template text itself. */
  content?: string;
  /** File mode. Default 0o644. */
  mode?: number;
}

/** One container of a target: the server, a worker, or a companion (database, cache). */
export interface ServiceTemplate {
  /** Unique within the profile, e.g. `web`, `sidekiq`, `db`. Never `front` (reserved). */
  name: string;
  /** `main` serves HTTP(S); `worker` shares the app's env; `companion` is a dependency. */
  role: "main" | "worker" | "companion";
  /** Image; default the profile's image (so `--image` overrides every app service at once). */
  image?: string;
  entrypoint?: string[];
  command?: string[];
  /** Extra env of this service (app services also get the profile's `appEnv`). */
  env?: Record<string, string>;
  files?: FileTemplate[];
  /** `uid[:gid]` to run as; default the image's. */
  user?: string;
  /** Log line (a regular expression) that says the service is up; with `waitLogTimes` occurrences. */
  waitLog?: string;
  /** How many times `waitLog` must appear (postgres prints it twice on first start). Default 1. */
  waitLogTimes?: number;
  /** Services that must be up before this one starts. */
  dependsOn?: string[];
}

/** A one-shot command run to completion before the app services start (migrations). */
export interface InitStep {
  name: string;
  /** Run in a fresh container of this service's spec, with `command` instead of its own. */
  service: string;
  command: string[];
}

/** How the harness gets an account, or an API token for it, on a fresh target. */
export type ProvisionStep =
  | {
      kind: "exec";
      /** Service to run the command in. */
      service: string;
      command: string[];
      /** Regular expression with one group that captures the result (password or token) from stdout. */
      capture?: string;
    }
  | {
      kind: "http";
      method: "POST" | "GET";
      path: string;
      /** JSON body (a template). */
      body?: Record<string, string>;
      /** Field of the JSON answer that holds the result. */
      resultField?: string;
    }
  /** Scripted authorization-code flow with an out-of-band redirect (GoToSocial). */
  | { kind: "oauth-authorization-code"; scopes: string }
  /** `POST /api/v1/apps` then `POST /oauth/token grant_type=password`. */
  | { kind: "oauth-password-grant"; scopes: string };

/** The readiness check, made over HTTPS through the target's public name. */
export interface HealthCheck {
  path: string;
  /** Default GET. */
  method?: "GET" | "POST";
  /** JSON body for POST. */
  body?: string;
  /** Expected status. Default 200. */
  status?: number;
  /** Regular expression the body must match, when given. */
  bodyMatches?: string;
}

/** The `container` section of an implementation profile. */
export interface ContainerProfile {
  /** Image of the app services, with a pinned tag. Overridable with `--image <implementation>=<ref>`. */
  image: string;
  /**
   * Where the image comes from: a public `registry`, `build-from-source` (no official image: build it
   * from the project's repository and pass it with --image), or `fedicheck` (built by fedicheck itself).
   */
  imageSource: "registry" | "build-from-source" | "fedicheck";
  /** Whether the facts were checked by booting it (`verified`) or only gathered from docs (`documented`). */
  status: "verified" | "documented";
  tls: TlsProfile;
  trust: TrustMethod[];
  /** Env of every app service (main, worker, init steps). */
  appEnv?: Record<string, string>;
  services: ServiceTemplate[];
  init?: InitStep[];
  health: HealthCheck;
  /** How long the slowest start may take before the run gives up, ms. */
  startTimeoutMs: number;
  /** Memory a target needs, roughly, MiB (documentation and scheduling). */
  memoryMb?: number;
  provision?: { account?: ProvisionStep; token?: ProvisionStep };
  /** Known gotchas a person running it should read. */
  notes?: string[];
}
