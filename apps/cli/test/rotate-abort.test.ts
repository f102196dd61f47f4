/**
 * `rotate abort`: before the old key's revoke (step 6), the old secret goes back into every target and
 * the new key is deleted; from the revoke on, abort says what can no longer be undone and `rotate resume`
 * finishes the key. Keyward holds the old secrets here because an earlier rotation made those keys.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { removeTempDirs, show } from "./helpers.js";
import { okxProbe, rotationDesk, statusOf, targetsFor } from "./rotate-helpers.js";

// The homes and targets these tests make live under one temporary folder per file.
afterAll(() => removeTempDirs());

const crash = (point: string) => ({ env: { KEYWARD_TEST_CRASH_AFTER: point }, timeoutMs: 40_000 });

describe("rotate abort", () => {
  it("undoes a rotation before the revoke, and explains what cannot be undone after it", {
    timeout: 90_000,
  }, async (context) => {
    const { sim, keys, home, dir } = await rotationDesk(context, 2);
    const targets = await targetsFor(dir, keys);
    const rotate = async (name: string) => {
      const file = join(dir, `${name}.json`);
      const plan = await home.run(["rotate", "plan", "--label", "rbot-*", ...targets.args, "-o", file]);
      expect(plan.code, show(plan)).toBe(0);
      return file;
    };

    // Rotation 1 runs through: Keyward made the keys now in the targets, so it holds their secrets.
    const first = await home.run(["rotate", "apply", await rotate("first"), "--grace", "0s"], {
      timeoutMs: 40_000,
    });
    expect(first.code, show(first)).toBe(0);
    const credentialsIn = async () =>
      Promise.all(
        keys.map(async (k) =>
          Object.entries(await targets.read(k.label)).map(([kind, c]) => [
            kind,
            c.apiKey,
            c.secret,
            c.passphrase,
          ]),
        ),
      );
    const before = await credentialsIn();

    // Rotation 2 is killed once a new key was delivered, then aborted.
    const second = await home.run(
      ["rotate", "apply", await rotate("second"), "--grace", "0s", "--concurrency", "1"],
      crash("delivered"),
    );
    expect(second.signal, show(second)).toBe("SIGKILL");
    const [killed] = await statusOf(home);
    const delivered = killed?.slots.filter((s) => s.step === "delivered") ?? [];
    expect(delivered).toHaveLength(1);
    const abort = await home.run(["rotate", "abort", "--json"]);
    expect(abort.code, show(abort)).toBe(0);
    const report = JSON.parse(abort.stdout) as {
      state: string;
      slots: { result: string; explanation: string }[];
    };
    expect(report.state).toBe("aborted");
    expect(report.slots.map((s) => s.result)).toEqual(["aborted", "aborted"]);
    expect(report.slots.some((s) => s.explanation.includes("the old secret is back in every target"))).toBe(
      true,
    );
    // Every target holds the first rotation's key again, which still works; the new key is gone.
    expect(await credentialsIn()).toEqual(before);
    for (const k of keys)
      expect((await okxProbe(sim.okx, (await targets.read(k.label)).dotenv ?? {})).code).toBe("0");
    const state = await sim.state();
    const status = new Map(
      state.okx.accounts
        .flatMap((a) => a.subAccounts.flatMap((s) => s.keys))
        .map((k) => [k.apiKey, k.status]),
    );
    expect(status.get(delivered[0]?.newApiKey ?? "")).toBe("revoked");

    // Rotation 3 is killed after an old key was revoked: that key cannot come back.
    const third = await home.run(
      ["rotate", "apply", await rotate("third"), "--grace", "0s", "--concurrency", "1"],
      crash("revoked"),
    );
    expect(third.signal, show(third)).toBe("SIGKILL");
    const late = await home.run(["rotate", "abort"]);
    expect(late.code, show(late)).toBe(1);
    expect(late.stdout).toMatch(
      /not-undone: cannot be undone: the old key was \(or may have been\) revoked already/,
    );
    const resume = await home.run(["rotate", "resume"], { timeoutMs: 40_000 });
    expect(resume.code, show(resume)).toBe(0);
    const [run] = await statusOf(home);
    expect(run?.slots.map((s) => s.step)).toEqual(["finished", "aborted"]);
    const verify = await home.run(["audit", "verify"]);
    expect(verify.code, show(verify)).toBe(0);
  });
});
