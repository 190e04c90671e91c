import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ImplementationProfile } from "../core/model.ts";
import { PATHS } from "./container-profile.ts";
import {
  type ContainerSpec,
  ProfileError,
  provisionStep,
  type RenderContext,
  renderTarget,
  type TargetPlan,
} from "./container-spec.ts";
import { loadProfile, loadProfiles } from "./profiles.ts";
import { REPO_ROOT } from "./repo.ts";

// The facts these tests encode come from upstream-servers.md (shared reference, beside the repo).
const FACTS_FILE = join(REPO_ROOT, "../shared/reference/upstream-servers.md");
const facts = existsSync(FACTS_FILE) ? readFileSync(FACTS_FILE, "utf8") : undefined;

const SUBNET = "172.18.0.0/16";
const context = (targetId: string, extra: Partial<RenderContext> = {}): RenderContext => ({
  targetId,
  subnet: SUBNET,
  secretSeed: "seed-1",
  caPem: "CA-PEM",
  bundlePem: "ROOTS+CA-PEM",
  certPem: `CERT-${targetId}`,
  keyPem: `KEY-${targetId}`,
  ...extra,
});

function service(plan: TargetPlan, name: string): ContainerSpec {
  const found = plan.services.find((s) => s.service === name);
  if (!found) throw new Error(`no service ${name} in ${plan.services.map((s) => s.service).join(", ")}`);
  return found;
}

function file(spec: ContainerSpec, path: string): string {
  const found = spec.files.find((f) => f.path === path);
  if (!found) throw new Error(`${spec.service} has no file ${path}`);
  return found.content;
}

/** Checks that a fact quoted by a test appears in the reference document, when it is present. */
function documented(...snippets: string[]): void {
  if (!facts) return;
  for (const snippet of snippets)
    expect(facts, `upstream-servers.md should mention ${snippet}`).toContain(snippet);
}

