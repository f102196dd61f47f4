/**
 * The locks, over real HTTP against a server started in-process: session (401), Origin and CSRF (403),
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
import { type Desk, http, leaks, login, received, startDesk, statuses, UI_DIR } from "./helpers.js";

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
];

describe("the one-time login URL", () => {
  it("is printed at start-up and exchanged for an HttpOnly, SameSite=Strict cookie, then redirects without the token", async () => {
    const printed = desk.printed.join("\n");
    const url = desk.server.loginUrl();
    expect(printed).toContain(url);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login\?token=[A-Za-z0-9_-]{43}$/);

    const res = await http(base, "GET", new URL(url).pathname + new URL(url).search);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/inventory");
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
    expect(res.json<{ csrfToken: string }>().csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.headers["set-cookie"]?.[0]).toContain("HttpOnly");
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
  it("are refused (403) with a forged or missing Origin, even with session and CSRF token", async () => {
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

  it("are refused (403) without the session's CSRF token, or with another session's", async () => {
    const a = await login(desk.server);
    const b = await login(desk.server);
    for (const [path, body] of POST_ROUTES) {
      for (const csrf of [undefined, "", "wrong", b.csrf]) {
        const res = await a.post(path, body, { headers: { "x-csrf-token": csrf } });
        expect(res.status, `${path} csrf=${csrf}`).toBe(403);
        expect(res.json<{ error: { code: string } }>().error.code).toBe("CSRF");
      }
    }
    // With its own token the same request goes through to validation (here: a plan for every key).
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
      headers: { cookie: client.cookie, host: `127.0.0.1:${port}` },
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
  it("answers 429 once attempts exceed the limit, even for the right token, until the window passes", async () => {
    const server = await startWebServer({
      home: desk.home,
      port: 0,
      uiDir: UI_DIR,
      print: () => {},
      prefetch: false,
      loginRateLimit: { limit: 5, windowMs: 1500 },
    });
    try {
      const path = (t: string) => `/login?token=${t}`;
      for (let i = 0; i < 5; i++)
        expect((await http(server.origin, "GET", path(`guess-${i}`))).status).toBe(401);
      const limited = await http(
        server.origin,
        "GET",
        path(new URL(server.loginUrl()).searchParams.get("token") ?? ""),
      );
      expect(limited.status).toBe(429);
      expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
      const json = await http(server.origin, "POST", "/api/session/login", {
        body: { token: "x" },
        headers: { origin: server.origin },
      });
      expect(json.status).toBe(429);
      await new Promise((r) => setTimeout(r, 1600));
      const url = new URL(server.loginUrl());
      expect((await http(server.origin, "GET", url.pathname + url.search)).status).toBe(303);
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

describe("secrets", () => {
  it("no response this file received carried a canary secret", () => {
    expect(received.length).toBeGreaterThan(50);
    expect(leaks()).toEqual([]);
  });
});
