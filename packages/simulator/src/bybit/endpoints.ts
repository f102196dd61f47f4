/**
 * Bybit v5 key-management endpoints (docs/exchanges/bybit.md#endpoints). Each route declares who may call
 * it and which rate bucket it draws from; the listener enforces those before the handler validates
 * parameters.
 */
import type { HandledReply } from "../exchange-listener.js";
import { isIpOrCidr } from "../ip-whitelist.js";
import { bybitError, bybitOk } from "./envelope.js";
import type { BybitRateLimits } from "./rate-limits.js";
import { type BybitPermissions, BybitPermissionsSchema } from "./scenario.js";
import {
  type BybitKey,
  type BybitSubMember,
  type BybitWorld,
  fullPermissions,
  newBybitCredentials,
  newBybitKeyId,
  normaliseIps,
  unboundExpiry,
} from "./state.js";

export interface BybitContext {
  key: BybitKey;
  world: BybitWorld;
  now: number;
  params: Record<string, unknown>;
  /** Rate-limit headers for the answer (X-Bapi-Limit*). */
  headers: Record<string, string>;
  changed(): void;
}

export interface BybitRoute {
  method: "GET" | "POST";
  path: string;
  /** Master-account keys only: a sub-account's key gets 10005. */
  masterOnly: boolean;
  /**
   * The calling key must hold Account Transfer, Subaccount Transfer or (master keys) Withdrawal, and be
   * read-write (else 10005).
   */
  needsManage: boolean;
  limit: keyof BybitRateLimits;
  handle(ctx: BybitContext): HandledReply;
}

const DAY_MS = 86_400_000;
/** `sub-apikeys` pages: 1-20 keys, 20 by default. */
const MAX_KEYS_PAGE = 20;
/** `submembers` pages: up to 100 sub-members, 100 by default. */
const MAX_MEMBERS_PAGE = 100;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const ipsOut = (k: BybitKey) => (k.ips.length ? [...k.ips] : ["*"]);
const deadlineDay = (k: BybitKey, now: number) =>
  k.expiredAt === null ? 0 : Math.max(0, Math.ceil((k.expiredAt - now) / DAY_MS));

/** `status` of sub-apikeys: 1 permanent, 2 expired, 3 within validity, 4 expires in under 7 days. */
function expiryStatus(k: BybitKey, now: number): 1 | 2 | 3 | 4 {
  if (k.expiredAt === null) return 1;
  if (now >= k.expiredAt) return 2;
  return k.expiredAt - now < 7 * DAY_MS ? 4 : 3;
}

const fail = (ctx: BybitContext, msg: string) =>
  bybitError(10001, ctx.key.apiKey, ctx.now, { msg, headers: ctx.headers });
const ok = (ctx: BybitContext, result: unknown) => bybitOk(result, ctx.key.apiKey, ctx.now, ctx.headers);

/** `ips` as create/update take it: "a,b" (or an array of addresses); "*" or absent = no binding. */
function parseIps(v: unknown): string[] | string {
  if (v === undefined || v === null) return [];
  const list = typeof v === "string" ? v.split(",") : Array.isArray(v) ? v : null;
  if (!list?.every((ip) => typeof ip === "string")) return "ips: expected a comma-separated string";
  const ips = normaliseIps(list as string[]);
  if (!ips.every(isIpOrCidr)) return "ips: expected IP addresses or CIDR ranges, or *";
  return ips;
}

function parseReadOnly(v: unknown): 0 | 1 | string {
  if (v === 0 || v === "0") return 0;
  if (v === 1 || v === "1") return 1;
  return "readOnly: expected 0 or 1";
}

function parsePermissions(v: unknown, forSub: boolean): BybitPermissions | string {
  const parsed = BybitPermissionsSchema.safeParse(v);
  if (!parsed.success) return "permissions: expected an object of permission groups";
  if (forSub && parsed.data.Wallet?.includes("Withdraw"))
    return "permissions: a sub-account key cannot withdraw";
  return parsed.data;
}

/** The key object of query-api (https://bybit-exchange.github.io/docs/v5/user/apikey-info). */
function apiKeyInfo(k: BybitKey, now: number) {
  return {
    id: k.id,
    note: k.note,
    apiKey: k.apiKey,
    readOnly: k.readOnly,
    secret: "",
    permissions: fullPermissions(k.permissions),
    ips: ipsOut(k),
    type: 1,
    deadlineDay: deadlineDay(k, now),
    expiredAt: k.expiredAt === null ? "" : iso(k.expiredAt),
    createdAt: iso(k.createdAt),
    unified: 1,
    uta: 1,
    userID: Number(k.ownerUid),
    inviterID: 0,
    vipLevel: "No VIP",
    mktMakerLevel: "0",
    affiliateID: 0,
    rsaPublicKey: "",
    isMaster: k.isMaster,
    parentUid: k.isMaster ? "0" : k.masterUid,
    kycLevel: "LEVEL_DEFAULT",
    kycRegion: "",
  };
}

