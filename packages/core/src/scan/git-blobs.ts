/**
 * Step 2 of reading a repository's history (git-history.ts): the blobs' sizes from one
 * `git cat-file --batch-check`, then their contents streamed from one `git cat-file --batch`, blob by
 * blob in pieces as git writes them (never all blobs in memory); one blob whole, for its hits' lines.
 * git runs as git-history.ts starts it: nothing in the repository may run code or reach out.
 */
import { finished, type GitRun, gitFailure, startGit } from "./git-history.js";

/**
 * Step 2a: the size of each blob. A blob git does not have (a partial clone, a corrupt repository) is
 * left out: the caller counts it as not read.
 */
export async function blobSizes(
  gitDir: string,
  blobs: readonly string[],
  shown: string,
  run: GitRun,
): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (blobs.length === 0) return sizes;
  const child = startGit(["--git-dir", gitDir, "cat-file", "--batch-check"], undefined, run);
  const done = finished(child, shown);
  child.stdin.end(`${blobs.join("\n")}\n`);
  let rest = "";
  for await (const piece of child.stdout as AsyncIterable<Buffer>) {
    const lines = (rest + piece.toString("latin1")).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      const [sha, type, size] = line.split(" ");
      if (sha && type === "blob" && size !== undefined) sizes.set(sha, Number(size));
    }
  }
  const { code, stderr } = await done;
  if (code !== 0 && !run.signal?.aborted) throw gitFailure(shown, stderr);
  return sizes;
}

export interface BlobSink {
  /** A blob git reported `missing` (gone since its size was read): its content was not read. */
  missing(blob: string): void;
  begin(blob: string, size: number): void;
  data(bytes: Buffer): void;
  end(): void;
}

/**
 * Step 2b: the blobs' contents, streamed through `sink` one blob at a time, in pieces as git writes
 * them. `between` runs between pieces (the engine's chance to yield and check for an abort).
 */
export async function readBlobs(
  gitDir: string,
  blobs: readonly string[],
  shown: string,
  sink: BlobSink,
  run: GitRun,
  between?: () => Promise<void>,
): Promise<void> {
  if (blobs.length === 0) return;
  const child = startGit(["--git-dir", gitDir, "cat-file", "--batch"], undefined, run);
  const done = finished(child, shown);
  child.stdin.end(`${blobs.join("\n")}\n`);
  // Parser state: reading a header line, a blob's content (remaining bytes), or its trailing LF.
  let header = "";
  let remaining = -1; // -1: in a header; ≥ 0: content bytes left
  let trailer = false;
  for await (const piece of child.stdout as AsyncIterable<Buffer>) {
    let pos = 0;
    while (pos < piece.length) {
      if (trailer) {
        pos++; // the LF after a blob's content
        trailer = false;
        continue;
      }
      if (remaining < 0) {
        const nl = piece.indexOf(10, pos);
        if (nl === -1) {
          header += piece.toString("latin1", pos);
          pos = piece.length;
          break;
        }
        header += piece.toString("latin1", pos, nl);
        pos = nl + 1;
        const [sha, type, size] = header.split(" ");
        header = "";
        if (!sha) continue;
        if (type === "missing" || size === undefined) {
          sink.missing(sha);
          continue;
        }
        remaining = Number(size);
        sink.begin(sha, remaining);
        if (remaining === 0) {
          sink.end();
          remaining = -1;
          trailer = true;
        }
        continue;
      }
      const take = Math.min(remaining, piece.length - pos);
      sink.data(piece.subarray(pos, pos + take));
      pos += take;
      remaining -= take;
      if (remaining === 0) {
        sink.end();
        remaining = -1;
        trailer = true;
      }
    }
    if (between) await between();
  }
  const { code, stderr } = await done;
  if (code !== 0 && !run.signal?.aborted) throw gitFailure(shown, stderr);
}

/** One blob's whole content (for the line and column of its hits: blobs with hits only). */
export async function readBlob(gitDir: string, blob: string, shown: string, run: GitRun) {
  const child = startGit(["--git-dir", gitDir, "cat-file", "blob", blob], undefined, run);
  child.stdin.end();
  const done = finished(child, shown);
  const parts: Buffer[] = [];
  for await (const piece of child.stdout as AsyncIterable<Buffer>) parts.push(piece);
  const { code, stderr } = await done;
  if (code !== 0 && !run.signal?.aborted) throw gitFailure(shown, stderr);
  return Buffer.concat(parts);
}
