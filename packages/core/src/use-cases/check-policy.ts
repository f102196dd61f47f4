/**
 * "Check the policy": list every account live (in parallel, at the exchanges' rate limits, as `keys`
 * does), probe each account's own key, and apply the policy. An account that cannot be listed is a
 * finding (error), never a crash: a nightly check must say what it could not see.
 */

import { join } from "node:path";
import { isKeywardError } from "../errors.js";
import type { KeywardHome } from "../home/home.js";
import { RISKS } from "../inventory/risk.js";
import { evaluatePolicy, type Finding } from "../policy/evaluate.js";
import { loadPolicy, POLICY_FILE_NAME, type Policy } from "../policy/policy.js";
import { type AdapterSource, checkAccounts } from "./check-accounts.js";
import { type ListInventoryInput, listInventory } from "./list-inventory.js";

export interface PolicyReport {
  checkedAt: string;
  /** The policy file applied, or "defaults". */
  policy: string;
  keys: number;
  accounts: number;
  findings: Finding[];
  counts: { error: number; warning: number; ignored: number };
  /** Whether every account could be listed. */
  complete: boolean;
}

export interface CheckPolicyInput {
  policy: Policy;
  /** How adapters are built; the default is `home.adapters(names)`. */
  adapters?: ListInventoryInput["adapters"];
  onEvent?: ListInventoryInput["onEvent"];
  now?: number;
}

/** The home's policy: `--policy FILE` when given (it must exist), else `policy.json` in the home, else the defaults. */
export function homePolicy(home: KeywardHome, file?: string): Policy {
  const context = {
    maxKeyAgeDays: home.config.settings.maxKeyAgeDays,
    accounts: home.config.accounts.map((a) => a.name),
  };
  return file
    ? loadPolicy(file, context, { required: true })
    : loadPolicy(join(home.paths.dir, POLICY_FILE_NAME), context, { required: false });
}

export async function checkPolicy(home: KeywardHome, input: CheckPolicyInput): Promise<PolicyReport> {
  const names = home.config.accounts.map((a) => a.name);
  const build = input.adapters ?? ((n: readonly string[]) => home.adapters(n));
  // One set of adapters for the listing and the probes: their rate limiters pace both.
  const adapters = build(names);
  const adapterFor: AdapterSource = async (name) => {
    const adapter = (await adapters).get(name);
    if (!adapter) throw new Error(`no adapter for account ${name}`);
    return adapter;
  };
  const [inventory, checks] = await Promise.all([
    listInventory(home, { adapters: () => adapters, ...(input.onEvent ? { onEvent: input.onEvent } : {}) }),
    checkAccounts(home, { adapterFor }),
  ]);
  const now = input.now ?? Date.now();
  const { findings, ignored } = evaluatePolicy(
    input.policy,
    {
      keys: inventory.keys,
      accounts: inventory.accounts,
      health: checks.map((c) => ({
        account: c.account,
        exchange: c.exchange,
        health: c.health,
        problem:
          c.problem === null
            ? null
            : c.problem.kind === "no-credentials"
              ? "no credentials in the vault"
              : `its own key could not be probed: ${isKeywardError(c.problem.error) || c.problem.error instanceof Error ? c.problem.error.message : String(c.problem.error)}`,
      })),
      now,
    },
    RISKS,
  );
  return {
    checkedAt: new Date(now).toISOString(),
    policy: input.policy.source,
    keys: inventory.keys.length,
    accounts: inventory.accounts.length,
    findings,
    counts: {
      error: findings.filter((f) => f.severity === "error").length,
      warning: findings.filter((f) => f.severity === "warning").length,
      ignored,
    },
    complete: inventory.accounts.every((a) => !a.error),
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * The report in one line, as both shells say it: "ok: 12 keys in 3 accounts meet the policy
 * (2 warnings)", or "FAILED: 1 error, 2 warnings (12 keys in 3 accounts, policy: defaults)".
 */
export function policySummary(report: Pick<PolicyReport, "counts" | "keys" | "accounts" | "policy">): string {
  const { error, warning, ignored } = report.counts;
  const scope = `${plural(report.keys, "key")} in ${plural(report.accounts, "account")}`;
  const extra = [warning ? plural(warning, "warning") : "", ignored ? `${ignored} ignored` : ""].filter(
    Boolean,
  );
  if (error === 0) return `ok: ${scope} meet the policy${extra.length ? ` (${extra.join(", ")})` : ""}`;
  return `FAILED: ${plural(error, "error")}${extra.length ? `, ${extra.join(", ")}` : ""} (${scope}, policy: ${report.policy})`;
}
