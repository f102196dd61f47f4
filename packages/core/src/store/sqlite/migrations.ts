/**
 * The state database's schema, as an ordered list of migrations. Migration i (0-based) takes the
 * database from `PRAGMA user_version` i to i + 1; `openStateDatabase` runs the missing ones in one
 * transaction. To change the schema, APPEND a string here. Never edit or reorder a shipped one:
 * existing databases have already run it, and user_version only counts.
 *
 * Secrets never go into this database: tracked keys point into the vault by `credentials_ref`.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the audit log (see audit/audit-log.ts), tracked keys, the inventory cache.
  `
  CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,            -- 1, 2, 3 … assigned by append(), never reused
    ts        TEXT NOT NULL,                  -- ISO 8601, UTC
    action    TEXT NOT NULL,
    actor     TEXT NOT NULL,
    subject   TEXT NOT NULL,
    details   TEXT NOT NULL CHECK (json_valid(details)),  -- canonical JSON object
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_log_ts ON audit_log (ts);

  -- The chain's head, written in the same transaction as each entry. The chain alone cannot show
  -- that its newest entries were deleted; a head that points past the last row can.
  CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
  ) STRICT;

  -- Append-only against mistakes (not against an attacker, who can drop these: the hash chain is
  -- what shows tampering).
  CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
  CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

  CREATE TABLE tracked_keys (
    account         TEXT NOT NULL,
    api_key         TEXT NOT NULL,
    label           TEXT NOT NULL,
    credentials_ref TEXT,                     -- vault reference, when Keyward holds the secret
    meta            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(meta)),
    added_at        TEXT NOT NULL,
    PRIMARY KEY (account, api_key)
  ) STRICT;

  CREATE TABLE inventory_cache (
    account    TEXT NOT NULL PRIMARY KEY,
    fetched_at TEXT NOT NULL,
    records    TEXT NOT NULL CHECK (json_valid(records))  -- KeyRecord[]
  ) STRICT;
  `,
  // 2: the rotation journal (see rotation/journal.ts). Every step of a key's rotation is written here
  // BEFORE the exchange or a delivery target is touched (write-ahead), so `rotate resume` can finish or
  // undo whatever a crash interrupted. Secrets live in the vault; rows name vault references only.
  `
  CREATE TABLE rotation_runs (
    id         TEXT PRIMARY KEY,              -- the rotation id, e.g. rot-k3f9q2 (carried by new labels)
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('active', 'finished', 'aborted')),
    plan       TEXT NOT NULL CHECK (json_valid(plan)),     -- the plan document as applied
    options    TEXT NOT NULL CHECK (json_valid(options)),  -- grace, check command, concurrency, …
    lock_pid   INTEGER,                       -- the process applying the run, while it runs
    lock_host  TEXT
  ) STRICT;

  CREATE TABLE rotation_slots (
    run_id       TEXT NOT NULL REFERENCES rotation_runs (id),
    slot         INTEGER NOT NULL,            -- 1-based, as in the plan
    method       TEXT NOT NULL CHECK (method IN ('api', 'assisted')),
    exchange     TEXT NOT NULL,
    account      TEXT NOT NULL,
    sub_account  TEXT,
    old_key_id   TEXT NOT NULL,               -- the retired ("previous") key: kept for good
    old_api_key  TEXT NOT NULL,
    old_label    TEXT NOT NULL,
    new_label    TEXT NOT NULL,               -- the idempotency token of the create
    step         TEXT NOT NULL,
    attempt      INTEGER NOT NULL DEFAULT 0,  -- creates tried
    new_key_id   TEXT,
    new_api_key  TEXT,
    new_ref      TEXT,                        -- vault reference of the new key's credentials
    delivered    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(delivered)),  -- targets done
    grace_until  TEXT,
    evidence     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(evidence)),
    error        TEXT CHECK (error IS NULL OR json_valid(error)),          -- last failure, if stopped
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (run_id, slot)
  ) STRICT;
  CREATE INDEX rotation_slots_old_key ON rotation_slots (old_key_id);
  `,
  // 3: the keyed audit log (see audit/audit-log.ts). Each entry and the head carry an HMAC-SHA256 made
  // with a key only the vault holds; NULL on entries written before the home was keyed.
  `
  ALTER TABLE audit_log ADD COLUMN mac TEXT;
  ALTER TABLE audit_head ADD COLUMN mac TEXT;
  `,
  // 4: the authenticated rotation journal (see rotation/journal.ts). A run's plan and options, and each
  // slot's fields that decide what a step does, carry an HMAC-SHA256 under the audit key (vault), so
  // whoever can write state.db cannot choose where a new secret goes or what resume runs. NULL on runs
  // journaled before: those are refused.
  `
  ALTER TABLE rotation_runs ADD COLUMN mac TEXT;
  ALTER TABLE rotation_slots ADD COLUMN mac TEXT;
  `,
];
