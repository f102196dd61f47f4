/**
 * The simulated Bitfinex v2: no API lists, creates or revokes keys; keys are made and revoked on the
 * "API Keys" page (or the control API standing in for it), and the API only tells a key what it may do.
 */
import { z } from "zod";
import { type DeskPart, defineExchange } from "../exchange-module.js";
import { isIpOrCidr } from "../ip-whitelist.js";
import { restListenerDeps } from "../rest-listener-kit.js";
import { BITFINEX_FAULT_FIELDS } from "./faults.js";
import { BITFINEX_RATE_LIMITS, scaleBitfinexRateLimits } from "./rate-limits.js";
import { BitfinexScenarioSchema, checkBitfinexScenario } from "./scenario.js";
import { BITFINEX_UI, bitfinexListener } from "./server.js";
import {
  type BitfinexKey,
  BitfinexPersisted,
  BitfinexWorld,
  newBitfinexCredentials,
  restoreBitfinex,
  saveBitfinex,
} from "./state.js";

export type { BitfinexRateLimits } from "./rate-limits.js";
export type { BitfinexKeySeed } from "./scenario.js";

const bit = z.union([z.literal(0), z.literal(1)]);

/** What a person does on bitfinex.com to create a key. */
const CreateKey = z.strictObject({
  exchange: z.literal("bitfinex"),
  userId: z.number().int(),
  label: z.string().min(1),
  permissions: z.array(z.tuple([z.string().min(1), bit, bit])),
  ip: z.array(z.string().refine(isIpOrCidr, "expected an IP address or CIDR range")).max(20).default([]),
});

function createKey(world: BitfinexWorld, body: z.output<typeof CreateKey>, now: number) {
  const user = world.bitfinexUser(body.userId);
  if (!user) return { status: 404, body: { error: `no bitfinex user ${body.userId}` } };
  const { apiKey, apiSecret } = newBitfinexCredentials();
  const key: BitfinexKey = {
    apiKey,
    apiSecret,
    label: body.label,
    permissions: body.permissions,
    ip: body.ip,
    createdAt: new Date(now).toISOString(),
    status: "active",
    userId: user.id,
    lastNonce: 0n,
  };
  user.keys.push(key);
  world.bitfinexKeys.set(apiKey, key);
  // Shown once, as on the real site.
  return { status: 201, body: { apiKey, apiSecret } };
}

export const bitfinex = defineExchange({
  id: "bitfinex",
  title: "Bitfinex v2",
  portHelp: "Bitfinex port",
  scenario: BitfinexScenarioSchema,
  checkScenario: checkBitfinexScenario,
  seed: (section) => BitfinexWorld.fromScenario(section),
  persisted: BitfinexPersisted,
  save: saveBitfinex,
  restore: restoreBitfinex,
  view: (world: BitfinexWorld) => world.view(),
  uiRevoke: (world, apiKey) => world.uiRevoke(apiKey),
  uiCreate: {
    body: CreateKey,
    create: (world, body, now) => createKey(world, body as z.output<typeof CreateKey>, now),
  },
  ui: { ...BITFINEX_UI, rows: (world) => world.uiRows() },
  rateLimits: BITFINEX_RATE_LIMITS,
  scaleRateLimits: scaleBitfinexRateLimits,
  faultFields: BITFINEX_FAULT_FIELDS,
  async start(ctx) {
    const listening = await ctx.listen(bitfinexListener(restListenerDeps(ctx)), ctx.port);
    return { url: listening.url, urls: {} };
  },
  /**
   * Per user: a read-only key (label with "read" or "report") becomes the account's key, named after
   * the e-mail's domain (`ops@alpha-desk.example` → `alpha-desk-bfx`); the user's other keys are tracked.
   */
  demoDesk(section, endpoint) {
    const desk: DeskPart = { accounts: [], tracked: [] };
    for (const [i, user] of section.users.entries()) {
      const name = `${user.email.split("@")[1]?.split(".")[0] ?? `user${i}`}-bfx`;
      const readOnly = (label: string) => Number(/read|report/.test(label));
      const [accountKey, ...others] = [...user.keys].sort((a, b) => readOnly(b.label) - readOnly(a.label));
      if (!accountKey) continue;
      desk.accounts.push({
        name,
        endpoint,
        credentials: { apiKey: accountKey.apiKey, secret: accountKey.apiSecret },
        // Bitfinex's API lists no labels: the person gives the key's at `account add --label`.
        ...(accountKey.label ? { label: accountKey.label } : {}),
      });
      for (const key of others) {
        desk.tracked.push({
          account: name,
          label: key.label,
          credentials: { apiKey: key.apiKey, secret: key.apiSecret },
        });
      }
    }
    return desk;
  },
});
