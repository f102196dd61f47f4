/**
 * `npm run bench` (Bybit part; alone: `npm run bench:bybit -w @keyward/bench`): list a Bybit master's 30
 * sub-accounts with 2 keys each, then revoke all 60 sub-account keys, against the simulator at the
 * limits Keyward assumes for Bybit's `/v5/user/*` endpoints (reads 10/s, writes 5/s per UID: ccxt's
 * figures, docs/exchanges/bybit.md#rate-limits). Keyward's adapter (listKeys, then every revokeKey at
 * once, as the OKX rows in run.ts do) beside a plain sequential ccxt `bybit` loop doing the same
 * requests, each as a ratio to the time the sliding windows allow. The master's own key is not revoked.
 * Flags: --quick (limits 10x faster on both sides), --json.
 */
import { parseArgs } from "node:util";
import { type ExchangeAdapter, loadAdapterFactory, toCredentials } from "@keyward/core";
import {
  DEFAULT_RATE_LIMITS,
  type RunningSimulator,
  scaleRateLimits,
  startSimulator,
} from "@keyward/simulator";
import ccxt from "ccxt";
import { ratio, windowBoundMs } from "./bound.js";
import { phaseTable } from "./phase-table.js";
import { bybitMasterCreds, bybitSection } from "./scenario.js";
import { lastSeq, rejectionsSince } from "./sim-log.js";

const UID = "8001";
const SUB_MEMBERS = 30;
const KEYS_PER_SUB = 2;
const REVOKE = SUB_MEMBERS * KEYS_PER_SUB;

const { values } = parseArgs({ options: { quick: { type: "boolean" }, json: { type: "boolean" } } });
const scale = values.quick ? 0.1 : 1;
const limits = scaleRateLimits(DEFAULT_RATE_LIMITS, scale).bybit;

// The listing's binding bucket is sub-apikeys (one request per sub-account, one page each: 2 keys < 20);
// query-api and the sub-member list are one request each in their own buckets.
const listBound = windowBoundMs(SUB_MEMBERS, limits.read);
const revokeBound = windowBoundMs(REVOKE, limits.write);

async function keywardAdapter(sim: RunningSimulator): Promise<ExchangeAdapter> {
  const factory = await loadAdapterFactory("bybit");
  const c = bybitMasterCreds(UID);
  return factory(
    {
      account: { name: `bench-${UID}`, exchange: "bybit", endpoint: sim.bybit, credentialsRef: "bench" },
      credentials: toCredentials({ apiKey: c.apiKey, secret: c.secret }),
    },
    { rateLimits: { read: limits.read, write: limits.write } },
  );
}

/** Keyward: list everything, then revoke every sub-account key concurrently (the adapter paces them). */
async function keywardListAndRevoke(sim: RunningSimulator) {
  const adapter = await keywardAdapter(sim);
  const t0 = performance.now();
  const keys = await adapter.listKeys();
  const t1 = performance.now();
  const victims = keys.filter((k) => k.location === "sub-account");
  if (victims.length !== REVOKE)
    throw new Error(`expected ${REVOKE} sub-account keys, listed ${victims.length}`);
  const results = await Promise.all(victims.map((k) => adapter.revokeKey(k)));
  const t2 = performance.now();
  if (results.some((r) => r.outcome !== "revoked")) throw new Error("a revoke did not report 'revoked'");
  return { listMs: t1 - t0, revokeMs: t2 - t1, totalMs: t2 - t0 };
}

type Reply<T> = { retCode: number; result: T };

/**
 * What a user would write with ccxt alone: one call after another, ccxt's own throttle on at its default
 * (20 ms a unit; sub-apikeys costs 5, delete-sub-api 10: the same 10/s and 5/s). ccxt spaces request
 * starts evenly, which a sliding window still refuses now and then (a late answer brings the next start
 * closer than 200 ms to the previous ones): the loop waits a window and tries again, as a user's would
 * after seeing "Too many visits!", and each refusal shows in the rejections column.
 */
