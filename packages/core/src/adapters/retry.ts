/**
 * Retries for answers that say "try again": rate limits, 5xx, timeouts and dropped connections,
 * with exponential backoff and jitter (p-retry). Anything else fails at once. Non-idempotent
 * requests (creating a key) must not come through here blindly: see the OKX adapter's create.
 */
import pRetry from "p-retry";
import { KeywardError } from "../errors.js";
import type { LogSink } from "../log.js";
import type { AdapterOptions } from "./interface.js";

export type TransientKind = "rate-limited" | "unavailable" | "network" | "timeout";

/** A failure worth retrying. Its message is built by the adapter and holds no secret. */
export class TransientFailure extends Error {
  override readonly name = "TransientFailure";
  constructor(
    readonly kind: TransientKind,
    message: string,
    readonly exchangeCode?: string,
  ) {
    super(message);
  }
}

export interface RetryContext {
  exchange: string;
  account: string;
  what: string;
  log: LogSink;
  options: AdapterOptions["retry"];
}

export async function withRetry<T>(ctx: RetryContext, attempt: (n: number) => Promise<T>): Promise<T> {
  const retries = ctx.options?.retries ?? 5;
  try {
    return await pRetry(attempt, {
      retries,
      factor: 2,
      minTimeout: ctx.options?.minTimeoutMs ?? 200,
      maxTimeout: ctx.options?.maxTimeoutMs ?? 5_000,
      randomize: true,
      shouldRetry: ({ error }) => error instanceof TransientFailure,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (!(error instanceof TransientFailure)) return;
        ctx.log({
          level: retriesLeft > 0 ? "info" : "warn",
          event: retriesLeft > 0 ? "retry" : "gave-up",
          exchange: ctx.exchange,
          account: ctx.account,
          detail: ctx.what,
          code: error.exchangeCode ?? error.kind,
          attempt: attemptNumber,
        });
      },
    });
  } catch (error) {
    if (error instanceof TransientFailure) {
      const rateLimited = error.kind === "rate-limited";
      throw new KeywardError(
        rateLimited ? "EXCHANGE_RATE_LIMITED" : "EXCHANGE_UNAVAILABLE",
        `${ctx.exchange} ${ctx.what} for account "${ctx.account}" failed after ${retries + 1} attempts: ${error.message}`,
        {
          hint: rateLimited
            ? "Another program may be using the same account's rate limit; wait a minute and run again."
            : "Check the network and the exchange's status page, then run again; finished work is not repeated.",
          ...(error.exchangeCode === undefined ? {} : { exchangeCode: error.exchangeCode }),
        },
      );
    }
    throw error;
  }
}
