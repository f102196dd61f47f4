/**
 * The simulated OKX v5: one listener per regional host (www, eea, us; a key called on another host's
 * listener gets 50119), sub-account key management by API, master keys created and revoked only on the
 * "API management" page (or the control API standing in for it).
 */
import { z } from "zod";
import { type DeskPart, defineExchange } from "../exchange-module.js";
import { isIpOrCidr } from "../ip-whitelist.js";
import { restListenerDeps } from "../rest-listener-kit.js";
import { OKX_RATE_LIMITS, scaleOkxRateLimits } from "./rate-limits.js";
import {
  checkOkxScenario,
  OKX_PERM_RULE,
  OKX_REGIONS,
  type OkxRegion,
  OkxScenarioSchema,
} from "./scenario.js";
import { OKX_UI, okxListener } from "./server.js";
import {
  hashPassphrase,
  newOkxCredentials,
  type OkxKey,
  OkxPersisted,
  OkxWorld,
  restoreOkx,
  saveOkx,
} from "./state.js";

export type { OkxRateLimits } from "./rate-limits.js";
export type { OkxKeySeed, OkxRegion } from "./scenario.js";

/** What a person does on okx.com to create a master key (sub-account keys are made by API). */
const CreateMasterKey = z.strictObject({
  exchange: z.literal("okx"),
  uid: z.string().min(1),
  label: z.string().min(1),
  perm: z.string().regex(OKX_PERM_RULE),
  ip: z.string().default(""),
  passphrase: z.string().min(1),
});

function createMasterKey(world: OkxWorld, body: z.output<typeof CreateMasterKey>, now: number) {
  const account = world.okxAccounts.find((a) => a.uid === body.uid);
  if (!account) return { status: 404, body: { error: `no okx account ${body.uid}` } };
  const ips = body.ip
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (ips.length > 20 || !ips.every(isIpOrCidr))
    return { status: 400, body: { error: "ip: up to 20 IP addresses or CIDR ranges" } };
  const { apiKey, secretKey } = newOkxCredentials();
  const { salt, hash } = hashPassphrase(body.passphrase);
  const key: OkxKey = {
    apiKey,
    secretKey,
    passphraseSalt: salt,
    passphraseHash: hash,
    label: body.label,
    perm: body.perm,
    ip: ips,
    ts: now,
    demo: false,
    frozen: false,
    lastUsedAt: now,
    status: "active",
    region: account.region,
    ownerUid: account.uid,
    masterUid: account.uid,
    subAcct: null,
  };
  account.keys.push(key);
  world.okxKeys.set(apiKey, key);
  // Shown once, as on the real site.
  return { status: 201, body: { apiKey, secretKey, passphrase: body.passphrase } };
}

export const okx = defineExchange({
  id: "okx",
  title: "OKX v5",
  portHelp: "OKX (www) port",
  scenario: OkxScenarioSchema,
  checkScenario: checkOkxScenario,
  seed: (section, now) => OkxWorld.fromScenario(section, now),
  persisted: OkxPersisted,
  save: saveOkx,
  restore: restoreOkx,
  view: (world: OkxWorld, now: number) => world.view(now),
  uiRevoke: (world, apiKey) => world.uiRevoke(apiKey),
  uiCreate: {
    body: CreateMasterKey,
    create: (world, body, now) => createMasterKey(world, body as z.output<typeof CreateMasterKey>, now),
  },
  ui: { ...OKX_UI, rows: (world, now) => world.uiRows(now) },
  rateLimits: OKX_RATE_LIMITS,
  scaleRateLimits: scaleOkxRateLimits,
  readyLineExtras: ["okxRegions"],
  async start(ctx) {
    const regionDeps = (region: OkxRegion) => ({
      ...restListenerDeps(ctx),
      region,
      timestampWindowMs: ctx.timestampWindowMs,
    });
    // www on the asked port, the other regional hosts on free ports, in this order.
    const urls = {} as Record<OkxRegion, string>;
    for (const region of OKX_REGIONS) {
      const listening = await ctx.listen(okxListener(regionDeps(region)), region === "www" ? ctx.port : 0);
      urls[region] = listening.url;
    }
    return { url: urls.www, urls: { okxRegions: urls } };
  },
  /** Each account's admin key: its first master key. */
  demoDesk(section, endpoint) {
    const desk: DeskPart = { accounts: [], tracked: [] };
    for (const account of section.accounts) {
      const admin = account.keys[0];
      if (!admin) continue;
      desk.accounts.push({
        name: account.name,
        endpoint,
        credentials: { apiKey: admin.apiKey, secret: admin.secretKey, passphrase: admin.passphrase },
      });
    }
    return desk;
  },
});
