/**
 * The Deribit transport: a ccxt `deribit` instance per key (ccxt signs every private call:
 * `Authorization: deri-hmac-sha256 id=…,ts=…,sig=…,nonce=…`, docs/exchanges/deribit.md#signing), on the
 * shared REST transport (rest-client.ts: scheduling against the account's one credits pool, retries, zod
 * parsing, safe error extraction, one log entry per request). What is Deribit's here: the instance (its
 * signing clock and nonces, and `edit_api_key`, which ccxt's api list lacks), the `{result}` envelope, the
 * clock resynchronisation from a 13009's own server time, the `client_signature` proof a probe sends to
 * public/auth, and the two-factor challenge loop (docs/exchanges/deribit.md#the-two-factor-challenge).
 */
import { randomBytes } from "node:crypto";
import { Secret as OtpSecret, TOTP } from "otpauth";
import { z } from "zod";
import { type Credentials, secretsOf } from "../../domain/credentials.js";
import type { Secret } from "../../domain/secret.js";
import { KeywardError } from "../../errors.js";
import ccxt from "../ccxt-modules.js";
import type { SecondFactorEvent, SecondFactorPrompt } from "../interface.js";
import {
  type CallOptions,
  type CallTrace,
  ccxtInstance,
  type RestClientConfig,
  type RestExchange,
  RestRejection,
  RestTransport,
  shareOwnerSchedulers,
  uidRegistry,
} from "../rest-client.js";
import { CODES, type DeribitFailure, failures } from "./errors.js";
import {
  DERIBIT_ENDPOINTS,
  type DeribitEndpoint,
  type DeribitEndpointName,
  type DeribitLimits,
  type DeribitMethodName,
} from "./limits.js";
import { AuthSchema, ChallengeSchema, deribitSuccess } from "./schemas.js";

const uids = uidRegistry();

/** Whose credits a key's requests draw on: its account's user id once known, else the key. */
export const ownerFor = uids.ownerFor;

/**
 * A user id learnt from get_account_summary (or a probe's auth), so a key's requests draw on its
 * account's credits. The key's first requests were scheduled under `key:<apiKey>`; its scheduler becomes
 * the account's (unless the account has one already), so the next request keeps the pace after them
 * instead of starting a second, empty history (a listing sent 28 ms after the summary met a 10028).
 */
export function rememberUid(base: string, apiKey: string, uid: string): void {
  uids.rememberUid(base, apiKey, uid);
  shareOwnerSchedulers(DERIBIT.id, base, `key:${apiKey}`, `uid:${uid}`);
}

/** The adapter reads a call's trace to judge writes and probes. */
export { type CallTrace, newTrace } from "../rest-client.js";

/** A 13009 whose answer says the server's clock is this far from ours was a refused timestamp. */
const SKEW_MS = 5_000;

/** How many codes a person may try for one action before Keyward gives up. */
export const PERSON_ATTEMPTS = 3;

/** Deribit refuses an answer to a challenge after a minute (https://docs.deribit.com/articles/security-keys). */
const CHALLENGE_TTL_MS = 60_000;

/**
 * This machine's clock against Deribit's, for the signing timestamp (ccxt signs with its `milliseconds()`,
 * which the client replaces by this clock's). Deribit refuses a stale `ts` with 13009, and every answer
 * carries the server's time (`usOut`), so the refusal itself resynchronises. Shared by one adapter's clients.
 */
export class DeribitClock {
  offsetMs = 0;
  generation = 0;

  now(): number {
    return Date.now() - this.offsetMs;
  }

  resync(serverTime: number, received: number): void {
    this.offsetMs = received - serverTime;
    this.generation++;
  }
}

/**
 * Who answers the account's second factor: its TOTP seed from the vault, else a person at a prompt, else
 * no one (SECOND_FACTOR_REQUIRED). The seed belongs to the account, so every client of the adapter (the
 * per-key ones too) answers with it.
 */
export interface SecondFactorSource {
  account: string;
  seed: Secret | undefined;
  prompt: SecondFactorPrompt | undefined;
  /**
   * Awaited before each code is sent and after Deribit's answer to it (core audits both). A rejection
   * before sending fails the call with nothing sent (fail closed); after an accepted code it is logged
   * and the result returned (AdapterOptions.onSecondFactor).
   */
  onEvent: ((event: SecondFactorEvent) => void | Promise<void>) | undefined;
}

