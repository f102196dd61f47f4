/**
 * `keyward web`: the built binary serves the web app over the home, prints a one-time login URL, and
 * refuses to listen where it must not. (The web app's own suite tests the API and the browser.)
 */
import { afterAll, describe, expect, it } from "vitest";
import { CANARIES, desk, removeTempDirs, runCli, show, startCli } from "./helpers.js";

afterAll(() => removeTempDirs());

describe("keyward web", () => {
  it("prints a one-time login URL; the token becomes an HttpOnly SameSite=Strict session and its secret; Ctrl-C exits 0", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const cli = startCli(["--home", home.dir, "web", "--port", "0"], { timeoutMs: 60_000 });
    onTestFinished(() => {
      cli.child.kill("SIGKILL");
    });
    await cli.waitFor(/\/login\?token=\S+/);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/login\?token=\S+)/.exec(cli.stdout())?.[1];
    expect(url, cli.stdout()).toBeDefined();

    const login = await fetch(url as string, { redirect: "manual" });
    expect(login.status).toBe(303);
    const cookie = login.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    // The session's secret comes once, in the redirect's URL fragment (the page keeps it in sessionStorage).
    const secret = /#s=([A-Za-z0-9_-]{43})$/.exec(login.headers.get("location") ?? "")?.[1];
    expect(secret, login.headers.get("location") ?? "").toBeDefined();
    // The token works once.
    expect((await fetch(url as string, { redirect: "manual" })).headers.get("set-cookie") ?? "").toBe("");

    const origin = new URL(url as string).origin;
    const session = cookie.split(";")[0] as string;
    const inventory = await fetch(`${origin}/api/inventory`, {
      headers: { cookie: session, "x-keyward-session": secret as string },
    });
    expect(inventory.status).toBe(200);
    const text = await inventory.text();
    expect((JSON.parse(text) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
    for (const canary of CANARIES) expect(text).not.toContain(canary);
    expect((await fetch(`${origin}/api/inventory`)).status).toBe(401);
    // The cookie alone is no credential.
    expect((await fetch(`${origin}/api/inventory`, { headers: { cookie: session } })).status).toBe(401);

    cli.child.kill("SIGINT");
    const r = await cli.done;
    expect(r.code, show(r)).toBe(0);
  });

  it.each([
    [["--host", "0.0.0.0"], /0\.0\.0\.0|wildcard|every address/i],
    [["--host", "::0"], /every interface/i],
    [["--host", "10.1.2.3"], /--allow-remote/],
    [["--host", "10.1.2.3", "--allow-remote"], /--tls-cert|TLS/i],
    [["--port", "http"], /--port/],
  ])("refuses to listen with %j: exit 2, nothing served", async (args, message) => {
    const r = await runCli(["web", ...args]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toMatch(/login\?token=/);
  });
});
