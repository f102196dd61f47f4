/**
 * The scan's history phase (task: scan engine): for each root in a git repository, every blob reachable
 * from every ref (git-history.ts), searched here as git streams it or, for a large history, by the
 * worker threads in batches; each hit once per (first commit, path) of its blob.
 */
import { visibleText } from "../domain/visible-text.js";
import { CHUNK_BYTES, locate } from "./file-scan.js";
import { blobSizes, readBlob, readBlobs } from "./git-blobs.js";
import { type GitRun, gitDirOf, historyIndex } from "./git-history.js";
import { locateOffsets } from "./line-index.js";
import { absorbCounts, keepHit, nameSkipped } from "./parallel.js";
import type { FilesJob } from "./scan-files.js";
import type { ScanHit } from "./scan-types.js";
import type { WorkerAnswer, WorkerBatch } from "./scan-worker.js";
import { looksBinary, type RawHit } from "./source-scan.js";
import { asUtf8, Utf16ToUtf8 } from "./utf16.js";

/** A history with fewer blobs than this is searched in-process. */
const IN_PROCESS_BLOBS = 256;
/** Paths a blob's hits are listed at; its further paths are counted in stats.hitsDropped. */
export const MAX_PLACES_PER_BLOB = 20;
/** Blobs up to this size go to the workers (larger ones are streamed here, never held whole). */
const WORKER_BLOB_BYTES = 1024 * 1024;
/** A batch of blobs for a worker: this many bytes or blobs, whichever comes first. */
const BATCH_BLOB_BYTES = 4 * 1024 * 1024;
const BATCH_BLOBS = 512;

export interface HistoryJob extends FilesJob {
  git: GitRun;
  /** Where the history phase says what it could not do (a root in no repository). */
  warnings: string[];
}

