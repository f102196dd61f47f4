/**
 * The files under the scan's roots. Never follows a symbolic link inside a root (a link out of a leaked
 * server's folder could lead anywhere, or around in a loop): links, FIFOs, sockets and devices are
 * counted as notRegular and not opened (opening a FIFO would wait for a writer). `.git` folders are left
 * to the history reader (`git: true`), which reads them with git instead of as loose files. `exclude`
 * lines are .gitignore patterns relative to each root (the `ignore` package: git's own rules, including
 * `dir/`, `**` and `!negation`).
 *
 * Synchronous on purpose: the engine runs it between reads and yields to the event loop itself, and
 * readdirSync is several times faster than the promise API for trees of many small folders.
 */
import { closeSync, type Dirent, lstatSync, openSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import { visibleText } from "../domain/visible-text.js";
import { KeywardError } from "../errors.js";
import { nameSkipped } from "./parallel.js";
import type { ScanStats } from "./scan-types.js";

export interface ScanRoot {
  /** As the person gave it (shown in hits). */
  given: string;
  isDirectory: boolean;
}

export interface WalkFile {
  /** The path to open. */
  path: string;
  /** The root as given joined with the path under it, "/" separators. */
  shown: string;
  /** The file is a root the person named (read whatever its size). */
  named?: boolean;
}

/** Checks every root before anything is read: each must exist and be a folder or a regular file. */
export function checkRoots(roots: readonly string[]): ScanRoot[] {
  if (roots.length === 0) {
    throw new KeywardError("SCAN_PATH_INVALID", "No path to scan was given", {
      hint: "Name one or more files or folders, e.g. `keyward scan /srv/bot`.",
    });
  }
  return roots.map((given) => {
    let st: ReturnType<typeof statSync>;
    try {
      // The root itself is followed if it is a link: the person named it.
      st = statSync(given);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new KeywardError(
        "SCAN_PATH_INVALID",
        code === "ENOENT"
          ? `${visibleText(given)} does not exist`
          : `${visibleText(given)} cannot be read (${code ?? "error"})`,
        {
          hint:
            code === "EACCES"
              ? "Run the scan as a user who may read it, or name a path you can read."
              : "Check the path: name a file or folder on this machine.",
        },
      );
    }
    if (!st.isDirectory() && !st.isFile()) {
      throw new KeywardError("SCAN_PATH_INVALID", `${visibleText(given)} is not a file or folder`, {
        hint: "Name regular files or folders; devices, FIFOs and sockets are not scanned.",
      });
    }
    // A named root that cannot be read is refused now, as one that does not exist: skipped later, it
    // would leave a scan of nothing that exits as if clean.
    try {
      if (st.isDirectory()) readdirSync(given);
      else closeSync(openSync(given, "r"));
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new KeywardError(
        "SCAN_PATH_INVALID",
        `${visibleText(given)} cannot be read (${code ?? "error"})`,
        {
          hint: "Run the scan as a user who may read it, or name a path you can read.",
        },
      );
    }
    return { given, isDirectory: st.isDirectory() };
  });
}

/** The exclude rules, or undefined when there are none. */
export function excludeRules(exclude: readonly string[] | undefined): Ignore | undefined {
  const lines = (exclude ?? []).map((l) => l.trim()).filter((l) => l.length > 0);
  return lines.length === 0 ? undefined : ignore().add(lines);
}

const joinShown = (base: string, name: string) => (base.endsWith("/") ? base + name : `${base}/${name}`);

/**
 * The regular files under a root, depth first in name order (so results are the same run to run);
 * skipped entries are counted in `skipped`.
 */
export function* walkRoot(
  root: ScanRoot,
  rules: Ignore | undefined,
  stats: Pick<ScanStats, "skipped" | "skippedSources">,
): Generator<WalkFile> {
  const skipped = stats.skipped;
  const unreadable = (shown: string) => {
    skipped.unreadable++;
    nameSkipped(stats, { path: shown, reason: "unreadable" });
  };
  // "/" separators in what is shown; on POSIX a backslash is part of a name and stays.
  const given = sep === "\\" ? root.given.replaceAll("\\", "/") : root.given;
  if (!root.isDirectory) {
    // A file root that is a link is followed (the person named it), but files are opened with
    // O_NOFOLLOW: open the file it leads to, shown as given.
    let path = root.given;
    try {
      path = realpathSync(root.given);
    } catch {
      // Gone since checkRoots: opening it reports it unreadable.
    }
    yield { path, shown: given, named: true };
    return;
  }
  // Folders still to read: path on disk, path shown, path relative to the root ("" for the root).
  const stack: { path: string; shown: string; rel: string }[] = [{ path: root.given, shown: given, rel: "" }];
  while (stack.length > 0) {
    const dir = stack.pop();
    if (!dir) break;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir.path, { withFileTypes: true });
    } catch {
      unreadable(dir.shown);
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const folders: { path: string; shown: string; rel: string }[] = [];
    for (const entry of entries) {
      const path = join(dir.path, entry.name);
      const rel = dir.rel === "" ? entry.name : `${dir.rel}/${entry.name}`;
      let kind = direntKind(entry);
      if (kind === "unknown") {
        // Some filesystems do not say in the folder listing: ask (without following links).
        try {
          const st = lstatSync(path, { throwIfNoEntry: false });
          kind = st === undefined ? "other" : st.isDirectory() ? "dir" : st.isFile() ? "file" : "other";
        } catch {
          unreadable(joinShown(dir.shown, entry.name));
          continue;
        }
      }
      if (entry.name === ".git") continue;
      if (kind === "dir") {
        if (rules?.ignores(`${rel}/`)) {
          skipped.excluded++;
          continue;
        }
        folders.push({ path, shown: joinShown(dir.shown, entry.name), rel });
      } else if (kind === "file") {
        if (rules?.ignores(rel)) {
          skipped.excluded++;
          continue;
        }
        yield { path, shown: joinShown(dir.shown, entry.name) };
      } else {
        skipped.notRegular++;
      }
    }
    // Depth first, in name order: push in reverse.
    for (let i = folders.length - 1; i >= 0; i--) {
      const f = folders[i];
      if (f) stack.push(f);
    }
  }
}

function direntKind(entry: Dirent): "dir" | "file" | "other" | "unknown" {
  if (entry.isSymbolicLink()) return "other";
  if (entry.isDirectory()) return "dir";
  if (entry.isFile()) return "file";
  if (entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice())
    return "other";
  return "unknown";
}
