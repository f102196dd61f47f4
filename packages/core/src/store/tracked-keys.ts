/**
 * Keys the user told Keyward about, for exchanges whose API cannot list keys (all of Bitfinex). A row
 * never holds a secret: `credentialsRef` names the vault entry when Keyward holds the key's secret.
 */
import { z } from "zod";
import { AccountNameSchema } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import { isSqliteError, type StateDatabase, writeOrThrow } from "./sqlite/database.js";

export interface TrackedKeyRow {
  account: string;
  apiKey: string;
  label: string;
  /** Vault reference of the key's credentials, or null when Keyward does not hold its secret. */
  credentialsRef: string | null;
  /** Adapter-owned facts remembered between runs (TrackedKey.meta in the adapter interface). */
  meta: Record<string, string>;
  /** ISO 8601. */
  addedAt: string;
}

export interface TrackedKeyInput {
  account: string;
  apiKey: string;
  label: string;
  credentialsRef?: string | null;
  meta?: Record<string, string>;
  addedAt?: Date;
}

const MetaSchema = z.record(z.string(), z.string());

const InputSchema = z.object({
  account: AccountNameSchema,
  apiKey: z.string().trim().min(1, "is required"),
  label: z.string(),
  credentialsRef: z.string().min(1).nullable().optional(),
  meta: MetaSchema.optional(),
});

interface Row {
  account: string;
  api_key: string;
  label: string;
  credentials_ref: string | null;
  meta: string;
  added_at: string;
}

const COLUMNS = "account, api_key, label, credentials_ref, meta, added_at";

export class TrackedKeysRepository {
  readonly #state: StateDatabase;

  constructor(state: StateDatabase) {
    this.#state = state;
  }

  /** Tracks a key. A key already tracked for the account is an error (untrack it first). */
  add(input: TrackedKeyInput): TrackedKeyRow {
    const parsed = InputSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new KeywardError(
        "CONFIG_INVALID",
        `Cannot track the key: ${issue?.path.join(".") || "input"} ${issue?.message ?? "is invalid"}.`,
      );
    }
    const row: TrackedKeyRow = {
      account: parsed.data.account,
      apiKey: parsed.data.apiKey,
      label: parsed.data.label,
      credentialsRef: parsed.data.credentialsRef ?? null,
      meta: parsed.data.meta ?? {},
      addedAt: (input.addedAt ?? new Date()).toISOString(),
    };
    return writeOrThrow(this.#state, "track the key", () => {
      try {
        this.#state.db
          .prepare(`INSERT INTO tracked_keys (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`)
          .run(row.account, row.apiKey, row.label, row.credentialsRef, JSON.stringify(row.meta), row.addedAt);
      } catch (error) {
        if (isSqliteError(error) && error.code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
          throw new KeywardError(
            "CONFIG_INVALID",
            `That key is already tracked for account ${row.account}.`,
            {
              hint: "Untrack it first to change its label or credentials.",
            },
          );
        }
        throw error;
      }
      return row;
    });
  }

  get(account: string, apiKey: string): TrackedKeyRow | undefined {
    const row = this.#state.db
      .prepare<[string, string], Row>(`SELECT ${COLUMNS} FROM tracked_keys WHERE account = ? AND api_key = ?`)
      .get(account, apiKey);
    return row === undefined ? undefined : fromRow(row);
  }

  /** All tracked keys, or one account's, oldest first. */
  list(filter: { account?: string } = {}): TrackedKeyRow[] {
    const rows =
      filter.account === undefined
        ? this.#state.db
            .prepare<[], Row>(`SELECT ${COLUMNS} FROM tracked_keys ORDER BY account, added_at, api_key`)
            .all()
        : this.#state.db
            .prepare<[string], Row>(
              `SELECT ${COLUMNS} FROM tracked_keys WHERE account = ? ORDER BY added_at, api_key`,
            )
            .all(filter.account);
    return rows.map(fromRow);
  }

  /** Untracks a key; false if it was not tracked. */
  remove(account: string, apiKey: string): boolean {
    return writeOrThrow(
      this.#state,
      "untrack the key",
      () =>
        this.#state.db
          .prepare("DELETE FROM tracked_keys WHERE account = ? AND api_key = ?")
          .run(account, apiKey).changes > 0,
    );
  }

  /** Replaces a key's meta (callers merge if they mean to); false if the key is not tracked. */
  updateMeta(account: string, apiKey: string, meta: Record<string, string>): boolean {
    const checked = MetaSchema.safeParse(meta);
    if (!checked.success) {
      throw new KeywardError("CONFIG_INVALID", "Tracked-key meta must map strings to strings.");
    }
    return writeOrThrow(
      this.#state,
      "update the key's meta",
      () =>
        this.#state.db
          .prepare("UPDATE tracked_keys SET meta = ? WHERE account = ? AND api_key = ?")
          .run(JSON.stringify(checked.data), account, apiKey).changes > 0,
    );
  }
}

function fromRow(row: Row): TrackedKeyRow {
  // meta is a cache of facts the adapter can learn again; a row whose meta no longer parses (say,
  // written by a newer version) is read with empty meta rather than making the key unusable.
  let meta: Record<string, string> = {};
  try {
    meta = MetaSchema.parse(JSON.parse(row.meta));
  } catch {}
  return {
    account: row.account,
    apiKey: row.api_key,
    label: row.label,
    credentialsRef: row.credentials_ref,
    meta,
    addedAt: row.added_at,
  };
}