export interface DeribitClientConfig extends RestClientConfig<DeribitLimits> {
  clock: DeribitClock;
  tfa: SecondFactorSource;
}

/** A failure that is not worth retrying, with what Deribit said. Its message holds no secret. */
export class DeribitRejection extends RestRejection<DeribitFailure> {
  override readonly name = "DeribitRejection";
}

/** Deribit as the shared transport needs it. */
const DERIBIT: RestExchange<DeribitFailure> = {
  id: "deribit",
  failures,
  envelope: deribitSuccess,
  payloadKey: "result",
  pathPrefix: "/api/v2/",
  Rejection: DeribitRejection,
};

/** A TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) from a base32 seed, as Deribit's authenticator setup gives it. */
function totpCode(seed: Secret, account: string): string {
  let secret: OtpSecret;
  try {
    // Authenticator apps show seeds in groups and lower case; base32 padding is optional.
    secret = OtpSecret.fromBase32(seed.reveal().replace(/[\s-]/g, "").replace(/=+$/, "").toUpperCase());
  } catch {
    // The library's message may quote the seed: never passed on.
    throw new KeywardError(
      "CONFIG_INVALID",
      `account "${account}": the totpSeed in the vault is not a base32 seed`,
      {
        hint: "Give the account's credentials again with the seed Deribit showed when two-factor authentication was set up (the base32 text behind the QR code), or without totpSeed to type each code.",
      },
    );
  }
  return new TOTP({ secret, algorithm: "SHA1", digits: 6, period: 30 }).generate();
}

export class DeribitClient {
  readonly #transport: RestTransport<DeribitFailure, DeribitEndpoint, DeribitLimits>;
  readonly #config: DeribitClientConfig;
  readonly #credentials: Credentials;
  /** ccxt's own HMAC helper on this key's instance: the only HMAC code is ccxt's (public/auth's proof too). */
  readonly #hmac: (payload: string, secret: string) => string;

