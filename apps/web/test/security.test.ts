/**
 * The locks, over real HTTP against a server started in-process: session cookie and session secret
 * (401; a stolen cookie alone reads and changes nothing), Origin (403),
 * Host (421, DNS rebinding), the one-time login token, login rate limiting, response headers (CSP and
 * friends), where the server may listen, TLS, and that no canary secret is in any response.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isKeywardError } from "@keyward/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkListen, startWebServer } from "../src/server/index.js";
import { type Desk, http, leaks, login, received, secretOf, startDesk, statuses, UI_DIR } from "./helpers.js";

let desk: Desk;
let base: string;
beforeAll(async () => {
  desk = await startDesk();
  base = desk.server.origin;
});
afterAll(async () => {
  await desk?.close();
});

const FAKE = randomUUID();
const GET_ROUTES = [
  "/api/session",
  "/api/inventory",
  "/api/inventory?refresh=1",
  "/api/accounts",
  "/api/accounts/health",
  "/api/revoke/jobs",
  `/api/revoke/jobs/${FAKE}`,
  `/api/revoke/jobs/${FAKE}/events`,
  "/api/audit",
  "/api/rotation/runs",
  "/api/rotation/runs/rot-aaaaaa",
  "/api/rotation/runs/rot-aaaaaa/events",
  "/api/scan",
  `/api/scan/jobs/${FAKE}`,
  `/api/scan/jobs/${FAKE}/events`,
  `/api/scan/jobs/${FAKE}/sarif`,
  "/api/no-such-route",
];
const POST_ROUTES: [string, object][] = [
  ["/api/session/logout", {}],
  ["/api/revoke/plan", { all: true }],
  ["/api/revoke/execute", { planId: FAKE, confirm: "1" }],
  [`/api/revoke/jobs/${FAKE}/verify`, { keyId: "x" }],
  [`/api/revoke/jobs/${FAKE}/stop`, {}],
  ["/api/rotation/plan", { selector: { all: true }, deliver: ["dotenv:/tmp/x.env"] }],
  ["/api/rotation/apply", { planId: "rot-aaaaaa", confirm: "1", graceSeconds: 0 }],
  ["/api/rotation/runs/rot-aaaaaa/resume", {}],
  ["/api/rotation/runs/rot-aaaaaa/stop", {}],
  ["/api/rotation/runs/rot-aaaaaa/abort", { confirm: "abort" }],
  ["/api/rotation/runs/rot-aaaaaa/credentials", { slot: 1, apiKey: "k", secret: "s" }],
  ["/api/scan/start", { path: "/nonexistent-keyward-scan-root" }],
  [`/api/scan/jobs/${FAKE}/stop`, {}],
];

describe("the one-time login URL", () => {
  it("is printed at start-up and exchanged for an HttpOnly, SameSite=Strict cookie, then redirects without the token", async () => {
    const printed = desk.printed.join("\n");
    const url = desk.server.loginUrl();
    expect(printed).toContain(url);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login\?token=[A-Za-z0-9_-]{43}$/);

    const res = await http(base, "GET", new URL(url).pathname + new URL(url).search);
    expect(res.status).toBe(303);
    // The session's secret rides in the fragment, which browsers never send to a server.
    expect(res.headers.location).toMatch(/^\/inventory#s=[A-Za-z0-9_-]{43}$/);
    const cookie = res.headers["set-cookie"]?.[0] ?? "";
    expect(cookie).toMatch(/^keyward_session=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/");

    // It works once; the server prints the next one.
    const again = await http(base, "GET", new URL(url).pathname + new URL(url).search);
    expect(again.status).toBe(401);
    expect(again.headers["set-cookie"]).toBeUndefined();
    expect(again.body).toContain("newest URL printed");
    expect(desk.server.loginUrl()).not.toBe(url);
    expect(desk.printed.join("\n")).toContain(desk.server.loginUrl());
  });

  it("refuses a wrong or missing token without setting a cookie", async () => {
    for (const path of ["/login?token=wrong", "/login", "/login?token=", `/login?token=${"x".repeat(500)}`]) {
      const res = await http(base, "GET", path);
      expect(res.status, path).toBe(401);
      expect(res.headers["set-cookie"], path).toBeUndefined();
    }
    const json = await http(base, "POST", "/api/session/login", {
      body: { token: "wrong" },
      headers: { origin: base },
    });
    expect(json.status).toBe(401);
    expect(json.json<{ error: { message: string } }>().error.message).toMatch(/login token/);
  });

  it("also works as JSON (POST /api/session/login), same-origin only", async () => {
    const token = new URL(desk.server.loginUrl()).searchParams.get("token");
    const foreign = await http(base, "POST", "/api/session/login", {
      body: { token },
      headers: { origin: "http://evil.example" },
    });
    expect(foreign.status).toBe(403);
    const res = await http(base, "POST", "/api/session/login", {
      body: { token },
      headers: { origin: base },
    });
    expect(res.status).toBe(200);
    expect(res.json<{ secret: string }>().secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.headers["set-cookie"]?.[0]).toContain("HttpOnly");
  });
});

describe("a stolen session cookie", () => {
  // Browsers send cookies for 127.0.0.1 to every port on it and SameSite counts other loopback ports
  // as the same site: any local dev server the operator opens gets the cookie. Any non-browser client
  // can then set Origin to the server's own. Without the secret the page keeps in sessionStorage, that
  // must read nothing and change nothing.
  it("with a forged Origin reads nothing, learns no secret, and revokes nothing", async () => {
    const victim = await login(desk.server);
    const before = await desk.state();
    const auditBefore = (await victim.get("/api/audit")).json<{ total: number }>().total;
    const stolen = { cookie: victim.cookie, origin: base };
    for (const path of GET_ROUTES) {
      const res = await http(base, "GET", path, { headers: stolen, timeoutMs: 3000 });
      expect(res.status, path).toBe(401);
      expect(res.body, path).not.toContain(victim.secret);
    }
    for (const secret of ["", "wrong", "A".repeat(43)]) {
      const res = await http(base, "GET", "/api/session", {
        headers: { ...stolen, "x-keyward-session": secret },
      });
      expect(res.status, secret).toBe(401);
      expect(res.json<{ error: { code: string } }>().error.code).toBe("SESSION_SECRET");
    }
    // The attack as it worked before: take the token from /api/session, plan, execute.
    const plan = await http(base, "POST", "/api/revoke/plan", { body: { all: true }, headers: stolen });
    expect(plan.status).toBe(401);
    for (const [path, body] of POST_ROUTES) {
      const res = await http(base, "POST", path, { body, headers: stolen });
      expect(res.status, path).toBe(401);
    }
    expect(statuses(await desk.state())).toEqual(statuses(before));
    expect((await victim.get("/api/audit")).json<{ total: number }>().total).toBe(auditBefore);
    // The session itself was not harmed: the page (cookie + secret) still works.
    expect((await victim.get("/api/session")).status).toBe(200);
  });

  it("the secret is handed out only with the one-time login, never by any route to the cookie", async () => {
    const client = await login(desk.server);
    const answers = [
      await client.get("/api/session"),
      await http(base, "GET", "/inventory", { headers: { cookie: client.cookie } }),
      await http(base, "GET", "/", { headers: { cookie: client.cookie } }),
    ];
    for (const res of answers) expect(res.body).not.toContain(client.secret);
    const session = (await client.get("/api/session")).json<Record<string, unknown>>();
    expect(Object.keys(session).sort()).toEqual(["accounts", "expiresAt", "features", "home"]);
    // Another session's secret does not open this one.
    const other = await login(desk.server);
    const crossed = await client.get("/api/inventory", { headers: { "x-keyward-session": other.secret } });
    expect(crossed.status).toBe(401);
    expect(secretOf("/inventory")).toBeUndefined();
  });
});

describe("without a session", () => {
  it("every API route answers 401 with what to do", async () => {
    for (const path of GET_ROUTES) {
      const res = await http(base, "GET", path, { timeoutMs: 3000 });
      expect(res.status, path).toBe(401);
      expect(res.json<{ error: { hint: string } }>().error.hint, path).toMatch(/login URL/);
    }
    for (const [path, body] of POST_ROUTES) {
      const res = await http(base, "POST", path, { body, headers: { origin: base } });
      expect(res.status, path).toBe(401);
    }
  });

  it("a made-up, expired or logged-out session cookie is no session", async () => {
    const fake = await http(base, "GET", "/api/inventory", {
      headers: { cookie: `keyward_session=${"A".repeat(43)}` },
    });
    expect(fake.status).toBe(401);

    const client = await login(desk.server);
    expect((await client.get("/api/session")).status).toBe(200);
    expect((await client.post("/api/session/logout")).status).toBe(200);
    expect((await client.get("/api/session")).status).toBe(401);
  });
});

describe("state-changing requests", () => {
  it("are refused (403) with a forged or missing Origin, even with session cookie and secret", async () => {
    const client = await login(desk.server);
    const before = await desk.state();
    const auditBefore = (await client.get("/api/audit")).json<{ total: number }>().total;
    for (const [path, body] of POST_ROUTES) {
      for (const origin of [
        "http://evil.example",
        `http://localhost:${desk.server.port}`,
        "null",
        "http://127.0.0.1:1",
        undefined,
      ]) {
        const res = await client.post(path, body, { headers: { origin } });
        expect(res.status, `${path} from ${origin}`).toBe(403);
        expect(res.json<{ error: { code: string } }>().error.code).toBe("FORBIDDEN_ORIGIN");
      }
    }
    // Nothing happened: no key changed, no audit entry, the session still works.
    expect(statuses(await desk.state())).toEqual(statuses(before));
    expect((await client.get("/api/audit")).json<{ total: number }>().total).toBe(auditBefore);
    expect((await client.get("/api/session")).status).toBe(200);
  });

  it("are refused (401) without the session's secret, or with another session's", async () => {
    const a = await login(desk.server);
    const b = await login(desk.server);
    for (const [path, body] of POST_ROUTES) {
      for (const secret of [undefined, "", "wrong", b.secret]) {
        const res = await a.post(path, body, { headers: { "x-keyward-session": secret } });
        expect(res.status, `${path} secret=${secret}`).toBe(401);
        expect(res.json<{ error: { code: string } }>().error.code).toBe("SESSION_SECRET");
      }
    }
    // With its own secret the same request goes through to validation (here: a plan for every key).
    const ok = await a.post("/api/revoke/plan", { all: true });
    expect(ok.status).toBe(200);
  });
});

describe("the Host header (DNS-rebinding defence)", () => {
  it("must be the bound host:port, for the API, the pages, assets and login alike", async () => {
    const client = await login(desk.server);
    const port = desk.server.port;
    const token = new URL(desk.server.loginUrl()).searchParams.get("token") ?? "";
    for (const host of [
      "evil.example",
      `evil.example:${port}`,
      `localhost:${port}`,
      `127.0.0.1:${port + 1}`,
      "127.0.0.1",
      `[::1]:${port}`,
    ]) {
      for (const path of ["/api/inventory", "/inventory", "/", "/assets/x.js", `/login?token=${token}`]) {
        const res = await http(base, "GET", path, { headers: { host, cookie: client.cookie } });
        expect(res.status, `${host} ${path}`).toBe(421);
        expect(res.json<{ error: { code: string } }>().error.code).toBe("WRONG_HOST");
        expect(res.headers["set-cookie"]).toBeUndefined();
      }
      const post = await client.post("/api/revoke/plan", { all: true }, { headers: { host } });
      expect(post.status).toBe(421);
    }
    // The refused login did not use up the token.
    expect(desk.server.loginUrl()).toContain(token);
    const ok = await http(base, "GET", "/api/session", {
      headers: { cookie: client.cookie, "x-keyward-session": client.secret, host: `127.0.0.1:${port}` },
    });
    expect(ok.status).toBe(200);
  });
});

describe("response headers", () => {
  it("carry a strict CSP, frame denial, nosniff and no-referrer on pages, API answers and errors", async () => {
    const client = await login(desk.server);
    const responses = [
      await http(base, "GET", "/inventory"),
      await http(base, "GET", "/"),
      await client.get("/api/inventory"),
      await http(base, "GET", "/api/inventory"),
      await http(base, "GET", "/nope"),
      await http(base, "GET", "/login?token=nope"),
      await http(base, "GET", "/inventory", { headers: { host: "evil.example" } }),
      await client.post("/api/revoke/plan", "not json"),
    ];
    for (const res of responses) {
      const csp = String(res.headers["content-security-policy"]);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("unsafe-eval");
      expect(res.headers["x-frame-options"]).toBe("DENY");
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.headers["referrer-policy"]).toBe("no-referrer");
    }
    expect((await client.get("/api/inventory")).headers["cache-control"]).toBe("no-store");
  });

  it("the built page has no inline script or style and loads only its own files", async () => {
    const page = await http(base, "GET", "/inventory");
    expect(page.status).toBe(200);
    const scripts = [...page.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, inner] of scripts) {
      expect(attrs).toMatch(/src="\/assets\/[\w.-]+\.js"/);
      expect(inner?.trim()).toBe("");
    }
    expect(page.body).not.toMatch(/<style|\son[a-z]+=|javascript:/i);
    const asset = /src="(\/assets\/[\w.-]+\.js)"/.exec(page.body)?.[1] ?? "";
    const js = await http(base, "GET", asset);
    expect(js.status).toBe(200);
    expect(js.headers["content-type"]).toMatch(/javascript/);
    // Only names Vite makes are served, from the UI folder only.
    for (const path of ["/assets/../index.html", "/assets/%2e%2e%2fserver%2fapp.js", "/assets/.env"]) {
      expect((await http(base, "GET", path)).status, path).toBe(404);
    }
  });
});

describe("login rate limiting", () => {
  it("throttles wrong tokens only: the right token always logs in, even while the window is full", async () => {
    const server = await startWebServer({
      home: desk.home,
      port: 0,
      uiDir: UI_DIR,
      print: () => {},
      prefetch: false,
      loginRateLimit: { limit: 5, windowMs: 60_000 },
    });
    try {
      const path = (t: string) => `/login?token=${t}`;
      const current = () => new URL(server.loginUrl()).searchParams.get("token") ?? "";
      for (let i = 0; i < 5; i++)
        expect((await http(server.origin, "GET", path(`guess-${i}`))).status).toBe(401);
      // The window is full: more wrong guesses are refused, by link and by JSON alike.
      const limited = await http(server.origin, "GET", path("guess-5"));
      expect(limited.status).toBe(429);
      expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
      const json = await http(server.origin, "POST", "/api/session/login", {
        body: { token: "x" },
        headers: { origin: server.origin },
      });
      expect(json.status).toBe(429);
      // The right token still logs in, by link and by JSON.
      const ok = await http(server.origin, "GET", path(current()));
      expect(ok.status).toBe(303);
      expect(secretOf(ok.headers.location)).toBeDefined();
      const okJson = await http(server.origin, "POST", "/api/session/login", {
        body: { token: current() },
        headers: { origin: server.origin },
      });
      expect(okJson.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("navigations from other sites (<img> tags on any page) do not count, so they cannot lock anyone out", async () => {
    const server = await startWebServer({
      home: desk.home,
      port: 0,
      uiDir: UI_DIR,
      print: () => {},
      prefetch: false,
      loginRateLimit: { limit: 5, windowMs: 60_000 },
    });
    try {
      const path = (t: string) => `/login?token=${t}`;
      // Ten <img src="http://127.0.0.1:PORT/login?token=x"> on an attacker's page, or on a dev server on
      // another port of this host (which browsers call same-site).
      for (const site of ["cross-site", "same-site"]) {
        for (let i = 0; i < 10; i++) {
          const res = await http(server.origin, "GET", path(`img-${i}`), {
            headers: { "sec-fetch-site": site, "sec-fetch-dest": "image", "sec-fetch-mode": "no-cors" },
          });
          expect(res.status, `${site} ${i}`).toBe(401);
        }
      }
      // The window is still empty: five wrong guesses of one's own are answered 401, the sixth 429.
      for (let i = 0; i < 5; i++)
        expect(
          (await http(server.origin, "GET", path(`typo-${i}`), { headers: { "sec-fetch-site": "none" } }))
            .status,
        ).toBe(401);
      expect((await http(server.origin, "GET", path("typo-5"))).status).toBe(429);
      // And the operator's URL, opened from the terminal, logs in.
      const url = new URL(server.loginUrl());
      const ok = await http(server.origin, "GET", url.pathname + url.search, {
        headers: { "sec-fetch-site": "none", "sec-fetch-dest": "document" },
      });
      expect(ok.status).toBe(303);
    } finally {
      await server.close();
    }
  });
});

describe("where the server may listen", () => {
  const check =
    (host: string, allowRemote = false, tls = false) =>
    () =>
      checkListen({ host, port: 7420, allowRemote, tls });

  it("loopback by default; anything else needs --allow-remote AND TLS; never every interface", async () => {
    for (const host of ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
      expect(check(host)).not.toThrow();
    expect(check("192.168.1.10")).toThrow(/not a loopback address/);
    expect(check("keyward.internal")).toThrow(/not a loopback address/);
    expect(check("192.168.1.10", true)).toThrow(/needs TLS/);
    expect(check("192.168.1.10", true, true)).not.toThrow();
    expect(check("keyward.internal", true, true)).not.toThrow();
    for (const host of ["0.0.0.0", "::", "[::]"]) expect(check(host, true, true)).toThrow(/every interface/);
    // Every other spelling the resolver accepts for the unspecified address is refused alike, with or
    // without --allow-remote and TLS (none of them may reach the loopback or remote rules).
    for (const host of [
      "::0",
      "[::0]",
      "0",
      "0.0.0.00",
      "00000",
      "0x0",
      "0.0.0.0.",
      "0:0::0",
      "0:0:0:0:0:0:0:0",
      "::0.0.0.0",
      "::ffff:0.0.0.0",
      "[::ffff:0.0.0.0]",
      "::ffff:0:0",
      "0.1.2.3",
    ]) {
      expect(check(host), host).toThrow(/every interface/);
      expect(check(host, true, true), host).toThrow(/every interface/);
    }
    // Other spellings of loopback are loopback, bound and expected in Host in their canonical form.
    expect(checkListen({ host: "127.1", port: 0, allowRemote: false, tls: false })).toBe("127.0.0.1");
    expect(checkListen({ host: "[0:0:0:0:0:0:0:1]", port: 0, allowRemote: false, tls: false })).toBe("::1");
    expect(check("::ffff:127.0.0.1")).not.toThrow();
    const refusedWildcard = await startWebServer({
      home: desk.home,
      host: "::ffff:0.0.0.0",
      port: 0,
      print: () => {},
    }).catch((e) => e);
    expect(isKeywardError(refusedWildcard, "CONFIG_INVALID")).toBe(true);
    expect(check("evil host")).toThrow(/not an address/);
    expect(() => checkListen({ host: "127.0.0.1", port: 70_000, allowRemote: false, tls: false })).toThrow(
      /port/,
    );
    // startWebServer checks before it opens anything or binds.
    const refused = await startWebServer({
      home: desk.home,
      host: "10.1.2.3",
      port: 0,
      print: () => {},
    }).catch((e) => e);
    expect(isKeywardError(refused, "CONFIG_INVALID")).toBe(true);
  });

  it("serves HTTPS with a Secure __Host- cookie and HSTS when given a certificate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "keyward-web-tls-"));
    try {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-days",
          "2",
          "-subj",
          "/CN=127.0.0.1",
          "-addext",
          "subjectAltName=IP:127.0.0.1",
          "-keyout",
          join(dir, "key.pem"),
          "-out",
          join(dir, "cert.pem"),
        ],
        { stdio: "ignore" },
      );
      const cert = readFileSync(join(dir, "cert.pem"), "utf8");
      const server = await startWebServer({
        home: desk.home,
        port: 0,
        uiDir: UI_DIR,
        print: () => {},
        prefetch: false,
        tls: { cert, key: readFileSync(join(dir, "key.pem"), "utf8") },
      });
      try {
        expect(server.origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        const url = new URL(server.loginUrl());
        const res = await http(server.origin, "GET", url.pathname + url.search, { ca: cert });
        expect(res.status).toBe(303);
        const cookie = res.headers["set-cookie"]?.[0] ?? "";
        expect(cookie).toMatch(/^__Host-keyward_session=/);
        expect(cookie).toContain("Secure");
        expect(res.headers["strict-transport-security"]).toContain("max-age=");
        const client = await login(server, cert);
        expect((await client.get("/api/session")).status).toBe(200);
        expect(
          (
            await client.post(
              "/api/revoke/plan",
              { all: true },
              { headers: { origin: `http://127.0.0.1:${server.port}` } },
            )
          ).status,
        ).toBe(403);
      } finally {
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the secret guard", () => {
  it("fires on real secrets, never on ordinary values that contain a weak passphrase", async () => {
    // The vault passphrase as `keyward web` and the demo registered it: here words of the home's own
    // path (/tmp/keyward-web-test-…), once too short to tell from a word, once long but inside the path.
    const server = await startWebServer({
      home: desk.home,
      port: 0,
      uiDir: UI_DIR,
      print: () => {},
      prefetch: false,
      extraSecrets: ["keyward", "keyward-web-test"],
    });
    try {
      const client = await login(server);
      for (const path of ["/api/session", "/api/accounts", "/api/audit", "/api/inventory"]) {
        const res = await client.get(path);
        expect(res.status, path).toBe(200);
        expect(res.body, path).not.toMatch(/withheld/);
      }
    } finally {
      await server.close();
    }
    // A distinctive value that does stand alone in an answer is still caught: the home's full path
    // (it is in GET /api/session) registered as if it were a secret.
    const guarded = await startWebServer({
      home: desk.home,
      port: 0,
      uiDir: UI_DIR,
      print: () => {},
      prefetch: false,
      extraSecrets: [desk.dir],
    });
    try {
      const res = await (await login(guarded)).get("/api/session");
      expect(res.status).toBe(500);
      expect(res.body).toMatch(/response withheld/);
      expect(res.body).not.toContain(desk.dir);
    } finally {
      await guarded.close();
    }
  });
});

describe("secrets", () => {
  it("no response this file received carried a canary secret", () => {
    expect(received.length).toBeGreaterThan(50);
    expect(leaks()).toEqual([]);
  });
});
