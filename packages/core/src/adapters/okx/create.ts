/**
 * Creating a sub-account key, the one OKX call that must never be repeated blindly: the answer is the
 * only place the new secret ever appears (#sub-account-rest-api-create-an-api-key-for-a-sub-account),
 * so a create whose answer is lost may leave a working key nobody can use or see the secret of.
 *
 * So: answers proving the create was not applied (50011 & co.) are retried; after an ambiguous
 * failure (connection cut, timeout, 5xx) the sub-account is searched for the label, an orphan found
 * is deleted, and the create is sent once more; a second ambiguous failure is CREATE_OUTCOME_UNKNOWN.
 * The label is checked free beforehand, so any key found with it afterwards is ours.
 */
import type { Account, KeyRecord, RevokeResult } from "../../domain/schemas.js";
import { shortKey } from "../../domain/schemas.js";
import { Secret } from "../../domain/secret.js";
import { KeywardError } from "../../errors.js";
import type { LogSink } from "../../log.js";
import type { CreatedKey, NewKeySpec } from "../interface.js";
import { newTrace, type OkxClient, OkxRejection } from "./client.js";
import { describeFailure, type OkxFailure } from "./errors.js";
import { generatePassphrase, permFor, subRecord, ungrantable } from "./records.js";
import { CreatedKeySchema, type OkxSubAccount, type OkxSubKey } from "./schemas.js";

/** What the create flow borrows from the adapter. */
export interface CreateDeps {
  account: Account;
  /** The account's (master) key's client. */
  client: OkxClient;
  log: LogSink;
  checkMaster(): Promise<unknown>;
  subAccount(name: string, what: string): Promise<OkxSubAccount>;
  subKeys(subAcct: string): Promise<OkxSubKey[]>;
  revoke(key: KeyRecord): Promise<RevokeResult>;
  asError(error: unknown, what: string): KeywardError;
}

interface NewKey {
  apiKey: string;
  label: string;
  perm: string;
  ip: string;
  ts: string;
  secretKey: Secret;
  passphrase: Secret;
}

type Outcome = { created: NewKey } | { created: undefined; failure: OkxFailure };

export async function createSubAccountKey(deps: CreateDeps, spec: NewKeySpec): Promise<CreatedKey> {
  if (spec.subAccount === null) {
    // OKX's API creates keys in sub-accounts only; the master account's keys are made on its site.
    throw new KeywardError("NOT_SUPPORTED", "OKX creates keys by API only in sub-accounts", {
      hint: "Create the master account's key on OKX's site (an assisted rotation plans that).",
    });
  }
  const refused = ungrantable(spec.permissions);
  if (refused.length > 0) {
    throw new KeywardError(
      "NOT_SUPPORTED",
      `OKX cannot grant ${refused.join(", ")} to a sub-account key by API`,
      {
        hint: "OKX sub-account keys can have Read and Trade only; withdrawals and transfers stay with the master account.",
      },
    );
  }
  await deps.checkMaster();
  const subAccount = spec.subAccount;
  const what = `creating key "${spec.label}" in sub-account ${subAccount}`;
  const sub = await deps.subAccount(subAccount, what);
  // A key already carrying the label would be taken for our orphan after a lost answer: refuse first.
  const clash = (await deps.subKeys(subAccount)).find((k) => k.label === spec.label);
  if (clash) {
    throw new KeywardError(
      "CONFIG_INVALID",
      `OKX sub-account ${subAccount} already has a key labelled "${spec.label}" (${shortKey(clash.apiKey)})`,
      { hint: "Choose another label, or revoke that key first." },
    );
  }
  const first = await createOnce(deps, spec, what);
  if (first.created) return done(deps, spec, sub, first.created);

  deps.log({
    level: "warn",
    event: "create-outcome-unknown",
    exchange: "okx",
    account: deps.account.name,
    detail: `${what}: ${describeFailure(first.failure)}; looking for an orphan`,
  });
  const orphan = (await deps.subKeys(subAccount)).find((k) => k.label === spec.label);
  if (orphan) {
    try {
      await deps.revoke(subRecord(deps.account, subAccount, sub.uid, orphan, false));
    } catch (error) {
      const cause = deps.asError(error, what);
      throw new KeywardError(cause.code, `${cause.message} (while deleting the orphan of a lost create)`, {
        hint: `Sub-account ${subAccount} has a key labelled "${spec.label}" (${shortKey(orphan.apiKey)}) whose secret nobody saw: revoke it, then create again.`,
        ...(cause.exchangeCode === undefined ? {} : { exchangeCode: cause.exchangeCode }),
      });
    }
  }
  const second = await createOnce(deps, spec, what);
  if (second.created) return done(deps, spec, sub, second.created);
  throw new KeywardError(
    "CREATE_OUTCOME_UNKNOWN",
    `OKX: ${what} for account "${deps.account.name}": twice no answer (${describeFailure(second.failure)})`,
    {
      hint: `A key labelled "${spec.label}" may now exist in sub-account ${subAccount} without Keyward holding its secret: list the keys, revoke any key with that label, then create again.`,
    },
  );
}

/** One create; retried only on answers proving it was not applied. Ambiguous failures are returned. */
async function createOnce(deps: CreateDeps, spec: NewKeySpec, what: string): Promise<Outcome> {
  const passphrase = generatePassphrase();
  const body: Record<string, string> = {
    subAcct: spec.subAccount as string, // not null: createSubAccountKey refused that
    label: spec.label,
    passphrase,
    perm: permFor(spec.permissions),
    ...(spec.ip.length > 0 ? { ip: spec.ip.join(",") } : {}),
  };
  const trace = newTrace();
  try {
    const [created] = await deps.client.call("createKey", body, CreatedKeySchema, {
      retry: "unapplied",
      trace,
    });
    // "0" without the key: it may exist, its secret lost. As ambiguous as a lost answer.
    if (!created) return { created: undefined, failure: { kind: "malformed", where: "data" } };
    return {
      created: { ...created, secretKey: new Secret(created.secretKey), passphrase: new Secret(passphrase) },
    };
  } catch (error) {
    if (error instanceof OkxRejection && trace.ambiguous)
      return { created: undefined, failure: error.failure };
    throw deps.asError(error, what);
  }
}

function done(deps: CreateDeps, spec: NewKeySpec, sub: OkxSubAccount, key: NewKey): CreatedKey {
  if (spec.ip.length === 0 && key.perm.includes("trade")) {
    deps.log({
      level: "warn",
      event: "unbound-trade-key",
      exchange: "okx",
      account: deps.account.name,
      detail: `${shortKey(key.apiKey)}: OKX expires trade keys without an IP binding after 14 days unused`,
    });
  }
  return {
    record: subRecord(deps.account, sub.subAcct, sub.uid, key, true),
    credentials: { apiKey: key.apiKey, secret: key.secretKey, passphrase: key.passphrase },
  };
}
