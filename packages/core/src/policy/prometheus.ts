/**
 * A policy check in Prometheus' text exposition format (version 0.0.4), for node_exporter's textfile
 * collector or any scraper. Label values come from exchanges and people (account names, exchange
 * labels): each is escaped as the format says (backslash, double quote, line feed), so a hostile label
 * cannot end the value, add a label or forge a sample line.
 */
import type { Finding } from "./evaluate.js";

/** The format's escaping for a label value: `\` → `\\`, `"` → `\"`, line feed → `\n`. */
export const escapeLabelValue = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

const labels = (pairs: Record<string, string>): string =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
    .join(",")}}`;

export interface PrometheusInput {
  findings: readonly Finding[];
  keys: number;
  accounts: number;
  /** Whether every account could be listed (the check saw everything). */
  complete: boolean;
  checkedAt: string;
}

export function policyMetrics(report: PrometheusInput): string {
  const counts = new Map<string, { labels: Record<string, string>; n: number }>();
  for (const f of report.findings) {
    const l = { severity: f.severity, rule: f.rule, exchange: f.exchange, account: f.account };
    const id = JSON.stringify(l);
    const entry = counts.get(id) ?? { labels: l, n: 0 };
    entry.n++;
    counts.set(id, entry);
  }
  const lines = [
    "# HELP keyward_policy_findings Keys and accounts that break the Keyward policy, by severity, rule, exchange and account.",
    "# TYPE keyward_policy_findings gauge",
    ...[...counts.values()].map((c) => `keyward_policy_findings${labels(c.labels)} ${c.n}`),
    "# HELP keyward_keys_total Keys in the inventory the check looked at.",
    "# TYPE keyward_keys_total gauge",
    `keyward_keys_total ${report.keys}`,
    "# HELP keyward_accounts_total Accounts the check looked at.",
    "# TYPE keyward_accounts_total gauge",
    `keyward_accounts_total ${report.accounts}`,
    "# HELP keyward_check_success 1 when every account could be listed, 0 when some could not (see the unreachable findings).",
    "# TYPE keyward_check_success gauge",
    `keyward_check_success ${report.complete ? 1 : 0}`,
    "# HELP keyward_check_timestamp_seconds When the check ran (Unix time).",
    "# TYPE keyward_check_timestamp_seconds gauge",
    `keyward_check_timestamp_seconds ${Math.floor(Date.parse(report.checkedAt) / 1000)}`,
  ];
  return `${lines.join("\n")}\n`;
}
