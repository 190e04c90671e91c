import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  loadShape,
  type RecordedRequest,
  type ReplayServer,
  type Shape,
  startReplayServer,
} from "../../fixtures/api-shapes/replay-server.ts";
import {
  akkomaProvisionCommands,
  dockerExecArgv,
  gotosocialProvisionSteps,
  MASTODON_TOKEN_SCRIPT,
  mastodonProvisionCommands,
  misskeyProvision,
  OOB_REDIRECT_URI,
  parseTokenOutput,
  runGoToSocialOAuthFlow,
  runHttpSteps,
  runMisskeyProvision,
} from "./provisioning.ts";

let server: ReplayServer;

beforeEach(async () => {
  server = await startReplayServer();
});

afterEach(async () => {
  await server.close();
});

describe("Mastodon", () => {
  it("creates a confirmed, approved user, then mints a token with rails runner", () => {
    const [create, mint] = mastodonProvisionCommands({
      username: "alice",
      email: "alice@a.test",
      password: "s3cret-passw0rd",
      role: "Owner",
    });
    expect(create?.argv).toEqual([
      "bin/tootctl",
      "accounts",
      "create",
      "alice",
      "--email",
      "alice@a.test",
      "--confirmed",
      "--approve",
      "--role",
      "Owner",
    ]);
    expect(mint?.argv).toEqual(["bin/rails", "runner", MASTODON_TOKEN_SCRIPT]);
    expect(mint?.output).toBe("token-line");
    // Values travel in the environment, never inside the Ruby source.
    expect(mint?.env).toEqual({
      FEDICHECK_USERNAME: "alice",
      FEDICHECK_SCOPES: "read write follow",
      FEDICHECK_PASSWORD: "s3cret-passw0rd",
    });
    expect(MASTODON_TOKEN_SCRIPT).not.toContain("alice");
    expect(MASTODON_TOKEN_SCRIPT).toContain("Doorkeeper::Application.find_or_create_by!");
    expect(MASTODON_TOKEN_SCRIPT).toContain("Doorkeeper::AccessToken.create!");
    expect(MASTODON_TOKEN_SCRIPT).toContain("expires_in: nil");
    expect(MASTODON_TOKEN_SCRIPT).toContain(OOB_REDIRECT_URI);
  });

  it("omits the role and password when not given", () => {
    const [create, mint] = mastodonProvisionCommands({ username: "bob", email: "bob@a.test" });
    expect(create?.argv).not.toContain("--role");
    expect(mint?.env).not.toHaveProperty("FEDICHECK_PASSWORD");
  });

  it("wraps a step for docker exec", () => {
    const [, mint] = mastodonProvisionCommands({ username: "alice", email: "alice@a.test" });
    expect(dockerExecArgv("fedicheck-mastodon-web", mint!)).toEqual([
      "docker",
      "exec",
      "-e",
      "FEDICHECK_USERNAME=alice",
      "-e",
      "FEDICHECK_SCOPES=read write follow",
      "fedicheck-mastodon-web",
      "bin/rails",
      "runner",
      MASTODON_TOKEN_SCRIPT,
    ]);
  });

  it("finds the token line among rails warnings", () => {
    const stdout = "W, [2025-03-02] WARN -- : Ignoring gem\nFEDICHECK_TOKEN=abc_DEF-123\nbye\n";
    expect(parseTokenOutput(stdout)).toBe("abc_DEF-123");
    expect(() => parseTokenOutput("Traceback: no local account alice")).toThrow(/expected a FEDICHECK_TOKEN/);
  });
});