describe("Mastodon container spec", () => {
  const plan = renderTarget(loadProfile("mastodon"), context("mastodon"));
  const web = service(plan, "web");
  const sidekiq = service(plan, "sidekiq");
  const db = service(plan, "db");

  it("runs postgres, redis, web (puma), sidekiq and a TLS front on 443 under the real hostname", () => {
    documented("bundle exec puma -C config/puma.rb", "bundle exec sidekiq", "postgres (14+), redis 7");
    expect(plan.services.map((s) => s.service).sort()).toEqual(["db", "front", "redis", "sidekiq", "web"]);
    expect(web.command).toEqual(["bundle", "exec", "puma", "-C", "config/puma.rb"]);
    expect(sidekiq.command).toEqual(["bundle", "exec", "sidekiq"]);
    expect(Number(db.image.match(/postgres:(\d+)/)?.[1])).toBeGreaterThanOrEqual(14);
    expect(service(plan, "redis").image).toMatch(/^redis:7/);
    const front = service(plan, "front");
    expect(front.publish).toBe(443);
    expect(front.aliases).toContain("mastodon.test");
    expect(front.command).toEqual(expect.arrayContaining(["--upstream", "http://mastodon-web:3000"]));
    expect(plan.services.filter((s) => s.publish !== undefined)).toHaveLength(1);
    expect(plan.origin).toBe("https://mastodon.test");
  });

  it("sets the env Mastodon needs to boot, the same on web and sidekiq", () => {
    documented(
      "LOCAL_DOMAIN",
      "SECRET_KEY_BASE",
      "OTP_SECRET",
      "ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT",
    );
    documented(
      "ES_ENABLED=false",
      "SMTP_DELIVERY_METHOD=test",
      "RAILS_SERVE_STATIC_FILES=true",
      "UPDATE_CHECK_URL=",
    );
    for (const spec of [web, sidekiq]) {
      expect(spec.env.LOCAL_DOMAIN).toBe("mastodon.test"); // no port: WebFinger drops ports
      expect(spec.env.SECRET_KEY_BASE).toMatch(/^[0-9a-f]{128}$/);
      expect(spec.env.OTP_SECRET).toMatch(/^[0-9a-f]{128}$/);
      for (const key of ["PRIMARY_KEY", "DETERMINISTIC_KEY", "KEY_DERIVATION_SALT"]) {
        expect(spec.env[`ACTIVE_RECORD_ENCRYPTION_${key}`]).toMatch(/^[0-9a-f]{32,}$/);
      }
      expect(spec.env).toMatchObject({
        ES_ENABLED: "false",
        SMTP_DELIVERY_METHOD: "test",
        RAILS_SERVE_STATIC_FILES: "true",
        UPDATE_CHECK_URL: "",
        DB_HOST: "mastodon-db",
        DB_USER: db.env.POSTGRES_USER,
        DB_NAME: db.env.POSTGRES_DB,
        DB_PASS: db.env.POSTGRES_PASSWORD,
        REDIS_HOST: "mastodon-redis",
      });
    }
    expect(web.env).toEqual(sidekiq.env);
  });

  it("trusts the run's CA with SSL_CERT_FILE and allows the run's subnet, on web AND sidekiq", () => {
    documented(
      "`SSL_CERT_FILE` = image bundle + CA, on web AND sidekiq",
      "`ALLOWED_PRIVATE_ADDRESSES` (web + sidekiq)",
    );
    for (const spec of [web, sidekiq]) {
      expect(spec.env.SSL_CERT_FILE).toBe(PATHS.bundle);
      expect(file(spec, PATHS.bundle)).toBe("ROOTS+CA-PEM");
      expect(file(spec, PATHS.ca)).toBe("CA-PEM");
      expect(spec.env.ALLOWED_PRIVATE_ADDRESSES).toBe(SUBNET);
    }
    // Companions get the CA too (the fixed-path contract), but no trust env.
    expect(file(db, PATHS.ca)).toBe("CA-PEM");
    expect(db.env.SSL_CERT_FILE).toBeUndefined();
  });

  it("prepares the schema before web and sidekiq, with the app's image and env", () => {
    documented("`bin/rails db:prepare`");
    expect(plan.init).toHaveLength(1);
    const [migrate] = plan.init;
    expect(migrate?.command).toEqual(["bundle", "exec", "rails", "db:prepare"]);
    expect(migrate?.image).toBe(web.image);
    expect(migrate?.env).toEqual(web.env);
    expect(migrate?.publish).toBeUndefined();
  });

  it("provisions an account with tootctl and mints a token with rails runner", () => {
    documented(
      "`bin/tootctl accounts create NAME --email E --confirmed --approve",
      "`Doorkeeper::AccessToken`",
    );
    const account = provisionStep(plan.provision.account!, {
      username: "alice",
      email: "alice@mastodon.test",
      password: "x",
    });
    expect(account).toMatchObject({
      kind: "exec",
      service: "web",
      command: [
        "bin/tootctl",
        "accounts",
        "create",
        "alice",
        "--email",
        "alice@mastodon.test",
        "--confirmed",
        "--approve",
      ],
    });
    const token = provisionStep(plan.provision.token!, { username: "alice", email: "e@x", password: "x" });
    if (token.kind !== "exec") throw new Error("token step should be exec");
    expect(token.command.slice(0, 2)).toEqual(["bin/rails", "runner"]);
    expect(token.command[2]).toContain("Account.find_local!('alice')");
    expect(token.command[2]).toMatch(/Doorkeeper::Application.*read write follow/);
    expect(token.command[2]).toMatch(/Doorkeeper::AccessToken\.create!.*expires_in: nil/);
    expect(new RegExp(token.capture!).exec("FEDICHECK_TOKEN=abc123\n")?.[1]).toBe("abc123");
    expect(() =>
      provisionStep(plan.provision.token!, { username: "a'; system('x')", email: "e", password: "p" }),
    ).toThrow(/outside/);
  });

  it("waits on GET /health answering OK", () => {
    documented("`GET /health` → `OK`");
    expect(plan.health).toMatchObject({ path: "/health", status: 200 });
    expect(new RegExp(plan.health.bodyMatches!).test("OK")).toBe(true);
    expect(plan.startTimeoutMs).toBeGreaterThanOrEqual(300_000); // 3–5 min cold start
  });
});

