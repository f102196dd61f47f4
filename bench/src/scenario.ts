/** Benchmark worlds: OKX masters with many sub-accounts, each with a few keys. Secrets are dummies. */
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
