/**
 * Issue 9.5: `--label` globs are plain `* ? [..]`, capped at 128 characters (longer: exit 2, the flag
 * named, nothing listed or revoked), and a hostile pattern answers as fast as any other.
 */
import { afterAll, describe, expect, it } from "vitest";
import { desk, KEYS, parseJson, removeTempDirs, scenario, show } from "./helpers.js";

afterAll(() => removeTempDirs());

const HOSTILE = "*(*)*(*)*(*)z";

describe.concurrent("--label globs (issue 9.5)", () => {
  it("a glob over 128 characters is refused with exit 2 before anything is listed", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    const long = `${"*(".repeat(64)}z`;
    for (const args of [
      ["keys", "--label", long],
      ["revoke", "--label", long, "--yes"],
      ["rotate", "plan", "--label", long, "--deliver", "dotenv:/tmp/x.env"],
    ]) {
      const r = await home.run(args);
      expect(r.code, show(r)).toBe(2);
      expect(r.stderr).toContain("keyward: --label: a label glob is at most 128 characters");
    }
    const malformed = await home.run(["keys", "--label", "bot-[12"]);
    expect(malformed.code, show(malformed)).toBe(2);
    expect(malformed.stderr).toMatch(/keyward: --label: a \[ is not closed by \]/);
    expect(await sim.requests()).toEqual([]);
  });

  it("the hostile extglob against 22-character labels answers like any glob", async ({ onTestFinished }) => {
    const { home, sim } = await desk({ onTestFinished });
    const world = scenario();
    for (const account of world.okx?.accounts ?? [])
      for (const sub of account.subAccounts ?? [])
        sub.keys = (sub.keys ?? []).map((k) =>
          k.apiKey === KEYS.bot1.apiKey ? { ...k, label: "a".repeat(22) } : k,
        );
    await sim.control("POST", "/scenario", world);

    const ordinary = await home.run(["keys", "--label", "bot-*", "--json"]);
    expect(ordinary.code, show(ordinary)).toBe(0);
    const hostile = await home.run(["keys", "--label", HOSTILE, "--json"]);
    expect(hostile.code, show(hostile)).toBe(0);
    expect(parseJson<{ keys: unknown[] }>(hostile).keys).toEqual([]);
    // Both list the same accounts; matching must not add seconds (picomatch: ~2.5 s for this label).
    expect(hostile.ms).toBeLessThan(ordinary.ms + 1500);

    const plain = await home.run(["keys", "--label", "A?A*[a]", "--json"]);
    expect(parseJson<{ keys: { apiKey: string }[] }>(plain).keys.map((k) => k.apiKey)).toEqual([
      KEYS.bot1.apiKey,
    ]);
  });
});
