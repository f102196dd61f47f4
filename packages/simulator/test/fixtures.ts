/** A small world with one key for each case the tests need. Secrets are canaries, never real. */
import type { ScenarioInput } from "../src/index.js";

const DAY = 24 * 60 * 60 * 1000;

export const MASTER = {
  apiKey: "okx-master-1",
  secretKey: "MASTERSECRETCANARY0000000000000001",
  passphrase: "Master-Pass-1!",
};
export const MASTER_READ = {
  apiKey: "okx-master-read",
  secretKey: "MASTERREADSECRET00000000000000002",
  passphrase: "Read-Pass-2!",
};
export const MASTER_NO_IP = {
  apiKey: "okx-master-noip",
  secretKey: "MASTERNOIPSECRET00000000000000003",
  passphrase: "NoIp-Pass-3!",
};
export const SUB_TRADE = {
  apiKey: "okx-sub-trade",
  secretKey: "SUBTRADESECRET000000000000000004",
  passphrase: "SubTrade-4!",
};
export const SUB_READ = {
  apiKey: "okx-sub-read",
  secretKey: "SUBREADSECRET0000000000000000005",
  passphrase: "SubRead-5!",
};
export const SUB_OTHER_IP = {
  apiKey: "okx-sub-otherip",
  secretKey: "SUBOTHERIPSECRET00000000000000006",
  passphrase: "Other-Ip-6!",
};
export const SUB_IDLE = {
  apiKey: "okx-sub-idle",
  secretKey: "SUBIDLESECRET0000000000000000007",
  passphrase: "Idle-Pass-7!",
};
export const DEMO_KEY = {
  apiKey: "okx-demo",
  secretKey: "DEMOSECRET000000000000000000000008",
  passphrase: "Demo-Pass-8!",
};
export const FROZEN_KEY = {
  apiKey: "okx-frozen",
  secretKey: "FROZENSECRET0000000000000000000009",
  passphrase: "Frozen-Pass-9!",
};
export const EEA_MASTER = {
  apiKey: "okx-eea-master",
  secretKey: "EEASECRET00000000000000000000000A",
  passphrase: "Eea-Pass-10!",
};

export const BFX_MAIN = { apiKey: "bfx-main-key", apiSecret: "bfx-main-secret-canary" };
export const BFX_NOSCOPE = { apiKey: "bfx-noscope-key", apiSecret: "bfx-noscope-secret-canary" };
export const BFX_IP = { apiKey: "bfx-ip-key", apiSecret: "bfx-ip-secret-canary" };
export const BFX_MICRO = { apiKey: "bfx-micro-key", apiSecret: "bfx-micro-secret-canary" };

const okxKey = (
  c: typeof MASTER,
  label: string,
  perm: string,
  ip: string,
  extra: Record<string, unknown> = {},
) => ({
  ...c,
  label,
  perm,
  ip,
  ts: String(Date.now() - 30 * DAY),
  ...extra,
});

export const scenario = (): ScenarioInput => ({
  okx: {
    accounts: [
      {
        uid: "1001",
        name: "desk",
        keys: [
          okxKey(MASTER, "admin", "read_only,trade", "127.0.0.1,::1"),
          okxKey(MASTER_READ, "reader", "read_only", "127.0.0.1"),
          okxKey(MASTER_NO_IP, "noip", "read_only,trade", ""),
          okxKey(DEMO_KEY, "demo", "read_only,trade", "127.0.0.1", { demo: true }),
          okxKey(FROZEN_KEY, "frozen", "read_only", "", { frozen: true }),
        ],
        subAccounts: [
          {
            name: "botsub01",
            uid: "1101",
            ts: "1700000000000",
            keys: [
              okxKey(SUB_TRADE, "bot-1", "read_only,trade", "127.0.0.1"),
              okxKey(SUB_READ, "viewer", "read_only", ""),
              okxKey(SUB_OTHER_IP, "elsewhere", "read_only", "10.9.9.9,127.0.0.2/32"),
              okxKey(SUB_IDLE, "idle", "read_only,trade", "", { lastUsedAt: String(Date.now() - 13 * DAY) }),
            ],
          },
          { name: "emptysub02", uid: "1102", ts: "1700000060000", keys: [] },
          { name: "thirdsub03", uid: "1103", ts: "1700000120000", keys: [] },
        ],
      },
      {
        uid: "2001",
        name: "eea-desk",
        region: "eea",
        keys: [okxKey(EEA_MASTER, "eea-admin", "read_only", "")],
      },
    ],
  },
  bitfinex: {
    users: [
      {
        id: 501,
        email: "ops@example.com",
        keys: [
          {
            ...BFX_MAIN,
            label: "main",
            permissions: [
              ["account", 1, 0],
              ["orders", 1, 1],
              ["wallets", 1, 0],
              ["withdraw", 0, 0],
            ],
            createdAt: "2026-01-01T00:00:00Z",
          },
          { ...BFX_NOSCOPE, label: "no-scopes", permissions: [], createdAt: "2026-01-02T00:00:00Z" },
          {
            ...BFX_IP,
            label: "ip-bound",
            permissions: [["account", 1, 0]],
            ip: ["127.0.0.2"],
            createdAt: "2026-01-03T00:00:00Z",
          },
          {
            ...BFX_MICRO,
            label: "used-with-microseconds",
            permissions: [["account", 1, 0]],
            createdAt: "2026-01-04T00:00:00Z",
            lastNonce: String(Date.now() * 1000),
          },
        ],
      },
    ],
  },
});