describe("GoToSocial container spec", () => {
  const plan = renderTarget(loadProfile("gotosocial"), context("gts", { hostname: "gotosocial.test" }));
  const main = service(plan, "main");

  it("is one container running as 1000:1000 on SQLite, serving TLS itself on 443", () => {
    documented("One container, port 8080, user 1000:1000", "`GTS_DB_ADDRESS=/gotosocial/storage/sqlite.db`");
    expect(plan.services).toHaveLength(1);
    expect(main.user).toBe("1000:1000");
    expect(main.env).toMatchObject({
      GTS_DB_TYPE: "sqlite",
      GTS_DB_ADDRESS: "/gotosocial/storage/sqlite.db",
    });
    expect(main.publish).toBe(443);
    expect(main.env.GTS_PORT).toBe("443");
    expect(main.aliases).toContain("gotosocial.test");
    expect(file(main, main.env.GTS_TLS_CERTIFICATE_CHAIN!)).toBe("CERT-gts");
    expect(file(main, main.env.GTS_TLS_CERTIFICATE_KEY!)).toBe("KEY-gts");
  });

  it("names its host, disables Let's Encrypt, trusts the CA and allows the subnet", () => {
    documented(
      "`GTS_HOST`, `GTS_ACCOUNT_DOMAIN`, `GTS_LETSENCRYPT_ENABLED=false`",
      "`GTS_HTTP_CLIENT_ALLOW_IPS=<cidrs>`",
    );
    expect(main.env).toMatchObject({
      GTS_HOST: "gotosocial.test",
      GTS_ACCOUNT_DOMAIN: "gotosocial.test",
      GTS_PROTOCOL: "https",
      GTS_LETSENCRYPT_ENABLED: "false",
      GTS_HTTP_CLIENT_ALLOW_IPS: SUBNET,
      GTS_TRUSTED_PROXIES: SUBNET,
      GTS_ADVANCED_RATE_LIMIT_REQUESTS: "0",
      SSL_CERT_FILE: PATHS.bundle,
    });
    // Real TLS: neither the insecure-outgoing nor the skip-verify shortcut.
    expect(main.env.GTS_HTTP_CLIENT_INSECURE_OUTGOING).toBeUndefined();
    expect(main.env.GTS_HTTP_CLIENT_TLS_INSECURE_SKIP_VERIFY).toBeUndefined();
    for (const key of Object.keys(main.env).filter((k) => k.startsWith("GTS_")))
      expect(key).toMatch(/^GTS_[A-Z0-9_]+$/);
  });

  it("provisions with `gotosocial admin account create` and an authorization-code token flow, waits on /readyz", () => {
    documented("`gotosocial admin account create --username U --email E --password P`", "`/readyz`");
    const account = provisionStep(plan.provision.account!, {
      username: "bob",
      email: "bob@gotosocial.test",
      password: "Pw1",
    });
    if (account.kind !== "exec") throw new Error("account step should be exec");
    expect(account.command.slice(1)).toEqual([
      "admin",
      "account",
      "create",
      "--username",
      "bob",
      "--email",
      "bob@gotosocial.test",
      "--password",
      "Pw1",
    ]);
    expect(plan.provision.token?.kind).toBe("oauth-authorization-code");
    expect(plan.health.path).toBe("/readyz");
  });
});