describe("GoToSocial", () => {
  it("creates the account with the admin CLI, then scripts the OAuth code flow", () => {
    const plan = gotosocialProvisionSteps({
      username: "erin",
      email: "erin@b.test",
      password: "pw",
      configPath: "/config/config.yaml",
    });
    expect(plan.exec[0]?.argv).toEqual([
      "/gotosocial/gotosocial",
      "--config-path",
      "/config/config.yaml",
      "admin",
      "account",
      "create",
      "--username",
      "erin",
      "--email",
      "erin@b.test",
      "--password",
      "pw",
    ]);
    expect(plan.http.map((s) => `${s.method} ${s.path}`)).toEqual([
      "POST /api/v1/apps",
      "GET /oauth/authorize",
      "POST /auth/sign_in",
      "GET /oauth/authorize",
      "POST /oauth/authorize",
      "POST /oauth/token",
      "PATCH /api/v1/accounts/update_credentials",
    ]);
    const signIn = plan.http.find((s) => s.name === "sign-in");
    expect(signIn?.form).toEqual({ username: "erin@b.test", password: "pw" });
    // Captured values stay placeholders for the executor.
    expect(plan.http.find((s) => s.name === "token")?.form?.code).toBe("{{code}}");
    expect(plan.http[0]?.form?.scopes).toBe("read write");
    expect(
      gotosocialProvisionSteps({ username: "e", email: "e@b.test", password: "p", unlock: false }).http,
    ).toHaveLength(6);
  });

  /** A GoToSocial-like server: session cookie, sign-in by email, code in the oob redirect. */
  function fakeGoToSocial(password = "correct horse") {
    const gts = (name: string) => loadShape("gotosocial", name, { origin: server.origin });
    const sessions = new Map<string, { signedIn: boolean; clientId?: string }>();
    let nextSession = 0;
    const session = (req: RecordedRequest) => {
      const id = /gts_session=(\w+)/.exec(String(req.headers.cookie ?? ""))?.[1];
      return id ? sessions.get(id) : undefined;
    };
    const code = "ZGQ4ZTI3NTItZjU5Ni0zNWY2LWI1ZDEtMDJlZWFkZDk2MzEy";
    server.on("POST", "/api/v1/apps", gts("oauth-app"));
    server.on("GET", "/oauth/authorize", (req): Shape => {
      const s = session(req);
      if (s?.signedIn) return gts("oauth-authorize-page");
      const id = `s${nextSession++}`;
      sessions.set(id, { signedIn: false, clientId: req.query.get("client_id") ?? undefined });
      return {
        status: 303,
        headers: {
          location: "/auth/sign_in",
          "set-cookie": [`gts_session=${id}; Path=/; HttpOnly`, "other=1"],
        },
      };
    });
    server.on("POST", "/auth/sign_in", (req): Shape => {
      const s = session(req);
      if (!s || req.form?.get("username") !== "erin@b.test" || req.form?.get("password") !== password) {
        return gts("oauth-sign-in-401");
      }
      s.signedIn = true;
      return gts("oauth-sign-in-redirect");
    });
    server.on("POST", "/oauth/authorize", (req): Shape => {
      if (!session(req)?.signedIn)
        return { status: 400, body: { error: "Bad Request: missing keys on session" } };
      return gts("oauth-authorize-code");
    });
    server.on("POST", "/oauth/token", (req): Shape => {
      const form = req.form;
      const ok =
        form?.get("grant_type") === "authorization_code" &&
        form.get("code") === code &&
        form.get("client_id") === "01JNAB00CLIENT0000000000000" &&
        form.get("client_secret") === "9f1e6a52-1d3f-4b7e-9a0c-3f3c1f4c2b11" &&
        form.get("redirect_uri") === OOB_REDIRECT_URI;
      return ok ? gts("oauth-token") : { status: 400, body: { error: "invalid_grant" } };
    });
    server.on("PATCH", "/api/v1/accounts/update_credentials", gts("account-unlocked"));
  }

  it("runs the authorization-code flow with a cookie session and unlocks the account", async () => {
    fakeGoToSocial();
    const result = await runGoToSocialOAuthFlow(server.origin, {
      email: "erin@b.test",
      password: "correct horse",
    });
    expect(result).toEqual({
      token: "MJIWYZLHOGMTMTBKOC00MJAZLWJKMDATNDI1MDM1ZTJJYTQ1",
      clientId: "01JNAB00CLIENT0000000000000",
      clientSecret: "9f1e6a52-1d3f-4b7e-9a0c-3f3c1f4c2b11",
    });
    const [app] = server.sent("POST", "/api/v1/apps");
    expect(Object.fromEntries(app?.form ?? [])).toEqual({
      client_name: "fedicheck",
      redirect_uris: OOB_REDIRECT_URI,
      scopes: "read write",
    });
    const [start, page] = server.sent("GET", "/oauth/authorize");
    expect(start?.query.get("response_type")).toBe("code");
    expect(start?.query.get("client_id")).toBe("01JNAB00CLIENT0000000000000");
    expect(start?.headers.accept).toBe("text/html");
    // Later steps carry the session cookies, including the one the sign-in answer set.
    expect(server.sent("POST", "/auth/sign_in")[0]?.headers.cookie).toBe("gts_session=s0; other=1");
    expect(page?.headers.cookie).toContain("gotosocial-127.0.0.1=MTc0MDk5NjQwMXxTSUdORURJTnw=");
    const [unlock] = server.sent("PATCH", "/api/v1/accounts/update_credentials");
    expect(unlock?.headers.authorization).toBe(`Bearer ${result.token}`);
    expect(unlock?.form?.get("locked")).toBe("false");
    expect(server.unmatched).toEqual([]);
  });

  it("names the step and the server's reason when sign-in fails", async () => {
    fakeGoToSocial();
    await expect(
      runGoToSocialOAuthFlow(server.origin, { email: "erin@b.test", password: "wrong" }, undefined, {
        unlock: false,
      }),
    ).rejects.toThrow(
      /GoToSocial OAuth step "sign-in" \(POST \/auth\/sign_in\) answered 401, expected 302\/303: Unauthorized: password\/email combination was incorrect/,
    );
    expect(server.sent("POST", "/oauth/token")).toEqual([]);
  });
});

