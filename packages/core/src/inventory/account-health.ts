/** What a probe of an account's own key means for the user: health and warnings. */
import type { ProbeResult } from "../domain/schemas.js";

export interface AccountHealth {
  status: ProbeResult["status"];
  /** For OKX: whether the key belongs to the master account (only master keys manage sub-account keys). */
  master: boolean | null;
  permissions: string[];
  ip: string[] | null;
  warnings: string[];
  evidence: string;
}

export function accountHealth(exchange: string, probe: ProbeResult): AccountHealth {
  if (probe.status !== "alive") {
    return {
      status: probe.status,
      master: null,
      permissions: [],
      ip: null,
      warnings: [],
      evidence: probe.status === "inconclusive" ? `${probe.reason}: ${probe.evidence}` : probe.evidence,
    };
  }
  const warnings: string[] = [];
  const master =
    exchange === "okx" ? probe.accountId !== undefined && probe.accountId === probe.masterId : null;
  if (probe.permissions.includes("withdraw")) {
    warnings.push("this key can WITHDRAW funds; Keyward needs no withdraw permission: use a key without it");
  }
  if (probe.ip !== null && probe.ip.length === 0) {
    warnings.push("this key is not bound to any IP address: anyone who copies it can use it from anywhere");
  }
  if (exchange === "okx" && master === false) {
    warnings.push("not a master-account key: it cannot list, create or revoke sub-account keys");
  }
  if (exchange === "okx" && master === true && !probe.permissions.includes("trade")) {
    warnings.push(
      "read-only master key: it can list keys but OKX requires Trade permission to create or revoke them",
    );
  }
  if (exchange === "okx" && master === true && probe.ip !== null && probe.ip.length === 0) {
    warnings.push("OKX only lets IP-bound master keys create or revoke sub-account keys");
  }
  return {
    status: "alive",
    master,
    permissions: probe.permissions,
    ip: probe.ip,
    warnings,
    evidence: probe.evidence,
  };
}