/** One row of sub-apikeys (https://bybit-exchange.github.io/docs/v5/user/list-sub-apikeys). */
function subKeyItem(k: BybitKey, now: number) {
  return {
    id: k.id,
    ips: ipsOut(k),
    apiKey: k.apiKey,
    note: k.note,
    status: expiryStatus(k, now),
    expiredAt: k.expiredAt === null ? "" : iso(k.expiredAt),
    createdAt: iso(k.createdAt),
    type: 1,
    permissions: fullPermissions(k.permissions),
    secret: "******",
    // The docs type this one as a boolean (query-api's is 0/1); true = read-only (UNCONFIRMED reading).
    readOnly: k.readOnly === 1,
    deadlineDay: deadlineDay(k, now),
    flag: "hmac",
  };
}

const memberItem = (s: BybitSubMember) => ({
  uid: s.uid,
  username: s.username,
  memberType: s.memberType,
  status: s.status,
  accountMode: 5,
  remark: "",
});

/** The answer of update-api / update-sub-api (the secret is never shown again). */
const updatedItem = (k: BybitKey) => ({
  id: k.id,
  note: k.note,
  apiKey: k.apiKey,
  readOnly: k.readOnly,
  secret: "",
  permissions: fullPermissions(k.permissions),
  ips: ipsOut(k),
});

/** Cursors are opaque to clients; the simulator's are the base64 of the next offset. */
const encodeCursor = (offset: number) => Buffer.from(`offset:${offset}`).toString("base64");
function decodeCursor(cursor: unknown): number | undefined {
  if (cursor === undefined || cursor === "") return 0;
  if (typeof cursor !== "string") return undefined;
  const m = /^offset:(\d+)$/.exec(Buffer.from(cursor, "base64").toString("utf8"));
  return m ? Number(m[1]) : undefined;
}

function parseLimit(v: unknown, max: number): number | undefined {
  if (v === undefined || v === "") return max;
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 && n <= max ? n : undefined;
}

/** Applies update-api / update-sub-api's fields to `target`; a string is the parameter error. */
function applyUpdate(ctx: BybitContext, target: BybitKey): string | undefined {
  const { params, now } = ctx;
  let readOnly = target.readOnly;
  let ips = target.ips;
  let permissions = target.permissions;
  if (params.readOnly !== undefined) {
    const r = parseReadOnly(params.readOnly);
    if (typeof r === "string") return r;
    readOnly = r;
  }
  if (params.ips !== undefined) {
    const i = parseIps(params.ips);
    if (typeof i === "string") return i;
    ips = i;
  }
  if (params.permissions !== undefined) {
    const p = parsePermissions(params.permissions, !target.isMaster);
    if (typeof p === "string") return p;
    permissions = p;
  }
  // Binding IPs lifts the 90-day expiry; removing the binding starts it from now
  // (Sim choice: docs/exchanges/bybit.md#key-expiry).
  if (ips.length > 0) target.expiredAt = null;
  else if (target.ips.length > 0) target.expiredAt = unboundExpiry(ips, now);
  target.readOnly = readOnly;
  target.ips = ips;
  target.permissions = permissions;
  return undefined;
}

/**
 * update-sub-api / delete-sub-api's target: a master names a key of one of its sub-members with
 * `apikey`; a sub-account key acts on itself and must not pass `apikey`.
 */
function subTarget(ctx: BybitContext): { key: BybitKey } | { reply: HandledReply } {
  const { key, world, params } = ctx;
  const named = params.apikey;
  if (!key.isMaster) {
    if (named !== undefined && named !== key.apiKey)
      return { reply: fail(ctx, "apikey: a sub-account key acts on itself only") };
    return { key };
  }
  if (typeof named !== "string" || named === "")
    return { reply: fail(ctx, "apikey: required when a master key calls") };
  const target = world.bybitKeys.get(named);
  if (!target || target.isMaster || target.masterUid !== key.masterUid || target.status !== "active")
    return { reply: fail(ctx, "apikey: no such sub-account API key") };
  return { key: target };
}

