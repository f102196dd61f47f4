/**
 * Creating a key of the Deribit account by API. The name (deribitName of the label) is the idempotency
 * token: it is checked free first, so after a lost answer a key found with it is ours, and is removed (its
 * secret was never seen) before one retry. Then edit_api_key sets the IP whitelist (create_api_key takes
 * none) and the exact scope, and the answer is checked; a key that cannot be made right is removed.
 */
import type { Credentials } from "../../domain/credentials.js";
import type { Account, Permission, RevokeResult } from "../../domain/schemas.js";
import { shortKey } from "../../domain/schemas.js";
import { Secret } from "../../domain/secret.js";
import { KeywardError } from "../../errors.js";
import type { CreatedKey, NewKeySpec } from "../interface.js";
import type { restAccountErrors } from "../rest-adapter.js";
import { type DeribitClient, DeribitRejection, newTrace } from "./client.js";
import { type DeribitFailure, describeFailure } from "./errors.js";
import { canonicalScope, parseScope, scopeFor } from "./permissions.js";
import { deribitName, deribitProfile } from "./profile.js";
import { keyRecord } from "./records.js";
import { ApiKeySchema, CreatedKeySchema, type DeribitKey } from "./schemas.js";

/** "Max number of API keys per (sub)account: 8" (docs/exchanges/deribit.md#limits). */
export const MAX_KEYS = 8;

/** What the create flow borrows from the adapter. */
export interface CreateDeps {
  account: Account;
  /** The account's key's client. */
  client: DeribitClient;
  errors: ReturnType<typeof restAccountErrors<DeribitFailure>>;
  /** The account's keys, listed afresh (the adapter remembers the listing). */
  list(): Promise<DeribitKey[]>;
  /** remove_api_key of the key with this Client ID, by the account's key. */
  remove(apiKey: string, label: string): Promise<RevokeResult>;
  /** Records the new key in the adapter's listing. */
  remember(key: DeribitKey): void;
  /** The account's user id, if the adapter has read it. */
  userId(): string | undefined;
}

/**
 * A key of the account's own by API (NewKeySpec.subAccount null: the account itself, where Deribit
 * creates keys). See the header for the idempotency and the checks.
 */
export async function createDeribitKey(deps: CreateDeps, spec: NewKeySpec): Promise<CreatedKey> {
  const { account, client, errors } = deps;
  // NewKeySpec.subAccount null is the account itself (typed so on the rotation's branch).
  const sub: string | null = spec.subAccount;
  if (sub !== null) {
    throw new KeywardError(
      "NOT_SUPPORTED",
      `Deribit: Keyward creates keys in the account itself, not in subaccount "${sub}"`,
      { hint: "Add the subaccount to Keyward as its own account, with a key of that subaccount." },
    );
  }
  const scope = scopeOfNewKey(spec);
  const name = deribitName(spec.label);
  const what = `creating key "${name}"`;
  const before = await deps.list();
  const clash = before.find((k) => k.name === name);
  if (clash) {
    throw new KeywardError(
      "CONFIG_INVALID",
      `Deribit account "${account.name}" already has a key named "${name}" (${shortKey(clash.client_id)})`,
      { hint: "Choose another label, or revoke that key first." },
    );
  }
  if (before.length >= MAX_KEYS) {
    throw new KeywardError(
      "EXCHANGE_REJECTED",
      `Deribit account "${account.name}" already has ${before.length} keys, Deribit's most per account`,
      { hint: "Revoke a key the account no longer needs, then create again." },
    );
  }
  const action = `create key "${name}" with scope ${scope}`;
  let created: DeribitKey & { client_secret: string };
  for (let attempt = 1; ; attempt++) {
    const trace = newTrace<DeribitFailure>();
    try {
      // "unapplied" even for the call without a code: were create ever unprotected, a blind retry would
      // make a second key whose secret nobody sees.
      created = await client.protectedCall("createKey", { max_scope: scope, name }, CreatedKeySchema, {
        retry: "unapplied",
        trace,
        action,
      });
      break;
    } catch (error) {
      if (!(error instanceof DeribitRejection && trace.ambiguous)) throw errors.asError(error, what);
      if (attempt === 2) {
        throw new KeywardError(
          "CREATE_OUTCOME_UNKNOWN",
          `Deribit: ${what} for account "${account.name}": twice no answer (${describeFailure(error.failure)})`,
          {
            hint: `A key named "${name}" may now exist without Keyward holding its secret: list the keys, revoke any key with that name, then create again.`,
          },
        );
      }
      const orphan = (await deps.list()).find((k) => k.name === name);
      if (orphan) await deps.remove(orphan.client_id, orphan.name);
    }
  }
  const credentials: Credentials = { apiKey: created.client_id, secret: new Secret(created.client_secret) };
  const { client_secret: _, ...described } = created;
  let final: DeribitKey = described;
  try {
    const needsEdit =
      spec.ip.length > 0 ||
      canonicalScope(described.max_scope) !== scope ||
      described.ip_whitelist.length > 0;
    if (needsEdit) {
      final = await errors.guard(`${what} (setting its IP whitelist)`, () =>
        client.protectedCall(
          "editKey",
          { id: described.id, max_scope: scope, ip_whitelist: JSON.stringify(spec.ip) },
          ApiKeySchema,
          {
            retry: "transient",
            action: `set the IP whitelist of new key "${name}" to ${spec.ip.join(", ") || "none"}`,
          },
        ),
      );
    }
    const wrong = mismatch(final, scope, spec.ip);
    if (wrong) throw errors.unexpected(`${what} (${wrong})`);
  } catch (error) {
    // A key Keyward cannot make right must not live on: remove it (its secret is known only here).
    await deps.remove(described.client_id, name).catch(() => undefined);
    throw error;
  }
  deps.remember(final);
  return { record: keyRecord(account, final, deps.userId(), true), credentials };
}

/** The exact scope to create: the replaced key's (rawPermissions), else the one for the permissions. */
function scopeOfNewKey(spec: NewKeySpec): string {
  const refused = spec.permissions.filter((p): p is Permission => !deribitProfile.apiGrantable.includes(p));
  const raw =
    typeof spec.rawPermissions === "string" && spec.rawPermissions !== ""
      ? canonicalScope(spec.rawPermissions)
      : undefined;
  const moves = raw
    ? [...parseScope(raw)].filter(
        ([area, level]) => (area === "wallet" || area === "custody") && level === "read_write",
      )
    : [];
  if (refused.length > 0 || moves.length > 0) {
    throw new KeywardError(
      "NOT_SUPPORTED",
      `Keyward does not grant ${[...refused, ...moves.map(([area]) => `${area}:read_write`)].join(", ")} to a Deribit key by API`,
      {
        hint: "Keyward creates Deribit keys without wallet or custody write access; create such a key on Deribit's site.",
      },
    );
  }
  return raw ?? scopeFor(spec.permissions);
}

/** Why a key is not what was asked for, or undefined. */
function mismatch(key: DeribitKey, scope: string, ip: readonly string[]): string | undefined {
  if (canonicalScope(key.max_scope) !== scope)
    return `its scope is ${canonicalScope(key.max_scope) || "none"}, not ${scope}`;
  const want = [...ip].sort().join(",");
  const got = [...key.ip_whitelist].sort().join(",");
  return want === got ? undefined : `its IP whitelist is ${got || "empty"}, not ${want || "empty"}`;
}
