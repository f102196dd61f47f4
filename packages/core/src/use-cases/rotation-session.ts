/**
 * A rotation run being driven in this process (by apply or resume): the engine's dependencies built
 * from the opened home, its events passed on, and the waiting for a person that an assisted slot needs.
 * The engine asks for an assisted slot's new key; the session holds that request until someone answers
 * it: a person at this process (`answer`: the CLI's hidden prompt or stdin), or a call from outside
 * (`provideCredentials`: the web's form, over HTTP). Either way the same passphrase rule applies before
 * the engine probes the key, and "not now" leaves the slot waiting for a resume.
 */
import type { SecondFactorPrompt } from "../adapters/interface.js";
import type { CredentialsInput } from "../domain/credentials.js";
import type { ManualSteps } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import type { KeywardHome } from "../home/home.js";
import type { CreateRequest, RotationDeps, RotationEvent } from "../rotation/context.js";
import type { RotationReport } from "../rotation/engine.js";
import { rotationChildEnv, rotationJournal } from "./rotation-common.js";
import { passphraseProblem } from "./rotation-credentials.js";

/** An assisted slot waiting for the new key a person creates: what to create, and the last refusal. */
export interface PendingCreate {
  request: CreateRequest;
  attempt: number;
  refused: string | null;
}

/** The engine's events, and the session's own. */
export type RotationSessionEvent =
  | RotationEvent
  /** The engine waits for an assisted slot's new key (answer it with `provideCredentials`). */
  | ({ type: "ask-credentials" } & PendingCreate)
  /** Credentials a person gave broke the passphrase rule; they never reached the engine. */
  | { type: "credentials-refused"; slot: number; reason: string };

/** What the shell hands a run: how to tell it what happens, and where a person answers. */
export interface RotationHooks {
  onEvent?(event: RotationSessionEvent): void;
  /**
   * A person at this process, asked for an assisted slot's new key (`refused`: why the previous answer
   * was refused). undefined: not now (the slot waits). Without it, answers come from `provideCredentials`.
   */
  answer?(
    request: CreateRequest,
    attempt: number,
    refused: string | null,
  ): Promise<CredentialsInput | undefined>;
  /** The shell's environment: exec targets and the check command get it without any secret. */
  env: NodeJS.ProcessEnv;
  /** The crash seam for tests (see rotation/engine.ts). */
  crashPoint?(point: string): void;
  /** Stops the run as `stop()` does (e.g. the CLI's Ctrl-C). */
  signal?: AbortSignal;
  /**
   * How a person answers an exchange's second-factor challenge (the CLI's hidden prompt, the web's code
   * field) when the account has no seed in the vault. Without it such a call fails with
   * SECOND_FACTOR_REQUIRED. Every answered challenge is audited (home.adapterFor).
   */
  secondFactor?: SecondFactorPrompt;
  /**
   * Called once every check passed (and, for a resume, `rotation.resumed` is audited), right before the
   * engine starts: the web marks its plan used and registers the session here, before its first event.
   */
  onStart?(session: RotationSession): void;
}

interface Waiting extends PendingCreate {
  resolve(value: CredentialsInput | undefined): void;
  reject(error: unknown): void;
}

export class RotationSession {
  readonly runId: string;
  /** The run's report once the engine returns; rejects when the run could not be run at all. */
  readonly done: Promise<RotationReport>;
  readonly #abort = new AbortController();
  readonly #pending = new Map<number, Waiting>();
  readonly #revokeSteps = new Map<number, ManualSteps>();
  readonly #hooks: RotationHooks;
  #active = true;

  constructor(
    home: KeywardHome,
    runId: string,
    hooks: RotationHooks,
    run: (deps: RotationDeps) => Promise<RotationReport>,
  ) {
    this.runId = runId;
    this.#hooks = hooks;
    if (hooks.signal?.aborted) this.#abort.abort();
    hooks.signal?.addEventListener("abort", () => this.#stop(), { once: true });
    let go: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      go = resolve;
    });
    this.done = (async () => {
      await started;
      try {
        return await run(this.#deps(home));
      } finally {
        this.#active = false;
        this.#releaseAll();
      }
    })();
    // Whoever awaits `done` sees a failure; a session nobody awaits must not crash the process.
    this.done.catch(() => {});
    // The shell learns of the session before the engine's first event (the web registers it here).
    hooks.onStart?.(this);
    go();
  }

  /** Whether the engine is still running this run here. */
  get active(): boolean {
    return this.#active;
  }

