/**
 * The credential vault: every exchange secret Keyward holds, in one file encrypted at rest with age
 * (passphrase/scrypt mode, so the file also opens with the reference `age -d` tool in an emergency).
 * The plaintext is a JSON document `{version: 1, entries: {[ref]: {apiKey, secret, passphrase?, totpSeed?}}}`
 * (`totpSeed`: an account's two-factor seed, where its exchange asks for one; an optional field, so
 * vaults written before it existed open unchanged);
 * version 2 adds `audit: {key, keyedAfter: {seq, hash}}`, the audit log's HMAC key (see
 * audit/audit-log.ts): kept here, not in state.db, so that whoever can write state.db cannot forge it.
 *
 * In memory the values live as `Secret`s, revealed only to encrypt; nothing here ever puts a secret,
 * the passphrase or decrypted text into an error message or an error's `cause`.
 *
 * `age-encryption` is imported lazily (it is only needed once a vault is opened) so that loading
 * `@keyward/core` stays cheap for `keyward --help`.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import type { Credentials } from "../domain/credentials.js";
import { Secret } from "../domain/secret.js";
import { KeywardError } from "../errors.js";
import { errnoOf, writeFileAtomic } from "./atomic-write.js";
import { encryptOffThread } from "./encrypt-pool.js";
import { NativeScryptIdentity } from "./scrypt-identity.js";

/** The vault's file name inside the Keyward home. */
export const VAULT_FILE_NAME = "vault.age";

/**
 * The scrypt work factor (log2 N) for new vault files. age's default is 18, but age-encryption runs
 * scrypt in pure JS (@noble/hashes), synchronously. Measured on this project's 2-core machine (Node
 * 20.20, one encrypt + one decrypt of a 50-entry vault; each is dominated by one scrypt run):
 *
 *   logN 14: ~100 ms + ~70 ms     logN 16: ~320 ms + ~320 ms     logN 18: ~1.3 s + ~1.3-1.7 s
 *   logN 15: ~160 ms + ~150 ms    logN 17: ~650 ms + ~700 ms     (Node's native scrypt: ~0.9 s at 18)
 *
 * An open followed by a save pays both, so 18 costs ~3 s per CLI command and 17 ~1.4 s; 16 keeps it
 * near 0.65 s (and 64 MiB of scrypt memory). The passphrase must carry the difference: 4 fewer bits of
 * work than age's default means a somewhat stronger passphrase for the same offline-guessing cost.
 */
export const VAULT_SCRYPT_WORK_FACTOR = 16;

/** age refuses to decrypt above 20 (1 GiB of memory), so never write above it. */
const MAX_WORK_FACTOR = 20;

/**
 * Where credentials live in the vault (accounts' `credentialsRef`, tracked keys' `credentials_ref`).
 * Printable, trimmed, and never `__proto__`, which would not survive a round trip through an object.
 */
export const VaultRefSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(
    /^[^\s\p{C}](?:[^\p{C}]*[^\s\p{C}])?$/u,
    "use printable characters without leading or trailing spaces",
  )
  .refine((ref) => ref !== "__proto__", "is reserved");

const EntrySchema = z.strictObject({
  apiKey: z.string().min(1),
  secret: z.string().min(1),
  passphrase: z.string().min(1).optional(),
  totpSeed: z.string().min(1).optional(),
});

const AuditKeySchema = z.strictObject({
  key: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, "must be 32 bytes, base64"),
  keyedAfter: z.strictObject({
    seq: z.number().int().min(0),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
  }),
});

const DocumentSchema = z.strictObject({
  version: z.union([z.literal(1), z.literal(2)]),
  entries: z.record(VaultRefSchema, EntrySchema),
  audit: AuditKeySchema.optional(),
});

/**
 * The audit log's HMAC key and where keying began: entries after `keyedAfter` (the log's head when
 * the key was made; seq 0 for a log keyed from its start) must carry a MAC made with `key`.
 */
