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

/** A Deribit account: Keyward's key (id 1) beside `bots` bot keys (Deribit allows 8 keys an account). */
export interface DeribitAccountSpec {
  id: number;
  bots: number;
  /** The credit bucket at the account's first request (the simulator's `credits`); absent: full. */
  credits?: number;
}

/** A base32 seed per account (RFC 4648 alphabet, 32 characters): the two-factor codes come from it. */
export const deribitSeed = (id: number) =>
  `BENCHSEED${String(id).replace(/\d/g, (d) => "ABCDEFGHIJ"[Number(d)] as string)}`.padEnd(32, "A");

/**
 * The Deribit key Keyward manages an account with: `account:read_write` (remove and disable need it),
 * no trade or wallet access, IP-whitelisted to this machine.
 */
export const deribitCreds = (id: number) => ({
  apiKey: `benchderibit${id}`,
  secret: `benchderibitsecret${id}`.padEnd(43, "0"),
  totpSeed: deribitSeed(id),
});

export function deribitSection(accounts: DeribitAccountSpec[]): NonNullable<ScenarioInput["deribit"]> {
  return {
    accounts: accounts.map((a) => ({
      id: a.id,
      username: `bench_${a.id}`,
      type: "subaccount" as const,
      totpSeed: deribitSeed(a.id),
      ...(a.credits === undefined ? {} : { credits: a.credits }),
      keys: [
        {
          id: 1,
          client_id: deribitCreds(a.id).apiKey,
          client_secret: deribitCreds(a.id).secret,
          name: "keyward",
          max_scope: "account:read_write trade:none wallet:none",
          ip_whitelist: ["127.0.0.1"],
          timestamp: "now-30d",
        },
        ...Array.from({ length: a.bots }, (_, b) => ({
          id: b + 2,
          client_id: `benchderibit${a.id}bot${b}`,
          client_secret: `benchderibitbot${a.id}x${b}`.padEnd(43, "0"),
          name: `bot_${b}`,
          max_scope: "account:read trade:read_write",
          ip_whitelist: ["10.0.0.1"],
          timestamp: "now-30d",
        })),
      ],
    })),
  };
}