  /** Assisted slots waiting for the new key a person creates, in slot order. */
  pendingCreates(): PendingCreate[] {
    return [...this.#pending.values()]
      .sort((a, b) => a.request.slot - b.request.slot)
      .map(({ request, attempt, refused }) => ({ request, attempt, refused }));
  }

  /** Whether a slot waits for its new key's credentials now. */
  isWaiting(slot: number): boolean {
    return this.#pending.has(slot);
  }

  /** Assisted slots waiting for a person to revoke the old key: the steps. */
  revokeSteps(): { slot: number; steps: ManualSteps }[] {
    return [...this.#revokeSteps].map(([slot, steps]) => ({ slot, steps }));
  }

  /**
   * The new key's credentials for a waiting assisted slot (they go to the engine, which probes them and
   * puts them in the vault). NOT_WAITING when the slot is not waiting; CONFIG_INVALID when they break
   * the passphrase rule (the slot keeps waiting).
   */
  provideCredentials(slot: number, credentials: CredentialsInput): void {
    const pending = this.#pending.get(slot);
    if (!pending) {
      throw new KeywardError(
        "NOT_WAITING",
        `rotation ${this.runId} slot ${slot} is not waiting for a new key now`,
        {
          hint: "If the run stopped waiting, resume it; the page then asks for the key again.",
        },
      );
    }
    const problem = passphraseProblem(pending.request, credentials);
    if (problem) throw new KeywardError("CONFIG_INVALID", problem.message, { hint: problem.hint });
    this.#pending.delete(slot);
    pending.resolve(credentials);
  }

  /** No credentials for this slot now: it waits for a resume. */
  stopWaiting(slot: number): void {
    const pending = this.#pending.get(slot);
    this.#pending.delete(slot);
    pending?.resolve(undefined);
  }

  /** Pauses the run: slots stop at their next step (resume goes on from there). Resolves once it has. */
  stop(): Promise<void> {
    this.#stop();
    return this.done.then(
      () => undefined,
      () => undefined,
    );
  }

  #stop(): void {
    this.#abort.abort();
    this.#releaseAll();
  }

  #releaseAll(): void {
    for (const p of this.#pending.values()) p.resolve(undefined);
    this.#pending.clear();
  }

  /** The engine's dependencies; adapters follow the vault, as an account's own key may switch midway. */
  #deps(home: KeywardHome): RotationDeps {
    const signal = this.#abort.signal;
    return {
      home,
      journal: rotationJournal(home),
      audit: home.audit(),
      adapterFor: home.liveAdapterSource(
        this.#hooks.secondFactor ? { secondFactor: this.#hooks.secondFactor } : {},
      ),
      askCredentials: (request, attempt, refused) => this.#ask(request, attempt, refused ?? null),
      onEvent: (e) => this.#record(e),
      ...(this.#hooks.crashPoint ? { crashPoint: this.#hooks.crashPoint } : {}),
      childEnv: rotationChildEnv(this.#hooks.env),
      signal,
    };
  }

  #ask(
    request: CreateRequest,
    attempt: number,
    refused: string | null,
  ): Promise<CredentialsInput | undefined> {
    return new Promise((resolve, reject) => {
      if (this.#abort.signal.aborted) return resolve(undefined);
      this.#pending.set(request.slot, { request, attempt, refused, resolve, reject });
      this.#hooks.onEvent?.({ type: "ask-credentials", request, attempt, refused });
      if (this.#hooks.answer) {
        // A prompt that failed (bad stdin): the engine gets the error, as from any step.
        this.#answerHere(request, attempt, refused).catch((error: unknown) => {
          const pending = this.#pending.get(request.slot);
          this.#pending.delete(request.slot);
          pending?.reject(error);
        });
      }
    });
  }

  /** Asks the person at this process until an answer passes the passphrase rule, or there is none. */
  async #answerHere(request: CreateRequest, attempt: number, refused: string | null): Promise<void> {
    const slot = request.slot;
    let reason = refused;
    for (;;) {
      const given = await this.#hooks.answer?.(request, attempt, reason);
      if (!this.#pending.has(slot)) return; // stopped meanwhile
      if (!given) return this.stopWaiting(slot);
      const problem = passphraseProblem(request, given);
      if (!problem) return this.provideCredentials(slot, given);
      reason = problem.message;
      this.#hooks.onEvent?.({ type: "credentials-refused", slot, reason });
    }
  }

  #record(e: RotationEvent): void {
    if (e.type === "revoke-steps") this.#revokeSteps.set(e.slot.slot, e.steps);
    if (
      e.type === "step" &&
      (e.slot.step === "dead" || e.slot.step === "finished" || e.slot.step === "aborted")
    ) {
      this.#revokeSteps.delete(e.slot.slot);
    }
    if (e.type === "step" && e.slot.step !== "awaiting-new-key") this.#pending.delete(e.slot.slot);
    this.#hooks.onEvent?.(e);
  }
}
