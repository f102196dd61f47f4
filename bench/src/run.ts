/**
 * `npm run bench`: list 40 OKX sub-accounts with 2 keys each, then revoke 30 of those keys, under one
 * master and under two masters in parallel, against the simulator at the documented limits. Every
 * figure is printed as a ratio to the time the rate limits allow, beside a plain sequential ccxt loop
 * doing the same work. Flags: --quick (limits 10x faster on both sides), --json.
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
import { type Phase, phaseTable } from "./phase-table.js";
import { benchScenario, masterCreds } from "./scenario.js";
import { lastSeq, rejectionsSince } from "./sim-log.js";

const SUB_ACCOUNTS = 40;
const KEYS_PER_SUB = 2;
const REVOKE = 30;

const { values } = parseArgs({ options: { quick: { type: "boolean" }, json: { type: "boolean" } } });
const scale = values.quick ? 0.1 : 1;
const limits = scaleRateLimits(DEFAULT_RATE_LIMITS, scale).okx;

const listBound = windowBoundMs(SUB_ACCOUNTS, limits.read);
const revokeBound = windowBoundMs(REVOKE, limits.write);

async function keywardAdapter(sim: RunningSimulator, uid: string): Promise<ExchangeAdapter> {
  const factory = await loadAdapterFactory("okx");
  const c = masterCreds(uid);
  return factory(
    {
      account: { name: `bench-${uid}`, exchange: "okx", endpoint: sim.okx, credentialsRef: "bench" },
      credentials: toCredentials({ apiKey: c.apiKey, secret: c.secretKey, passphrase: c.passphrase }),
    },
    { rateLimits: { read: limits.read, write: limits.write, config: limits.config } },
  );
}

/** Keyward: list everything, then revoke 30 sub-account keys concurrently (the adapter paces them). */
async function keywardListAndRevoke(sim: RunningSimulator, uid: string) {
  const adapter = await keywardAdapter(sim, uid);
  const t0 = performance.now();
  const keys = await adapter.listKeys();
  const t1 = performance.now();
  const victims = keys.filter((k) => k.location === "sub-account").slice(0, REVOKE);
  if (victims.length !== REVOKE)
    throw new Error(`expected ${REVOKE} sub-account keys, listed ${victims.length}`);
  const results = await Promise.all(victims.map((k) => adapter.revokeKey(k)));
  const t2 = performance.now();
  if (results.some((r) => r.outcome !== "revoked")) throw new Error("a revoke did not report 'revoked'");
  return { listMs: t1 - t0, revokeMs: t2 - t1, totalMs: t2 - t0, listed: keys.length };
}

/** What a user would write with ccxt alone: one call after another, ccxt's own throttle on. */
async function plainCcxtLoop(sim: RunningSimulator, uid: string) {
  const c = masterCreds(uid);
  const ex = new ccxt.okx({
    apiKey: c.apiKey,
    secret: c.secretKey,
    password: c.passphrase,
    urls: { api: { rest: sim.okx } },
    rateLimit: 110 * scale,
  });
  const t0 = performance.now();
  const subs = ((await ex.privateGetUsersSubaccountList({ limit: "100" })) as { data: { subAcct: string }[] })
    .data;
  const keys: { subAcct: string; apiKey: string }[] = [];
  for (const { subAcct } of subs) {
    const res = (await ex.privateGetUsersSubaccountApikey({ subAcct })) as { data: { apiKey: string }[] };
    for (const k of res.data) keys.push({ subAcct, apiKey: k.apiKey });
  }
  const t1 = performance.now();
  for (const k of keys.slice(0, REVOKE)) await ex.privatePostUsersSubaccountDeleteApikey(k);
  const t2 = performance.now();
  return { listMs: t1 - t0, revokeMs: t2 - t1, totalMs: t2 - t0 };
}

async function withSim<T>(uids: string[], fn: (sim: RunningSimulator) => Promise<T>): Promise<T> {
  const sim = await startSimulator({
    scenario: benchScenario(
      uids.map((uid) => ({ uid, subAccounts: SUB_ACCOUNTS, keysPerSub: KEYS_PER_SUB })),
    ),
    rateScale: scale,
  });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

const phases: Phase[] = [];
const log = (s: string) => {
  if (!values.json) process.stderr.write(`${s}\n`);
};

log(
  `Keyward bench: OKX at ${scale === 1 ? "the documented" : `${1 / scale}x faster`} limits ` +
    `(reads ${limits.read.limit}/${limits.read.windowMs} ms, writes ${limits.write.limit}/${limits.write.windowMs} ms per UID)`,
);
log(`work: list ${SUB_ACCOUNTS} sub-accounts x ${KEYS_PER_SUB} keys, then revoke ${REVOKE} keys`);

log("running: one master ...");
const one = await withSim(["7001"], async (sim) => {
  const seq = await lastSeq(sim);
  const r = await keywardListAndRevoke(sim, "7001");
  return { ...r, rejections: await rejectionsSince(sim, seq) };
});
phases.push(
  { name: "keyward, one master: list", measuredMs: one.listMs, boundMs: listBound, rejections: Number.NaN },
  {
    name: "keyward, one master: revoke 30",
    measuredMs: one.revokeMs,
    boundMs: revokeBound,
    rejections: Number.NaN,
  },
  {
    name: "keyward, one master: total",
    measuredMs: one.totalMs,
    boundMs: listBound + revokeBound,
    rejections: one.rejections,
  },
);

log("running: two masters in parallel ...");
const two = await withSim(["7001", "7002"], async (sim) => {
  const seq = await lastSeq(sim);
  const t0 = performance.now();
  await Promise.all([keywardListAndRevoke(sim, "7001"), keywardListAndRevoke(sim, "7002")]);
  return { totalMs: performance.now() - t0, rejections: await rejectionsSince(sim, seq) };
});
phases.push({
  name: "keyward, two masters in parallel",
  measuredMs: two.totalMs,
  boundMs: listBound + revokeBound,
  rejections: two.rejections,
});

log("running: plain sequential ccxt loop ...");
const plain = await withSim(["7001"], async (sim) => {
  const seq = await lastSeq(sim);
  const r = await plainCcxtLoop(sim, "7001");
  return { ...r, rejections: await rejectionsSince(sim, seq) };
});
phases.push({
  name: "plain sequential ccxt loop",
  measuredMs: plain.totalMs,
  boundMs: listBound + revokeBound,
  rejections: plain.rejections,
});

const twoVsOne = two.totalMs / one.totalMs;
if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ scale, phases: phases.map((p) => ({ ...p, ratio: ratio(p.measuredMs, p.boundMs) })), twoMastersVsOne: twoVsOne }, null, 2)}\n`,
  );
} else {
  process.stdout.write(phaseTable(phases, 36));
  process.stdout.write(
    `\ntwo masters in parallel vs one master: ${twoVsOne.toFixed(2)}x (target <= 1.15x)\n`,
  );
  const keywardRatio = ratio(one.totalMs, listBound + revokeBound);
  process.stdout.write(
    `keyward vs the rate-limit bound: ${keywardRatio.toFixed(2)}x (target <= 1.15x), ` +
      `zero rejections: ${one.rejections === 0 && two.rejections === 0 ? "yes" : "NO"}\n`,
  );
}