export interface VaultAuditKey {
  key: Secret;
  keyedAfter: { seq: number; hash: string };
}

export interface VaultOptions {
  /**
   * scrypt work factor for the file this instance writes. Default: VAULT_SCRYPT_WORK_FACTOR for a new
   * vault, and the factor the file already has for an opened one. Lower values are for tests.
   */
  workFactor?: number;
}

const PASSPHRASE_HINT =
  "Set KEYWARD_PASSPHRASE to the vault passphrase, or leave it unset and type the passphrase at the prompt.";

export class Vault {
  readonly path: string;
  #passphrase: Secret;
  readonly #entries: Map<string, Credentials>;
  #audit: VaultAuditKey | undefined;
  readonly #workFactor: number;
  /** sha256 of the file as this instance last read or wrote it, to notice another writer. */
  #fingerprint: string | null;
  /** Saves run one at a time, in call order. */
  #saving: Promise<void> = Promise.resolve();

  private constructor(
    path: string,
    passphrase: Secret,
    entries: Map<string, Credentials>,
    workFactor: number,
    fingerprint: string | null,
    audit?: VaultAuditKey,
  ) {
    this.path = path;
    this.#passphrase = passphrase;
    this.#entries = entries;
    this.#audit = audit;
    this.#workFactor = workFactor;
    this.#fingerprint = fingerprint;
  }

