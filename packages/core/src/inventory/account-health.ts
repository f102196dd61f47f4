/** What a probe of an account's own key means for the user: health and warnings. */
import { type ExchangeId, exchangeProfile } from "../adapters/registry.js";
import type { ProbeResult } from "../domain/schemas.js";
import { accountHealthWords } from "./health-words.js";

export interface AccountHealth {
  status: ProbeResult["status"];
  /**
   * Where the exchange has master and sub-accounts: whether the key belongs to the master account (the
   * profile's `accountKey` says); null elsewhere.
   */
  master: boolean | null;
  permissions: string[];
  ip: string[] | null;
  warnings: string[];
  /** What the probe found, in words: "healthy: master key, read+trade, bound to 1 IP" (health-words.ts). */
  summary: string;
  /** The exchange's raw answer, for whoever wants the detail (the web's "raw evidence", `--json`). */
  evidence: string;
}

export function accountHealth(exchange: ExchangeId, probe: ProbeResult): AccountHealth {
  if (probe.status !== "alive") {
    return {
      status: probe.status,
      master: null,
      permissions: [],
      ip: null,
      warnings: [],
      summary: accountHealthWords(probe, null),
      evidence: probe.status === "inconclusive" ? `${probe.reason}: ${probe.evidence}` : probe.evidence,
    };
  }
  const warnings: string[] = [];
  const own = exchangeProfile(exchange).accountKey?.(probe) ?? { master: null, warnings: [] };
  if (probe.permissions.includes("withdraw")) {
    warnings.push("this key can WITHDRAW funds; Keyward needs no withdraw permission: use a key without it");
  }
  if (probe.ip !== null && probe.ip.length === 0) {
    warnings.push("this key is not bound to any IP address: anyone who copies it can use it from anywhere");
  }
  warnings.push(...own.warnings);
  return {
    status: "alive",
    master: own.master,
    permissions: probe.permissions,
    ip: probe.ip,
    warnings,
    summary: accountHealthWords(probe, own.master),
    evidence: probe.evidence,
  };
}
