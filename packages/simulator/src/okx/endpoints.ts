/**
 * OKX v5 key-management endpoints (docs/exchanges/okx.md#endpoints-keyward-uses). Each route declares who may
 * call it and which rate bucket it draws from; the listener enforces those in the documented-or-chosen order
 * before the handler validates parameters.
 */
import type { HandledReply } from "../exchange-listener.js";
import type { Faults } from "../faults.js";
import type { RawRequest } from "../http-kit.js";
import { isIpOrCidr } from "../ip-whitelist.js";
import { okxError, okxOk } from "./envelope.js";
import type { OkxRateLimits } from "./rate-limits.js";
import {
  hashPassphrase,
  newOkxCredentials,
  type OkxKey,
  type OkxSubAccount,
  type OkxWorld,
  splitOkxIps,
} from "./state.js";

export interface OkxContext {
  raw: RawRequest;
  key: OkxKey;
  world: OkxWorld;
  now: number;
  params: Record<string, unknown>;
  faults: Faults;
  changed(): void;
}

export interface OkxRoute {
  method: "GET" | "POST";
  path: string;
  /** `/users/subaccount/*`: a sub-account's key gets 59500. */
  masterOnly: boolean;
  /**
   * Writes need a master key bound to IPs
   * (50035; docs/exchanges/okx.md#simulator-fidelity-checklist, item 8).
   */
  ipBoundCaller: boolean;
  /** Trade permission needed (else 50120; docs/exchanges/okx.md#simulator-fidelity-checklist, item 9). */
  needsTrade: boolean;
  limit: keyof Omit<OkxRateLimits, "publicTime">;
  handle(ctx: OkxContext): HandledReply;
}

const MAX_KEYS_PER_SUB_ACCOUNT = 50;
const MAX_IPS_PER_KEY = 20;
/** 8-32 characters with at least one digit, upper-case letter, lower-case letter and special character. */
const PASSPHRASE_RULE = (p: string) =>
  p.length >= 8 &&
  p.length <= 32 &&
  /\d/.test(p) &&
  /[A-Z]/.test(p) &&
  /[a-z]/.test(p) &&
  /[^A-Za-z0-9]/.test(p);

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

const keyItem = (k: OkxKey) => ({
  label: k.label,
  apiKey: k.apiKey,
  perm: k.perm,
  ip: k.ip.join(","),
  ts: String(k.ts),
});

/** The keys OKX lists (a hollow delete's "unlisted" key is left out although it still authenticates). */
const activeKeys = (sub: OkxSubAccount) => sub.keys.filter((k) => k.status === "active" && !k.unlisted);

/** `perm` as the API accepts it; read is always granted, so "trade" reads back as "read_only,trade". */
function parsePerm(perm: string, apiKey: string): string | HandledReply {
  const parts = perm.split(",").map((p) => p.trim());
  if (parts.includes("withdraw")) return okxError("59504", apiKey);
  if (parts.some((p) => p !== "read_only" && p !== "trade")) return okxError("51000", apiKey, "perm");
  return parts.includes("trade") ? "read_only,trade" : "read_only";
}

function parseIps(ip: string, apiKey: string): string[] | HandledReply {
  const ips = splitOkxIps(ip);
  if (ips.length > MAX_IPS_PER_KEY) return okxError("59503", apiKey);
  if (!ips.every(isIpOrCidr)) return okxError("51000", apiKey, "ip");
  return ips;
}

/** Handlers return either a found record or the error reply; replies are the ones with a body and a code. */
const isReply = (v: unknown): v is HandledReply =>
  typeof v === "object" && v !== null && "body" in v && "code" in v;

function findSub(ctx: OkxContext): OkxSubAccount | HandledReply {
  const name = str(ctx.params.subAcct);
  if (!name) return okxError("50014", ctx.key.apiKey, "subAcct");
  const master = ctx.world.okxAccountOf(ctx.key);
  const sub = master && ctx.world.okxSubAccount(master, name);
  return sub ?? okxError("59510", ctx.key.apiKey);
}

