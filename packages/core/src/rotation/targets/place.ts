/**
 * Where a file target really leads, and how it is replaced. A target names a path, but what gets
 * written is the file behind it once every symlink is followed; so:
 *
 * - Keyward's own home is off limits: a target whose real path is the home, inside it, or one of its
 *   files (config.json, vault.age, state.db, wherever a symlink puts them) is refused, when the plan is
 *   made and again just before each write (the plan file can be edited, a symlink swapped in later).
 *   Without this, `dotenv:<home>/vault.age` "succeeds" and destroys the vault.
 * - A symlink on the way is followed only when nobody but root and Keyward's user can change it: the
 *   folder it sits in, and every folder above that, belong to root or Keyward's user and no group or
 *   other user may write them (a sticky folder such as /tmp may be on the way, not hold the link).
 *   Otherwise whoever can write that folder (another user's home, a bot's folder, /tmp) could point
 *   the link at any file Keyward's user may write (/etc/sudoers, when Keyward runs as root).
 * - A file target is never in, or below, a folder every user can write to: there anyone can create
 *   the name first, or rename a folder on the way and put their own in its place, and since the
 *   replacement keeps the file's owner and mode (below), the new secret would be handed to them. A
 *   sticky world-writable folder (/tmp) may be on the way only when what is in it there belongs to
 *   root or Keyward's user; it may not be the file's own folder. An existing file every user can
 *   write is refused too (it is nobody's private file). Group write, and group or other read, are the
 *   bot owner's choice and are kept (a bot's 0644 file stays 0644).
 * - The replacement keeps the replaced file's owner, group and mode: a bot's 0644 file owned by the
 *   bot's user must not become Keyward's 0600 file, which the bot can no longer read. Owner and mode
 *   are set on the temp file before the rename, so the file never exists with the wrong ones; when
 *   they cannot be kept (Keyward's user may not give a file away), the write is refused and the file
 *   stays as it was. A new file is 0600, owned by Keyward's user.
 */
import type { Stats } from "node:fs";
import { lstat, open, readlink, realpath, rename, stat, unlink } from "node:fs/promises";
import { dirname, isAbsolute, join, sep } from "node:path";
import { KeyedSerialQueue } from "../../adapters/rate-limiter.js";
import { type ErrorCode, KeywardError } from "../../errors.js";
import { errnoOf, fsyncDirectory, tempPathFor } from "../../vault/atomic-write.js";

/** The file a path leads to. */
export interface Place {
  /** Every symlink followed; the part that does not exist yet appended as written. */
  real: string;
  /** Whether `real` exists now. */
  exists: boolean;
  /** The deepest folder on the way that exists: where the file is (or where creating it starts). */
  folder: string;
}

const files = new KeyedSerialQueue();

/**
 * Runs `write` after every earlier write to the same file (a real path) in this process has ended, so
 * keys sharing a dotenv or JSON file (with different prefixes or pointers) never lose each other's update.
 */
export const serialised = <T>(file: string, write: () => Promise<T>): Promise<T> => files.run(file, write);

/** Symlink hops before giving up, as the kernel does (ELOOP). */
const MAX_HOPS = 40;

const refused = (code: ErrorCode, target: string, why: string, hint: string) =>
  new KeywardError(code, `${target}: ${why}`, { hint });

/**
 * What to do once a refused target is fixed, ending each refusal's hint. A rotation's (the default):
 * plan again or resume. A key create gives its own (`KEY_CREATE_NEXT_STEP`): it has no plan to fix.
 */
export const ROTATION_NEXT_STEP = "then plan again (or fix the plan and run `keyward rotate resume`)";
/** A key create's next step: its command again (an unfinished create with the same label is continued). */
export const KEY_CREATE_NEXT_STEP = "then run the same `keyward key create` again with that target";

const moveHint = (next: string) =>
  `Deliver to a path outside Keyward's home whose folders only trusted users can write, ${next}.`;

/**
 * Follows a path one component at a time, as the kernel would, so every symlink on the way is seen:
 * one in a world-writable folder is refused. `target` names the target in errors. The result has no
 * symlink in it (the missing tail, if any, is as written).
 */
