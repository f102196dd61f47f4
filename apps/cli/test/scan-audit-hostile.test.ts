import { afterAll, describe, expect, it } from "vitest";
import {
  auditEntries,
  credentialsJson,
  desk,
  KEYS,
  OKX_ACCOUNT,
  removeTempDirs,
  revokedKeys,
  show,
} from "./helpers.js";
import { plantedTree } from "./scan-fixtures.js";

afterAll(() => removeTempDirs());

const tree = (planted: Record<string, string>): string => plantedTree(planted);

interface Entry {
  seq: number;
  action: string;
  details: Record<string, unknown>;
}

/** A made-up OKX-shaped credential, distinct for each n: a lower-case UUID key and a 32 upper-hex secret. */
function okxShaped(n: number): { key: string; secret: string } {
  const h = (n * 2654435761 + 0x9e3779b9).toString(16).padStart(8, "0").slice(-8);
  const hex = (n + 0x10000000).toString(16).slice(-8);
  return {
    key: `${h}-4a1b-4c2d-8e3f-${hex}a7b9`,
    secret: `${h.toUpperCase()}${hex.toUpperCase()}0F1E2D3C4B5A6978`,
  };
}

describe.concurrent("scan.done and planted text", () => {
  it("a decoy OKX credential with OKX_PASSPHRASE=live: --revoke --yes still revokes the leaked key (proven dead), scan.done recorded", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    const track = await home.run(["key", "track", OKX_ACCOUNT, "--label", "bot-1", "--credentials-stdin"], {
      input: credentialsJson(KEYS.bot1),
    });
    expect(track.code, show(track)).toBe(0);
    const decoy = okxShaped(7);
    const root = tree({
      "bot/.env": `OKX_API_KEY=${KEYS.bot1.apiKey}\nOKX_SECRET_KEY=${KEYS.bot1.secretKey}\n`,
      "decoy/okx.env": `OKX_API_KEY=${decoy.key}\nOKX_SECRET_KEY=${decoy.secret}\nOKX_PASSPHRASE=live\n`,
    });
    const r = await home.run(["scan", root, "--revoke", "--yes"], { timeoutMs: 60_000 });
    expect(r.stdout + r.stderr).not.toMatch(/could not be audited/);
    expect(revokedKeys(await sim.state()), show(r)).toContain(KEYS.bot1.apiKey);
    expect(r.stdout).toMatch(/Revoking the 1 live known key\(s\) the scan found/);
    // The decoy is an unknown key that may still work: exit 1, as the table says.
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout + r.stderr).not.toContain(decoy.secret);

    const audit = auditEntries<Entry>(await home.run(["audit", "--json"]));
    const done = audit.find((e) => e.action === "scan.done");
    expect(done?.details).toMatchObject({ liveByKind: { knownKeys: 1, unknownKeys: 1 }, unknownKeysMore: 0 });
    expect(audit.filter((e) => e.action === "revoke.verified")).toHaveLength(1);
  });

  it("a planted file of 3000 distinct unknown credentials: scan.done lists the first 50 (redacted) and counts the rest", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const count = 3000;
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const c = okxShaped(i);
      lines.push(`okx key ${c.key} secret ${c.secret}`);
    }
    const root = tree({ "dump/creds.txt": `${lines.join("\n")}\n` });
    const r = await home.run(["scan", root, "--json"], { timeoutMs: 60_000 });
    expect(r.code, show(r)).toBe(1);
    const audit = auditEntries<Entry>(await home.run(["audit", "--json"]));
    const done = audit.find((e) => e.action === "scan.done");
    const details = done?.details ?? {};
    const listed = details.unknownKeys as unknown[];
    expect(listed).toHaveLength(50);
    // Every unknown key found is counted (the engine may keep fewer than were planted: its own cap).
    const found = (details.liveByKind as { unknownKeys: number }).unknownKeys;
    expect(found).toBeGreaterThan(1000);
    expect(details.unknownKeysMore).toBe(found - 50);
    // Bounded: a few KB whatever the file held (3000 entries were ~300 KB).
    expect(JSON.stringify(details).length).toBeLessThan(10_000);
    const text = JSON.stringify(details);
    for (let i = 0; i < count; i += 97) expect(text).not.toContain(okxShaped(i).secret);
  });
});