export const BYBIT_ROUTES: readonly BybitRoute[] = [
  {
    method: "GET",
    path: "/v5/user/query-api",
    masterOnly: false,
    needsManage: false,
    limit: "read",
    handle: (ctx) => ok(ctx, apiKeyInfo(ctx.key, ctx.now)),
  },
  {
    method: "GET",
    path: "/v5/user/query-sub-members",
    masterOnly: true,
    needsManage: true,
    limit: "read",
    handle(ctx) {
      const master = ctx.world.master(ctx.key.masterUid);
      return ok(ctx, { subMembers: (master?.subMembers ?? []).map(memberItem) });
    },
  },
  {
    method: "GET",
    path: "/v5/user/submembers",
    masterOnly: true,
    needsManage: true,
    limit: "read",
    handle(ctx) {
      const size = parseLimit(ctx.params.pageSize, MAX_MEMBERS_PAGE);
      if (size === undefined) return fail(ctx, "pageSize: 1-100");
      // nextCursor "0" means "no more pages"; the first page takes none.
      const start = ctx.params.nextCursor === "0" ? undefined : decodeCursor(ctx.params.nextCursor);
      if (start === undefined) return fail(ctx, "nextCursor: invalid");
      const members = ctx.world.master(ctx.key.masterUid)?.subMembers ?? [];
      const page = members.slice(start, start + size);
      const next = start + size < members.length ? encodeCursor(start + size) : "0";
      return ok(ctx, { subMembers: page.map(memberItem), nextCursor: next });
    },
  },
  {
    method: "GET",
    path: "/v5/user/sub-apikeys",
    masterOnly: true,
    needsManage: false,
    limit: "read",
    handle(ctx) {
      const subId = ctx.params.subMemberId;
      if (typeof subId !== "string" || subId === "") return fail(ctx, "subMemberId: required");
      const limit = parseLimit(ctx.params.limit, MAX_KEYS_PAGE);
      if (limit === undefined) return fail(ctx, "limit: 1-20");
      const start = decodeCursor(ctx.params.cursor);
      if (start === undefined) return fail(ctx, "cursor: invalid");
      const sub = ctx.world.subMember(ctx.key.masterUid, subId);
      if (!sub) return fail(ctx, "subMemberId: not a sub-member of this account");
      // Deleted keys are gone from the listing; expired ones stay, with status 2.
      const keys = sub.keys.filter((k) => k.status === "active");
      const page = keys.slice(start, start + limit);
      const next = start + limit < keys.length ? encodeCursor(start + limit) : "";
      return ok(ctx, { result: page.map((k) => subKeyItem(k, ctx.now)), nextPageCursor: next });
    },
  },
  {
    method: "POST",
    path: "/v5/user/create-sub-api",
    masterOnly: true,
    needsManage: true,
    limit: "write",
    handle(ctx) {
      const { params, world, key, now } = ctx;
      const subuid = typeof params.subuid === "number" ? String(params.subuid) : params.subuid;
      if (typeof subuid !== "string" || !/^\d+$/.test(subuid)) return fail(ctx, "subuid: required");
      const sub = world.subMember(key.masterUid, subuid);
      if (!sub) return fail(ctx, "subuid: not a sub-member of this account");
      const readOnly = parseReadOnly(params.readOnly);
      if (typeof readOnly === "string") return fail(ctx, readOnly);
      const ips = parseIps(params.ips);
      if (typeof ips === "string") return fail(ctx, ips);
      const permissions = parsePermissions(params.permissions ?? {}, true);
      if (typeof permissions === "string") return fail(ctx, permissions);
      if (params.note !== undefined && typeof params.note !== "string")
        return fail(ctx, "note: expected a string");
      const { apiKey, secret } = newBybitCredentials();
      const made: BybitKey = {
        id: newBybitKeyId(),
        apiKey,
        secret,
        note: (params.note as string | undefined) ?? "",
        readOnly,
        ips,
        permissions,
        createdAt: now,
        expiredAt: unboundExpiry(ips, now),
        status: "active",
        ownerUid: sub.uid,
        masterUid: key.masterUid,
        isMaster: false,
      };
      sub.keys.push(made);
      world.bybitKeys.set(apiKey, made);
      ctx.changed();
      // The only answer that carries the secret.
      return ok(ctx, {
        id: made.id,
        note: made.note,
        apiKey,
        readOnly,
        secret,
        permissions: fullPermissions(permissions),
      });
    },
  },
  {
    method: "POST",
    path: "/v5/user/update-sub-api",
    masterOnly: false,
    needsManage: true,
    limit: "write",
    handle(ctx) {
      const found = subTarget(ctx);
      if ("reply" in found) return found.reply;
      const error = applyUpdate(ctx, found.key);
      if (error) return fail(ctx, error);
      ctx.changed();
      return ok(ctx, updatedItem(found.key));
    },
  },
  {
    method: "POST",
    path: "/v5/user/delete-sub-api",
    masterOnly: false,
    needsManage: true,
    limit: "write",
    handle(ctx) {
      const found = subTarget(ctx);
      if ("reply" in found) return found.reply;
      found.key.status = "revoked";
      ctx.changed();
      return ok(ctx, {});
    },
  },
  {
    method: "POST",
    path: "/v5/user/update-api",
    masterOnly: true,
    needsManage: true,
    limit: "write",
    handle(ctx) {
      // Only the calling key can be modified.
      const error = applyUpdate(ctx, ctx.key);
      if (error) return fail(ctx, error);
      ctx.changed();
      return ok(ctx, updatedItem(ctx.key));
    },
  },
  {
    method: "POST",
    path: "/v5/user/delete-api",
    masterOnly: true,
    needsManage: true,
    limit: "write",
    handle(ctx) {
      // "The API key used to call this interface will be invalid immediately."
      ctx.key.status = "revoked";
      ctx.changed();
      return ok(ctx, {});
    },
  },
];
