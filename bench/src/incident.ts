/**
 * `npm run bench` (incident part; alone: `npm run bench:incident -w @keyward/bench`): one revoke run over
 * four exchanges at once, as `keyward revoke --yes` runs it after a leak: every key of one OKX master
 * (10 sub-accounts x 2 keys), of one Bybit master (10 sub-accounts x 8 keys), of one Deribit account
 * (7 bot keys) and the Bitfinex keys Keyward tracks (5), but not the four keys Keyward itself uses for the
 * accounts. Planned with core's planLiveRevoke and run with startRevoke (audit log, API revokes at each
 * exchange's write limit, Deribit's keys disabled first and their removals' two-factor challenge answered
 * from the account's TOTP seed, proof of death by listing and probing, manual steps, probing until the
 * people are done), in a real Keyward home.
 *
 * The Deribit account's credit bucket starts full (its bots left it alone: deribit.ts measures the
 * drained case): its part's ~25 requests fit the bucket's 100-request burst, so its bound is 0 like a
 * person's, and the run's bound stays its slowest API part's (OKX's).
 *
 * Bitfinex has no API to revoke a key, so its part is a person's: the bench plays the person through the
 * simulator's control API (`POST /ui/revoke`, the "Revoke" button of its API-keys page) as soon as the
 * run gives each key's steps, and Keyward proves each death by probing with the key's own secret. No rate
 * limit paces a person, so that part's bound is 0 and the run's bound is its slowest API part, computed
 * alone (bound.ts, incidentBoundMs). Target: total within 1.05x of it, zero rate-limit rejections.
 * Flags: --quick (limits 10x faster), --json.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import {
  addAccount,
  DERIBIT_LIMITS,
  type ExchangeAdapter,
  KeywardHome,
  listInventory,
  planLiveRevoke,
  type RateLimit,
  type RevokeReport,
  Secret,
  SelectorSchema,
  startRevoke,
  toCredentials,
  trackKey,
} from "@keyward/core";
import { DEFAULT_RATE_LIMITS, type ExchangeId, scaleRateLimits, startSimulator } from "@keyward/simulator";
import { incidentBoundMs, ratio, windowBoundMs } from "./bound.js";
import { phaseTable } from "./phase-table.js";
import {
  benchScenario,
  bitfinexCreds,
  bitfinexSection,
  bybitMasterCreds,
  bybitSection,
  deribitCreds,
  deribitSection,
  masterCreds,
} from "./scenario.js";
import { isRateLimitRejection, lastSeq, requestsSince } from "./sim-log.js";

const OKX = { uid: "7201", subAccounts: 10, keysPerSub: 2 };
const BYBIT = { uid: "8201", subMembers: 10, keysPerSub: 8 };
const BITFINEX = { user: 3_141_201, tracked: 5 };
const DERIBIT = { id: 9201, bots: 7 };
const TARGET = 1.05;

const { values } = parseArgs({ options: { quick: { type: "boolean" }, json: { type: "boolean" } } });
const scale = values.quick ? 0.1 : 1;
const limits = scaleRateLimits(DEFAULT_RATE_LIMITS, scale);
const log = (s: string) => {
  if (!values.json) process.stderr.write(`${s}\n`);
};

/** Each adapter gets its exchange's (scaled) windows, by the bucket names the simulator and adapters share. */
const rateLimitsOf = (exchange: ExchangeId) =>
  Object.fromEntries(
    Object.entries(limits[exchange]).filter(
      (e): e is [string, { limit: number; windowMs: number }] =>
        typeof e[1] === "object" && "windowMs" in e[1],
    ),
  );
/**
 * Deribit's limit is a credit bucket, not a window: the adapter's own pace (core's DERIBIT_LIMITS, one
 * request per refill interval +5%), scaled with the simulator (`{}`: the default, at the documented limit).
 */
const deribitPacing: Record<string, RateLimit> =
  scale === 1 ? {} : { credits: { intervalMs: DERIBIT_LIMITS.credits.intervalMs * scale } };

