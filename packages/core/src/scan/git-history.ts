/**
 * Reading a repository's whole history with git plumbing, nothing checked out: every blob reachable
 * from every ref (branches, tags, remotes, the stash), each with the FIRST commit in which a blob of
 * that content sat at each of its paths (a key committed and deleted later is still in history, and
 * that commit is where the leak started).
 *
 * 1. `git log --all --reverse --date-order --root --raw -z --no-renames --diff-merges=first-parent`
 *    lists, parents before children, each commit's added or changed blobs and their paths: the first
 *    (blob, path) seen is the first commit that had it. First-parent diffs for merges: a blob a merge
 *    brings in is credited to the commit on the branch that made it.
 * 2. `git cat-file --batch-check` for the blobs' sizes (the size cap applies to blobs too), then one
 *    `git cat-file --batch` streams the rest, read blob by blob in chunks: never all blobs in memory
 *    (git-blobs.ts).
 *
 * A scanned repository is untrusted input (it may be the leaked one), so git runs so that nothing in
 * it can run code or reach out: argv arrays and no shell; `--no-pager`; hooks, fsmonitor, signature
 * checks (gpg.program), external diff and textconv drivers off; every transport refused and no
 * credential helper (a partial clone would otherwise fetch missing blobs); no terminal prompt; replace
 * refs ignored (they could hide history). git's own refusal of a folder owned by someone else
 * ("dubious ownership") is kept and explained, not bypassed. No system or global config is read
 * (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null). The repository's own config is still read, and
 * git offers no way to turn off its `include.path`: one naming a FIFO would block git forever, so
 * every git process has a watchdog (no output for GIT_STALL_MS while Keyward waits for it → killed,
 * SCAN_GIT_FAILED).
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Socket } from "node:net";
import { dirname, posix } from "node:path";
import type { Readable, Writable } from "node:stream";
import { visibleText } from "../domain/visible-text.js";
import { KeywardError } from "../errors.js";

/** Config for every git run: nothing in the repository may run code or reach the network. */
const SAFE_ARGS = [
  "--no-pager",
  "-c",
  "core.fsmonitor=false",
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "log.showSignature=false",
  "-c",
  "protocol.allow=never",
  "-c",
  "credential.helper=",
  "-c",
  "core.sshCommand=false",
];

function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // GIT_DIR, GIT_WORK_TREE, GIT_CONFIG_* … from a calling hook or shell would point git elsewhere.
    if (!k.startsWith("GIT_")) env[k] = v;
  }
  return {
    ...env,
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "false",
    GIT_NO_REPLACE_OBJECTS: "1",
    GIT_NO_LAZY_FETCH: "1",
    GIT_OPTIONAL_LOCKS: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
  };
}

/** How long git may go without output while Keyward waits for it (the engine's `gitStallMs`). */
export const GIT_STALL_MS = 30_000;

/** How each git process runs: what aborts it, and its watchdog's limit (ms). */
export interface GitRun {
  signal?: AbortSignal | undefined;
  stallMs: number;
}

const stalled = new WeakMap<object, number>(); // git processes the watchdog killed → their limit

export type Git = ChildProcessByStdio<Writable, Readable, Readable>;

export function startGit(
  args: readonly string[],
  cwd: string | undefined,
  { signal, stallMs: limit }: GitRun,
): Git {
  const child = spawn("git", [...SAFE_ARGS, ...args], {
    cwd,
    env: gitEnv(),
    shell: false,
    stdio: ["pipe", "pipe", "pipe"],
    windowsHide: true,
  });
  child.stdin.on("error", () => {}); // git gone early (or never started): its exit status says why
  // Watchdog: killed if it writes nothing for the limit while nothing it wrote waits unread (if output
  // waits, Keyward is the slow one, not git). Polled (bytes received so far), not a "data" listener,
  // which would change how the callers' streams flow.
  let last = Date.now();
  let received = -1;
  const bytesIn = () =>
    ((child.stdout as Partial<Socket>).bytesRead ?? 0) + ((child.stderr as Partial<Socket>).bytesRead ?? 0);
  const timer = setInterval(
    () => {
      const now = bytesIn();
      if (now !== received || child.stdout.readableLength > 0) {
        received = now;
        last = Date.now();
      } else if (Date.now() - last >= limit) {
        stalled.set(child, limit);
        child.kill("SIGKILL");
      }
    },
    Math.min(1000, Math.max(50, Math.floor(limit / 4))),
  );
  timer.unref();
  child.once("close", () => clearInterval(timer));
  child.once("error", () => clearInterval(timer));
  if (signal) {
    const kill = () => child.kill("SIGKILL");
    signal.addEventListener("abort", kill, { once: true });
    child.once("close", () => signal.removeEventListener("abort", kill));
  }
  return child;
}

