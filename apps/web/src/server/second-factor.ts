/**
 * The browser's side of an exchange's second-factor challenge (issue 13). When an account has no TOTP
 * seed in the vault, the adapter asks the running job's prompt for a code: the job's event log gets a
 * `second-factor` event (which account, what for, the exchange's name, until when), the page shows a
 * code field, and the code comes back as a POST for that job (session- and CSRF-protected like every
 * other POST). The code goes to the adapter only: never logged, echoed, kept or put in an event.
 *
 * A challenge no one answers closes itself when the exchange would refuse any answer (its `expiresAt`),
 * and a person may cancel it: either way that step fails cleanly with SECOND_FACTOR_REQUIRED, and the
 * event log says so (`second-factor-closed`). A refused code makes the adapter ask again (`retry`).
 */
import { randomUUID } from "node:crypto";
import {
  exchangeProfile,
  KeywardError,
  type KeywardHome,
  type SecondFactorPrompt,
  type SecondFactorRequest,
} from "@keyward/core";
import { HttpError } from "./http-errors.js";

/** Where a challenge is shown: a job's event log, under the job's key (e.g. `revoke:<id>`). */
export interface ChallengeTarget {
  key: string;
  emit(type: string, data: Record<string, unknown>): void;
}

interface Pending {
  target: ChallengeTarget;
  account: string;
  resolve(code: string): void;
  reject(error: KeywardError): void;
  timer: NodeJS.Timeout;
}

const NO_CODE_HINT =
  "Start the step again and type the code before the exchange's challenge expires, or store the account's seed (`keyward account set-seed <account>`) so Keyward answers itself.";

export class SecondFactorDesk {
  readonly #pending = new Map<string, Pending>();

  constructor(private readonly home: Pick<KeywardHome, "account">) {}

  /**
   * A prompt that shows each challenge on the job `target()` returns when it is asked (undefined: no
   * job is running to show it on, so no one can answer: SECOND_FACTOR_REQUIRED at once).
   */
  promptFor(target: () => ChallengeTarget | undefined): SecondFactorPrompt {
    return { code: (request) => this.#ask(target(), request) };
  }

  #ask(target: ChallengeTarget | undefined, request: SecondFactorRequest): Promise<string> {
    if (!target) {
      return Promise.reject(
        new KeywardError(
          "SECOND_FACTOR_REQUIRED",
          `${request.account}: the exchange asks for a two-factor code and no page is following a job to ask on`,
          { hint: NO_CODE_HINT },
        ),
      );
    }
    const id = randomUUID();
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => this.#close(id, "expired"), Math.max(0, request.expiresAt - Date.now()));
      timer.unref();
      this.#pending.set(id, { target, account: request.account, resolve, reject, timer });
      target.emit("second-factor", {
        challengeId: id,
        account: request.account,
        exchange: this.#exchangeName(request.account),
        action: request.action,
        expiresAt: request.expiresAt,
        retry: request.retry === true,
      });
    });
  }

  #exchangeName(account: string): string {
    try {
      return exchangeProfile(this.home.account(account).exchange).name;
    } catch {
      return "The exchange";
    }
  }

  /** The person's code for a challenge shown on job `key`. Never logged or echoed. */
  answer(key: string, challengeId: string, code: string): void {
    const pending = this.#take(key, challengeId);
    this.#pending.delete(challengeId);
    clearTimeout(pending.timer);
    pending.target.emit("second-factor-closed", { challengeId, outcome: "answered" });
    pending.resolve(code);
  }

  /** The person will not give a code: that step fails (SECOND_FACTOR_REQUIRED). */
  cancel(key: string, challengeId: string): void {
    this.#take(key, challengeId);
    this.#close(challengeId, "cancelled");
  }

  /** Every challenge open on job `key` fails (the job is stopped). */
  cancelAll(key: string): void {
    for (const [id, p] of this.#pending) if (p.target.key === key) this.#close(id, "cancelled");
  }

  #take(key: string, challengeId: string): Pending {
    const pending = this.#pending.get(challengeId);
    if (!pending || pending.target.key !== key) {
      throw new HttpError(
        409,
        "CHALLENGE_CLOSED",
        "this two-factor challenge is no longer open (answered, expired or cancelled)",
        "If the exchange asks again, a new code field appears on this page.",
      );
    }
    return pending;
  }

  #close(id: string, outcome: "expired" | "cancelled"): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.target.emit("second-factor-closed", { challengeId: id, outcome });
    pending.reject(
      new KeywardError(
        "SECOND_FACTOR_REQUIRED",
        outcome === "expired"
          ? `no two-factor code was given for ${pending.account} before the exchange's challenge expired`
          : `the two-factor code for ${pending.account} was not given (cancelled on the page)`,
        { hint: NO_CODE_HINT },
      ),
    );
  }
}

/** Where a revoke job's challenges are shown. */
export const revokeTarget = (job: { id: string; emit: ChallengeTarget["emit"] }): ChallengeTarget => ({
  key: `revoke:${job.id}`,
  emit: (type, data) => job.emit(type, data),
});

/** Where a rotation run's challenges are shown. */
export const rotationTarget = (job: { runId: string; emit: ChallengeTarget["emit"] }): ChallengeTarget => ({
  key: `rotation:${job.runId}`,
  emit: (type, data) => job.emit(type, data),
});
