/**
 * How accounts and API tokens are made on upstream servers, as data: commands to run inside a
 * target's container and HTTP requests to send to it, plus small executors for the HTTP parts.
 * The facts come from `shared/reference/upstream-servers.md`; the runtime decides how commands run
 * (see {@link dockerExecArgv}).
 * @module
 */
import { Agent, type Dispatcher, request } from "undici";
import { defaultErrorText } from "./api-http.ts";
import { htmlToText } from "./normalise.ts";

/** The redirect URI that asks an OAuth server to show the code instead of redirecting. */
export const OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob";

/** A command to run inside the target's container. */
export interface ExecStep {
  kind: "exec";
  /** What the step does, for logs. */
  description: string;
  /** The command and its arguments, run in the image's working directory. */
  argv: string[];
  /** Environment for the command (how values reach scripts without quoting them into code). */
  env?: Record<string, string>;
  /** What stdout holds: a `FEDICHECK_TOKEN=` line ({@link parseTokenOutput}) or nothing of use. */
  output: "token-line" | "none";
}

/** A value an {@link HttpStep} keeps for later steps. */
export type Capture =
  /** A field of the JSON answer (dotted path). */
  | { name: string; from: "json"; field: string }
  /** A query parameter of the `Location` header (e.g. the OAuth `code`). */
  | { name: string; from: "location-query"; param: string };

/**
 * An HTTP request of a provisioning flow. String values may hold `{{name}}` placeholders, filled from
 * the flow's inputs and earlier captures. Cookies persist across the steps of one flow.
 */
export interface HttpStep {
  kind: "http";
  /** Short id of the step, used in errors (e.g. `sign-in`). */
  name: string;
  description: string;
  method: "GET" | "POST" | "PATCH";
  path: string;
  query?: Record<string, string>;
  /** Sent as `application/x-www-form-urlencoded`. */
  form?: Record<string, string>;
  /** Sent as JSON; string values are templated. */
  json?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** Template of a bearer token, e.g. `{{token}}`. */
  bearer?: string;
  /** Statuses that mean the step worked (redirects are not followed). */
  expectStatus: number[];
  capture?: Capture[];
}

/** Commands and requests that provision one account. */
export interface ProvisionPlan {
  /** Run first, in order, inside the container. */
  exec: ExecStep[];
  /** Run next, in order, against the origin ({@link runHttpSteps}). */
  http: HttpStep[];
}

