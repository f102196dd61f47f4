/**
 * What a probe of an account's own key found, in words a person reads ("healthy: master key, read+trade,
 * bound to 1 IP"), not the exchange's codes ("account/config answered 0"): one sentence both apps show,
 * the raw evidence staying one click (web) or `--json` (CLI) away.
 */
import type { InconclusiveReason, ProbeResult } from "../domain/schemas.js";

/** Why a probe could not say whether the key works, per reason: "unhealthy" when the key itself is the
 * problem (a person must fix it), "unreachable" when the way to the exchange is (trying again may do). */
const INCONCLUSIVE: Record<InconclusiveReason, string> = {
  "wrong-secret": "unhealthy: the exchange refuses the secret (a wrong secret, or the key was revoked)",
  "wrong-passphrase": "unhealthy: the exchange refuses the key's passphrase",
  "ip-not-whitelisted": "unhealthy: the key is not whitelisted for this machine's IP address",
  "clock-skew": "unreachable: this machine's clock is too far from the exchange's",
  nonce: "unreachable: the exchange refused the request's nonce (is another program using this key?)",
  "wrong-region": "unhealthy: the key belongs to another region of the exchange (see --region)",
  "wrong-environment": "unhealthy: the key belongs to the exchange's other environment (testnet or live)",
  frozen: "unhealthy: the exchange has frozen the key or its account",
  "rate-limited": "unreachable: the exchange is rate-limiting Keyward; check again in a minute",
  network: "unreachable: no answer from the exchange (network or endpoint)",
  ambiguous: "inconclusive: the exchange's answer does not say whether the key works",
  "exchange-error": "unreachable: the exchange answered with an error; check again later",
};

/** "bound to 1 IP", "bound to 3 IPs", "not bound to any IP", "IP binding not reported". */
function ipWords(ip: string[] | null): string {
  if (ip === null) return "IP binding not reported";
  if (ip.length === 0) return "not bound to any IP";
  return `bound to ${ip.length} IP${ip.length === 1 ? "" : "s"}`;
}

/**
 * The sentence for an account key's probe: "healthy: …" (what it is, can do, where it is bound),
 * "unhealthy: …" (the key must be fixed or replaced), "unreachable: …" (the exchange could not be asked)
 * or "inconclusive: …". `master` is the profile's reading of the key (null where the exchange has no
 * master and sub-accounts).
 */
export function accountHealthWords(probe: ProbeResult, master: boolean | null): string {
  switch (probe.status) {
    case "alive": {
      const kind = master === true ? "master key" : master === false ? "sub-account key" : "the key works";
      const can = probe.permissions.length ? probe.permissions.join("+") : "no permissions reported";
      return `healthy: ${kind}, ${can}, ${ipWords(probe.ip)}`;
    }
    case "dead":
      return "unhealthy: the key is dead (revoked, or unknown to the exchange): replace it";
    case "inconclusive":
      return INCONCLUSIVE[probe.reason];
  }
}
