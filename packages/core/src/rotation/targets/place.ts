/**
 * Where a file target really leads, and how it is replaced. A target names a path, but what gets
 * written is the file behind it once every symlink is followed; so:
 *
 * - Keyward's own home is off limits: a target whose real path is the home, inside it, or one of its
 *   files (config.json, vault.age, state.db, wherever a symlink puts them) is refused, when the plan is
 *   made and again just before each write (the plan file can be edited, a symlink swapped in later).
 *   Without this, `dotenv:<home>/vault.age` "succeeds" and destroys the vault.
 * - A symlink on the way that sits in a folder every user can write to (`/tmp`) is refused: anyone
 *   could point it at a file Keyward's user may write.
 * - The replacement keeps the replaced file's owner, group and mode: a bot's 0644 file owned by the
 *   bot's user must not become Keyward's 0600 file, which the bot can no longer read. Owner and mode
 *   are set on the temp file before the rename, so the file never exists with the wrong ones; when
 *   they cannot be kept (Keyward's user may not give a file away), the write is refused and the file
 *   stays as it was. A new file is 0600, owned by Keyward's user.
 */
import type { Stats } from "node:fs";
import { lstat, open, readlink, realpath, rename, stat, unlink } from "node:fs/promises";
import { dirname, isAbsolute, join, sep } from "node:path";
import { type ErrorCode, KeywardError } from "../../errors.js";
import { homePaths } from "../../home/home.js";
import { errnoOf, fsyncDirectory, tempPathFor } from "../../vault/atomic-write.js";

/** The file a path leads to. */
export interface Place {
  /** Every symlink followed; the part that does not exist yet appended as written. */
  real: string;
  /** Whether `real` exists now. */
  exists: boolean;
}

/** Symlink hops before giving up, as the kernel does (ELOOP). */
const MAX_HOPS = 40;

const refused = (code: ErrorCode, target: string, why: string, hint: string) =>
  new KeywardError(code, `${target}: ${why}`, { hint });

const MOVE_HINT =
  "Deliver to a path outside Keyward's home whose folders only trusted users can write, then plan again (or fix the plan and run `keyward rotate resume`).";

/**
 * Follows a path one component at a time, as the kernel would, so every symlink on the way is seen:
 * one in a world-writable folder is refused. `target` names the target in errors. The result has no
 * symlink in it (the missing tail, if any, is as written).
 */
export async function resolvePlace(
  path: string,
  target: string,
  code: ErrorCode = "DELIVERY_FAILED",
): Promise<Place> {
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
      return { real: join(next, ...pending), exists: false };
    }
    if (info.isSymbolicLink()) {
      if (++hops > MAX_HOPS) throw refused(code, target, `too many symlinks at ${next}`, MOVE_HINT);
      if ((await stat(current)).mode & 0o002) {
        throw refused(
          code,
          target,
          `${next} is a symlink in ${current}, a folder every user can write to: anyone could point it elsewhere`,
          "Point the target at the real file, or keep the link in a folder only trusted users can write.",
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
  return { real: current, exists: true };
}

/** The real paths Keyward's home is made of: its folder, and each of its files (a symlink may lead out). */
export async function homeParts(home: string): Promise<string[]> {
  const paths = homePaths(home);
  const files = [paths.config, paths.vault, paths.state, `${paths.state}-wal`, `${paths.state}-shm`];
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
): Promise<Place> {
  const place = await resolvePlace(path, target, code);
  for (const part of parts ?? (await homeParts(home))) {
    if (isWithin(place.real, part)) {
      throw refused(
        code,
        target,
        `it leads to ${place.real}, in Keyward's home (${home}); writing there would destroy Keyward's own configuration, vault or audit log`,
        MOVE_HINT,
      );
    }
  }
  return place;
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
      MOVE_HINT,
    );
  }
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
