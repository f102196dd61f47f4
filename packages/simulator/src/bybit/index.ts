/**
 * The simulated Bybit v5: a master key describes itself (query-api), lists its sub-members and their
 * keys, creates, modifies and deletes sub-account keys, and modifies or deletes itself; master keys are
 * created only on the "API Management" page (or the control API standing in for it).
 */
import { z } from "zod";
import { type DeskPart, defineExchange } from "../exchange-module.js";
import { restListenerDeps } from "../rest-listener-kit.js";
import { BYBIT_RATE_LIMITS, scaleBybitRateLimits } from "./rate-limits.js";
import {
  BybitIpsSchema,
  BybitPermissionsSchema,
  BybitScenarioSchema,
  checkBybitScenario,
} from "./scenario.js";
import { BYBIT_UI, bybitListener } from "./server.js";
import {
  type BybitKey,
  BybitPersisted,
  BybitWorld,
  newBybitCredentials,
  newBybitKeyId,
  normaliseIps,
  restoreBybit,
  saveBybit,
  unboundExpiry,
} from "./state.js";

export type { BybitRateLimits } from "./rate-limits.js";
export type { BybitKeySeed, BybitPermissions } from "./scenario.js";

/** What a person does on bybit.com to create a key: of the master account (`uid`) or of a sub-member. */
const CreateKey = z.strictObject({
  exchange: z.literal("bybit"),
  uid: z.string().min(1),
  note: z.string().default(""),
  readOnly: z.union([z.literal(0), z.literal(1)]),
  ips: BybitIpsSchema.default(["*"]),
  permissions: BybitPermissionsSchema.default({}),
});

function createKey(world: BybitWorld, body: z.output<typeof CreateKey>, now: number) {
  const master = world.bybitMasters.find((m) => m.uid === body.uid);
  const sub = master
    ? undefined
    : world.bybitMasters.flatMap((m) => m.subMembers).find((s) => s.uid === body.uid);
  const owner = master ?? sub;
  if (!owner) return { status: 404, body: { error: `no bybit account ${body.uid}` } };
  const masterUid = master?.uid ?? world.bybitMasters.find((m) => m.subMembers.includes(sub as never))?.uid;
  if (sub && body.permissions.Wallet?.includes("Withdraw"))
    return { status: 400, body: { error: "permissions: a sub-account key cannot withdraw" } };
  const ips = normaliseIps(body.ips);
  const { apiKey, secret } = newBybitCredentials();
  const key: BybitKey = {
    id: newBybitKeyId(),
    apiKey,
    secret,
    note: body.note,
    readOnly: body.readOnly,
    ips,
    permissions: body.permissions,
    createdAt: now,
    expiredAt: unboundExpiry(ips, now),
    status: "active",
    ownerUid: owner.uid,
    masterUid: masterUid ?? owner.uid,
    isMaster: Boolean(master),
  };
  owner.keys.push(key);
  world.bybitKeys.set(apiKey, key);
  // Shown once, as on the real site.
  return { status: 201, body: { apiKey, secret } };
}

export const bybit = defineExchange({
  id: "bybit",
  title: "Bybit v5",
  portHelp: "Bybit port",
  scenario: BybitScenarioSchema,
  checkScenario: checkBybitScenario,
  seed: (section) => BybitWorld.fromScenario(section),
  persisted: BybitPersisted,
  save: saveBybit,
  restore: restoreBybit,
  view: (world: BybitWorld, now: number) => world.view(now),
  uiRevoke: (world, apiKey) => world.uiRevoke(apiKey),
  uiCreate: {
    body: CreateKey,
    create: (world, body, now) => createKey(world, body as z.output<typeof CreateKey>, now),
  },
  ui: { ...BYBIT_UI, rows: (world, now) => world.uiRows(now) },
  rateLimits: BYBIT_RATE_LIMITS,
  scaleRateLimits: scaleBybitRateLimits,
  async start(ctx) {
    const listening = await ctx.listen(bybitListener(restListenerDeps(ctx)), ctx.port);
    return { url: listening.url, urls: {} };
  },
  /** Each master's first key manages the account; its other keys (which no API lists) are tracked. */
  demoDesk(section, endpoint) {
    const desk: DeskPart = { accounts: [], tracked: [] };
    for (const master of section.masters) {
      const [admin, ...others] = master.keys;
      if (!admin) continue;
      desk.accounts.push({
        name: master.username,
        endpoint,
        credentials: { apiKey: admin.apiKey, secret: admin.secret },
      });
      for (const key of others) {
        desk.tracked.push({
          account: master.username,
          label: key.note,
          credentials: { apiKey: key.apiKey, secret: key.secret },
        });
      }
    }
    return desk;
  },
});
