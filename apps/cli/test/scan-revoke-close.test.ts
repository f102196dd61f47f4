import { startSimulator } from "@keyward/simulator";
import { afterAll, describe, expect, it } from "vitest";
import { desk, initHome, removeTempDirs, revokedKeys, show } from "./helpers.js";
import { plantedTree } from "./scan-fixtures.js";

afterAll(() => removeTempDirs());

const tree = (planted: Record<string, string>): string => plantedTree(planted);

/** The last paragraph of the output, its wrapped lines joined. */
const lastParagraph = (stdout: string): string =>
  (stdout.trimEnd().split(/\n\n/).at(-1) ?? "").replace(/\n\s+/g, " ");

describe.concurrent("scan --revoke: the closing paragraph", () => {
  it("only an unknown key is live: exit 1, and the last words say nothing was revoked, why, and what to do", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    const unknown = { key: "Qm7RtX2vLp9KzN4wYc", secret: "Zt8Hq2Lm5Nv9Px3Rb6Sd1Fg4Jk7Wy0Ce2Ua5" };
    const root = tree({
      "srv/.env": `# bybit hedge\nBYBIT_API_KEY=${unknown.key}\nBYBIT_API_SECRET=${unknown.secret}\n`,
    });
    const r = await home.run(["scan", root, "--revoke", "--yes"]);
    expect(r.code, show(r)).toBe(1);
    const last = lastParagraph(r.stdout);
    expect(last).toMatch(
      /^Revoked: none\. Not revoked: 1 unknown key\(s\) that may still work: Keyward does not manage them/,
    );
    expect(last).toMatch(
      /revoke each on its exchange's web site .* or add its account \(keyward account add\) and run this scan again\.$/,
    );
    expect(r.stdout + r.stderr).not.toContain(unknown.secret);
    expect(revokedKeys(await sim.state())).toEqual([]);
  });

  it("--dry-run says 'Would revoke', revokes nothing, exits 1; every option its plan suggests is one scan accepts", async ({
    onTestFinished,
  }) => {
    // Deribit has a kill switch, so its plan suggests --no-disable-first.
    const bot = {
      id: 2,
      client_id: "DRSCN002",
      client_secret: "CANARY-deribit-secret-bot-4c1d9e",
      name: "bot_1",
    };
    const admin = {
      id: 1,
      client_id: "DRSCN001",
      client_secret: "CANARY-deribit-secret-admin-4c1d9e",
      name: "keyward",
    };
    const keys = [
      {
        ...admin,
        max_scope: "account:read_write trade:read wallet:none",
        enabled: true,
        ip_whitelist: [],
        timestamp: 0,
      },
      { ...bot, max_scope: "account:read trade:read_write", enabled: true, ip_whitelist: [], timestamp: 0 },
    ];
    const sim = await startSimulator({
      scenario: {
        deribit: {
          accounts: [
            {
              id: 731002,
              username: "dr_scan",
              type: "main",
              totpSeed: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
              keys,
            },
          ],
        },
      },
      rateScale: 0.05,
    });
    onTestFinished(() => sim.close());
    const home = await initHome();
    const add = await home.run(
      ["account", "add", "deribit", "dr-scan", "--endpoint", sim.deribit, "--credentials-stdin"],
      { input: JSON.stringify({ apiKey: admin.client_id, secret: admin.client_secret }) },
    );
    expect(add.code, show(add)).toBe(0);
    const root = tree({ "srv/bot.yaml": `exchange: deribit\nclient_id: ${bot.client_id}\n` });

    const r = await home.run(["scan", root, "--revoke", "--revoke-ids-alone", "--dry-run"]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).toMatch(/Would revoke the 1 live known key\(s\) the scan found/);
    expect(r.stdout).not.toMatch(/Revoking the/);
    expect(lastParagraph(r.stdout)).toMatch(
      /^Would revoke 1 key\(s\) \(a dry run: nothing was revoked; run again without --dry-run\)\.$/,
    );
    const help = await home.run(["scan", "--help"]);
    const accepted = new Set(help.stdout.match(/--[a-z][a-z-]+/g));
    const suggested = new Set(r.stdout.match(/--[a-z][a-z-]+/g));
    expect([...suggested], show(r)).toContain("--no-disable-first");
    for (const flag of suggested) expect([...accepted], `${flag} is suggested`).toContain(flag);

    const direct = await home.run([
      "scan",
      root,
      "--revoke",
      "--revoke-ids-alone",
      "--dry-run",
      "--no-disable-first",
    ]);
    expect(direct.code, show(direct)).toBe(1);
    expect(direct.stdout).toMatch(/Would revoke the 1 live known key\(s\)/);
    // The flag reached the plan: it says the keys are removed directly.
    expect(direct.stdout).toMatch(/could be disabled first .*, but --no-disable-first removes them directly/);
    const state = (await (await fetch(`${sim.control}/state`)).json()) as {
      deribit: { accounts: { keys: { apiKey: string; status: string }[] }[] };
    };
    expect(state.deribit.accounts[0]?.keys.find((k) => k.apiKey === bot.client_id)?.status).toBe("active");
  });
});
