/**
 * Deribit's private key-management methods and the cheap read used for probes
 * (https://docs.deribit.com/api-reference/account-management/). Each method says the `account` scope it
 * needs and whether the account's two-factor challenge protects it; `prepare` validates and returns the
 * action, so a call is checked before a challenge is issued and again when it is answered.
 */
import { randomBytes } from "node:crypto";
import type { HandledReply } from "../exchange-listener.js";
import type { Faults } from "../faults.js";
import { isIpOrCidr } from "../ip-whitelist.js";
import { deribitError, deribitOk, type RpcId } from "./envelope.js";
import { DERIBIT_MAX_KEYS } from "./scenario.js";
import { formatScope, KEY_NAME, parseScope } from "./scopes.js";
import { type DeribitAccount, type DeribitKey, type DeribitWorld, newDeribitCredentials } from "./state.js";
import { totpMatches } from "./totp.js";

export interface MethodContext {
  world: DeribitWorld;
  account: DeribitAccount;
  /** The calling key. */
  key: DeribitKey;
  params: Record<string, unknown>;
  now: number;
  rpcId: RpcId;
  faults: Faults;
  changed(): void;
}

export interface DeribitMethod {
  /** `private/<name>`. */
  name: string;
  /** The `account` scope level the calling key needs (else 13021 forbidden). */
  needs: "read" | "read_write";
  /** Protected by the account's two-factor challenge (docs.deribit.com/articles/security-keys). */
  tfa: boolean;
  /** Changes state: what an injected "drop the response" applies to. */
  write: boolean;
  /** An error reply, or the action that does the call. */
  prepare(ctx: MethodContext): HandledReply | (() => HandledReply);
}

/** How long a challenge may be answered (the docs: "within 1 minute"). */
export const DERIBIT_CHALLENGE_TTL_MS = 60_000;

const ok = (ctx: MethodContext, result: unknown) => deribitOk(result, ctx.rpcId, ctx.key.clientId, ctx.now);
const invalidParams = (ctx: MethodContext, reason: string) =>
  deribitError(-32602, ctx.rpcId, ctx.key.clientId, ctx.now, reason);
const invalidArguments = (ctx: MethodContext, reason: string) =>
  deribitError(11029, ctx.rpcId, ctx.key.clientId, ctx.now, reason);

/** The key object of list/create/edit/… (https://docs.deribit.com/api-reference/account-management/private-list_api_keys). */
export const keyObject = (k: DeribitKey) => ({
  id: k.id,
  client_id: k.clientId,
  client_secret: k.clientSecret,
  name: k.name,
  max_scope: k.maxScope,
  enabled: k.enabled,
  default: false,
  timestamp: k.timestamp,
  enabled_features: [...k.enabledFeatures],
  ip_whitelist: [...k.ipWhitelist],
});

/** A query string's "true"/"false", or a JSON body's boolean. */
function bool(v: unknown): boolean | undefined | "invalid" {
  if (v === undefined) return undefined;
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  return "invalid";
}

/** An array parameter: a JSON body's array, or in a query a JSON array string (`["1.2.3.4"]`). */
function stringArray(v: unknown): string[] | undefined | "invalid" {
  if (v === undefined) return undefined;
  let value = v;
  if (typeof v === "string") {
    try {
      value = JSON.parse(v);
    } catch {
      return "invalid";
    }
  }
  return Array.isArray(value) && value.every((s) => typeof s === "string") ? (value as string[]) : "invalid";
}

