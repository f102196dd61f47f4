/**
 * A home must be private to the user who runs Keyward. A local user who can write the home, or a file
 * in it, could swap `config.json` for one whose endpoint is their own listener, and Keyward would send
 * them the account's signed requests (API key, signature, OKX passphrase); or replace `state.db` (the
 * audit log, tracked keys) or `vault.age`. So: the home and the files Keyward reads must be owned by
 * the current user and writable by nobody else. `open` refuses otherwise; `init` tightens the modes of
 * what the user owns (a home made under a loose umask) and still refuses what another user owns.
 *
 * Modes are read from stat, never asked of access(2): root may write anything, and tests, CI and
 * containers run as root (store/database.ts reads the write bits the same way for the same reason).
 * Windows has no POSIX modes or uids: nothing is checked there.
 */
import { chmodSync, statSync } from "node:fs";
import { KeywardError } from "../errors.js";

/** The home's files that Keyward reads (SQLite's -wal and -shm are part of the database). */
const filesOf = (paths: HomeFiles): string[] => [
  paths.config,
  paths.vault,
  paths.state,
  `${paths.state}-wal`,
  `${paths.state}-shm`,
];

export interface HomeFiles {
  dir: string;
  config: string;
  vault: string;
  state: string;
}

const GROUP_OR_OTHER_WRITE = 0o022;
const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, "0");
const writers = (mode: number) =>
  [mode & 0o020 ? "its group" : "", mode & 0o002 ? "every user" : ""].filter(Boolean).join(" and ");

/** The command that fixes a too-open path; the database loses only the write bits (a frozen one stays frozen). */
const fixCommand = (path: string, isDir: boolean, paths: HomeFiles): string =>
  isDir ? `chmod 700 ${path}` : path.startsWith(paths.state) ? `chmod go-w ${path}` : `chmod 600 ${path}`;

const statOrUndefined = (path: string) => {
  try {
    return statSync(path);
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
  const targets = [
    { path: paths.dir, isDir: true },
    ...filesOf(paths).map((path) => ({ path, isDir: false })),
  ];
  for (const { path, isDir } of targets) {
    const st = statOrUndefined(path);
    if (!st) continue;
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
    if ((st.mode & GROUP_OR_OTHER_WRITE) === 0) continue;
    // What the user owns and could chmod anyway: `init` tightens it (0700 folder, files lose group and
    // other bits; a frozen, write-protected state.db stays frozen).
    const tightened = isDir ? 0o700 : st.mode & 0o700;
    if (options.fix) {
      chmodSync(path, tightened);
      continue;
    }
    throw new KeywardError(
      "HOME_INSECURE",
      `${path} is writable by ${writers(st.mode)} (mode ${octal(st.mode)})`,
      {
        hint: `Another local user could change what Keyward reads. Make it private: ${fixCommand(path, isDir, paths)}`,
      },
    );
  }
}
