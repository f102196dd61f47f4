/**
 * Helpers of the rotation end-to-end tests (rotate-*.test.ts). They drive the BUILT `keyward` binary
 * (helpers.ts: runCli / startCli) against a simulator started in-process, and check the outcome where it
 * lives, independently of Keyward's own code: the simulator's /state, the delivery targets read as files
 * (dotenv parsed by the `dotenv` package, age files decrypted with the identity), probes signed here
 * (OKX HMAC-SHA256, Bitfinex HMAC-SHA384), the audit chain through `keyward audit verify`, and the bytes of
 * state.db for secrets.
 *
 *   - `rotationDesk(n)`: a simulator whose OKX master (the template home's) has `n` extra sub-account keys
 *     `rbot-1..n`, two per sub-account, IP-bound to 127.0.0.1; and a fresh copy of the template home
 *     (global-setup.ts) pointed at it.
 *   - `targetsFor(dir)`: the four kinds of targets, one per key each, and how to read them back.
 *   - `checkRotated(...)`: the acceptance invariants of a finished rotation.
 */
import { createHash, createHmac } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunningSimulator, WorldView } from "@keyward/simulator";
import { startTestDesk, urlOf } from "@keyward/simulator/testing";
import { Decrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
import { parse } from "dotenv";
import { expect, inject, type TestContext } from "vitest";
import { CANARIES, Home, type RunResult, scenario, show, tempDir } from "./helpers.js";

export interface RotSim {
  running: RunningSimulator;
  okx: string;
  bitfinex: string;
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  state(): Promise<WorldView>;
}

export const MASTER_UID = "300000001";

export interface SubKey {
  apiKey: string;
  secretKey: string;
  passphrase: string;
  label: string;
  sub: string;
}

/** `n` sub-account keys, two per sub-account `rotbots01…`, every secret a canary. */
export function subKeys(n: number): SubKey[] {
  return Array.from({ length: n }, (_, i) => {
    const k = i + 1;
    return {
      apiKey: `7a1c0e52-0b6d-4f8e-9c21-0000000001${String(k).padStart(2, "0")}`,
      secretKey: `CANARY-rot-secret-${k}-4d1e`,
      passphrase: `CANARY-Rot-pass-${k}!`,
      label: `rbot-${k}`,
      sub: `rotbots${String(Math.ceil(k / 2)).padStart(2, "0")}`,
    };
  });
}

export async function startRotSim(keys: SubKey[], rateScale = 0.05): Promise<RotSim> {
  const world = scenario();
  const master = world.okx?.accounts?.[0];
  if (!master) throw new Error("the test scenario has no OKX account");
  const subs = [...new Set(keys.map((k) => k.sub))];
  subs.forEach((sub, i) => {
    master.subAccounts?.push({
      name: sub,
      uid: `3000002${String(i + 1).padStart(2, "0")}`,
      ts: String(Date.now() - 86_400_000 * 30),
      keys: keys
        .filter((k) => k.sub === sub)
        .map((k) => ({
          apiKey: k.apiKey,
          secretKey: k.secretKey,
          passphrase: k.passphrase,
          label: k.label,
          perm: "read_only,trade",
          ip: "127.0.0.1",
          ts: String(Date.now() - 86_400_000 * 10),
        })),
    });
  });
  const { running, client } = await startTestDesk({ scenario: world, rateScale });
  const control = <T>(method: string, path: string, body?: unknown): Promise<T> =>
    client.control<T>(method, path, body);
  return {
    running,
    okx: running.okx,
    bitfinex: running.bitfinex,
    control,
    state: () => control<WorldView>("GET", "/state"),
  };
}

/** A copy of the template home (global-setup.ts) whose accounts point at `sim`. */
export function homeFor(sim: RotSim): Home {
  const home = new Home(tempDir("rot-home-"));
  cpSync(inject("templateHome"), home.dir, { recursive: true });
  const config = JSON.parse(readFileSync(home.config, "utf8")) as {
    accounts: { exchange: string; endpoint?: string }[];
  };
  for (const a of config.accounts) a.endpoint = urlOf(sim.running, a.exchange);
  writeFileSync(home.config, `${JSON.stringify(config, null, 2)}\n`);
  return home;
}

export async function rotationDesk(
  context: Pick<TestContext, "onTestFinished">,
  n: number,
  rateScale?: number,
) {
  const keys = subKeys(n);
  const sim = await startRotSim(keys, rateScale);
  context.onTestFinished(() => sim.running.close());
  return { sim, keys, home: homeFor(sim), dir: tempDir("rot-targets-") };
}

// ---------------------------------------------------------------------------------------------------
// Delivery targets

/**
 * `keyward rotate plan` for the `rbot-*` keys into `dir/bots.env` (a prefix per label), written to
 * `dir/<name>.json`; asserts the plan was made and returns its path.
 */
export async function planBots(home: Home, dir: string, name = "plan"): Promise<string> {
  const file = join(dir, `${name}.json`);
  const plan = await home.run([
    "rotate",
    "plan",
    "--label",
    "rbot-*",
    "--deliver",
    `dotenv:${join(dir, "bots.env")}#{label}`,
    "-o",
    file,
  ]);
  expect(plan.code, show(plan)).toBe(0);
  return file;
}

export interface Delivered {
  apiKey?: string;
  secret?: string;
  passphrase?: string;
}

export interface Targets {
  args: string[];
  read(label: string): Promise<Record<string, Delivered>>;
  identity: string;
}

/** One of each target kind (per key by `{label}`), the initial dotenv holding the old keys as a bot's would. */
export async function targetsFor(dir: string, keys: SubKey[]): Promise<Targets> {
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const envFile = join(dir, "bots.env");
  const jsonFile = join(dir, "bots.json");
  mkdirSync(join(dir, "exec"), { recursive: true });
  writeFileSync(
    envFile,
    `# trading bots\nLOG_LEVEL=info\n${keys
      .map((k) => {
        const p = k.label.toUpperCase().replace(/-/g, "_");
        return `${p}_API_KEY=${k.apiKey}\n${p}_API_SECRET=${k.secretKey}\n${p}_API_PASSPHRASE=${k.passphrase}\n`;
      })
      .join("")}`,
    { mode: 0o600 },
  );
  writeFileSync(jsonFile, `${JSON.stringify({ service: "bots", bots: {} }, null, 2)}\n`);
  return {
    identity,
    args: [
      "--deliver",
      `dotenv:${envFile}#{label}`,
      "--deliver",
      `json:${jsonFile}#/bots/{label}`,
      "--deliver",
      `age:${join(dir, "age")}`,
      "--deliver",
      `exec:cat > ${join(dir, "exec")}/{label}.json`,
      "--recipient",
      recipient,
    ],
    async read(label) {
      const prefix = label.toUpperCase().replace(/-/g, "_");
      const env = parse(readFileSync(envFile, "utf8"));
      const json = JSON.parse(readFileSync(jsonFile, "utf8")) as { bots: Record<string, Delivered> };
      const ageFile = readdirSync(join(dir, "age")).find((f) => f.endsWith(`.${label}.age`));
      const decrypter = new Decrypter();
      decrypter.addIdentity(identity);
      const age = ageFile
        ? (JSON.parse(await decrypter.decrypt(readFileSync(join(dir, "age", ageFile)), "text")) as Delivered)
        : {};
      const execFile = join(dir, "exec", `${label}.json`);
      return {
        dotenv: {
          apiKey: env[`${prefix}_API_KEY`],
          secret: env[`${prefix}_API_SECRET`],
          passphrase: env[`${prefix}_API_PASSPHRASE`],
        } as Delivered,
        json: json.bots[label] ?? {},
        age,
        exec: existsSync(execFile) ? (JSON.parse(readFileSync(execFile, "utf8")) as Delivered) : {},
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Probes, signed here (not with Keyward's code)

export async function okxProbe(
  base: string,
  c: Delivered,
): Promise<{ code: string; perm?: string; ip?: string }> {
  const path = "/api/v5/account/config";
  const ts = new Date().toISOString();
  const sign = createHmac("sha256", c.secret ?? "")
    .update(`${ts}GET${path}`)
    .digest("base64");
  const res = await fetch(`${base}${path}`, {
    headers: {
      "OK-ACCESS-KEY": c.apiKey ?? "",
      "OK-ACCESS-SIGN": sign,
      "OK-ACCESS-TIMESTAMP": ts,
      "OK-ACCESS-PASSPHRASE": c.passphrase ?? "",
    },
  });
  const body = (await res.json()) as { code: string; data?: { perm: string; ip: string }[] };
  return { code: body.code, ...(body.data?.[0] ? { perm: body.data[0].perm, ip: body.data[0].ip } : {}) };
}

let bfxNonce = Date.now();
export async function bfxProbe(base: string, c: Delivered): Promise<unknown> {
  const path = "auth/r/permissions";
  const nonce = String(Math.max(Date.now(), ++bfxNonce));
  bfxNonce = Number(nonce);
  const body = "{}";
  const sig = createHmac("sha384", c.secret ?? "")
    .update(`/api/v2/${path}${nonce}${body}`)
    .digest("hex");
  const res = await fetch(`${base}/v2/${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "bfx-nonce": nonce,
      "bfx-apikey": c.apiKey ?? "",
      "bfx-signature": sig,
    },
    body,
  });
  return res.json();
}

// ---------------------------------------------------------------------------------------------------
// Invariants

interface StatusSlot {
  slot: number;
  step: string;
  newApiKey: string | null;
  oldApiKey: string;
  oldLabel: string;
  newLabel: string;
}

export async function statusOf(home: Home): Promise<{ state: string; slots: StatusSlot[] }[]> {
  const r = await home.run(["rotate", "status", "--json"]);
  expect(r.code, show(r)).toBe(0);
  return (JSON.parse(r.stdout) as { runs: { state: string; slots: StatusSlot[] }[] }).runs;
}

const okxKeys = (state: WorldView) =>
  state.okx.accounts.flatMap((a) => a.subAccounts.flatMap((s) => s.keys.map((k) => ({ ...k, sub: s.name }))));

/**
 * The acceptance invariants: the run finished; per slot exactly one live key (the journal's new key, not
 * the old one), its secret in every target and verified by a probe signed here; no orphan key on the
 * simulator; the audit chain intact.
 */
export async function checkRotated(
  sim: RotSim,
  home: Home,
  keys: SubKey[],
  targets: Targets,
): Promise<string[]> {
  const [run] = await statusOf(home);
  expect(run?.state).toBe("finished");
  const slots = run?.slots ?? [];
  expect(slots.map((s) => s.step)).toEqual(keys.map(() => "finished"));
  const state = await sim.state();
  const all = okxKeys(state);
  const journaled = new Set(slots.map((s) => s.newApiKey));
  const newSecrets: string[] = [];
  for (const key of keys) {
    const slot = slots.find((s) => s.oldApiKey === key.apiKey);
    expect(slot, `no slot for ${key.label}`).toBeDefined();
    const live = all.filter(
      (k) => k.sub === key.sub && k.status === "active" && k.label.startsWith(`${key.label}-rot-`),
    );
    expect(
      live.map((k) => k.apiKey),
      `${key.label}: live keys`,
    ).toEqual([slot?.newApiKey]);
    expect(all.find((k) => k.apiKey === key.apiKey)?.status, `${key.label}: old key`).toBe("revoked");
    const delivered = await targets.read(key.label);
    for (const [kind, creds] of Object.entries(delivered)) {
      expect(creds.apiKey, `${key.label}: ${kind} target`).toBe(slot?.newApiKey);
      expect(creds.secret, `${key.label}: ${kind} secret`).toBe(delivered.dotenv?.secret);
      expect(creds.passphrase, `${key.label}: ${kind} passphrase`).toBe(delivered.dotenv?.passphrase);
    }
    const probe = await okxProbe(sim.okx, delivered.dotenv ?? {});
    expect(probe, `${key.label}: probe with the delivered secret`).toEqual({
      code: "0",
      perm: "read_only,trade",
      ip: "127.0.0.1",
    });
    if (delivered.dotenv?.secret) newSecrets.push(delivered.dotenv.secret);
    if (delivered.dotenv?.passphrase) newSecrets.push(delivered.dotenv.passphrase);
  }
  // No orphan: every live key a rotation made is a journaled new key.
  const orphans = all.filter(
    (k) => k.status === "active" && /-rot-[a-z0-9]{6}-\d+$/.test(k.label) && !journaled.has(k.apiKey),
  );
  expect(orphans, "orphan keys left on the simulator").toEqual([]);
  const verify = await home.run(["audit", "verify"]);
  expect(verify.code, show(verify)).toBe(0);
  return newSecrets;
}

/** Secrets (the scenario's canaries, the vault passphrase, new secrets) appear nowhere they must not. */
export function checkNoSecrets(places: Record<string, string | Buffer>, secrets: readonly string[]): void {
  const all = [...CANARIES, ...secrets];
  for (const [where, content] of Object.entries(places)) {
    const text = typeof content === "string" ? content : content.toString("latin1");
    const found = all.filter((s) => s.length >= 8 && text.includes(s));
    expect(found, `secrets found in ${where}`).toEqual([]);
  }
}

/** state.db and its WAL, as bytes. */
export function stateBytes(home: Home): Buffer {
  const parts = [home.state, `${home.state}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p));
  return Buffer.concat(parts);
}

export const outputOf = (runs: RunResult[]) => runs.map((r) => `${r.stdout}\n${r.stderr}`).join("\n");

export const sha = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 12);