describe("Misskey container spec", () => {
  const plan = renderTarget(loadProfile("misskey"), context("misskey"));
  const web = service(plan, "web");
  const db = service(plan, "db");
  const config = file(web, "/misskey/.config/default.yml");
  const line = (key: string) => new RegExp(`^\\s*${key}: (.*)$`, "m").exec(config)?.[1];

  it("runs postgres 15, redis 7 and the web on 3000 behind the TLS front, with migrateandstart", () => {
    documented("postgres 15, redis 7, web on port 3000", "`migrateandstart`");
    expect(db.image).toMatch(/^postgres:15/);
    expect(service(plan, "redis").image).toMatch(/^redis:7/);
    expect(web.command).toEqual(["pnpm", "run", "migrateandstart"]);
    expect(service(plan, "front").command).toEqual(
      expect.arrayContaining(["--upstream", "http://misskey-web:3000"]),
    );
  });

  it("writes default.yml with url, port, db, redis, id aidx and the subnet as a private network", () => {
    documented("`/misskey/.config/default.yml`", "`id: aidx`", "`allowedPrivateNetworks`");
    expect(line("url")).toBe("https://misskey.test/");
    expect(line("port")).toBe("3000");
    expect(line("host")).toBe("misskey-db");
    expect(line("db")).toBe(db.env.POSTGRES_DB);
    expect(line("user")).toBe(db.env.POSTGRES_USER);
    expect(line("pass")).toBe(db.env.POSTGRES_PASSWORD);
    expect(config).toMatch(/redis:\n\s+host: misskey-redis\n\s+port: 6379/);
    expect(line("id")).toBe("aidx");
    expect(config).toMatch(/allowedPrivateNetworks:\n\s+- 172\.18\.0\.0\/16/);
  });

  it("trusts the CA with NODE_EXTRA_CA_CERTS and creates the first admin over the API with the setup password", () => {
    documented(
      "`NODE_EXTRA_CA_CERTS`",
      "`POST /api/admin/accounts/create {username,password[,setupPassword]}` → `.token`",
    );
    expect(web.env.NODE_EXTRA_CA_CERTS).toBe(PATHS.ca);
    const account = provisionStep(plan.provision.account!, {
      username: "carol",
      email: "c@misskey.test",
      password: "pw",
    });
    if (account.kind !== "http") throw new Error("account step should be http");
    expect(account).toMatchObject({
      method: "POST",
      path: "/api/admin/accounts/create",
      resultField: "token",
    });
    expect(account.body).toMatchObject({
      username: "carol",
      password: "pw",
      setupPassword: line("setupPassword"),
    });
    expect(plan.health).toMatchObject({ method: "POST", path: "/api/ping" });
  });
});

describe("Akkoma container spec", () => {
  const plan = renderTarget(loadProfile("akkoma"), context("akkoma"));
  const web = service(plan, "web");
  const db = service(plan, "db");
  const config = file(web, "/etc/akkoma/config.exs");

  it("configures the endpoint for https on 443 under its hostname, captcha and rate limits off", () => {
    documented('`Pleroma.Web.Endpoint, url: [host: H, scheme: "https", port: 443]`', "`:rate_limit, nil`");
    expect(config).toContain('url: [host: "akkoma.test", scheme: "https", port: 443]');
    expect(config).toContain("config :pleroma, Pleroma.Captcha, enabled: false");
    expect(config).toContain("config :pleroma, :rate_limit, nil");
    expect(config).toMatch(/registrations_open: true/);
    expect(config).toMatch(/account_activation_required: false/);
    expect(config).toContain(`hostname: "akkoma-db"`);
    expect(config).toContain(`password: "${db.env.POSTGRES_PASSWORD}"`);
    expect(web.env.PLEROMA_CONFIG_PATH).toBe("/etc/akkoma/config.exs");
  });

  it("trusts the CA through the :http adapter's cacertfile and the OS store", () => {
    documented("`:http` adapter `ssl_options` cacertfile", "Akkoma reads the OS store");
    expect(config).toContain(`adapter: [ssl_options: [cacertfile: "${PATHS.bundle}"]]`);
    expect(file(web, PATHS.systemBundle)).toBe("ROOTS+CA-PEM");
  });

  it("has no official image, migrates first, provisions with pleroma_ctl and a password grant", () => {
    documented(
      "no official prebuilt image found",
      "`pleroma_ctl user new NICK EMAIL --password P --admin -y`",
      "`/api/v1/instance`",
    );
    expect(loadProfile("akkoma").container?.imageSource).toBe("build-from-source");
    expect(plan.init.map((step) => step.command)).toEqual([["/opt/akkoma/bin/pleroma_ctl", "migrate"]]);
    const account = provisionStep(plan.provision.account!, {
      username: "dan",
      email: "dan@akkoma.test",
      password: "pw",
    });
    if (account.kind !== "exec") throw new Error("account step should be exec");
    expect(account.command).toEqual([
      "/opt/akkoma/bin/pleroma_ctl",
      "user",
      "new",
      "dan",
      "dan@akkoma.test",
      "--password",
      "pw",
      "--admin",
      "-y",
    ]);
    expect(plan.provision.token?.kind).toBe("oauth-password-grant");
    expect(file(db, "/docker-entrypoint-initdb.d/10-fedicheck-extensions.sql")).toContain("citext");
    expect(plan.health.path).toBe("/api/v1/instance");
  });
});