/** https://www.okx.com/docs-v5/en/#sub-account-rest-api-get-sub-account-list */
function listSubAccounts(ctx: OkxContext): HandledReply {
  const { params, key } = ctx;
  const limitParam = str(params.limit);
  const limit = limitParam === undefined ? 100 : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return okxError("51000", key.apiKey, "limit");
  const after = str(params.after);
  const before = str(params.before);
  const enable = str(params.enable);
  const name = str(params.subAcct);
  const master = ctx.world.okxAccountOf(key);
  // Newest first; `after` pages to older records, `before` to newer ones.
  const items = [...(master?.subAccounts ?? [])]
    .sort((a, b) => b.ts - a.ts)
    .filter((s) => (enable === undefined ? true : String(s.enable) === enable))
    .filter((s) => (name === undefined ? true : s.name === name))
    .filter((s) => (after === undefined ? true : s.ts < Number(after)))
    .filter((s) => (before === undefined ? true : s.ts > Number(before)))
    .slice(0, limit);
  return okxOk(
    items.map((s) => ({
      type: s.type,
      enable: s.enable,
      subAcct: s.name,
      uid: s.uid,
      label: s.label,
      mobile: "",
      gAuth: false,
      frozenFunc: [],
      canTransOut: true,
      ts: String(s.ts),
      subAcctLv: "1",
      firstLvSubAcct: s.name,
      ifDma: false,
    })),
    key.apiKey,
  );
}

/** https://www.okx.com/docs-v5/en/#sub-account-rest-api-query-the-api-key-of-a-sub-account */
function querySubAccountKeys(ctx: OkxContext): HandledReply {
  const sub = findSub(ctx);
  if (isReply(sub)) return sub;
  const filter = str(ctx.params.apiKey);
  const keys = activeKeys(sub).filter((k) => filter === undefined || k.apiKey === filter);
  return okxOk(keys.map(keyItem), ctx.key.apiKey);
}

/** https://www.okx.com/docs-v5/en/#sub-account-rest-api-create-an-api-key-for-a-sub-account */
function createSubAccountKey(ctx: OkxContext): HandledReply {
  const { params, key: caller } = ctx;
  const sub = findSub(ctx);
  if (isReply(sub)) return sub;
  const label = str(params.label);
  if (!label) return okxError("50014", caller.apiKey, "label");
  const passphrase = str(params.passphrase);
  if (!passphrase) return okxError("50014", caller.apiKey, "passphrase");
  if (!PASSPHRASE_RULE(passphrase)) return okxError("59505", caller.apiKey);
  // Default permission when `perm` is omitted is undocumented; the simulator grants read only.
  const perm = parsePerm(str(params.perm) ?? "read_only", caller.apiKey);
  if (isReply(perm)) return perm;
  const ips = parseIps(str(params.ip) ?? "", caller.apiKey);
  if (isReply(ips)) return ips;
  const live = activeKeys(sub);
  if (live.some((k) => k.label === label)) return okxError("59502", caller.apiKey);
  if (live.length >= MAX_KEYS_PER_SUB_ACCOUNT) return okxError("59501", caller.apiKey);

  const { apiKey, secretKey } = newOkxCredentials();
  const { salt, hash } = hashPassphrase(passphrase);
  const key: OkxKey = {
    apiKey,
    secretKey,
    passphraseSalt: salt,
    passphraseHash: hash,
    label,
    perm,
    ip: ips,
    ts: ctx.now,
    demo: caller.demo,
    frozen: false,
    lastUsedAt: ctx.now,
    status: "active",
    region: caller.region,
    ownerUid: sub.uid,
    masterUid: caller.masterUid,
    subAcct: sub.name,
  };
  // A flawed create (fault): the answer below still says "as asked"; the listing and probes tell the truth.
  const flaw = ctx.faults.takeFlawedCreate("okx");
  if (flaw === "not-authenticating") key.refusesAuth = true;
  if (flaw === "other-permissions") key.perm = perm.includes("trade") ? "read_only" : "read_only,trade";
  sub.keys.push(key);
  ctx.world.okxKeys.set(apiKey, key);
  ctx.changed();
  // The only answer that ever carries the secret and passphrase
  // (docs/exchanges/okx.md#create-a-sub-account-key).
  return okxOk(
    [
      {
        subAcct: sub.name,
        label,
        apiKey,
        secretKey,
        passphrase,
        perm,
        ip: ips.join(","),
        ts: String(ctx.now),
      },
    ],
    caller.apiKey,
  );
}

function findSubKey(ctx: OkxContext, sub: OkxSubAccount): OkxKey | HandledReply {
  const apiKey = str(ctx.params.apiKey);
  if (!apiKey) return okxError("50014", ctx.key.apiKey, "apiKey");
  return activeKeys(sub).find((k) => k.apiKey === apiKey) ?? okxError("59506", ctx.key.apiKey);
}

