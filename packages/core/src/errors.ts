/**
 * The one error class Keyward throws. Every error has a stable `code` (scripts and the shells branch on
 * it, never on messages) and a `hint` that tells the user what to do. Expected outcomes (a key already
 * revoked, a step that needs a person, a probe that cannot decide) are typed results, not errors.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: "the configuration or input is invalid",
  ACCOUNT_NOT_FOUND: "no such account",
  KEY_NOT_FOUND: "no such key",
  NOT_SUPPORTED: "the exchange does not support this by API",
  NOT_MASTER: "the account's key is not a master-account key",
  EXCHANGE_AUTH: "the exchange rejected the account's credentials",
  EXCHANGE_PERMISSION: "the account's key lacks a permission this needs",
  EXCHANGE_RATE_LIMITED: "the exchange kept answering 'rate limited'",
  EXCHANGE_UNAVAILABLE: "the exchange could not be reached or kept failing",
  EXCHANGE_REJECTED: "the exchange refused the request",
  SECOND_FACTOR_REQUIRED:
    "the exchange asked for a second-factor code and no one could give it (no seed in the vault, no person at a prompt)",
  SECOND_FACTOR_REFUSED: "the exchange refused the second-factor code (wrong, stale or too late)",
  CREATE_OUTCOME_UNKNOWN: "a key creation may or may not have happened",
  HOME_INSECURE: "the Keyward home, a file in it or a plan file is open to another user",
  VAULT_MISSING: "there is no credential vault yet",
  VAULT_EXISTS: "a credential vault already exists there",
  VAULT_PASSPHRASE: "the vault passphrase is wrong",
  VAULT_CORRUPT: "the vault file is damaged or not a Keyward vault",
  VAULT_CONFLICT: "the vault changed on disk since it was opened",
  VAULT_IO: "the vault file could not be read or written",
  STATE_UNAVAILABLE: "the local state database cannot be opened or used",
  AUDIT_UNAVAILABLE: "the audit log cannot be written",
  AUDIT_INVALID: "an audit entry was refused as malformed or carrying a secret",
  DELIVERY_FAILED: "a new key could not be delivered to one of its targets",
  VERIFICATION_FAILED: "a key does not match what it must be (permissions, IPs) or could not be proven",
  ROTATION_CONFLICT: "another rotation or process holds the keys or the run",
  JOURNAL_TAMPERED: "a rotation's journal in state.db is not authentic: it cannot be resumed or aborted",
  TARGET_NOT_ALLOWED: "a delivery target that runs programs was given where no program may run",
  CLI_ONLY: "a rotation runs programs on this machine: only `keyward rotate` may resume or abort it",
  NOT_WAITING: "no rotation slot is waiting for a new key's credentials now",
  ACCOUNT_KEY_CHANGED:
    "the vault holds another own key for an account than a revoke plan or its adapters used",
  SCAN_PATH_INVALID: "a path given to scan does not exist or cannot be read",
  SCAN_ABORTED: "the scan was stopped before it finished",
  SCAN_GIT_FAILED: "git could not read a repository's history (missing, refused or failed)",
  SCAN_VAULT_LOCKED:
    "a scan needs the vault (held secrets, live listing, audit) and it could not be opened; nothing was read",
  INTERNAL: "an internal error",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface KeywardErrorOptions {
  hint?: string;
  /** The exchange's own error code (e.g. "50120"), for evidence and support. */
  exchangeCode?: string;
  cause?: unknown;
}

export class KeywardError extends Error {
  override readonly name = "KeywardError";
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exchangeCode: string | undefined;

  constructor(code: ErrorCode, message: string, options: KeywardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.exchangeCode = options.exchangeCode;
  }

  /** What the shells print: the message, then the hint on its own line. */
  describe(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }

  toJSON() {
    return { code: this.code, message: this.message, hint: this.hint, exchangeCode: this.exchangeCode };
  }
}

export const isKeywardError = (error: unknown, code?: ErrorCode): error is KeywardError =>
  error instanceof KeywardError && (code === undefined || error.code === code);