/** Waits for git to exit; stderr (its first 4 KiB) for errors. Rejects with SCAN_GIT_FAILED. */
export function finished(child: Git, path: string): Promise<{ code: number; stderr: string }> {
  const what = visibleText(path); // Anyone's text: a newline in a folder's name must not forge a line.
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString("utf8");
  });
  return new Promise((resolve, reject) => {
    child.once("error", (cause: NodeJS.ErrnoException) => {
      reject(
        cause.code === "ENOENT"
          ? new KeywardError("SCAN_GIT_FAILED", "git is not installed (needed to read history)", {
              hint: "Install git, or scan without --git (the files as they are on disk).",
            })
          : new KeywardError("SCAN_GIT_FAILED", `git could not be started for ${what}`, { cause }),
      );
    });
    child.once("close", (code) => {
      const stall = stalled.get(child);
      if (stall !== undefined) {
        reject(
          new KeywardError(
            "SCAN_GIT_FAILED",
            `git did not answer for ${Math.round(stall / 1000)} s reading ${what}`,
            {
              hint:
                "Something in the repository's config (an include.path naming a FIFO or a slow network mount) " +
                "can block git. Check `git -C <path> config --list --show-origin`, or scan without --git.",
            },
          ),
        );
      } else resolve({ code: code ?? -1, stderr });
    });
  });
}

export function gitFailure(path: string, stderr: string): KeywardError {
  const what = visibleText(path);
  if (/dubious ownership/i.test(stderr)) {
    return new KeywardError("SCAN_GIT_FAILED", `git refused to read ${what}: it is owned by another user`, {
      hint:
        "git does not trust repositories owned by someone else. Scan as that user, or copy the repository " +
        "(git clone --mirror) and scan the copy; Keyward does not lift git's guard itself.",
    });
  }
  const line = stderr.split("\n").find((l) => l.trim().length > 0) ?? "no message";
  return new KeywardError(
    "SCAN_GIT_FAILED",
    `git could not read the history of ${what}: ${visibleText(line.slice(0, 200))}`,
    {
      hint: "Check that it is a readable git repository (`git -C <path> log` works), or scan without --git.",
    },
  );
}

/**
 * The repository a root is in (the root itself, or a folder above it), or undefined if it is in none:
 * its git directory, and its top (the work tree's top folder, written from the root as given: "srv/app"
 * in a repository at "srv" gives "srv"; a bare repository's top is the root itself). History paths are
 * paths from that top, whatever folder in it was named.
 */
export async function gitDirOf(
  root: string,
  isDirectory: boolean,
  run: GitRun,
): Promise<{ gitDir: string; top: string } | undefined> {
  const folder = isDirectory ? root : dirname(root);
  const child = startGit(["rev-parse", "--absolute-git-dir", "--show-cdup"], folder, run);
  child.stdin.end();
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString("utf8");
  });
  const { code, stderr } = await finished(child, root);
  if (code === 0) {
    // The git dir's path may hold a newline (a folder's name is anyone's text); --show-cdup's line is only
    // "../" steps, and absent in a bare repository.
    const body = out.replace(/\n$/, "");
    const cut = body.lastIndexOf("\n");
    const steps = cut >= 0 && /^(\.\.\/)*$/.test(body.slice(cut + 1));
    const [gitDir, cdup] = steps ? [body.slice(0, cut), body.slice(cut + 1)] : [body, ""];
    const slashed = folder.replaceAll("\\", "/");
    return {
      gitDir: gitDir.trim(),
      top:
        cdup.trim() === "" ? slashed : posix.normalize(`${slashed}/${cdup.trim()}`).replace(/(.)\/$/, "$1"),
    };
  }
  if (/not a git repository/i.test(stderr)) return undefined;
  throw gitFailure(root, stderr);
}