  constructor(
    config: DeribitClientConfig,
    credentials: Credentials,
    /** Whose credits this key's calls draw on; asked again on every attempt. */
    readonly owner: () => string,
    /** Names the key in log entries (never a secret). */
    readonly who: string,
  ) {
    this.#config = config;
    this.#credentials = credentials;
    const ex = ccxtInstance<DeribitMethodName>(
      ccxt.deribit,
      {
        apiKey: credentials.apiKey,
        secret: credentials.secret.reveal(),
        urls: { api: { rest: config.base } },
      },
      config.timeoutMs,
    );
    const instance = ex as unknown as {
      milliseconds: () => number;
      nonce: () => string;
      request: (path: string, api: string, method: string, params: object) => Promise<unknown>;
      hmac: (request: unknown, secret: unknown, hash: typeof ccxt.sha256, digest?: "hex") => string;
      encode: (text: string) => unknown;
    };
    // As ccxt's deribit.js sign() does: `this.hmac(this.encode(auth), this.encode(this.secret), sha256)`.
    this.#hmac = (payload, secret) =>
      instance.hmac(instance.encode(payload), instance.encode(secret), ccxt.sha256, "hex");
    // ccxt signs with its own milliseconds() and uses them as the nonce too: two calls of one key in the
    // same millisecond would share a nonce. The signing time follows Deribit's clock; the nonce is random.
    instance.milliseconds = () => config.clock.now();
    instance.nonce = () => randomBytes(12).toString("hex");
    // edit_api_key is not in ccxt's api list: ccxt's generic request path still signs it.
    (ex as Record<string, unknown>).privateGetEditApiKey = (params: object) =>
      instance.request("edit_api_key", "private", "GET", params);
    // Secrets to redact: the key's, and the account's seed (an answer could only ever echo a code, never
    // the seed, but redaction costs nothing).
    const secrets = [...secretsOf(credentials), ...(config.tfa.seed ? [config.tfa.seed] : [])];
    this.#transport = new RestTransport(
      DERIBIT,
      config,
      ex,
      () => owner(),
      who,
      secrets,
      (failure, generation) => {
        // 13009 is also a bad signature or a dead token: only an answer whose server time is far from ours
        // was a refused timestamp (not applied), worth resynchronising and sending again.
        if (
          failure.kind !== "answer" ||
          failure.code !== CODES.UNAUTHORIZED ||
          failure.serverTime === undefined
        )
          return false;
        if (config.clock.generation !== generation) return true;
        if (Math.abs(config.clock.now() - failure.serverTime) < SKEW_MS) return false;
        config.clock.resync(failure.serverTime, Date.now());
        return true;
      },
    );
  }

  get secrets(): readonly Secret[] {
    return this.#transport.secrets;
  }

  /** Calls one endpoint and returns its parsed `result`, retrying as `options.retry` allows. */
  call<T extends z.ZodType>(
    name: DeribitEndpointName,
    params: Record<string, unknown>,
    result: T,
    options: CallOptions<DeribitFailure>,
  ): Promise<z.output<T>> {
    return this.#transport.call(DERIBIT_ENDPOINTS[name], params, result, options);
  }

  /**
   * public/auth with `grant_type=client_signature`: proves the key without sending its secret
   * (HMAC-SHA256 of `timestamp\nnonce\ndata` with the secret, https://docs.deribit.com/api-reference/authentication/public-auth;
   * ccxt has no such grant, so it is signed with ccxt's own `hmac` and SHA-256, as ccxt signs Deribit's
   * requests: no HMAC code of Keyward's in an adapter). Only the granted scope is read; the tokens are stripped by the schema.
   */
  async auth(options: CallOptions<DeribitFailure>): Promise<z.output<typeof AuthSchema>> {
    const generation = this.#config.clock.generation;
    try {
      return await this.#transport.call(DERIBIT_ENDPOINTS.auth, this.#authParams(), AuthSchema, options);
    } catch (error) {
      // The signed timestamp is in the params, not re-signed by ccxt: after a resync, sign it again, once.
      if (!(error instanceof DeribitRejection) || this.#config.clock.generation === generation) throw error;
      return this.#transport.call(DERIBIT_ENDPOINTS.auth, this.#authParams(), AuthSchema, options);
    }
  }

  #authParams(): Record<string, string> {
    const timestamp = String(this.#config.clock.now());
    const nonce = randomBytes(12).toString("hex");
    const data = "";
    const signature = this.#hmac(`${timestamp}\n${nonce}\n${data}`, this.#credentials.secret.reveal());
    return {
      grant_type: "client_signature",
      client_id: this.#credentials.apiKey,
      timestamp,
      signature,
      nonce,
      data,
    };
  }

  /**
   * A two-factor protected call (docs/exchanges/deribit.md#the-two-factor-challenge): sent without a code
   * first; an answer `security_key_authorization_required` is not executed, so the same call is sent again
   * with `authorization_data` (a code from the account's seed, or typed by a person) and the `challenge`.
   * A refused code (13003) ends the challenge: a person is asked again (with `retry`) against a fresh
   * challenge, up to PERSON_ATTEMPTS codes; a code from the seed is not retried (the seed or the clock
   * is wrong). Each code is told to `onSecondFactor` (never the code itself) before it is sent, so a
   * failed audit stops the call before it happens, and again with Deribit's verdict. Once Deribit has
   * accepted a code its result is never discarded: a reset's or a create's new secret exists nowhere
   * else, and the old secret of a reset is already dead (AdapterOptions.onSecondFactor).
   */
  async protectedCall<T extends z.ZodType>(
    name: DeribitEndpointName,
    params: Record<string, unknown>,
    result: T,
    options: CallOptions<DeribitFailure> & { action: string },
  ): Promise<z.output<T>> {
    const schema = z.union([ChallengeSchema, result]);
    const isChallenge = (v: unknown): v is z.output<typeof ChallengeSchema> =>
      ChallengeSchema.safeParse(v).success;
    const { action, ...callOptions } = options;
    const trace: CallTrace<DeribitFailure> | undefined = callOptions.trace;
    let retry = false;
    for (let round = 1; ; round++) {
      // Without a code a protected call is not executed: safe to retry as the caller allows.
      const first = await this.call(name, params, schema, callOptions);
      if (!isChallenge(first)) return first as z.output<T>;
      const expiresAt = Date.now() + CHALLENGE_TTL_MS;
      const { code, answeredBy } = await this.#code({ action, expiresAt, retry });
      const tfa = this.#config.tfa;
      const answer = { ...params, authorization_data: code, challenge: first.challenge };
      // Fail closed before the call happens: its rejection (the audit could not be written) ends it here.
      await tfa.onEvent?.({ account: tfa.account, action, answeredBy, phase: "answering" });
      let answered: unknown;
      try {
        // With a code the call is executed: a lost answer leaves it unknown (the trace says so), and
        // the challenge is single-use, so only answers proving nothing happened are retried.
        answered = await this.call(name, answer, schema, { retry: "unapplied", ...(trace ? { trace } : {}) });
      } catch (error) {
        const refused =
          error instanceof DeribitRejection &&
          error.failure.kind === "answer" &&
          error.failure.code === CODES.TFA_REQUIRED;
        if (!refused) throw error;
        await tfa.onEvent?.({ account: tfa.account, action, answeredBy, phase: "answered", accepted: false });
        if (answeredBy === "seed") {
          throw new KeywardError(
            "SECOND_FACTOR_REFUSED",
            `Deribit refused the two-factor code Keyward computed from account "${tfa.account}"'s TOTP seed (${action})`,
            {
              hint: "Check that this machine's clock is right (turn on NTP: codes change every 30 s) and that the totpSeed in the vault is the seed of this Deribit account's current two-factor setup.",
              exchangeCode: CODES.TFA_REQUIRED,
            },
          );
        }
        if (round >= PERSON_ATTEMPTS) {
          throw new KeywardError(
            "SECOND_FACTOR_REFUSED",
            `Deribit refused ${PERSON_ATTEMPTS} two-factor codes for account "${tfa.account}" (${action})`,
            {
              hint: "Type the current code of this Deribit account's authenticator, before it changes; check the authenticator's clock.",
              exchangeCode: CODES.TFA_REQUIRED,
            },
          );
        }
        retry = true;
        continue;
      }
      if (isChallenge(answered)) {
        // A challenge answered with another challenge: not an answer Deribit documents.
        await tfa.onEvent?.({ account: tfa.account, action, answeredBy, phase: "answered", accepted: false });
        throw new DeribitRejection(
          { kind: "malformed", where: "security_key_authorization_required" },
          `${name}: a second challenge after a code`,
        );
      }
      try {
        await tfa.onEvent?.({ account: tfa.account, action, answeredBy, phase: "answered", accepted: true });
      } catch (error) {
        // The call has happened: its result (a new secret, whose old one is dead) must reach the caller,
        // whose next audited step fails closed with it saved. The error names no secret (KeywardError).
        this.#config.log({
          level: "warn",
          event: "second-factor.unaudited",
          exchange: "deribit",
          account: tfa.account,
          ...(error instanceof KeywardError ? { code: error.code } : {}),
          detail: `${action}: Deribit accepted the code, but the answer could not be audited (${error instanceof KeywardError ? error.message : error instanceof Error ? error.name : "error"}); the result is returned`,
        });
      }
      return answered as z.output<T>;
    }
  }

  async #code(request: {
    action: string;
    expiresAt: number;
    retry: boolean;
  }): Promise<{ code: string; answeredBy: "seed" | "person" }> {
    const tfa = this.#config.tfa;
    if (tfa.seed) return { code: totpCode(tfa.seed, tfa.account), answeredBy: "seed" };
    if (!tfa.prompt) {
      throw new KeywardError(
        "SECOND_FACTOR_REQUIRED",
        `Deribit asks for account "${tfa.account}"'s two-factor code to ${request.action}, and no one can give it here`,
        {
          hint: `Either store the account's TOTP seed (keyward account set-seed ${tfa.account}), or run this where a person can type the code (a terminal, or the web app).`,
        },
      );
    }
    const typed = await tfa.prompt.code({
      account: tfa.account,
      action: request.action,
      expiresAt: request.expiresAt,
      ...(request.retry ? { retry: true } : {}),
    });
    return { code: typed.replace(/\s/g, ""), answeredBy: "person" };
  }
}
