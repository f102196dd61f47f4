/**
 * Benchmark worlds: OKX masters with many sub-accounts, each with a few keys; Bybit masters likewise;
 * a Bitfinex user whose keys are tracked. Secrets are dummies.
 */
import type { ScenarioInput } from "@keyward/simulator";

export interface MasterSpec {
  uid: string;
  subAccounts: number;
  keysPerSub: number;
}

export const masterCreds = (uid: string) => ({
  apiKey: `bench-master-${uid}`,
  secretKey: `BENCHSECRET${uid}`.padEnd(32, "0"),
  passphrase: `Bench-${uid}-Pass1!`,
});

export function benchScenario(masters: MasterSpec[]): ScenarioInput {
  const ts = String(Date.now() - 86_400_000);
  return {
    okx: {
      accounts: masters.map((m) => ({
        uid: m.uid,
        name: `bench-${m.uid}`,
        keys: [{ ...masterCreds(m.uid), label: "bench-admin", perm: "read_only,trade", ip: "127.0.0.1", ts }],
        subAccounts: Array.from({ length: m.subAccounts }, (_, s) => ({
          name: `b${m.uid}s${String(s).padStart(3, "0")}`,
          uid: `${m.uid}${String(s).padStart(4, "0")}`,
          ts: String(1_700_000_000_000 + s * 60_000),
          keys: Array.from({ length: m.keysPerSub }, (_, k) => ({
            apiKey: `bench-${m.uid}-${s}-${k}`,
            secretKey: `S${m.uid}${s}${k}`.padEnd(32, "0"),
            passphrase: `Sub-${s}-${k}-Pass1!`,
            label: `bot-${s}-${k}`,
            perm: "read_only,trade",
            ip: "10.0.0.1",
            ts,
          })),
        })),
      })),
    },
  };
}

/** A Bybit master with `subMembers` sub-accounts of `keysPerSub` keys each (bound to an IP, so no expiry). */
export interface BybitMasterSpec {
  uid: string;
  subMembers: number;
  keysPerSub: number;
}

/**
 * The Bybit master key Keyward manages the desk with: read-write, IP-bound, holding Subaccount Transfer
 * (Bybit lets only such a key create or delete keys, docs/exchanges/bybit.md#permissions).
 */
export const bybitMasterCreds = (uid: string) => ({
  apiKey: `BENCHBYBITMASTER${uid}`,
  secret: `BENCHBYBITSECRET${uid}`.padEnd(36, "0"),
});

export function bybitSection(masters: BybitMasterSpec[]): NonNullable<ScenarioInput["bybit"]> {
  const createdAt = new Date(Date.now() - 86_400_000).toISOString();
  return {
    masters: masters.map((m) => ({
      uid: m.uid,
      username: `bench-${m.uid}`,
      keys: [
        {
          ...bybitMasterCreds(m.uid),
          note: "bench-admin",
          readOnly: 0,
          ips: ["127.0.0.1"],
          permissions: { Wallet: ["SubMemberTransfer"] },
          createdAt,
        },
      ],
      subMembers: Array.from({ length: m.subMembers }, (_, s) => ({
        uid: `${m.uid}${String(s).padStart(4, "0")}`,
        username: `b${m.uid}s${String(s).padStart(3, "0")}`,
        keys: Array.from({ length: m.keysPerSub }, (_, k) => ({
          apiKey: `BENCHBYBIT${m.uid}S${s}K${k}`,
          secret: `S${m.uid}${s}${k}`.padEnd(36, "0"),
          note: `bot-${s}-${k}`,
          readOnly: 0,
          ips: ["10.0.0.1"],
          permissions: { ContractTrade: ["Order", "Position"], Spot: ["SpotTrade"] },
          createdAt,
        })),
      })),
    })),
  };
}

/**
 * One Bitfinex user with `keys` + 1 keys: the first is the key Keyward's account uses, the others are
 * the tracked keys a person revokes on Bitfinex's site (no API lists or deletes a Bitfinex key).
 */
export const bitfinexCreds = (user: number, k: number) => ({
  apiKey: `bench${user}k${k}`.padEnd(43, "0"),
  secret: `benchsecret${user}k${k}`.padEnd(43, "0"),
});

export function bitfinexSection(user: number, keys: number): NonNullable<ScenarioInput["bitfinex"]> {
  const createdAt = new Date(Date.now() - 86_400_000).toISOString();
  return {
    users: [
      {
        id: user,
        email: `bench-${user}@example.com`,
        keys: Array.from({ length: keys + 1 }, (_, k) => {
          const c = bitfinexCreds(user, k);
          return {
            apiKey: c.apiKey,
            apiSecret: c.secret,
            label: k === 0 ? "bench-admin" : `bot-${k}`,
            permissions: [
              ["account", 1, 0],
              ["orders", 1, k === 0 ? 0 : 1],
              ["wallets", 1, 0],
            ],
            ip: ["127.0.0.1"],
            createdAt,
          };
        }),
      },
    ],
  };
}