describe("Misskey", () => {
  it("creates the first admin with the setup password and returns its token", async () => {
    server.on(
      "POST",
      "/api/admin/accounts/create",
      loadShape("misskey", "admin-accounts-create", { origin: "x" }),
    );
    const result = await runMisskeyProvision(server.origin, {
      username: "alice",
      password: "pw",
      setupPassword: "setup",
    });
    expect(result).toEqual({ token: "aBcDeFgHiJkLmNoP", userId: "9x0alice00", username: "alice" });
    expect(server.sent("POST", "/api/admin/accounts/create")[0]?.json).toEqual({
      username: "alice",
      password: "pw",
      setupPassword: "setup",
    });
  });

  it("sends an admin token as `i` for later accounts, and reports refusals", async () => {
    expect(misskeyProvision({ username: "bob", password: "pw", adminToken: "adm" })[0]?.json).toEqual({
      username: "bob",
      password: "pw",
      i: "adm",
    });
    server.on("POST", "/api/admin/accounts/create", loadShape("misskey", "error-access-denied"));
    await expect(runMisskeyProvision(server.origin, { username: "bob", password: "pw" })).rejects.toThrow(
      'Misskey provisioning step "create-account" (POST /api/admin/accounts/create) answered 400, expected 200',
    );
  });
});

describe("Akkoma", () => {
  it("creates the user with pleroma_ctl, then gets a token with the password grant", async () => {
    const plan = akkomaProvisionCommands({ username: "dave", email: "dave@c.test", password: "pw" });
    expect(plan.exec[0]?.argv).toEqual([
      "pleroma_ctl",
      "user",
      "new",
      "dave",
      "dave@c.test",
      "--password",
      "pw",
      "--admin",
      "-y",
    ]);
    expect(
      akkomaProvisionCommands({ username: "d", email: "d@c.test", password: "p", admin: false }).exec[0]
        ?.argv,
    ).not.toContain("--admin");
    server.on("POST", "/api/v1/apps", loadShape("gotosocial", "oauth-app"));
    server.on("POST", "/oauth/token", loadShape("gotosocial", "oauth-token"));
    const values = await runHttpSteps(server.origin, plan.http);
    expect(values.token).toBe("MJIWYZLHOGMTMTBKOC00MJAZLWJKMDATNDI1MDM1ZTJJYTQ1");
    expect(Object.fromEntries(server.sent("POST", "/oauth/token")[0]?.form ?? [])).toEqual({
      grant_type: "password",
      username: "dave",
      password: "pw",
      client_id: "01JNAB00CLIENT0000000000000",
      client_secret: "9f1e6a52-1d3f-4b7e-9a0c-3f3c1f4c2b11",
      scope: "read write follow",
    });
  });

  it("says which captured value a step's answer lacked", async () => {
    const plan = akkomaProvisionCommands({ username: "dave", email: "dave@c.test", password: "pw" });
    server.on("POST", "/api/v1/apps", { status: 200, body: { id: "1" } });
    await expect(runHttpSteps(server.origin, plan.http)).rejects.toThrow(
      'provisioning step "create-app" (POST /api/v1/apps) answered without "client_id" in its JSON',
    );
  });
});
