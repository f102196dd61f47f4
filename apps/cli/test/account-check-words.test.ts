/**
 * `keyward account check` says what each account key's probe found in words ("healthy: master key,
 * read+trade, bound to 1 IP"; "unhealthy: the key is dead …"), not the exchange's codes; the raw
 * evidence stays in --json.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsJson, initHome, KEYS, parseJson, removeTempDirs, Sim, show } from "./helpers.js";

let sim: Sim;
beforeAll(async () => {
  sim = await Sim.start();
});
afterAll(async () => {
  await sim?.close();
  removeTempDirs();
});

describe("account check", () => {
  it("says in words what each probe found; a revoked account key is unhealthy; --json keeps the evidence", async () => {
    const home = await initHome();
    for (const [exchange, name, key, endpoint] of [
      ["okx", "desk-okx", KEYS.okxMaster, sim.okx],
      ["okx", "desk-legacy", KEYS.okxLegacy, sim.okx],
    ] as const) {
      const added = await home.run(
        ["account", "add", exchange, name, "--endpoint", endpoint, "--credentials-stdin"],
        { input: credentialsJson(key) },
      );
      expect(added.code, show(added)).toBe(0);
    }

    const healthy = await home.run(["account", "check"]);
    expect(healthy.code, show(healthy)).toBe(0);
    const line = (name: string, text: string) => text.split("\n").find((l) => l.startsWith(name)) ?? "";
    expect(line("desk-okx", healthy.stdout)).toContain("healthy: master key, read+trade, bound to 1 IP");
    expect(line("desk-legacy", healthy.stdout)).toContain(
      "healthy: master key, read+trade+withdraw, not bound to any IP",
    );
    // No exchange codes in the human output.
    expect(healthy.stdout).not.toMatch(/answered \d/);

    await sim.uiRevoke("okx", KEYS.okxLegacy.apiKey);
    const after = await home.run(["account", "check"]);
    expect(after.code, show(after)).toBe(1);
    expect(line("desk-legacy", after.stdout)).toContain(
      "unhealthy: the key is dead (revoked, or unknown to the exchange): replace it",
    );
    expect(line("desk-okx", after.stdout)).toContain("healthy: master key");

    const json = await home.run(["account", "check", "--json"]);
    const results = parseJson<{ account: string; health: { summary: string; evidence: string } }[]>(json);
    const okx = results.find((r) => r.account === "desk-okx");
    expect(okx?.health.summary).toBe("healthy: master key, read+trade, bound to 1 IP");
    expect(okx?.health.evidence).not.toBe("");
  });
});