async function plainCcxtLoop(sim: RunningSimulator) {
  const c = bybitMasterCreds(UID);
  const ex = new ccxt.bybit({
    apiKey: c.apiKey,
    secret: c.secret,
    urls: { api: { public: sim.bybit, private: sim.bybit } },
    rateLimit: 20 * scale,
  });
  const t0 = performance.now();
  const members = ((await ex.privateGetV5UserQuerySubMembers()) as Reply<{ subMembers: { uid: string }[] }>)
    .result.subMembers;
  const keys: string[] = [];
  for (const { uid } of members) {
    const page = (await retryRateLimited(() =>
      ex.privateGetV5UserSubApikeys({ subMemberId: uid, limit: 20 }),
    )) as Reply<{
      result: { apiKey: string }[];
    }>;
    for (const k of page.result.result) keys.push(k.apiKey);
  }
  const t1 = performance.now();
  for (const apikey of keys) await retryRateLimited(() => ex.privatePostV5UserDeleteSubApi({ apikey }));
  const t2 = performance.now();
  if (keys.length !== REVOKE) throw new Error(`ccxt listed ${keys.length} keys, expected ${REVOKE}`);
  return { listMs: t1 - t0, revokeMs: t2 - t1, totalMs: t2 - t0 };
}

async function retryRateLimited<T>(call: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ccxt.RateLimitExceeded)) throw error;
      await new Promise((r) => setTimeout(r, limits.write.windowMs));
    }
  }
}

async function withSim<T>(fn: (sim: RunningSimulator) => Promise<T>): Promise<T> {
  const sim = await startSimulator({
    scenario: { bybit: bybitSection([{ uid: UID, subMembers: SUB_MEMBERS, keysPerSub: KEYS_PER_SUB }]) },
    rateScale: scale,
  });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

const log = (s: string) => {
  if (!values.json) process.stderr.write(`${s}\n`);
};

log(
  `Keyward bench: Bybit at ${scale === 1 ? "Keyward's assumed" : `10x faster than Keyward's assumed`} limits ` +
    `(reads ${limits.read.limit}/${limits.read.windowMs} ms, writes ${limits.write.limit}/${limits.write.windowMs} ms per UID)`,
);
log(
  `work: list ${SUB_MEMBERS} sub-accounts x ${KEYS_PER_SUB} keys, then revoke all ${REVOKE} sub-account keys (not the master's own)`,
);

log("running: keyward, one Bybit master ...");
const one = await withSim(async (sim) => {
  const seq = await lastSeq(sim);
  const r = await keywardListAndRevoke(sim);
  return { ...r, rejections: await rejectionsSince(sim, seq) };
});
log("running: plain sequential ccxt bybit loop ...");
const plain = await withSim(async (sim) => {
  const seq = await lastSeq(sim);
  const r = await plainCcxtLoop(sim);
  return { ...r, rejections: await rejectionsSince(sim, seq) };
});

const phases = [
  { name: "keyward, Bybit: list", measuredMs: one.listMs, boundMs: listBound, rejections: Number.NaN },
  {
    name: `keyward, Bybit: revoke ${REVOKE}`,
    measuredMs: one.revokeMs,
    boundMs: revokeBound,
    rejections: Number.NaN,
  },
  {
    name: "keyward, Bybit: total",
    measuredMs: one.totalMs,
    boundMs: listBound + revokeBound,
    rejections: one.rejections,
  },
  {
    name: "plain sequential ccxt loop: revoke",
    measuredMs: plain.revokeMs,
    boundMs: revokeBound,
    rejections: Number.NaN,
  },
  {
    name: "plain sequential ccxt loop: total",
    measuredMs: plain.totalMs,
    boundMs: listBound + revokeBound,
    rejections: plain.rejections,
  },
];

const revokeRatio = ratio(one.revokeMs, revokeBound);
if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ bybit: { scale, phases: phases.map((p) => ({ ...p, ratio: ratio(p.measuredMs, p.boundMs) })), target: 1.1 } }, null, 2)}\n`,
  );
} else {
  process.stdout.write(phaseTable(phases, 36));
  process.stdout.write(
    `\nkeyward Bybit revoke vs the write-rate bound: ${revokeRatio.toFixed(2)}x (target <= 1.10x), ` +
      `zero rejections: ${one.rejections === 0 ? "yes" : "NO"}\n`,
  );
}