/** Where a blob sat: its path in the repository and the first commit that had it there. */
export interface BlobPlace {
  path: string;
  commit: string;
  commitDate: string;
}

export interface HistoryIndex {
  commits: number;
  /** Blob id → its places, in the order first seen. */
  blobs: Map<string, BlobPlace[]>;
}

/** Step 1: every (blob, path) of the history, with the first commit that had it. */
export async function historyIndex(
  gitDir: string,
  shown: string,
  run: GitRun,
  onCommit?: (commits: number) => void,
): Promise<HistoryIndex> {
  const child = startGit(
    [
      "--git-dir",
      gitDir,
      "log",
      "--all",
      "--reverse",
      "--date-order",
      "--root",
      "--raw",
      "--no-abbrev",
      "--no-renames",
      "--diff-merges=first-parent",
      "--no-ext-diff",
      "--no-textconv",
      "--no-show-signature",
      "--no-color",
      "-z",
      "--format=%x00commit %H %aI",
    ],
    undefined,
    run,
  );
  child.stdin.end();
  const done = finished(child, shown);
  const index: HistoryIndex = { commits: 0, blobs: new Map() };
  let commit = "";
  let commitDate = "";
  /** The blob of the raw line just read, waiting for its path; undefined when none. */
  let pendingBlob: string | undefined;
  let expectPath = false;
  const seenAt = new Set<string>();
  const token = (t: Buffer) => {
    if (expectPath) {
      expectPath = false;
      if (pendingBlob === undefined) return;
      const path = t.toString("utf8");
      const key = `${pendingBlob}\0${path}`;
      if (seenAt.has(key)) return;
      seenAt.add(key);
      const places = index.blobs.get(pendingBlob);
      const place = { path, commit, commitDate };
      if (places) places.push(place);
      else index.blobs.set(pendingBlob, [place]);
      return;
    }
    let s = t.toString("utf8");
    while (s.startsWith("\n")) s = s.slice(1);
    if (s.length === 0) return;
    if (s.startsWith("commit ")) {
      const [, hash, date] = s.split(" ");
      commit = hash ?? "";
      commitDate = date ?? "";
      index.commits++;
      onCommit?.(index.commits);
    } else if (s.startsWith(":")) {
      // ":<old mode> <new mode> <old blob> <new blob> <status>", then the path.
      const [, newMode, , newBlob, status] = s.split(" ");
      expectPath = true;
      const deleted = status?.startsWith("D") || newBlob === undefined || /^0+$/.test(newBlob);
      // 160000: a submodule's commit, not a blob of this repository.
      pendingBlob = deleted || newMode === "160000" ? undefined : newBlob;
    }
  };
  let rest: Buffer = Buffer.alloc(0);
  for await (const piece of child.stdout as AsyncIterable<Buffer>) {
    const buf = rest.length === 0 ? piece : Buffer.concat([rest, piece]);
    let start = 0;
    for (;;) {
      const z = buf.indexOf(0, start);
      if (z === -1) break;
      token(buf.subarray(start, z));
      start = z + 1;
    }
    rest = Buffer.from(buf.subarray(start));
  }
  if (rest.length > 0) token(rest);
  const { code, stderr } = await done;
  if (run.signal?.aborted) return index;
  // An empty repository (no commit yet) has no history: not an error.
  if (code !== 0 && !/does not have any commits|bad default revision/i.test(stderr)) {
    throw gitFailure(shown, stderr);
  }
  return index;
}