  /**
   * Writes a new vault, empty but for the audit key if one is given (one encryption instead of two).
   * Refuses (VAULT_EXISTS) if anything already exists at `path`.
   */
  static async create(
    path: string,
    passphrase: Secret,
    options: VaultOptions = {},
    auditKey?: VaultAuditKey,
  ): Promise<Vault> {
    if (passphrase.reveal().length === 0) {
      throw new KeywardError("CONFIG_INVALID", "The vault passphrase must not be empty.", {
        hint: "Choose a passphrase of at least 4-5 random words or 10 random characters.",
      });
    }
    const workFactor = checkWorkFactor(options.workFactor ?? VAULT_SCRYPT_WORK_FACTOR);
    // Checked up front for a quick answer; the exclusive write below is what actually guarantees it.
    if (await pathExists(path)) throw existsError(path);
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw ioError(path, "created", error);
    }
    const vault = new Vault(path, passphrase, new Map(), workFactor, null);
    if (auditKey !== undefined) vault.setAuditKey(auditKey);
    await vault.#write(true);
    return vault;
  }

  /** Opens and decrypts an existing vault. */
  static async open(path: string, passphrase: Secret, options: VaultOptions = {}): Promise<Vault> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if (errnoOf(error) === "ENOENT") {
        throw new KeywardError("VAULT_MISSING", `There is no credential vault at ${path}.`, {
          hint: "Run `keyward init` to create one.",
        });
      }
      throw ioError(path, "read", error);
    }
    const { workFactor } = inspectHeader(bytes, path);
    const plaintext = await decrypt(bytes, passphrase, path);
    const { entries, audit } = parseDocument(plaintext, path);
    return new Vault(
      path,
      passphrase,
      entries,
      options.workFactor === undefined ? workFactor : checkWorkFactor(options.workFactor),
      fingerprint(bytes),
      audit,
    );
  }

  /**
   * Whether the file is still the one this instance last read or wrote (a read and a hash, no
   * decryption): false once another process (or another instance) saved it, or it is gone.
   */
  async isCurrent(): Promise<boolean> {
    try {
      return fingerprint(await readFile(this.path)) === this.#fingerprint;
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return false;
      throw ioError(this.path, "read", error);
    }
  }

  /**
   * Opens the file again as it is now, with the passphrase this instance holds (a long-lived holder,
   * the web server, sees another process's saves without asking for the passphrase again).
   */
  reread(options: VaultOptions = {}): Promise<Vault> {
    return Vault.open(this.path, this.#passphrase, options);
  }

  /** The audit log's HMAC key, once the log has been keyed (KeywardHome does that on first open). */
  auditKey(): VaultAuditKey | undefined {
    return this.#audit === undefined
      ? undefined
      : { key: this.#audit.key, keyedAfter: { ...this.#audit.keyedAfter } };
  }

  /** Sets (or, with undefined, clears) the audit key in memory; `save()` writes it. */
  setAuditKey(audit: VaultAuditKey | undefined): void {
    if (audit !== undefined) {
      const parsed = AuditKeySchema.safeParse({ key: audit.key.reveal(), keyedAfter: audit.keyedAfter });
      // Only the problem's location: the issue could quote the key.
      if (!parsed.success) throw new KeywardError("CONFIG_INVALID", "The audit key is not valid.");
    }
    this.#audit = audit === undefined ? undefined : { key: audit.key, keyedAfter: { ...audit.keyedAfter } };
  }

  get(ref: string): Credentials | undefined {
    const c = this.#entries.get(ref);
    return c === undefined ? undefined : { ...c };
  }

  has(ref: string): boolean {
    return this.#entries.has(ref);
  }

  /** Adds or replaces an entry in memory; `save()` writes it. */
  set(ref: string, credentials: Credentials): void {
    const checked = VaultRefSchema.safeParse(ref);
    if (!checked.success) {
      throw new KeywardError("CONFIG_INVALID", `Vault reference ${JSON.stringify(ref)} is not valid.`, {
        hint: "Use printable characters without leading or trailing spaces (e.g. the account name).",
      });
    }
    if (credentials.apiKey.trim().length === 0 || !(credentials.secret instanceof Secret)) {
      throw new KeywardError("CONFIG_INVALID", `Credentials for ${ref} need an API key and a secret.`);
    }
    if (
      credentials.secret.reveal().length === 0 ||
      credentials.passphrase?.reveal().length === 0 ||
      credentials.totpSeed?.reveal().length === 0
    ) {
      throw new KeywardError(
        "CONFIG_INVALID",
        `Credentials for ${ref} have an empty secret, passphrase or TOTP seed.`,
      );
    }
    const { apiKey, secret, passphrase, totpSeed } = credentials;
    this.#entries.set(ref, {
      apiKey,
      secret,
      ...(passphrase === undefined ? {} : { passphrase }),
      ...(totpSeed === undefined ? {} : { totpSeed }),
    });
  }

  delete(ref: string): boolean {
    return this.#entries.delete(ref);
  }

  refs(): string[] {
    return [...this.#entries.keys()].sort();
  }

  /** Changes the passphrase the next `save()` encrypts with. */
  setPassphrase(passphrase: Secret): void {
    if (passphrase.reveal().length === 0) {
      throw new KeywardError("CONFIG_INVALID", "The vault passphrase must not be empty.");
    }
    this.#passphrase = passphrase;
  }

  /**
   * Encrypts and atomically replaces the vault file. Fails with VAULT_CONFLICT, writing nothing, if
   * the file changed since this instance read or wrote it (another `keyward` process saved in
   * between): silently overwriting could lose a freshly rotated secret. The check and the rename are
   * not one atomic step, so two saves within the same millisecond window can still race; the CLI
   * holds a vault open for one command only, which keeps that window small.
   */
  save(): Promise<void> {
    const run = this.#saving.then(() => this.#write(false));
    this.#saving = run.catch(() => {});
    return run;
  }

  async #write(exclusive: boolean): Promise<void> {
    const ciphertext = await encrypt(
      serialise(this.#entries, this.#audit),
      this.#passphrase,
      this.#workFactor,
    );
    if (!exclusive) await this.#assertUnchanged();
    try {
      await writeFileAtomic(this.path, ciphertext, { mode: 0o600, exclusive });
    } catch (error) {
      if (exclusive && errnoOf(error) === "EEXIST") throw existsError(this.path);
      throw ioError(this.path, "written", error);
    }
    this.#fingerprint = fingerprint(ciphertext);
  }

  async #assertUnchanged(): Promise<void> {
    let current: string | null = null;
    try {
      current = fingerprint(await readFile(this.path));
    } catch (error) {
      if (errnoOf(error) !== "ENOENT") throw ioError(this.path, "read", error);
    }
    if (current !== this.#fingerprint) {
      throw new KeywardError(
        "VAULT_CONFLICT",
        `The vault at ${this.path} was ${current === null ? "removed" : "changed by another process"} since it was opened; nothing was saved.`,
        { hint: "Run the command again: it will open the vault as it is now." },
      );
    }
  }
}

