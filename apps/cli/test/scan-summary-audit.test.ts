/**
 * `keyward scan`'s summary wraps between phrases, never inside one ("5 more match(es) not listed" stays on
 * one line), and `keyward audit` shows a scan's entry with what it read and found by kind and liveness (and a
 * revoke it led to names it), with no key id, secret or unknown key in it (runCli rejects any CANARY-…
 * string, the desk's secrets, in any output; the others are checked here).
 */
import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { credentialsJson, desk, KEYS, OKX_ACCOUNT, removeTempDirs, show } from "./helpers.js";
import { plantedTree } from "./scan-fixtures.js";

afterAll(() => removeTempDirs());

const tree = (planted: Record<string, string>): string => plantedTree(planted);

const UNKNOWN = { key: "Qm7RtX2vLp9KzN4wYc", secret: "Zt8Hq2Lm5Nv9Px3Rb6Sd1Fg4Jk7Wy0Ce2Ua5" };

describe.concurrent("scan: summary and audit row", () => {
  it("the summary of a long scan wraps between phrases, within 120 columns", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const flood = Array.from({ length: 25 }, () => `API_KEY=${KEYS.bot1.apiKey}`).join("\n");
    const root = tree({ "logs/flood.log": `${flood}\n`, "src/a.ts": "export {};\n" });
    execFileSync("git", ["-C", root, "init", "-q"]);
    execFileSync("git", ["-C", root, "add", "-A"]);
    execFileSync("git", [
      "-C",
      root,
      "-c",
      "user.name=t",
      "-c",
      "user.email=t@example.com",
      "commit",
      "-qm",
      "x",
    ]);
    const r = await home.run(["scan", root, "--git"]);
    expect(r.code, show(r)).toBe(1);
    const summary = r.stdout.slice(r.stdout.indexOf("\nScanned "));
    expect(summary.split("\n").length, summary).toBeGreaterThan(2);
    for (const phrase of [
      /\d+ more match\(es\) not listed/,
      /\(the same key again in one source\)\./,
      /\d+ blob\(s\) in 1 commit\(s\)/,
      /in \d+\.\d s \(\d+\.\d MB\/s\):/,
      /1 finding\(s\),/,
    ]) {
      expect(summary).toMatch(phrase);
    }
    for (const line of r.stdout.split("\n")) expect(line.length).toBeLessThanOrEqual(120);
  });

  it("keyward audit: the scan.done row says what was read and found by kind and liveness; the revoke names the scan", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const track = await home.run(["key", "track", OKX_ACCOUNT, "--label", "bot-1", "--credentials-stdin"], {
      input: credentialsJson(KEYS.bot1),
    });
    expect(track.code, show(track)).toBe(0);
    const root = tree({
      "bot/.env": `OKX_API_KEY=${KEYS.bot1.apiKey}\nOKX_SECRET_KEY=${KEYS.bot1.secretKey}\n`,
      "hedge/.env": `# bybit hedge\nBYBIT_API_KEY=${UNKNOWN.key}\nBYBIT_API_SECRET=${UNKNOWN.secret}\n`,
    });
    const scan = await home.run(["scan", root, "--revoke", "--yes"], { timeoutMs: 60_000 });
    expect(scan.code, show(scan)).toBe(1);

    const audit = await home.run(["audit", "--action", "scan"]);
    expect(audit.code, show(audit)).toBe(0);
    const text = audit.stdout.replace(/\n\s+/g, " ");
    expect(text).toMatch(
      /scan\.done +scan +scanned; 3 found, 3 live: 1 known key, 1 held secret, 1 unknown key; \//,
    );
    const details = await home.run(["audit", "--action", "scan", "--details"]);
    expect(details.stdout).toContain(root);
    const revoke = await home.run(["audit", "--action", "revoke.requested"]);
    expect(revoke.stdout).toMatch(/revoke requested; after scan #\d+/);
    // The row names no key, not even redacted; the details name unknown keys redacted only.
    for (const secret of [KEYS.bot1.apiKey, UNKNOWN.key, UNKNOWN.secret, `${UNKNOWN.key.slice(0, 4)}…`]) {
      expect(audit.stdout).not.toContain(secret);
    }
    for (const secret of [UNKNOWN.key, UNKNOWN.secret]) expect(details.stdout).not.toContain(secret);
  });
});