export async function scanHistory(job: HistoryJob): Promise<void> {
  const { stats, pace, scanner, git } = job;
  const seen = new Set<string>();
  for (const root of job.roots) {
    const repo = await gitDirOf(root.given, root.isDirectory, git);
    pace.check();
    if (repo === undefined) {
      job.warnings.push(
        // A folder's name is anyone's text: escaped, so a newline in it cannot forge the summary's next line.
        `--git: ${visibleText(root.given)} is not in a git repository: its files were read, it has no history`,
      );
      continue;
    }
    const { gitDir } = repo;
    if (seen.has(gitDir)) continue;
    seen.add(gitDir);
    // History paths are from the repository's top, so its locations name the top, not the root given (a
    // subfolder of it): a reader (SARIF's base, a person) joins them to the right folder.
    const shown = repo.top;
    const commitsBefore = stats.commits;
    const index = await historyIndex(gitDir, shown, git, (n) => {
      stats.commits = commitsBefore + n;
      pace.progress();
    });
    pace.check();
    // `exclude` applies to the paths in the repository too: a blob only at excluded paths is not read.
    const rules = job.rules;
    if (rules) {
      for (const [blob, places] of index.blobs) {
        const kept = places.filter((p) => !rules.ignores(p.path));
        if (kept.length === places.length) continue;
        if (kept.length === 0) {
          index.blobs.delete(blob);
          stats.skipped.excluded++;
        } else {
          index.blobs.set(blob, kept);
        }
      }
    }
    const sizes = await blobSizes(gitDir, [...index.blobs.keys()], shown, git);
    pace.check();
    // A blob not read is named at its first place (its first commit and path).
    const nameBlob = (blob: string, reason: "tooLarge" | "binary" | "unreadable", bytes?: number) => {
      const place = index.blobs.get(blob)?.[0];
      if (!place) return;
      nameSkipped(stats, {
        path: place.path,
        reason,
        ...(bytes === undefined ? {} : { bytes }),
        commit: place.commit,
        repository: shown,
      });
    };
    // A blob git does not have (its object deleted or corrupt, a partial clone's) was not read: said so,
    // never passed over as if it were clean.
    const unreadable = (blob: string) => {
      stats.skipped.unreadable++;
      nameBlob(blob, "unreadable");
    };
    for (const blob of index.blobs.keys()) if (!sizes.has(blob)) unreadable(blob);
    const toRead: string[] = [];
    for (const [blob, size] of sizes) {
      if (size > job.maxFileBytes) {
        stats.skipped.tooLarge++;
        nameBlob(blob, "tooLarge", size);
      } else toRead.push(blob);
    }
    // Many blobs: the small ones (most of a history) go to the workers in batches, copied out of git's
    // stream into buffers of their own that move to the worker; the rest are searched here.
    const parallel = toRead.length >= IN_PROCESS_BLOBS ? job.startParallel() : undefined;
    let batch: WorkerBatch["blobs"] = [];
    let batchBytes = 0;
    const keys: string[] = []; // batch key → blob
    let own: Uint8Array | undefined; // the blob being copied for a worker
    let ownAt = 0;
    const absorb = (a: WorkerAnswer) => {
      absorbCounts(job, a);
      for (const key of a.binaryBlobs) nameBlob(keys[key] ?? "", "binary");
      for (const { key, hits, dropped } of a.blobHits) keepAtPlaces(keys[key] ?? "", hits, dropped);
    };
    // One blob at a time: its pieces are gathered into chunks of up to CHUNK_BYTES (the first decides
    // whether it is binary), searched, and let go.
    let pieces: Buffer[] = [];
    let gathered = 0;
    let first = true;
    let skip = false;
    let utf16: Utf16ToUtf8 | undefined; // the blob starts with a UTF-16 BOM: searched as UTF-8 (utf16.ts)
    let size = 0;
    let read = 0;
    let current = "";
    const withHits: { blob: string; raw: RawHit[]; dropped: number }[] = [];
    // A blob's hits are found once; they are listed at its first MAX_PLACES_PER_BLOB places (a commit
    // may put one blob at thousands of paths) and the rest counted.
    // The same for hits found here and by a worker: each located in the blob, here put at its places.
    const keepAtPlaces = (blob: string, hits: readonly ScanHit[], dropped: number) => {
      const places = index.blobs.get(blob) ?? [];
      const listed = places.slice(0, MAX_PLACES_PER_BLOB);
      stats.hitsDropped += dropped * places.length + hits.length * (places.length - listed.length);
      for (const { path, commit, commitDate } of listed) {
        const where = { path, commit, commitDate, repository: shown };
        for (const h of hits)
          keepHit(job, { ...h, location: { ...where, line: h.location.line, column: h.location.column } });
      }
    };
    const flush = (final: boolean) => {
      const chunk = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, gathered);
      pieces = [];
      gathered = 0;
      if (first) {
        first = false;
        utf16 = Utf16ToUtf8.forSource(chunk);
        if (!utf16 && !job.binary && looksBinary(chunk)) {
          skip = true;
          return;
        }
      }
      scanner.write(utf16 ? utf16.write(chunk, final) : chunk, final);
    };
    await readBlobs(
      gitDir,
      toRead,
      shown,
      {
        missing: unreadable,
        begin(blob, blobSize) {
          current = blob;
          size = blobSize;
          read = 0;
          first = true;
          skip = false;
          if (parallel && blobSize <= WORKER_BLOB_BYTES) {
            // Its own buffer (not a pooled one): it is transferred to the worker whole.
            own = new Uint8Array(blobSize);
            ownAt = 0;
            return;
          }
          own = undefined;
          scanner.begin();
        },
        data(bytes) {
          read += bytes.length;
          if (own) {
            own.set(bytes, ownAt);
            ownAt += bytes.length;
            return;
          }
          if (skip) return;
          pieces.push(bytes); // a stream's pieces are never reused: kept, not copied

          gathered += bytes.length;
          if (gathered >= CHUNK_BYTES && read < size) flush(false);
        },
        end() {
          if (own) {
            keys.push(current);
            batch.push({ key: keys.length - 1, bytes: own });
            batchBytes += own.length;
            own = undefined;
            return;
          }
          if (!skip) flush(true);
          if (skip) {
            stats.skipped.binary++;
            nameBlob(current, "binary");
            return;
          }
          stats.blobs++;
          stats.bytes += size;
          const raw = scanner.end();
          // No kept hit, no dropped one: a key's first places are always kept.
          if (raw.length > 0) withHits.push({ blob: current, raw, dropped: scanner.dropped });
        },
      },
      git,
      async () => {
        if (parallel && (batchBytes >= BATCH_BLOB_BYTES || batch.length >= BATCH_BLOBS)) {
          const blobs = batch;
          batch = [];
          batchBytes = 0;
          await parallel.send({ blobs }, absorb);
        }
        await pace.tick();
      },
    );
    if (parallel) {
      if (batch.length > 0) await parallel.send({ blobs: batch }, absorb);
      batch = [];
      await parallel.drain();
    }
    pace.check();
    // Line and column for blobs with hits only: read each again.
    for (const { blob, raw, dropped } of withHits) {
      const content = await readBlob(gitDir, blob, shown, git);
      pace.check();
      const lines = locateOffsets(
        [asUtf8(content)],
        raw.map((h) => h.offset),
      );
      keepAtPlaces(blob, locate(raw, { path: "" }, lines), dropped);
    }
  }
}