function serialise(entries: ReadonlyMap<string, Credentials>, audit: VaultAuditKey | undefined): string {
  const out: Record<string, z.infer<typeof EntrySchema>> = {};
  for (const ref of [...entries.keys()].sort()) {
    const c = entries.get(ref);
    if (c === undefined) continue;
    // defineProperty, not assignment: `out["__proto__"] = …` would set the prototype instead of adding
    // an entry (VaultRefSchema already refuses that ref; this keeps serialise safe on its own).
    Object.defineProperty(out, ref, {
      value: {
        apiKey: c.apiKey,
        secret: c.secret.reveal(),
        ...(c.passphrase === undefined ? {} : { passphrase: c.passphrase.reveal() }),
        ...(c.totpSeed === undefined ? {} : { totpSeed: c.totpSeed.reveal() }),
      },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  // Version 2 only when it holds an audit key, so an older Keyward says "written by a newer Keyward"
  // instead of "not a valid vault document".
  return JSON.stringify(
    audit === undefined
      ? { version: 1, entries: out }
      : { version: 2, entries: out, audit: { key: audit.key.reveal(), keyedAfter: audit.keyedAfter } },
  );
}

async function encrypt(plaintext: string, passphrase: Secret, workFactor: number): Promise<Uint8Array> {
  const off = await encryptOffThread(plaintext, passphrase.reveal(), workFactor);
  if (off) return off;
  const { Encrypter } = await import("age-encryption");
  const encrypter = new Encrypter();
  encrypter.setScryptWorkFactor(workFactor);
  encrypter.setPassphrase(passphrase.reveal());
  return encrypter.encrypt(plaintext);
}

async function decrypt(bytes: Uint8Array, passphrase: Secret, path: string): Promise<string> {
  const { Decrypter } = await import("age-encryption");
  const decrypter = new Decrypter();
  decrypter.addIdentity(new NativeScryptIdentity(passphrase.reveal()));
  try {
    return await decrypter.decrypt(bytes, "text");
  } catch (error) {
    // age-encryption has no error classes. inspectHeader already proved the file holds exactly one
    // well-formed scrypt stanza, so "no identity matched" can only mean the passphrase is wrong.
    if (error instanceof Error && error.message.includes("no identity matched")) {
      throw new KeywardError("VAULT_PASSPHRASE", `The passphrase for the vault at ${path} is wrong.`, {
        hint: PASSPHRASE_HINT,
      });
    }
    throw corruptError(path, "it fails age's integrity checks (damaged or truncated)", error);
  }
}

const AGE_MAGIC = "age-encryption.org/v1\n";

/**
 * Checks, before spending a scrypt run, that this is a binary age file encrypted to exactly one
 * passphrase, and reads its work factor. Without this, a file encrypted to age keys would be
 * misreported as a wrong passphrase.
 */
function inspectHeader(bytes: Uint8Array, path: string): { workFactor: number } {
  // The header is ASCII; an scrypt one is ~130 bytes. latin1 maps bytes 1:1 so nothing throws.
  const head = Buffer.from(bytes.subarray(0, 4096)).toString("latin1");
  if (!head.startsWith(AGE_MAGIC)) throw corruptError(path, "it is not an age-encrypted file");
  const end = head.indexOf("\n---");
  if (end < 0) throw corruptError(path, "its age header is truncated");
  const stanzas = head
    .slice(AGE_MAGIC.length, end)
    .split("\n")
    .filter((line) => line.startsWith("-> "));
  const args = stanzas[0]?.slice(3).split(" ") ?? [];
  if (stanzas.length !== 1 || args[0] !== "scrypt") {
    throw corruptError(path, "it is encrypted to age keys, not to a passphrase");
  }
  const logN = /^[1-9][0-9]?$/.test(args[2] ?? "") ? Number(args[2]) : Number.NaN;
  if (args.length !== 3 || !(logN <= MAX_WORK_FACTOR)) {
    throw corruptError(path, "its scrypt parameters are invalid");
  }
  return { workFactor: logN };
}

/** Never includes decrypted text: a JSON syntax error message quotes the text it choked on. */
function parseDocument(
  plaintext: string,
  path: string,
): { entries: Map<string, Credentials>; audit: VaultAuditKey | undefined } {
  let json: unknown;
  try {
    json = JSON.parse(plaintext);
  } catch {
    throw corruptError(path, "its decrypted contents are not JSON");
  }
  const version = typeof json === "object" && json !== null && "version" in json ? json.version : undefined;
  if (typeof version === "number" && version > 2) {
    throw corruptError(path, `it is a version-${version} vault, written by a newer Keyward`);
  }
  const parsed = DocumentSchema.safeParse(json);
  if (!parsed.success) {
    // Issue paths could name a mis-keyed secret; report only how many problems there are.
    throw corruptError(
      path,
      `its decrypted contents are not a valid vault document (${parsed.error.issues.length} problem(s))`,
    );
  }
  const entries = new Map<string, Credentials>();
  for (const [ref, e] of Object.entries(parsed.data.entries)) {
    entries.set(ref, {
      apiKey: e.apiKey,
      secret: new Secret(e.secret),
      ...(e.passphrase === undefined ? {} : { passphrase: new Secret(e.passphrase) }),
      ...(e.totpSeed === undefined ? {} : { totpSeed: new Secret(e.totpSeed) }),
    });
  }
  const audit = parsed.data.audit;
  return {
    entries,
    audit:
      audit === undefined ? undefined : { key: new Secret(audit.key), keyedAfter: { ...audit.keyedAfter } },
  };
}

function checkWorkFactor(logN: number): number {
  if (!Number.isInteger(logN) || logN < 1 || logN > MAX_WORK_FACTOR) {
    throw new KeywardError(
      "CONFIG_INVALID",
      `The scrypt work factor must be an integer from 1 to ${MAX_WORK_FACTOR}.`,
    );
  }
  return logN;
}

const fingerprint = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    // ENOENT, or unreadable: the exclusive write then reports the real problem.
    return false;
  }
}

const existsError = (path: string) =>
  new KeywardError("VAULT_EXISTS", `A credential vault already exists at ${path}; it was not overwritten.`, {
    hint: "Open the existing vault, or move it aside first if you really mean to start over.",
  });

const corruptError = (path: string, why: string, cause?: unknown) =>
  new KeywardError("VAULT_CORRUPT", `The vault at ${path} cannot be read: ${why}.`, {
    hint: "Restore vault.age from a backup. Stray .vault.age.*.tmp files beside it are leftovers of an interrupted save and are never read.",
    ...(cause === undefined ? {} : { cause }),
  });

/** fs errors name the path and the errno, never file contents, so they are safe to keep as the cause. */
const ioError = (path: string, verb: "read" | "written" | "created", error: unknown) =>
  new KeywardError(
    "VAULT_IO",
    `The vault at ${path} could not be ${verb} (${errnoOf(error) ?? (error instanceof Error ? error.message : "unknown error")}).`,
    {
      hint: "Check that the Keyward home directory exists, that you own it, and that the disk is not full.",
      cause: error,
    },
  );