/** The `docker exec` command line for an exec step. */
export function dockerExecArgv(container: string, step: ExecStep): string[] {
  const env = Object.entries(step.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  return ["docker", "exec", ...env, container, ...step.argv];
}

const TOKEN_LINE = /^FEDICHECK_TOKEN=(\S+)\s*$/m;

/** The token a `token-line` step printed; throws when absent (rails prints warnings around it). */
export function parseTokenOutput(stdout: string): string {
  const token = TOKEN_LINE.exec(stdout)?.[1];
  if (!token) {
    throw new Error(`expected a FEDICHECK_TOKEN=… line in the command output, got: ${stdout.slice(-500)}`);
  }
  return token;
}

// --- Mastodon ------------------------------------------------------------------------------------

/** Input of {@link mastodonProvisionCommands}. */
export interface MastodonProvisionInput {
  username: string;
  /** Its domain must resolve (Mastodon checks MX records). */
  email: string;
  /** Set as the web login password when given; tootctl otherwise prints a random one. */
  password?: string;
  /** Role name, e.g. `Owner`. Default: none. */
  role?: string;
  /** Default `bin/tootctl` (the image's working directory is the app). */
  tootctl?: string;
  /** Default `bin/rails`. */
  rails?: string;
  /** Default `read write follow`. */
  scopes?: string;
}

/**
 * Mints a token for a local user: a Doorkeeper application, then a non-expiring access token.
 * Values come from the environment so nothing is quoted into Ruby.
 */
export const MASTODON_TOKEN_SCRIPT = [
  'username = ENV.fetch("FEDICHECK_USERNAME")',
  'scopes = ENV.fetch("FEDICHECK_SCOPES", "read write follow")',
  'account = Account.find_local(username) or abort("fedicheck: no local account #{username}")',
  "user = account.user",
  'password = ENV["FEDICHECK_PASSWORD"].to_s',
  "user.update!(password: password, password_confirmation: password) unless password.empty?",
  'app = Doorkeeper::Application.find_or_create_by!(name: "fedicheck") do |a|',
  `  a.redirect_uri = "${OOB_REDIRECT_URI}"`,
  "  a.scopes = scopes",
  "end",
  "token = Doorkeeper::AccessToken.create!(application_id: app.id, resource_owner_id: user.id, " +
    "scopes: scopes, expires_in: nil)",
  'puts "FEDICHECK_TOKEN=#{token.token}"',
].join("\n");

/**
 * Commands that create a confirmed, approved Mastodon user and print an API token for it (the OAuth
 * password grant is gone since 4.4, so the token is minted with `rails runner`).
 */
export function mastodonProvisionCommands(input: MastodonProvisionInput): ExecStep[] {
  const create = [
    input.tootctl ?? "bin/tootctl",
    "accounts",
    "create",
    input.username,
    "--email",
    input.email,
    "--confirmed",
    "--approve",
  ];
  if (input.role) create.push("--role", input.role);
  const env: Record<string, string> = {
    FEDICHECK_USERNAME: input.username,
    FEDICHECK_SCOPES: input.scopes ?? "read write follow",
  };
  if (input.password) env.FEDICHECK_PASSWORD = input.password;
  return [
    { kind: "exec", description: `create the Mastodon user ${input.username}`, argv: create, output: "none" },
    {
      kind: "exec",
      description: `mint an API token for ${input.username}`,
      argv: [input.rails ?? "bin/rails", "runner", MASTODON_TOKEN_SCRIPT],
      env,
      output: "token-line",
    },
  ];
}

// --- GoToSocial ----------------------------------------------------------------------------------

/** Input of {@link gotosocialProvisionSteps}. */
export interface GoToSocialProvisionInput {
  username: string;
  email: string;
  password: string;
  /** Default `/gotosocial/gotosocial` (the image's binary). */
  binary?: string;
  /** Passed as `--config-path` when the instance reads a config file. Default: env only. */
  configPath?: string;
  /** Default `read write`. */
  scopes?: string;
  /** New GoToSocial accounts are locked; unlock after the token is minted. Default true. */
  unlock?: boolean;
}

/**
 * The scripted OAuth authorization-code flow of GoToSocial (it has no password grant). Inputs:
 * `email`, `password`, `scopes`; yields `client_id`, `client_secret`, `code`, `token`.
 */
export function gotosocialOAuthSteps(options: { unlock?: boolean } = {}): HttpStep[] {
  const html = { accept: "text/html" };
  const steps: HttpStep[] = [
    {
      kind: "http",
      name: "create-app",
      description: "register an OAuth application with the out-of-band redirect",
      method: "POST",
      path: "/api/v1/apps",
      form: { client_name: "fedicheck", redirect_uris: OOB_REDIRECT_URI, scopes: "{{scopes}}" },
      expectStatus: [200],
      capture: [
        { name: "client_id", from: "json", field: "client_id" },
        { name: "client_secret", from: "json", field: "client_secret" },
      ],
    },
    {
      kind: "http",
      name: "authorize-start",
      description: "open the authorize page; the server keeps the request in a session cookie",
      method: "GET",
      path: "/oauth/authorize",
      query: {
        client_id: "{{client_id}}",
        redirect_uri: OOB_REDIRECT_URI,
        response_type: "code",
        scope: "{{scopes}}",
      },
      headers: html,
      expectStatus: [302, 303],
    },
    {
      kind: "http",
      name: "sign-in",
      description: "sign in (GoToSocial's form calls the email `username`)",
      method: "POST",
      path: "/auth/sign_in",
      form: { username: "{{email}}", password: "{{password}}" },
      headers: html,
      expectStatus: [302, 303],
    },
    {
      kind: "http",
      name: "authorize-page",
      description: "load the authorize page as the signed-in user",
      method: "GET",
      path: "/oauth/authorize",
      headers: html,
      expectStatus: [200],
    },
    {
      kind: "http",
      name: "authorize-confirm",
      description: "approve; the server redirects to /oauth/oob?code=…",
      method: "POST",
      path: "/oauth/authorize",
      form: {},
      headers: html,
      expectStatus: [302, 303],
      capture: [{ name: "code", from: "location-query", param: "code" }],
    },
    {
      kind: "http",
      name: "token",
      description: "exchange the code for an access token",
      method: "POST",
      path: "/oauth/token",
      form: {
        grant_type: "authorization_code",
        client_id: "{{client_id}}",
        client_secret: "{{client_secret}}",
        redirect_uri: OOB_REDIRECT_URI,
        code: "{{code}}",
      },
      expectStatus: [200],
      capture: [{ name: "token", from: "json", field: "access_token" }],
    },
  ];
  if (options.unlock ?? true) {
    steps.push({
      kind: "http",
      name: "unlock",
      description: "make the new account open (GoToSocial creates accounts locked)",
      method: "PATCH",
      path: "/api/v1/accounts/update_credentials",
      form: { locked: "false" },
      bearer: "{{token}}",
      expectStatus: [200],
    });
  }
  return steps;
}

/**
 * `gotosocial admin account create` (the account comes out confirmed), then the OAuth flow with the
 * input's email, password and scopes filled in (only values captured on the way stay placeholders).
 */
export function gotosocialProvisionSteps(input: GoToSocialProvisionInput): ProvisionPlan {
  const binary = [input.binary ?? "/gotosocial/gotosocial"];
  if (input.configPath) binary.push("--config-path", input.configPath);
  return {
    exec: [
      {
        kind: "exec",
        description: `create the GoToSocial user ${input.username}`,
        argv: [
          ...binary,
          "admin",
          "account",
          "create",
          "--username",
          input.username,
          "--email",
          input.email,
          "--password",
          input.password,
        ],
        output: "none",
      },
    ],
    http: prefillSteps(gotosocialOAuthSteps({ unlock: input.unlock }), {
      email: input.email,
      password: input.password,
      scopes: input.scopes ?? "read write",
    }),
  };
}

/** Options of {@link runGoToSocialOAuthFlow}. */
export interface GoToSocialOAuthOptions {
  /** Default `read write`. */
  scopes?: string;
  /** Unlock the account after minting the token. Default true. */
  unlock?: boolean;
}

/** Runs GoToSocial's authorization-code flow for an existing user; returns the token and client. */
export async function runGoToSocialOAuthFlow(
  origin: string,
  credentials: { email: string; password: string },
  dispatcher?: Dispatcher,
  options: GoToSocialOAuthOptions = {},
): Promise<{ token: string; clientId: string; clientSecret: string }> {
  const values = await runHttpSteps(origin, gotosocialOAuthSteps({ unlock: options.unlock }), {
    dispatcher,
    label: "GoToSocial OAuth",
    vars: {
      email: credentials.email,
      password: credentials.password,
      scopes: options.scopes ?? "read write",
    },
  });
  return {
    token: must(values, "token"),
    clientId: must(values, "client_id"),
    clientSecret: must(values, "client_secret"),
  };
}

// --- Misskey -------------------------------------------------------------------------------------

/** Input of {@link misskeyProvision}. */
export interface MisskeyProvisionInput {
  username: string;
  password: string;
  /** `setupPassword` of default.yml, needed for the first admin when the config sets one. */
  setupPassword?: string;
  /** Token (`i`) of an admin; needed once the first admin exists. Default: none (first admin). */
  adminToken?: string;
}

/**
 * `POST /api/admin/accounts/create`: unauthenticated while no admin exists (the account made becomes
 * the admin), with an admin's `i` afterwards. Yields `token` (the user's native token) and `user_id`.
 */
export function misskeyProvision(input: MisskeyProvisionInput): HttpStep[] {
  const json: Record<string, unknown> = { username: input.username, password: input.password };
  if (input.setupPassword !== undefined) json.setupPassword = input.setupPassword;
  if (input.adminToken !== undefined) json.i = input.adminToken;
  return [
    {
      kind: "http",
      name: "create-account",
      description: `create the Misskey user ${input.username}`,
      method: "POST",
      path: "/api/admin/accounts/create",
      json,
      expectStatus: [200],
      capture: [
        { name: "token", from: "json", field: "token" },
        { name: "user_id", from: "json", field: "id" },
      ],
    },
  ];
}

/** Runs {@link misskeyProvision} against an origin; returns the new user's token and id. */
export async function runMisskeyProvision(
  origin: string,
  input: MisskeyProvisionInput,
  dispatcher?: Dispatcher,
): Promise<{ token: string; userId: string; username: string }> {
  const values = await runHttpSteps(origin, misskeyProvision(input), {
    dispatcher,
    label: "Misskey provisioning",
  });
  return { token: must(values, "token"), userId: must(values, "user_id"), username: input.username };
}

// --- Akkoma / Pleroma ----------------------------------------------------------------------------

/** Input of {@link akkomaProvisionCommands}. */
export interface AkkomaProvisionInput {
  username: string;
  email: string;
  password: string;
  /** Give the user admin rights. Default true. */
  admin?: boolean;
  /** Default `pleroma_ctl` (on PATH in release images; `/opt/akkoma/bin/pleroma_ctl` otherwise). */
  ctl?: string;
  /** Default `read write follow`. */
  scopes?: string;
}

/** `pleroma_ctl user new … -y`, then an app and a token through the OAuth password grant. */
export function akkomaProvisionCommands(input: AkkomaProvisionInput): ProvisionPlan {
  const argv = [
    input.ctl ?? "pleroma_ctl",
    "user",
    "new",
    input.username,
    input.email,
    "--password",
    input.password,
  ];
  if (input.admin ?? true) argv.push("--admin");
  argv.push("-y");
  const scopes = input.scopes ?? "read write follow";
  return {
    exec: [{ kind: "exec", description: `create the Akkoma user ${input.username}`, argv, output: "none" }],
    http: [
      {
        kind: "http",
        name: "create-app",
        description: "register an OAuth application",
        method: "POST",
        path: "/api/v1/apps",
        form: { client_name: "fedicheck", redirect_uris: OOB_REDIRECT_URI, scopes },
        expectStatus: [200],
        capture: [
          { name: "client_id", from: "json", field: "client_id" },
          { name: "client_secret", from: "json", field: "client_secret" },
        ],
      },
      {
        kind: "http",
        name: "token",
        description: "password grant",
        method: "POST",
        path: "/oauth/token",
        form: {
          grant_type: "password",
          username: input.username,
          password: input.password,
          client_id: "{{client_id}}",
          client_secret: "{{client_secret}}",
          scope: scopes,
        },
        expectStatus: [200],
        capture: [{ name: "token", from: "json", field: "access_token" }],
      },
    ],
  };
}

// --- executor ------------------------------------------------------------------------------------

/** Options of {@link runHttpSteps}. */
export interface RunHttpStepsOptions {
  /** undici dispatcher. Default: a private Agent closed at the end. */
  dispatcher?: Dispatcher;
  /** Initial `{{name}}` values. */
  vars?: Record<string, string>;
  /** Names the flow in errors. Default `provisioning`. */
  label?: string;
  /** Headers on every request (e.g. `x-forwarded-proto` for Mastodon over http). */
  headers?: Record<string, string>;
  /** Per-request timeout in ms. Default 30 000. */
  timeoutMs?: number;
}

function fill(template: string, vars: Record<string, string>, step: string): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
    const value = vars[name];
    if (value === undefined)
      throw new Error(`provisioning step "${step}" needs {{${name}}}, which is not set`);
    return value;
  });
}

