/**
 * Crash-safe file replacement. A reader sees either the old file or the new one, never a mix: the
 * bytes go to a temp file in the same directory (same filesystem, so the rename is atomic), are
 * fsynced, then renamed over the target, and the directory is fsynced so the rename itself survives a
 * power cut. A crash leaves at worst a stray temp file, which nothing reads.
 */
import { randomBytes } from "node:crypto";
import { link, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface AtomicWriteOptions {
  /** File mode of the new file. Set with fchmod too, because the umask only ever removes bits. */
  mode?: number;
  /**
   * Fail with an EEXIST error instead of replacing an existing file. Done with link(2), which is
   * atomic: two racing creators cannot both win.
   */
  exclusive?: boolean;
}

/** The temp name for a target: hidden, unique per process and call, and recognisable as leftover. */
export const tempPathFor = (path: string): string =>
  join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);

export async function writeFileAtomic(
  path: string,
  data: Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o600;
  const tmp = tempPathFor(path);
  // "wx": never follow or reuse an existing file at the temp name.
  const handle = await open(tmp, "wx", mode);
  try {
    try {
      await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive) await linkExclusive(tmp, path);
    else await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
  await fsyncDirectory(dirname(path));
}

async function linkExclusive(tmp: string, path: string): Promise<void> {
  try {
    await link(tmp, path);
  } catch (error) {
    // Some filesystems (FUSE, SMB) have no hard links: fall back to check-then-rename, which has a
    // tiny race but still never replaces a file that existed when we looked.
    if (!["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].includes(errnoOf(error) ?? "")) throw error;
    if (await exists(path)) {
      throw Object.assign(new Error(`EEXIST: file already exists, '${path}'`), { code: "EEXIST" });
    }
    await rename(tmp, path);
    return;
  }
  await unlink(tmp);
}

/** fsync a directory so a rename in it is durable. Windows cannot open directories: skip there. */
export async function fsyncDirectory(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch (error) {
    // A few filesystems refuse fsync on directories; the rename is still atomic, just less durable.
    if (!["EINVAL", "EISDIR", "EBADF", "ENOTSUP"].includes(errnoOf(error) ?? "")) throw error;
  } finally {
    await handle.close();
  }
}

export const errnoOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