/** https://www.okx.com/docs-v5/en/#sub-account-rest-api-reset-the-api-key-of-a-sub-account */
function modifySubAccountKey(ctx: OkxContext): HandledReply {
  const { params, key: caller } = ctx;
  const sub = findSub(ctx);
  if (isReply(sub)) return sub;
  const target = findSubKey(ctx, sub);
  if (isReply(target)) return target;
  // Replace semantics: each field sent replaces the stored one; `ip: ""` removes the binding.
  const label = str(params.label);
  if (label !== undefined && activeKeys(sub).some((k) => k !== target && k.label === label)) {
    return okxError("59502", caller.apiKey);
  }
  const permParam = str(params.perm);
  const perm = permParam === undefined ? target.perm : parsePerm(permParam, caller.apiKey);
  if (isReply(perm)) return perm;
  const ipParam = str(params.ip);
  const ips = ipParam === undefined ? target.ip : parseIps(ipParam, caller.apiKey);
  if (isReply(ips)) return ips;
  if (label !== undefined && label !== "") target.label = label;
  target.perm = perm;
  target.ip = ips;
  ctx.changed();
  return okxOk(
    [
      {
        subAcct: sub.name,
        apiKey: target.apiKey,
        label: target.label,
        perm,
        ip: ips.join(","),
        ts: String(target.ts),
      },
    ],
    caller.apiKey,
  );
}

/** https://www.okx.com/docs-v5/en/#sub-account-rest-api-delete-the-api-key-of-sub-accounts */
function deleteSubAccountKey(ctx: OkxContext): HandledReply {
  const sub = findSub(ctx);
  if (isReply(sub)) return sub;
  const target = findSubKey(ctx, sub);
  if (isReply(target)) return target;
  // A hollow delete (fault) answers success like a real one, while the key keeps authenticating.
  const hollow = ctx.faults.takeHollowDelete("okx");
  if (hollow === "unlisted") target.unlisted = true;
  if (hollow === undefined) {
    target.status = "revoked";
    target.revokedBy = "api";
  }
  ctx.changed();
  return okxOk([{ subAcct: sub.name }], ctx.key.apiKey);
}

/** https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-account-configuration */
function accountConfig(ctx: OkxContext): HandledReply {
  const { key } = ctx;
  const master = ctx.world.okxAccountOf(key);
  const sub = key.subAcct && master ? ctx.world.okxSubAccount(master, key.subAcct) : undefined;
  return okxOk(
    [
      {
        uid: key.ownerUid,
        mainUid: key.masterUid,
        acctLv: "2",
        posMode: "net_mode",
        autoLoan: false,
        greeksType: "PA",
        level: "Lv1",
        levelTmp: "",
        ctIsoMode: "automatic",
        mgnIsoMode: "automatic",
        roleType: "0",
        traderInsts: [],
        spotRoleType: "0",
        spotTraderInsts: [],
        opAuth: "0",
        kycLv: key.subAcct ? "0" : "2",
        label: key.label,
        ip: key.ip.join(","),
        perm: key.perm,
        type: sub ? sub.type : "0",
        liquidationGear: "-1",
        enableSpotBorrow: false,
        spotBorrowAutoRepay: false,
      },
    ],
    key.apiKey,
  );
}

const SUB = "/api/v5/users/subaccount";

export const OKX_ROUTES: readonly OkxRoute[] = [
  {
    method: "GET",
    path: `${SUB}/list`,
    masterOnly: true,
    ipBoundCaller: false,
    needsTrade: false,
    limit: "read",
    handle: listSubAccounts,
  },
  {
    method: "GET",
    path: `${SUB}/apikey`,
    masterOnly: true,
    ipBoundCaller: false,
    needsTrade: false,
    limit: "read",
    handle: querySubAccountKeys,
  },
  {
    method: "POST",
    path: `${SUB}/apikey`,
    masterOnly: true,
    ipBoundCaller: true,
    needsTrade: true,
    limit: "write",
    handle: createSubAccountKey,
  },
  {
    method: "POST",
    path: `${SUB}/modify-apikey`,
    masterOnly: true,
    ipBoundCaller: true,
    needsTrade: true,
    limit: "write",
    handle: modifySubAccountKey,
  },
  {
    method: "POST",
    path: `${SUB}/delete-apikey`,
    masterOnly: true,
    ipBoundCaller: true,
    needsTrade: true,
    limit: "write",
    handle: deleteSubAccountKey,
  },
  {
    method: "GET",
    path: "/api/v5/account/config",
    masterOnly: false,
    ipBoundCaller: false,
    needsTrade: false,
    limit: "config",
    handle: accountConfig,
  },
];