export async function resolvePlace(
  path: string,
  target: string,
  code: ErrorCode = "DELIVERY_FAILED",
  nextStep: string = ROTATION_NEXT_STEP,
): Promise<Place> {
  const MOVE_HINT = moveHint(nextStep);
  if (!isAbsolute(path)) throw refused(code, target, `"${path}" is not an absolute path`, MOVE_HINT);
  const pending = path.split(sep);
  let current: string = sep;
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      current = dirname(current);
      continue;
    }
    const next = join(current, part);
    let info: Stats;
    try {
      info = await lstat(next);
    } catch (error) {
      if (errnoOf(error) !== "ENOENT") throw error;
      // Nothing there yet: the rest is created as written. A ".." after a missing folder would make
      // the kernel fail but a lexical join succeed elsewhere; refuse it rather than guess.
      if (pending.includes("..")) {
        throw refused(code, target, `${next} does not exist, and ".." follows it`, MOVE_HINT);
      }
      return { real: join(next, ...pending), exists: false, folder: current };
    }
    if (info.isSymbolicLink()) {
      if (++hops > MAX_HOPS) throw refused(code, target, `too many symlinks at ${next}`, MOVE_HINT);
      const open = await folderProblem(current, { writers: 0o022, owners: true });
      if (open) {
        throw refused(
          code,
          target,
          `${next} is a symlink, and ${open}: another user could point it at any file Keyward's user may write`,
          "Point the target at the real file, or keep the link in a folder only root or Keyward's user can change.",
        );
      }
      const to = await readlink(next);
      pending.unshift(...to.split(sep));
      if (isAbsolute(to)) current = sep;
      continue;
    }
    if (!info.isDirectory() && pending.some((p) => p !== "" && p !== ".")) {
      throw refused(code, target, `${next} is not a folder`, MOVE_HINT);
    }
    current = next;
  }
  return { real: current, exists: true, folder: dirname(current) };
}

const isTrustedUid = (uid: number) => uid === 0 || uid === process.getuid?.();

const whoWrites = (mode: number, writers: number) =>
  [mode & writers & 0o020 ? "its group" : "", mode & writers & 0o002 ? "every user" : ""]
    .filter(Boolean)
    .join(" and ");

/**
 * Why users other than root and Keyward's user could change what a name in `folder` (a real path, no
 * symlink in it) leads to, or undefined when they cannot. Walks from `/` down: a folder whose `writers`
 * bits (0o002: every user; 0o022: its group too) are set lets them rename or create entries, unless it
 * is sticky and the entry below it belongs to root or Keyward's user (a sticky bit protects only the
 * entries of their owner); `folder` itself must not have them set at all (anyone could create a name
 * first). With `owners`, every folder must also belong to root or Keyward's user (its owner can chmod
 * it). Windows (no uids) is not checked.
 */
export async function folderProblem(
  folder: string,
  rule: { writers: 0o002 | 0o022; owners: boolean; stickyLast?: boolean },
): Promise<string | undefined> {
  if (typeof process.getuid !== "function") return undefined;
  const parts = folder.split(sep).filter((p) => p !== "");
  let path: string = sep;
  let above: { path: string; mode: number } | undefined; // the sticky open folder just above, if any
  for (let i = 0; i <= parts.length; i++) {
    if (i > 0) path = join(path, parts[i - 1] as string);
    const st = await stat(path);
    if (above !== undefined && !isTrustedUid(st.uid)) {
      return `${path} belongs to uid ${st.uid} and is in ${above.path}, a folder ${whoWrites(above.mode, rule.writers)} can write to: anyone could have made it`;
    }
    if (rule.owners && !isTrustedUid(st.uid)) {
      return `${path} belongs to uid ${st.uid}, neither root nor Keyward's user (uid ${process.getuid()})`;
    }
    above = undefined;
    if ((st.mode & rule.writers) === 0) continue;
    const sticky = (st.mode & 0o1000) !== 0;
    if (i === parts.length && !(sticky && rule.stickyLast)) {
      return `${path} is a folder ${whoWrites(st.mode, rule.writers)} can write to`;
    }
    if (!sticky) {
      return `${path} is a folder ${whoWrites(st.mode, rule.writers)} can write to, without the sticky bit: anyone could rename what is in it`;
    }
    above = { path, mode: st.mode };
  }
  return undefined;
}

/** The real paths Keyward's home is made of: its folder, and each of its files (a symlink may lead out). */
export async function homeParts(home: string): Promise<string[]> {
  // Loaded here, not at the top: the target list is read by `keyward --help`, which must not load the
  // home's modules (SQLite, the vault).
  const { homePaths } = await import("../../home/home.js");
  const paths = homePaths(home);
  const files = [
    paths.config,
    paths.vault,
    paths.state,
    `${paths.state}-wal`,
    `${paths.state}-shm`,
    `${paths.state}-journal`,
    paths.auditHead,
  ];
  const parts: string[] = [];
  for (const p of [home, ...files]) {
    try {
      parts.push(await realpath(p));
    } catch (error) {
      if (errnoOf(error) !== "ENOENT") throw error;
    }
  }
  // The home as given too: if it is not there yet, nothing may be written where it will be.
  parts.push(home);
  return parts;
}

