/**
 * A policy applied to an inventory and the accounts' health: the findings, errors first. Pure: the
 * use case (use-cases/check-policy.ts) fetches what it needs; tests and both shells get the same words.
 */
import { type KeyRecord, shortKey } from "../domain/schemas.js";
import type { AccountHealth } from "../inventory/account-health.js";
import type { AccountInventory } from "../inventory/inventory.js";
import { risksOf } from "../inventory/risk.js";
import { FIXED_RULES, type Policy, policyFor, type Severity } from "./policy.js";

export interface Finding {
  severity: Exclude<Severity, "off">;
  rule: string;
  /** The key's inventory id; absent for a finding about an account. */
  keyId?: string;
  exchange: string;
  account: string;
  subAccount?: string | null;
  label: string;
  apiKeyShort?: string;
  message: string;
}

/** An account's health as `checkAccounts` gives it: a probe's reading, or why there is none. */
export interface AccountHealthInput {
  account: string;
  exchange: string;
  health: AccountHealth | null;
  /** Why there is no health (no credentials, the probe threw); null when there is. */
  problem: string | null;
}

export interface PolicyInput {
  keys: readonly KeyRecord[];
  accounts: readonly Pick<AccountInventory, "account" | "exchange" | "error">[];
  health: readonly AccountHealthInput[];
  now?: number;
}

export interface Evaluation {
  findings: Finding[];
  /** Findings an ignore entry (still in force) suppressed. */
  ignored: number;
}

const DAY_MS = 86_400_000;
const MONEY = ["trade", "withdraw", "transfer"] as const;

/** What makes each risk flag a finding, in words (the key is named beside it). */
function keyMessage(rule: string, key: KeyRecord, maxKeyAgeDays: number, text: string, now: number): string {
  switch (rule) {
    case "no-ip":
      return `can ${MONEY.filter((p) => key.permissions.includes(p)).join("+")}, bound to no IP`;
    case "withdraw":
      return "can withdraw funds";
    case "transfer":
      return "can move funds between accounts";
    case "old": {
      const days = key.createdAt ? Math.floor((now - Date.parse(key.createdAt)) / DAY_MS) : 0;
      return `${days} days old (maximum ${maxKeyAgeDays})`;
    }
    case "unverified":
      return "permissions not visible to Keyward (no secret held, or probe inconclusive)";
    default:
      return text;
  }
}

export function evaluatePolicy(
  policy: Policy,
  input: PolicyInput,
  texts: Record<string, string>,
): Evaluation {
  const now = input.now ?? Date.now();
  const findings: Finding[] = [];
  let ignored = 0;
  const ignores = new Map(policy.ignore.map((i) => [i.key, i]));

  for (const key of input.keys) {
    const applied = policyFor(policy, key.exchange, key.account);
    const base = {
      keyId: key.id,
      exchange: key.exchange,
      account: key.account,
      subAccount: key.subAccount,
      label: key.label,
      apiKeyShort: shortKey(key.apiKey),
    };
    const found: { rule: string; message: string }[] = [];
    for (const risk of risksOf(key, { maxKeyAgeDays: applied.maxKeyAgeDays, now })) {
      // "No IP" matters where a leaked key can move money; a read-only key is the exchange's default.
      if (risk === "no-ip" && !MONEY.some((p) => key.permissions.includes(p))) continue;
      found.push({
        rule: risk,
        message: keyMessage(risk, key, applied.maxKeyAgeDays, texts[risk] ?? risk, now),
      });
    }
    if (key.state !== "dead" && key.expiresAt !== null) {
      const left = Date.parse(key.expiresAt) - now;
      if (left <= applied.expiringWithinDays * DAY_MS)
        found.push({
          rule: "expiring",
          message:
            left <= 0
              ? "has expired"
              : `expires in ${left < DAY_MS ? `${Math.max(1, Math.floor(left / 3_600_000))}h` : `${Math.floor(left / DAY_MS)}d`} (within ${applied.expiringWithinDays}d)`,
        });
    }
    if (key.state === "dead")
      found.push({ rule: "dead-tracked", message: "tracked, but no longer authenticates" });

    const ignore = ignores.get(key.id);
    const inForce = ignore && (ignore.untilMs === undefined || now < ignore.untilMs);
    if (ignore && !inForce)
      findings.push({
        ...base,
        severity: FIXED_RULES["ignore-expired"],
        rule: "ignore-expired",
        message: `no longer ignored: its ignore ended ${ignore.until} ("${ignore.reason}")`,
      });
    for (const f of found) {
      const severity = applied.rules[f.rule] ?? "warning";
      if (severity === "off") continue;
      if (inForce) {
        ignored++;
        continue;
      }
      findings.push({ ...base, severity, ...f });
    }
  }

  // An ignore naming no key of the inventory suppresses nothing: said, so a typo in its id cannot look
  // handled. Not for a key of an account that could not be listed (its keys are unknown, not absent).
  const listed = new Set(input.keys.map((k) => k.id));
  const unlisted = input.accounts.filter((a) => a.error).map((a) => `${a.exchange}:${a.account}:`);
  for (const ignore of policy.ignore) {
    if (listed.has(ignore.key) || unlisted.some((prefix) => ignore.key.startsWith(prefix))) continue;
    const [exchange = "", account = "", ...rest] = ignore.key.split(":");
    findings.push({
      severity: FIXED_RULES["ignore-unknown"],
      rule: "ignore-unknown",
      keyId: ignore.key,
      exchange,
      account,
      label: "",
      // The exchange and account lead the finding's line; the rest of the id fits beside them.
      message: `ignore names no key: ${rest.length > 0 ? rest.join(":") : ignore.key}`,
    });
  }

  for (const a of input.accounts) {
    if (!a.error) continue;
    findings.push({
      severity: FIXED_RULES.unreachable,
      rule: "unreachable",
      exchange: a.exchange,
      account: a.account,
      label: "",
      message: `could not be listed: ${a.error.message}`,
    });
  }

  for (const h of input.health) {
    const severity = policyFor(policy, h.exchange, h.account).rules["account-unhealthy"] ?? "error";
    if (severity === "off") continue;
    const problems = h.problem
      ? [h.problem]
      : h.health?.status === "dead"
        ? [`its own key is dead: ${h.health.evidence}`]
        : h.health?.status === "inconclusive"
          ? [`its own key could not be probed: ${h.health.evidence}`]
          : (h.health?.warnings ?? []).map((w) => `its own key: ${w}`);
    for (const message of problems)
      findings.push({
        severity,
        rule: "account-unhealthy",
        exchange: h.exchange,
        account: h.account,
        label: "",
        message,
      });
  }

  return { findings: sortFindings(findings), ignored };
}

/** Errors first, then by rule, exchange, account and label, so two runs print the same order. */
export function sortFindings(findings: Finding[]): Finding[] {
  const rank = (f: Finding) => (f.severity === "error" ? 0 : 1);
  return findings.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      a.rule.localeCompare(b.rule) ||
      a.exchange.localeCompare(b.exchange) ||
      a.account.localeCompare(b.account) ||
      a.label.localeCompare(b.label) ||
      (a.keyId ?? "").localeCompare(b.keyId ?? ""),
  );
}
