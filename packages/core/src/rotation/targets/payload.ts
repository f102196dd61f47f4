/** What every delivery target receives for one key, and the JSON document age and exec targets get. */
import type { Credentials } from "../../domain/credentials.js";

export interface DeliveryPayload {
  credentials: Credentials;
  /** Keyward's id of the key being delivered (exchange:account:sub-account:apiKey). */
  keyId: string;
  exchange: string;
  account: string;
  subAccount: string | null;
  label: string;
  rotationId: string;
  slot: number;
  /** The key this one replaces (or, when an abort re-delivers the old key, the key it replaced). */
  replacesKeyId: string;
}

/**
 * What a delivery gets besides the target and the payload: the home, and for commands their environment
 * and time limit. A driver also gets its own options' values (target.ts; DeliveryOptions in index.ts).
 */
export interface DeliveryContext {
  /** Keyward's home: no file target may write in it (checked right before each write). */
  home: string;
  /** Commands (exec targets): their environment (callers strip secrets such as KEYWARD_PASSPHRASE). */
  env?: NodeJS.ProcessEnv;
  /** Commands (exec targets): how long one may run. Default 60 s. */
  timeoutMs?: number;
}

/**
 * The credentials as one JSON document: `{apiKey, secret, passphrase?, keyId, exchange, account,
 * subAccount, label, rotationId, slot, replacesKeyId}`. Built only to be encrypted or piped to a command.
 */
export function payloadJson(p: DeliveryPayload): string {
  return JSON.stringify({
    apiKey: p.credentials.apiKey,
    secret: p.credentials.secret.reveal(),
    ...(p.credentials.passphrase ? { passphrase: p.credentials.passphrase.reveal() } : {}),
    keyId: p.keyId,
    exchange: p.exchange,
    account: p.account,
    subAccount: p.subAccount,
    label: p.label,
    rotationId: p.rotationId,
    slot: p.slot,
    replacesKeyId: p.replacesKeyId,
  });
}
