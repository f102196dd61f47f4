/**
 * The simulated Deribit (JSON-RPC v2 over HTTP): any key of an account holding `account:read_write`
 * manages every key of that account, its own included: list, create, edit, rename, change scope, disable,
 * enable, reset the secret in place, remove. The methods that add, change or remove keys wait for the
 * account's two-factor code (a challenge answered with a TOTP code); the kill switch does not.
 */
import { z } from "zod";
import { type DeskPart, defineExchange } from "../exchange-module.js";
import { isIpOrCidr } from "../ip-whitelist.js";
import { restListenerDeps } from "../rest-listener-kit.js";
import { DERIBIT_RATE_LIMITS, scaleDeribitRateLimits } from "./rate-limits.js";
import { checkDeribitScenario, DERIBIT_MAX_KEYS, DeribitScenarioSchema } from "./scenario.js";
import { formatScope, KEY_NAME, parseScope } from "./scopes.js";
import { DERIBIT_UI, deribitListener } from "./server.js";
import {
  type DeribitKey,
  DeribitPersisted,
  DeribitWorld,
  newDeribitCredentials,
  restoreDeribit,
  saveDeribit,
} from "./state.js";

export type { DeribitRateLimits } from "./rate-limits.js";
export type { DeribitKeySeed, DeribitScenario } from "./scenario.js";
export { base32Decode, hotp, totpCode, totpMatches } from "./totp.js";

/** What a person does on deribit.com's API page to add a key (no second factor asked: they are logged in). */
const CreateKey = z.strictObject({
  exchange: z.literal("deribit"),
  username: z.string().min(1),
  name: z.string().regex(KEY_NAME, { message: "expected at most 16 of A-Z a-z 0-9 _" }).default(""),
  max_scope: z.string().min(1),
  ip_whitelist: z
    .array(z.string().refine(isIpOrCidr, { message: "expected an address or CIDR range" }))
    .default([]),
});

function createKey(world: DeribitWorld, body: z.output<typeof CreateKey>, now: number) {
  const account = world.deribitAccounts.find((a) => a.username === body.username);
  if (!account) return { status: 404, body: { error: `no deribit account ${body.username}` } };
  const scope = parseScope(body.max_scope);
  if (typeof scope === "string") return { status: 400, body: { error: scope } };
  if (account.keys.filter((k) => !k.removed).length >= DERIBIT_MAX_KEYS)
    return { status: 400, body: { error: `at most ${DERIBIT_MAX_KEYS} keys per account` } };
  const { clientId, clientSecret } = newDeribitCredentials();
  const key: DeribitKey = {
    id: Math.max(0, ...account.keys.map((k) => k.id)) + 1,
    clientId,
    clientSecret,
    name: body.name,
    maxScope: formatScope(scope),
    enabled: true,
    ipWhitelist: body.ip_whitelist,
    timestamp: now,
    enabledFeatures: [],
    removed: false,
    secretVersion: 0,
  };
  account.keys.push(key);
  // Shown once, as on the real site.
  return { status: 201, body: { id: key.id, client_id: clientId, client_secret: clientSecret } };
}

export const deribit = defineExchange({
  id: "deribit",
  title: "Deribit v2",
  portHelp: "Deribit port",
  scenario: DeribitScenarioSchema,
  checkScenario: checkDeribitScenario,
  seed: (section) => DeribitWorld.fromScenario(section),
  persisted: DeribitPersisted,
  save: saveDeribit,
  restore: restoreDeribit,
  view: (world: DeribitWorld, now: number) => world.view(now),
  uiRevoke: (world, apiKey) => world.uiRevoke(apiKey),
  uiCreate: {
    body: CreateKey,
    create: (world, body, now) => createKey(world, body as z.output<typeof CreateKey>, now),
  },
  controlRoutes: {
    /**
     * `GET /deribit/totp?username=<username>` (or `?id=<account id>`): the account's current two-factor
     * code, standing in for the person's authenticator app. Simulator only: no secret, but a live code.
     */
    totp(world, query, now) {
      const username = query.get("username");
      const id = query.get("id");
      const account = world.deribitAccounts.find(
        (a) => (username !== null && a.username === username) || (id !== null && String(a.id) === id),
      );
      if (!account)
        return { status: 404, body: { error: `no deribit account ${username ?? id ?? "(none given)"}` } };
      return { status: 200, body: world.totp(account, now) };
    },
  },
  ui: { ...DERIBIT_UI, rows: (world, now) => world.uiRows(now) },
  rateLimits: DERIBIT_RATE_LIMITS,
  scaleRateLimits: scaleDeribitRateLimits,
  async start(ctx) {
    const listening = await ctx.listen(deribitListener(restListenerDeps(ctx)), ctx.port);
    return { url: listening.url, urls: {} };
  },
  /**
   * Each account's first key manages it (with the account's two-factor seed); the API lists every other
   * key of the account, so none is tracked.
   */
  demoDesk(section, endpoint) {
    const desk: DeskPart = { accounts: [], tracked: [] };
    for (const account of section.accounts) {
      const [own] = account.keys;
      if (!own) continue;
      desk.accounts.push({
        name: account.username,
        endpoint,
        credentials: { apiKey: own.client_id, secret: own.client_secret, totpSeed: account.totpSeed },
      });
    }
    return desk;
  },
});
