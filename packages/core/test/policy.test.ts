/**
 * The policy file (`keyward check`): the committed example stays valid, rules resolve most-specific
 * first, and the Prometheus output escapes hostile label values so they cannot forge a sample. The
 * check itself, over HTTP against the simulator, is tested through the CLI (apps/cli/test/check.test.ts)
 * and the web (apps/web/test/check.test.ts).
 */
import { readFileSync } from "node:fs";
import { DEMO_SCENARIO_PATH, demoDesk, loadDemoScenario } from "@keyward/simulator";
import { describe, expect, it } from "vitest";
import { type Finding, POLICY_RULE_NAMES, parsePolicy, policyFor, policyMetrics } from "../src/index.js";

const EXAMPLE = new URL("../../../docs/policy.example.json", import.meta.url);
/** The demo desk's accounts (`npm run demo:cli`): the example must run against it as it is. */
const DEMO_ACCOUNTS = demoDesk(loadDemoScenario(), {
  okx: "http://127.0.0.1:1",
  bitfinex: "http://127.0.0.1:1",
  bybit: "http://127.0.0.1:1",
  deribit: "http://127.0.0.1:1",
}).accounts.map((a) => a.name);
const CONTEXT = { maxKeyAgeDays: 90, accounts: DEMO_ACCOUNTS };

describe("policy", () => {
  it("docs/policy.example.json is a valid policy that names every shared rule", () => {
    const doc = JSON.parse(readFileSync(EXAMPLE, "utf8")) as { rules: Record<string, string> };
    const policy = parsePolicy(doc, "docs/policy.example.json", CONTEXT);
    expect(policy.ignore[0]?.reason).toMatch(/fixed egress IP/);
    // The example sets every rule a policy can name (a new exchange risk must be added to it).
    expect(Object.keys(doc.rules).sort()).toEqual([...POLICY_RULE_NAMES].sort());
    for (const rule of [
      "no-ip",
      "withdraw",
      "old",
      "expiring",
      "dead-tracked",
      "account-unhealthy",
      "unverified",
    ])
      expect(doc.rules).toHaveProperty(rule);
    expect(policyFor(policy, "bybit", "desk-gamma")).toMatchObject({ maxKeyAgeDays: 30 });
    expect(policyFor(policy, "bybit", "desk-gamma").rules.withdraw).toBe("warning");
    expect(policyFor(policy, "okx", "desk-alpha").rules.withdraw).toBe("error");
    // Its ignore names a whole key id of the demo desk (exchange:account:sub-account:API key), no "…".
    const demo = readFileSync(DEMO_SCENARIO_PATH, "utf8");
    for (const { key } of policy.ignore) {
      const [, account = "", , apiKey = ""] = key.split(":");
      expect(key).not.toContain("…");
      expect(DEMO_ACCOUNTS).toContain(account);
      expect(demo).toContain(`"${apiKey}"`);
    }
  });

  it("an account's override wins over its exchange's, the exchange's over the policy's rules", () => {
    const policy = parsePolicy(
      {
        rules: { old: "error" },
        overrides: [
          { account: "desk-beta", rules: { old: "warning" } },
          { exchange: "okx", rules: { old: "off", "no-ip": "warning" } },
        ],
      },
      "policy.json",
      CONTEXT,
    );
    expect(policyFor(policy, "okx", "desk-beta").rules).toMatchObject({ old: "warning", "no-ip": "warning" });
    expect(policyFor(policy, "okx", "desk-alpha").rules).toMatchObject({ old: "off", "no-ip": "warning" });
    expect(policyFor(policy, "bybit", "desk-alpha").rules).toMatchObject({ old: "error", "no-ip": "error" });
  });

  it("errors name the field; an override names exactly one of exchange and account", () => {
    const fails = (doc: unknown) => () => parsePolicy(doc, "policy.json", CONTEXT);
    expect(fails({ rules: { "no-ip": 1 } })).toThrow(/^policy\.json: rules\.no-ip: /);
    expect(fails({ rules: { withdrawal: "off" } })).toThrow(/rules: Unrecognized key: "withdrawal"/);
    expect(fails({ overrides: [{ rules: {} }] })).toThrow(
      /overrides\[0\]: name either "exchange" or "account"/,
    );
    expect(fails({ overrides: [{ exchange: "okx", account: "desk-beta" }] })).toThrow(/exactly one/);
    expect(fails({ overrides: [{ exchange: "kraken" }] })).toThrow(/overrides\[0\]\.exchange: /);
    expect(fails({ ignore: [{ key: "x", reason: " " }] })).toThrow(
      /ignore\[0\]\.reason: a reason is required/,
    );
    expect(fails({ ignore: [{ key: "x", reason: "r", until: "next week" }] })).toThrow(/ignore\[0\]\.until/);
  });

  it("Prometheus label values are escaped: a hostile value cannot end the value or forge a sample", () => {
    const hostile = 'x"} 999\nkeyward_check_success{a="\\';
    const finding: Finding = {
      severity: "error",
      rule: "no-ip",
      exchange: "okx",
      account: hostile,
      label: hostile,
      message: hostile,
    };
    const text = policyMetrics({
      findings: [finding],
      keys: 1,
      accounts: 1,
      complete: false,
      checkedAt: "2026-12-02T00:00:00.000Z",
    });
    const sample = text.split("\n").filter((l) => l.startsWith("keyward_policy_findings{"));
    expect(sample).toEqual([
      'keyward_policy_findings{severity="error",rule="no-ip",exchange="okx",account="x\\"} 999\\nkeyward_check_success{a=\\"\\\\"} 1',
    ]);
    // Exactly one success sample, the real one; every line is a comment or a sample of a known metric.
    expect(text.match(/^keyward_check_success /gm)).toEqual(["keyward_check_success "]);
    expect(text).toContain("keyward_check_success 0\n");
    expect(text).toContain("keyward_check_timestamp_seconds 1796169600\n");
    for (const line of text.trimEnd().split("\n"))
      expect(line).toMatch(/^(# (HELP|TYPE) keyward_[a-z_]+ .+|keyward_[a-z_]+(\{.*\})? \d+)$/);
  });
});