/** Fills the placeholders `vars` knows and leaves the others for {@link runHttpSteps}. */
export function prefillSteps(steps: readonly HttpStep[], vars: Record<string, string>): HttpStep[] {
  const partial = (value: unknown): unknown => {
    if (typeof value === "string")
      return value.replace(/\{\{(\w+)\}\}/g, (m, name: string) => vars[name] ?? m);
    if (Array.isArray(value)) return value.map(partial);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, partial(v)]));
    }
    return value;
  };
  return steps.map((step) => partial(step) as HttpStep);
}

function fillDeep(value: unknown, vars: Record<string, string>, step: string): unknown {
  if (typeof value === "string") return fill(value, vars, step);
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, vars, step));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v, vars, step)]));
  }
  return value;
}

function fillRecord(record: Record<string, string>, vars: Record<string, string>, step: string) {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fill(v, vars, step)]));
}

function field(body: unknown, path: string): unknown {
  let node = body;
  for (const key of path.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Keeps cookies across the requests of one flow (one origin, so domain and path are ignored). */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(setCookie: string | string[] | undefined): void {
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const expired = attributes.some((a) => {
        const [key = "", value = ""] = a.split("=").map((s) => s.trim());
        return (
          (key.toLowerCase() === "max-age" && Number(value) <= 0) ||
          (key.toLowerCase() === "expires" && Date.parse(value) < Date.now())
        );
      });
      if (expired) this.#cookies.delete(name);
      else this.#cookies.set(name, pair.slice(eq + 1).trim());
    }
  }

  header(): string | undefined {
    if (this.#cookies.size === 0) return undefined;
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

/**
 * Runs HTTP provisioning steps in order with one cookie jar, checking each status and capturing
 * values; returns the inputs plus everything captured. Redirects are never followed: a flow's
 * redirects are steps of their own.
 */
export async function runHttpSteps(
  origin: string,
  steps: readonly HttpStep[],
  options: RunHttpStepsOptions = {},
): Promise<Record<string, string>> {
  const base = origin.replace(/\/+$/, "");
  const label = options.label ?? "provisioning";
  const vars: Record<string, string> = { ...options.vars };
  const jar = new CookieJar();
  const dispatcher = options.dispatcher ?? new Agent();
  const timeout = options.timeoutMs ?? 30_000;
  try {
    for (const step of steps) {
      const query = step.query ? `?${new URLSearchParams(fillRecord(step.query, vars, step.name))}` : "";
      const headers: Record<string, string> = {
        accept: "application/json",
        ...options.headers,
        ...step.headers,
      };
      let body: string | undefined;
      if (step.json) {
        headers["content-type"] = "application/json";
        body = JSON.stringify(fillDeep(step.json, vars, step.name));
      } else if (step.form) {
        headers["content-type"] = "application/x-www-form-urlencoded";
        body = new URLSearchParams(fillRecord(step.form, vars, step.name)).toString();
      }
      if (step.bearer) headers.authorization = `Bearer ${fill(step.bearer, vars, step.name)}`;
      const cookie = jar.header();
      if (cookie) headers.cookie = cookie;
      const where = `${step.method} ${step.path}`;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(`${base}${step.path}${query}`, {
          method: step.method,
          headers,
          body,
          dispatcher,
          headersTimeout: timeout,
          bodyTimeout: timeout,
        });
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new Error(`${label} step "${step.name}" (${where}) failed: ${reason}`, { cause });
      }
      jar.store(res.headers["set-cookie"]);
      const text = await res.body.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // Not JSON (HTML pages of the OAuth flow).
      }
      if (!step.expectStatus.includes(res.statusCode)) {
        const said = typeof parsed === "string" ? htmlToText(parsed).slice(0, 200) : defaultErrorText(parsed);
        throw new Error(
          `${label} step "${step.name}" (${where}) answered ${res.statusCode}, expected ` +
            `${step.expectStatus.join("/")}${said ? `: ${said}` : ""}`,
        );
      }
      const location = res.headers.location;
      for (const capture of step.capture ?? []) {
        let value: unknown;
        if (capture.from === "json") {
          value = field(parsed, capture.field);
        } else {
          const target = Array.isArray(location) ? location[0] : location;
          value = target ? new URL(target, base).searchParams.get(capture.param) : undefined;
        }
        if (typeof value !== "string" && typeof value !== "number") {
          throw new Error(
            `${label} step "${step.name}" (${where}) answered without ` +
              (capture.from === "json"
                ? `"${capture.field}" in its JSON`
                : `"${capture.param}" in its Location`),
          );
        }
        vars[capture.name] = String(value);
      }
    }
  } finally {
    if (!options.dispatcher) await dispatcher.close();
  }
  return vars;
}

function must(values: Record<string, string>, name: string): string {
  const value = values[name];
  if (value === undefined) throw new Error(`provisioning ended without ${name}`);
  return value;
}
