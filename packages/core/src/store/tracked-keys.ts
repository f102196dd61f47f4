/**
 * Keys the user told Keyward about, for exchanges whose API cannot list keys (all of Bitfinex). A row
 * never holds a secret: `credentialsRef` names the vault entry when Keyward holds the key's secret.
 */
import { z } from "zod";
import { AccountNameSchema } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import type { StateStore, TrackedKeyRecord } from "./state-store.js";

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

export class TrackedKeysRepository {
  readonly #state: StateStore;

  constructor(state: StateStore) {
    this.#state = state;
  }

  /** Tracks a key. A key already tracked for the account is an error (untrack it first). */
  async add(input: TrackedKeyInput): Promise<TrackedKeyRow> {
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
    const added = await this.#state.addTrackedKey({ ...row, meta: JSON.stringify(row.meta) });
    if (added === "exists") {
      throw new KeywardError("CONFIG_INVALID", `That key is already tracked for account ${row.account}.`, {
        hint: "Untrack it first to change its label or credentials.",
      });
    }
    return row;
  }

  async get(account: string, apiKey: string): Promise<TrackedKeyRow | undefined> {
    const row = await this.#state.trackedKey(account, apiKey);
    return row === undefined ? undefined : fromRow(row);
  }

  /** All tracked keys, or one account's, oldest first. */
  async list(filter: { account?: string } = {}): Promise<TrackedKeyRow[]> {
    const rows = await this.#state.trackedKeys(
      filter.account === undefined ? {} : { account: filter.account },
    );
    return rows.map(fromRow);
  }

  /** Untracks a key; false if it was not tracked. */
  remove(account: string, apiKey: string): Promise<boolean> {
    return this.#state.removeTrackedKey(account, apiKey);
  }

  /** Replaces a key's meta (callers merge if they mean to); false if the key is not tracked. */
  async updateMeta(account: string, apiKey: string, meta: Record<string, string>): Promise<boolean> {
    const checked = MetaSchema.safeParse(meta);
    if (!checked.success) {
      throw new KeywardError("CONFIG_INVALID", "Tracked-key meta must map strings to strings.");
    }
    return this.#state.setTrackedKeyMeta(account, apiKey, JSON.stringify(checked.data));
  }
}

function fromRow(row: TrackedKeyRecord): TrackedKeyRow {
  // meta is a cache of facts the adapter can learn again; a row whose meta no longer parses (say,
  // written by a newer version) is read with empty meta rather than making the key unusable.
  let meta: Record<string, string> = {};
  try {
    meta = MetaSchema.parse(JSON.parse(row.meta));
  } catch {}
  return {
    account: row.account,
    apiKey: row.apiKey,
    label: row.label,
    credentialsRef: row.credentialsRef,
    meta,
    addedAt: row.addedAt,
  };
}
