/**
 * The rotation benchmark: rotate 20 OKX sub-account keys across two masters (10 sub-accounts x 1 key
 * each) with Keyward's rotation engine, against the simulator at the documented limits, as a ratio to
 * the write-rate bound (bound.ts, rotationBoundMs). Target: within 1.2x.
 *
 * Each rotation is create → verify → deliver (a dotenv file) → revoke → prove dead, grace 0, every key
 * in flight at once (the adapters pace creates and deletes at 1/s per master). The engine runs in a real
 * Keyward home (vault, state.db journal and audit log with synchronous=FULL), so the figure includes
 * saving each new secret and journaling every step. Flags: --quick (limits 10x faster; the vault then
 * uses a cheaper scrypt work factor so its cost shrinks with the limits), --json.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  accountRef,
  applyPlan,
  buildRotationPlan,
  type ExchangeAdapter,
  KeywardHome,
  RotationJournal,
  Secret,
  toCredentials,
  VAULT_SCRYPT_WORK_FACTOR,
} from "@keyward/core";
import { DEFAULT_RATE_LIMITS, scaleRateLimits, startSimulator } from "@keyward/simulator";
import { ratio, rotationBoundMs } from "./bound.js";
import { phaseTable } from "./phase-table.js";
import { benchScenario, masterCreds } from "./scenario.js";

const MASTERS = ["7101", "7102"];
const SUBS_PER_MASTER = 10;

const { values } = parseArgs({ options: { quick: { type: "boolean" }, json: { type: "boolean" } } });
const scale = values.quick ? 0.1 : 1;
const limits = scaleRateLimits(DEFAULT_RATE_LIMITS, scale).okx;
const workFactor = values.quick ? 12 : VAULT_SCRYPT_WORK_FACTOR;
const log = (s: string) => {
  if (!values.json) process.stderr.write(`${s}\n`);
};

const dir = mkdtempSync(join(tmpdir(), "keyward-bench-rotate-"));
const sim = await startSimulator({
  scenario: benchScenario(MASTERS.map((uid) => ({ uid, subAccounts: SUBS_PER_MASTER, keysPerSub: 1 }))),
  rateScale: scale,
});
try {
  const passphrase = new Secret("bench-vault-passphrase");
  const { home } = await KeywardHome.init(join(dir, "home"), {
    passphrase: async () => passphrase,
    actor: "bench",
    vault: { workFactor },
  });
  const vault = await home.vault();
  for (const uid of MASTERS) {
    const name = `bench-${uid}`;
    home.config.accounts.push({ name, exchange: "okx", endpoint: sim.okx, credentialsRef: accountRef(name) });
    const c = masterCreds(uid);
    vault.set(
      accountRef(name),
      toCredentials({ apiKey: c.apiKey, secret: c.secretKey, passphrase: c.passphrase }),
    );
  }
  await home.saveConfig();
  await vault.save();

  const rateLimits = { read: limits.read, write: limits.write, config: limits.config };
  const adapters = new Map<string, ExchangeAdapter>();
  for (const account of home.config.accounts)
    adapters.set(account.name, await home.adapterFor(account.name, { rateLimits }));
  const listed = (await Promise.all([...adapters.values()].map((a) => a.listKeys()))).flat();
  const keys = listed.filter((k) => k.location === "sub-account");
  if (keys.length !== MASTERS.length * SUBS_PER_MASTER)
    throw new Error(`expected 20 sub-account keys, listed ${keys.length}`);
  const envFile = join(dir, "bots.env");
  writeFileSync(envFile, "# bench bots\n");
  const plan = await buildRotationPlan({
    keys,
    deliver: [`dotenv:${envFile}#{account}_{label}`],
    cwd: dir,
    home: home.paths.dir,
    isAccountKey: () => false,
    holdsSecret: () => false,
  });

  log(
    `Keyward rotation bench: rotate ${keys.length} OKX sub-account keys across ${MASTERS.length} masters at ` +
      `${scale === 1 ? "the documented" : `${1 / scale}x faster`} limits (writes ${limits.write.limit}/${limits.write.windowMs} ms per UID), vault scrypt 2^${workFactor}`,
  );
  // `rotate plan` lists the keys well before `rotate apply`: let the listing's read windows pass, so
  // the measured time is the rotation's own.
  await new Promise((r) => setTimeout(r, limits.read.windowMs + 100));
  const seq = async () =>
    ((await (await fetch(`${sim.control}/requests`)).json()) as { seq: number }[]).at(-1)?.seq ?? 0;
  const since = await seq();
  const t0 = performance.now();
  const report = await applyPlan(
    plan,
    { graceMs: 0, checkCmd: null, concurrency: keys.length, manualTimeoutMs: 0 },
    {
      home,
      journal: new RotationJournal(home.state(), home.audit()),
      audit: home.audit(),
      adapterFor: async (name) => adapters.get(name) as ExchangeAdapter,
      childEnv: {},
      timing: { pollMs: Math.max(50, 1000 * scale) },
    },
  );
  const measuredMs = performance.now() - t0;
  if (report.summary.finished !== keys.length) {
    throw new Error(
      `only ${report.summary.finished} of ${keys.length} rotations finished: ${JSON.stringify(report.slots.filter((s) => s.error))}`,
    );
  }
  const rows = (await (await fetch(`${sim.control}/requests?since=${since}`)).json()) as {
    code: string;
    path: string;
  }[];
  const rejections = rows.filter((r) => r.code === "50011").length;
  const boundMs = rotationBoundMs(SUBS_PER_MASTER, limits.write);
  const r = ratio(measuredMs, boundMs);
  await home.close();
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ scale, keys: keys.length, masters: MASTERS.length, measuredMs, boundMs, ratio: r, rejections, target: 1.2 }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(
      phaseTable(
        [
          {
            name: `keyward, rotate ${keys.length} keys / ${MASTERS.length} masters`,
            measuredMs,
            boundMs,
            rejections,
          },
        ],
        40,
      ),
    );
    process.stdout.write(
      `\nkeyward rotation vs the write-rate bound: ${r.toFixed(2)}x (target <= 1.2x), zero rejections: ${rejections === 0 ? "yes" : "NO"}\n`,
    );
  }
} finally {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}
