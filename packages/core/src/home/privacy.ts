/**
 * A home must be private to the user who runs Keyward. A local user who can write the home, or a file
 * in it, could swap `config.json` for one whose endpoint is their own listener, and Keyward would send
 * them the account's signed requests (API key, signature, passphrase); or replace `state.db` (the
 * audit log, tracked keys) or `vault.age`. A local user who can READ `vault.age` can copy it and guess
 * the passphrase offline at leisure, and one who can read `state.db` learns every key, label and
 * rotation. So: the home folder is the user's alone (0700), `vault.age`, `state.db` (with SQLite's
 * -wal, -shm and -journal) and `audit-head.json` are readable and writable by nobody else, and
 * `config.json` (no secret in it) is writable by nobody else. The home's files must be files, not
 * symlinks: a link leads to a folder this check never sees, whose writers could swap what it reads.
 * `open` refuses otherwise; `init` tightens the modes of what the user owns (a home made under a
 * loose umask, or a 0755 folder made by hand) and still refuses what another user owns, and symlinks.
 *
 * Modes are read from stat, never asked of access(2): root may write anything, and tests, CI and
 * containers run as root (store/database.ts reads the write bits the same way for the same reason).
 * Windows has no POSIX modes or uids: nothing is checked there.
 */
import { chmodSync, lstatSync, readlinkSync, statSync } from "node:fs";
import { KeywardError } from "../errors.js";

export interface HomeFiles {
  dir: string;
  config: string;
  vault: string;
  state: string;
  /** The audit log's head copy, beside state.db. */
  auditHead?: string;
}

/** Who may do what with each of the home's paths: the group and other bits that must be clear. */
interface Rule {
  path: string;
  kind: "dir" | "config" | "secret" | "database";
}

/** The home and the files Keyward reads (SQLite's -wal, -shm and -journal are part of the database). */
const rulesOf = (paths: HomeFiles): Rule[] => [
  { path: paths.dir, kind: "dir" },
  { path: paths.config, kind: "config" },
  { path: paths.vault, kind: "secret" },
  ...(paths.auditHead ? [{ path: paths.auditHead, kind: "secret" as const }] : []),
  ...["", "-wal", "-shm", "-journal"].map((suffix) => ({
    path: `${paths.state}${suffix}`,
    kind: "database" as const,
  })),
];

/** config.json may be read by others (it holds no secret); everything else is the user's alone. */
const forbidden = (kind: Rule["kind"]) => (kind === "config" ? 0o022 : 0o077);

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, "0");
const who = (mode: number, group: number, other: number) =>
  [mode & group ? "its group" : "", mode & other ? "every user" : ""].filter(Boolean).join(" and ");

/** The command that fixes a too-open path; the database keeps its own bits (a frozen one stays frozen). */
const fixCommand = (rule: Rule): string =>
  rule.kind === "dir"
    ? `chmod 700 ${rule.path}`
    : rule.kind === "database"
      ? `chmod go-rwx ${rule.path}`
      : `chmod 600 ${rule.path}`;

/** Why a readable (not writable) path matters, for the message. */
const whyRead: Record<Rule["kind"], string> = {
  dir: "every file in it is listed and opened by name",
  config: "",
  secret: "anyone who can read it can copy it and guess the vault passphrase offline",
  database: "it holds every tracked key, label, rotation and the audit log",
};

const lstatOrUndefined = (path: string, follow: boolean) => {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch {
    return undefined;
  }
};

/**
 * Checks (and with `fix`, tightens) the home's permissions. Missing paths are skipped: what is missing
 * is reported by whoever needs it ("no Keyward home", "no vault").
 */
export function checkHomePrivacy(paths: HomeFiles, options: { fix: boolean }): void {
  if (process.platform === "win32" || typeof process.getuid !== "function") return;
  const uid = process.getuid();
  for (const rule of rulesOf(paths)) {
    const { path, kind } = rule;
    const isDir = kind === "dir";
    // The home folder itself may be reached through a symlink (the folder it leads to is checked);
    // its files may not.
    const st = lstatOrUndefined(path, isDir);
    if (!st) continue;
    if (st.isSymbolicLink()) {
      throw new KeywardError(
        "HOME_INSECURE",
        `${path} is a symlink (to ${readlinkSync(path)}); the home's files must be the files themselves`,
        {
          hint: `Whoever can change the link or the folder it leads to could change what Keyward reads. Put the file itself in the home: cp --remove-destination "$(readlink -f ${path})" ${path}`,
        },
      );
    }
    if (st.uid !== uid) {
      throw new KeywardError(
        "HOME_INSECURE",
        `${path} is owned by uid ${st.uid}, not by the user running Keyward (uid ${uid})`,
        {
          hint: isDir
            ? `Use a home of your own (--home / KEYWARD_HOME), or have its owner hand it over: chown -R ${uid} ${path}`
            : `Another user could change what Keyward reads. Check the file, then: chown ${uid} ${path}`,
        },
      );
    }
    if ((st.mode & forbidden(kind)) === 0) continue;
    // What the user owns and could chmod anyway: `init` tightens it (0700 folder, files lose group and
    // other bits; a frozen, write-protected state.db stays frozen).
    if (options.fix) {
      chmodSync(path, isDir ? 0o700 : st.mode & 0o700);
      continue;
    }
    const writable = (st.mode & 0o022) !== 0;
    const message = writable
      ? `${path} is writable by ${who(st.mode, 0o020, 0o002)} (mode ${octal(st.mode)})`
      : `${path} is ${isDir ? "open to" : "readable by"} ${who(st.mode, 0o050, 0o005)} (mode ${octal(st.mode)}): ${whyRead[kind]}`;
    throw new KeywardError("HOME_INSECURE", message, {
      hint: `${writable ? "Another local user could change what Keyward reads" : "Another local user could read it"}. Make it private: ${fixCommand(rule)}`,
    });
  }
}