const isWithin = (path: string, part: string) =>
  path === part || path.startsWith(part.endsWith(sep) ? part : part + sep);

/**
 * The place a file target writes, refused when it is (or is inside) Keyward's home. Used when the plan
 * is made (code CONFIG_INVALID) and right before each write (DELIVERY_FAILED). `parts`: homeParts(home),
 * when the caller checks many targets.
 */
export async function checkedPlace(
  path: string,
  target: string,
  home: string,
  code: ErrorCode = "DELIVERY_FAILED",
  parts?: readonly string[],
  nextStep: string = ROTATION_NEXT_STEP,
): Promise<Place> {
  const place = await resolvePlace(path, target, code, nextStep);
  for (const part of parts ?? (await homeParts(home))) {
    if (isWithin(place.real, part)) {
      throw refused(
        code,
        target,
        `it leads to ${place.real}, in Keyward's home (${home}); writing there would destroy Keyward's own configuration, vault or audit log`,
        moveHint(nextStep),
      );
    }
  }
  const open = await folderProblem(place.folder, { writers: 0o002, owners: false });
  if (open) {
    throw refused(
      code,
      target,
      `${open}; another user could put a file of their own at ${place.real}, and the new secret would be handed to them`,
      sharedHint(nextStep),
    );
  }
  if (place.exists) await refuseOpenFile(await stat(place.real), place.real, target, code, nextStep);
  return place;
}

const sharedHint = (next: string) =>
  `Deliver into a folder only the bot's user (and root or Keyward's user) can write, e.g. the bot's own folder, ${next}.`;

/** A file every user can write is nobody's private file: a secret written there is not the bot's alone. */
async function refuseOpenFile(
  st: Stats,
  file: string,
  target: string,
  code: ErrorCode,
  next: string,
): Promise<void> {
  if (st.isFile() && st.mode & 0o002) {
    throw refused(
      code,
      target,
      `${file} is writable by every user (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")}); the new secret would not be the bot's alone`,
      `Check who made it, then: chmod o-w ${file} (or deliver elsewhere), ${next === ROTATION_NEXT_STEP ? "and run the rotation again" : next}.`,
    );
  }
}

/**
 * Replaces `file` (a real path, from checkedPlace) atomically: temp file in the same folder, written,
 * given the old file's owner, group and mode (0600 for a new file), fsynced, renamed over it, folder
 * fsynced. The old file stays whole if anything fails.
 */
export async function replaceFile(file: string, data: Uint8Array, target: string): Promise<void> {
  let old: Stats | undefined;
  try {
    old = await lstat(file);
  } catch (error) {
    if (errnoOf(error) !== "ENOENT") throw error;
  }
  if (old && !old.isFile()) {
    // A symlink here now was swapped in after the path was resolved: do not follow it.
    throw refused(
      "DELIVERY_FAILED",
      target,
      `${file} is ${old.isSymbolicLink() ? "a symlink that appeared while delivering" : "not a regular file"}`,
      moveHint(ROTATION_NEXT_STEP),
    );
  }
  // Again at the last moment: the file may have been opened up since it was checked.
  if (old) await refuseOpenFile(old, file, target, "DELIVERY_FAILED", ROTATION_NEXT_STEP);
  const mode = old ? old.mode & 0o777 : 0o600;
  const tmp = tempPathFor(file);
  // "wx": never follow or reuse an existing file at the temp name; 0600 until the owner is right.
  const handle = await open(tmp, "wx", 0o600);
  try {
    try {
      await handle.writeFile(data);
      if (old && (old.uid !== process.getuid?.() || old.gid !== process.getgid?.())) {
        await keepOwner(handle, old, file, target);
      }
      // After chown, which may clear bits; fchmod because the umask only ever removes bits.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
  await fsyncDirectory(dirname(file));
}

async function keepOwner(
  handle: Awaited<ReturnType<typeof open>>,
  old: Stats,
  file: string,
  target: string,
): Promise<void> {
  try {
    await handle.chown(old.uid, old.gid);
  } catch (error) {
    if (!["EPERM", "EACCES", "EINVAL"].includes(errnoOf(error) ?? "")) throw error;
    throw refused(
      "DELIVERY_FAILED",
      target,
      `${file} belongs to uid ${old.uid}, gid ${old.gid}, and Keyward's user (uid ${process.getuid?.()}) cannot give its replacement that owner; replacing it anyway could cut its reader off, so it was left as it was`,
      "Run the rotation as that user (or as root), or give the file to Keyward's user, then run `keyward rotate resume`.",
    );
  }
}