function keyId(v: unknown): number | undefined {
  const n =
    typeof v === "number" ? v : typeof v === "string" && /^\d{1,10}$/.test(v) ? Number(v) : Number.NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The live key of the caller's account that `id` names, or the error to answer. */
function target(ctx: MethodContext): DeribitKey | HandledReply {
  if (ctx.params.id === undefined) return invalidParams(ctx, "id: required");
  const id = keyId(ctx.params.id);
  if (id === undefined) return invalidParams(ctx, "id: expected a key id (integer)");
  return ctx.world.liveKey(ctx.account, id) ?? deribitError(13020, ctx.rpcId, ctx.key.clientId, ctx.now);
}

const isReply = (v: unknown): v is HandledReply =>
  typeof v === "object" && v !== null && "status" in v && "code" in v;

function scopeParam(ctx: MethodContext): string | HandledReply {
  if (ctx.params.max_scope === undefined) return invalidParams(ctx, "max_scope: required");
  const scope = parseScope(ctx.params.max_scope);
  return typeof scope === "string" ? invalidArguments(ctx, scope) : formatScope(scope);
}

function nameParam(ctx: MethodContext, required: boolean): string | undefined | HandledReply {
  const name = ctx.params.name;
  if (name === undefined) return required ? invalidParams(ctx, "name: required") : undefined;
  if (typeof name !== "string" || !KEY_NAME.test(name))
    return invalidArguments(ctx, "name: at most 16 of A-Z a-z 0-9 _");
  return name;
}

/** Every token of the key dies, and the change is saved. */
function killTokens(ctx: MethodContext, k: DeribitKey): void {
  ctx.world.dropTokens(ctx.account.id, k.id);
}

const SET_ENABLED = (enabled: boolean) => (ctx: MethodContext) => {
  const k = target(ctx);
  if (isReply(k)) return k;
  return () => {
    k.enabled = enabled;
    // A disabled key's tokens die now and do not come back when it is enabled again.
    if (!enabled) killTokens(ctx, k);
    ctx.changed();
    return ok(ctx, keyObject(k));
  };
};

export const DERIBIT_METHODS: readonly DeribitMethod[] = [
  {
    name: "get_account_summary",
    needs: "read",
    tfa: false,
    write: false,
    prepare(ctx) {
      const currency = ctx.params.currency;
      if (typeof currency !== "string" || !/^[A-Za-z]{2,10}$/.test(currency))
        return invalidParams(ctx, "currency: required (e.g. BTC)");
      const a = ctx.account;
      return () =>
        ok(ctx, {
          id: a.id,
          username: a.username,
          type: a.type,
          email: `${a.username}@deribit.sim.invalid`,
          system_name: a.username,
          currency: currency.toUpperCase(),
          balance: 0,
          equity: 0,
          available_funds: 0,
          available_withdrawal_funds: 0,
          margin_balance: 0,
          initial_margin: 0,
          maintenance_margin: 0,
          creation_timestamp: Math.min(ctx.now, ...a.keys.map((k) => k.timestamp)),
          security_keys_enabled: true,
          interuser_transfers_enabled: false,
        });
    },
  },
  {
    name: "list_api_keys",
    needs: "read",
    tfa: false,
    write: false,
    // Secrets included, as the docs' example shows (the documented worst case: Keyward drops them).
    prepare: (ctx) => () => ok(ctx, ctx.account.keys.filter((k) => !k.removed && !k.unlisted).map(keyObject)),
  },
  {
    name: "create_api_key",
    needs: "read_write",
    tfa: true,
    write: true,
    prepare(ctx) {
      const scope = scopeParam(ctx);
      if (isReply(scope)) return scope;
      const name = nameParam(ctx, false);
      if (isReply(name)) return name;
      const features = stringArray(ctx.params.enabled_features);
      if (features === "invalid") return invalidParams(ctx, "enabled_features: expected an array of strings");
      if (ctx.account.keys.filter((k) => !k.removed).length >= DERIBIT_MAX_KEYS)
        return invalidArguments(ctx, "max_api_keys_reached");
      return () => {
        const { clientId, clientSecret } = newDeribitCredentials();
        const made: DeribitKey = {
          id: Math.max(0, ...ctx.account.keys.map((k) => k.id)) + 1,
          clientId,
          clientSecret,
          name: name ?? "",
          maxScope: scope,
          enabled: true,
          ipWhitelist: [],
          timestamp: ctx.now,
          enabledFeatures: features ?? [],
          removed: false,
          secretVersion: 0,
        };
        const answer = keyObject(made);
        // A flawed create (fault): the answer above says "as asked"; the listing and probes tell the truth.
        const flaw = ctx.faults.takeFlawedCreate("deribit");
        if (flaw === "not-authenticating") made.refusesAuth = true;
        if (flaw === "other-permissions") {
          const parsed = parseScope(scope);
          if (typeof parsed !== "string")
            made.maxScope = formatScope({
              ...parsed,
              trade: parsed.trade === "read_write" ? "read" : "read_write",
            });
        }
        ctx.account.keys.push(made);
        ctx.changed();
        return ok(ctx, answer);
      };
    },
  },
  {
    name: "edit_api_key",
    needs: "read_write",
    tfa: true,
    write: true,
    prepare(ctx) {
      const k = target(ctx);
      if (isReply(k)) return k;
      const scope = scopeParam(ctx);
      if (isReply(scope)) return scope;
      const name = nameParam(ctx, false);
      if (isReply(name)) return name;
      const enabled = bool(ctx.params.enabled);
      if (enabled === "invalid") return invalidParams(ctx, "enabled: expected true or false");
      const features = stringArray(ctx.params.enabled_features);
      if (features === "invalid") return invalidParams(ctx, "enabled_features: expected an array of strings");
      const ips = stringArray(ctx.params.ip_whitelist);
      if (ips === "invalid") return invalidParams(ctx, "ip_whitelist: expected an array of addresses");
      if (ips?.some((ip) => !isIpOrCidr(ip)))
        return invalidArguments(ctx, "ip_whitelist: expected IPv4/IPv6 addresses or CIDR ranges");
      return () => {
        k.maxScope = scope;
        if (name !== undefined) k.name = name;
        if (features !== undefined) k.enabledFeatures = features;
        if (ips !== undefined) k.ipWhitelist = ips;
        if (enabled !== undefined) {
          k.enabled = enabled;
          if (!enabled) killTokens(ctx, k);
        }
        ctx.changed();
        return ok(ctx, keyObject(k));
      };
    },
  },
  {
    name: "change_scope_in_api_key",
    needs: "read_write",
    tfa: true,
    write: true,
    prepare(ctx) {
      const k = target(ctx);
      if (isReply(k)) return k;
      const scope = scopeParam(ctx);
      if (isReply(scope)) return scope;
      return () => {
        k.maxScope = scope;
        ctx.changed();
        return ok(ctx, keyObject(k));
      };
    },
  },
  {
    name: "change_api_key_name",
    needs: "read_write",
    tfa: false,
    write: true,
    prepare(ctx) {
      const k = target(ctx);
      if (isReply(k)) return k;
      const name = nameParam(ctx, true);
      if (isReply(name)) return name;
      return () => {
        k.name = name ?? "";
        ctx.changed();
        return ok(ctx, keyObject(k));
      };
    },
  },
  {
    name: "remove_api_key",
    needs: "read_write",
    tfa: true,
    write: true,
    prepare(ctx) {
      const k = target(ctx);
      if (isReply(k)) return k;
      return () => {
        // A hollow delete (fault) answers success like a real one, while the key keeps authenticating.
        const hollow = ctx.faults.takeHollowDelete("deribit");
        if (hollow === "unlisted") k.unlisted = true;
        if (hollow === undefined) {
          k.removed = true;
          k.removedBy = "api";
          killTokens(ctx, k);
        }
        ctx.changed();
        return ok(ctx, "ok");
      };
    },
  },
  {
    name: "disable_api_key",
    needs: "read_write",
    tfa: false,
    write: true,
    prepare: SET_ENABLED(false),
  },
  {
    name: "enable_api_key",
    needs: "read_write",
    tfa: false,
    write: true,
    prepare: SET_ENABLED(true),
  },
  {
    name: "reset_api_key",
    needs: "read_write",
    tfa: true,
    write: true,
    prepare(ctx) {
      const k = target(ctx);
      if (isReply(k)) return k;
      return () => {
        // Same id and client id, a new secret; the old secret and every token of the key die at once.
        k.clientSecret = newDeribitCredentials().clientSecret;
        k.secretVersion += 1;
        killTokens(ctx, k);
        ctx.changed();
        return ok(ctx, keyObject(k));
      };
    },
  },
];

/**
 * The two-factor step of a protected call: undefined when the call may go ahead (a right code for a live
 * challenge of this account and method), else the answer: a new challenge when the call carries none, or
 * 13003 when what it carries is wrong (the challenge is spent either way: the client starts over).
 */
export function secondFactor(ctx: MethodContext, method: string): HandledReply | undefined {
  const code = ctx.params.authorization_data;
  const challenge = ctx.params.challenge;
  const refuse = (reason: string) => deribitError(13003, ctx.rpcId, ctx.key.clientId, ctx.now, reason);
  if (code === undefined && challenge === undefined) {
    const fresh = randomBytes(24).toString("base64");
    ctx.world.challenges.set(fresh, {
      accountId: ctx.account.id,
      method,
      expiresAt: ctx.now + DERIBIT_CHALLENGE_TTL_MS,
    });
    // Not an error: the call was not done, and the answer says what it needs (logged as "challenge").
    return deribitOk(
      {
        security_key_authorization_required: true,
        challenge: fresh,
        rp_id: "www.deribit.com",
        security_keys: [{ type: "tfa", name: "tfa" }],
      },
      ctx.rpcId,
      ctx.key.clientId,
      ctx.now,
      "challenge",
    );
  }
  if (typeof challenge !== "string" || challenge === "") return refuse("challenge_missing");
  if (typeof code !== "string" && typeof code !== "number") return refuse("authorization_data_missing");
  const open = ctx.world.challenges.get(challenge);
  ctx.world.challenges.delete(challenge);
  if (!open || open.accountId !== ctx.account.id || open.method !== method)
    return refuse("challenge_not_found");
  if (ctx.now > open.expiresAt) return refuse("challenge_expired");
  if (!totpMatches(ctx.account.totpSeed, String(code), ctx.now)) return refuse("invalid_code");
  return undefined;
}

/** Challenges long past their minute are forgotten (called per request; the map stays small). */
export function pruneChallenges(world: DeribitWorld, now: number): void {
  // Kept a while past expiry, so a late answer is told "challenge_expired" rather than "not found".
  for (const [challenge, c] of world.challenges)
    if (now > c.expiresAt + 10 * DERIBIT_CHALLENGE_TTL_MS) world.challenges.delete(challenge);
}