const okxKeys = OKX.subAccounts * OKX.keysPerSub;
const bybitKeys = BYBIT.subMembers * BYBIT.keysPerSub;
const parts: Record<string, { keys: number; boundMs: number; how: string }> = {
  okx: { keys: okxKeys, boundMs: windowBoundMs(okxKeys, limits.okx.write), how: "by API" },
  bybit: { keys: bybitKeys, boundMs: windowBoundMs(bybitKeys, limits.bybit.write), how: "by API" },
  bitfinex: { keys: BITFINEX.tracked, boundMs: 0, how: "by a person" },
  // 3 requests a key (disable, remove's challenge and answer) plus listings: inside a full bucket's burst.
  deribit: { keys: DERIBIT.bots, boundMs: 0, how: "by API, disabled first" },
};
const { boundMs, slowest } = incidentBoundMs(
  Object.fromEntries(Object.entries(parts).map(([id, p]) => [id, p.boundMs])),
);

const dir = mkdtempSync(join(tmpdir(), "keyward-bench-incident-"));
const sim = await startSimulator({
  scenario: {
    okx: benchScenario([OKX]).okx,
    bybit: bybitSection([BYBIT]),
    bitfinex: bitfinexSection(BITFINEX.user, BITFINEX.tracked),
    deribit: deribitSection([DERIBIT]),
  },
  rateScale: scale,
});
try {
  // Set up as `keyward init`, `account add` and `key track` do (each credential probed first). The
  // vault's scrypt work factor is low: opening it is outside the measured time.
  const { home } = await KeywardHome.init(join(dir, "home"), {
    passphrase: async () => new Secret("bench-vault-passphrase"),
    actor: "bench",
    vault: { workFactor: 12 },
  });
  const okxC = masterCreds(OKX.uid);
  await addAccount(
    home,
    { name: "okx-desk", exchange: "okx", endpoint: sim.okx },
    toCredentials({ apiKey: okxC.apiKey, secret: okxC.secretKey, passphrase: okxC.passphrase }),
  );
  await addAccount(
    home,
    { name: "bybit-desk", exchange: "bybit", endpoint: sim.bybit },
    toCredentials(bybitMasterCreds(BYBIT.uid)),
  );
  await addAccount(
    home,
    { name: "bitfinex-desk", exchange: "bitfinex", endpoint: sim.bitfinex },
    toCredentials(bitfinexCreds(BITFINEX.user, 0)),
  );
  await addAccount(
    home,
    { name: "deribit-desk", exchange: "deribit", endpoint: sim.deribit },
    toCredentials(deribitCreds(DERIBIT.id)),
  );
  for (let k = 1; k <= BITFINEX.tracked; k++)
    await trackKey(home, "bitfinex-desk", `bot-${k}`, toCredentials(bitfinexCreds(BITFINEX.user, k)));

  const adapters = new Map<string, ExchangeAdapter>();
  for (const account of home.config.accounts)
    adapters.set(
      account.name,
      await home.adapterFor(account.name, {
        rateLimits:
          account.exchange === "deribit" ? deribitPacing : rateLimitsOf(account.exchange as ExchangeId),
      }),
    );

  // `keyward revoke` lists live, then plans; the bench selects every key but the accounts' own by id.
  const l0 = performance.now();
  const inventory = await listInventory(home, { adapters: async () => adapters });
  const listMs = performance.now() - l0;
  const own = await home.accountKeys();
  const ids = inventory.keys.filter((k) => own.get(k.account) !== k.apiKey).map((k) => k.id);
  const { plan } = await planLiveRevoke(home, {
    selector: SelectorSchema.parse({ ids }),
    list: async () => inventory,
    refuseUnauditable: true,
  });
  const expected = okxKeys + bybitKeys + BITFINEX.tracked + DERIBIT.bots;
  if (
    plan.items.length !== expected ||
    plan.byPerson !== BITFINEX.tracked ||
    plan.items.some((i) => i.accountKey)
  )
    throw new Error(
      `expected ${expected} keys (${BITFINEX.tracked} by a person, none of the accounts' own), planned ${plan.items.length} (${plan.byPerson} by a person)`,
    );

  log(
    `Keyward incident bench: one revoke run over OKX, Bybit, Deribit and Bitfinex at ${scale === 1 ? "the documented" : "10x faster"} limits ` +
      `(OKX writes ${limits.okx.write.limit}/${limits.okx.write.windowMs} ms, Bybit writes ${limits.bybit.write.limit}/${limits.bybit.write.windowMs} ms per UID)`,
  );
  log(
    `work: revoke ${okxKeys} OKX sub-account keys, ${bybitKeys} Bybit sub-account keys and ${DERIBIT.bots} Deribit keys (disabled first) by API, ${BITFINEX.tracked} tracked Bitfinex keys by a person; the accounts' own keys stay`,
  );
  log(`running: listed the keys in ${(listMs / 1000).toFixed(2)} s; revoking ...`);

  const seq = await lastSeq(sim);
  /** When each exchange's last key was settled (proven dead, or failed), ms after the start. */
  const doneAt = new Map<string, number>();
  const left = new Map<string, number>(Object.entries(parts).map(([id, p]) => [id, p.keys]));
  const personActs: Promise<Response>[] = [];
  let t0 = 0;
  const settle = (exchange: string) => {
    const n = (left.get(exchange) ?? 0) - 1;
    left.set(exchange, n);
    if (n === 0) doneAt.set(exchange, performance.now() - t0);
  };
  // How long this process's event loop was held up (audit commits fsync on it; a busy machine adds to
  // it): each hold-up delays the adapters' pacing timers, the figure's main source of noise.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  t0 = performance.now();
  const session = await startRevoke(home, plan, {
    adapterFor: async (name) => adapters.get(name) as ExchangeAdapter,
    manual: { wait: true, timeoutMs: 120_000 * scale, pollMs: 2000 * scale },
    onEvent: (e) => {
      if (e.type === "manual-steps") {
        // The person, at the exchange's API-keys page, clicks "Revoke" on the key the steps describe.
        personActs.push(
          fetch(`${sim.control}/ui/revoke`, {
            method: "POST",
            body: JSON.stringify({ exchange: e.result.exchange, apiKey: e.result.apiKey }),
          }),
        );
      } else if (e.type === "verified" || e.type === "manual-done" || e.type === "failed") {
        settle(e.result.exchange);
      }
    },
  });
  const report: RevokeReport = await session.finished();
  const measuredMs = performance.now() - t0;
  lag.disable();
  const eventLoop = { p99Ms: lag.percentile(99) / 1e6, maxMs: lag.max / 1e6 };
  for (const r of await Promise.all(personActs))
    if (!r.ok) throw new Error(`the simulator refused a manual revoke: ${r.status}`);
  const { summary } = report;
  if (
    summary.failed > 0 ||
    summary.awaitingManual > 0 ||
    summary.unverified > 0 ||
    summary.verified !== expected
  )
    throw new Error(`not every key was proven revoked: ${JSON.stringify(summary)}`);
  const rows = await requestsSince(sim, seq);
  const rejections = rows.filter(isRateLimitRejection).length;
  await home.close();

  const r = ratio(measuredMs, boundMs);
  const partRows = Object.entries(parts).map(([id, p]) => ({
    exchange: id,
    keys: p.keys,
    how: p.how,
    measuredMs: doneAt.get(id) ?? Number.NaN,
    boundMs: p.boundMs,
    rejections: rows.filter((x) => x.exchange === id && isRateLimitRejection(x)).length,
  }));
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ incident: { scale, listMs, parts: partRows, measuredMs, boundMs, slowest, ratio: r, rejections, target: TARGET, eventLoop } }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(
      phaseTable(
        [
          ...partRows.map((p) => ({ ...p, name: `  ${p.exchange}: ${p.keys} keys ${p.how}` })),
          { name: `keyward, incident: ${expected} keys, 4 exchanges`, measuredMs, boundMs, rejections },
        ],
        44,
      ),
    );
    process.stdout.write(
      `\nkeyward incident revoke vs its slowest part's bound (${slowest}): ${r.toFixed(2)}x (target <= ${TARGET.toFixed(2)}x), ` +
        `zero rejections: ${rejections === 0 ? "yes" : "NO"}\n` +
        `event-loop delay during the run: p99 ${eventLoop.p99Ms.toFixed(0)} ms, max ${eventLoop.maxMs.toFixed(0)} ms\n`,
    );
  }
} finally {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}