describe("rendering rules", () => {
  const profiles = loadProfiles().filter((p) => p.container);

  it("renders every container profile, each with exactly one published TLS end under its hostname", () => {
    expect(profiles.map((p) => p.id)).toEqual(
      expect.arrayContaining([
        "akkoma",
        "fedify-ref",
        "gotosocial",
        "lemmy",
        "mastodon",
        "misskey",
        "peertube",
        "pixelfed",
        "probe",
        "sharkey",
      ]),
    );
    for (const profile of profiles) {
      const plan = renderTarget(profile, context(profile.id));
      const published = plan.services.filter((s) => s.publish !== undefined);
      expect(published, profile.id).toHaveLength(1);
      expect(published[0]?.aliases, profile.id).toContain(`${profile.id}.test`);
      expect(
        published[0]?.files.some((f) => f.source === "cert"),
        profile.id,
      ).toBe(true);
      for (const spec of [...plan.services, ...plan.init]) {
        expect(file(spec, PATHS.ca), `${profile.id}/${spec.service}`).toBe("CA-PEM");
        expect(JSON.stringify(spec), `${profile.id}/${spec.service}`).not.toMatch(/\{\{/);
      }
    }
  });

  it("gives each target its own secrets and companion names, stable for one seed", () => {
    const profile = loadProfile("mastodon");
    const a = renderTarget(profile, context("m-a"));
    const b = renderTarget(profile, context("m-b"));
    const again = renderTarget(profile, context("m-a"));
    const otherRun = renderTarget(profile, context("m-a", { secretSeed: "seed-2" }));
    const key = (plan: TargetPlan) => service(plan, "web").env.SECRET_KEY_BASE;
    expect(key(a)).not.toBe(key(b));
    expect(key(a)).toBe(key(again));
    expect(key(a)).not.toBe(key(otherRun));
    expect(service(b, "web").env.DB_HOST).toBe("m-b-db");
  });

  it("applies image overrides to every app service and keeps companions", () => {
    const plan = renderTarget(
      loadProfile("mastodon"),
      context("m", { images: { mastodon: "example/mastodon:dev" } }),
    );
    expect(service(plan, "web").image).toBe("example/mastodon:dev");
    expect(service(plan, "sidekiq").image).toBe("example/mastodon:dev");
    expect(plan.init[0]?.image).toBe("example/mastodon:dev");
    expect(service(plan, "db").image).toMatch(/^postgres:/);
  });

  it("passes fedify-ref's defects and control token on its command line", () => {
    const plan = renderTarget(
      loadProfile("fedify-ref"),
      context("fedify-a", { extraArgs: ["--defect", "no-accept"] }),
    );
    const main = service(plan, "main");
    expect(main.command).toEqual(
      expect.arrayContaining(["--origin", "https://fedify-a.test", "--defect", "no-accept"]),
    );
    expect(main.command?.[main.command.indexOf("--control-token") + 1]).toMatch(/^[0-9a-f]{48}$/);
    expect(main.env.NODE_EXTRA_CA_CERTS).toBe(PATHS.ca);
  });

  it("rejects unknown placeholders and services with a message naming the profile", () => {
    const bad: ImplementationProfile = {
      ...loadProfile("gotosocial"),
      id: "broken",
    };
    bad.container = { ...bad.container!, appEnv: { X: "{{nope}}" } };
    expect(() => renderTarget(bad, context("x"))).toThrow(ProfileError);
    expect(() => renderTarget(bad, context("x"))).toThrow(/broken: unknown placeholder \{\{nope\}\}/);
    bad.container = { ...bad.container, appEnv: { X: "{{service:cache}}" } };
    expect(() => renderTarget(bad, context("x"))).toThrow(/names no service/);
  });
});
