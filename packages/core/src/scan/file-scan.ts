/**
 * Reading one file for the scan, in chunks (never a whole-file read: a 60 MB log is read 1 MiB at a
 * time into one reused buffer), and turning a source's raw hits into located `ScanHit`s. Shared by the
 * in-process engine and the worker threads (scan-worker.ts), so both read a file the same way.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { type LineColumn, locateOffsets } from "./line-index.js";
import type { ScanHit, ScanStats, SkippedSource } from "./scan-types.js";
import { looksBinary, type RawHit, type SourceScanner } from "./source-scan.js";
import { asUtf8, transcodeChunks, Utf16ToUtf8, utf16Order } from "./utf16.js";
import type { WalkFile } from "./walk.js";

export const CHUNK_BYTES = 1024 * 1024;

export type FileOutcome =
  | { kind: "scanned"; bytes: number; hits: ScanHit[]; dropped: number }
  | { kind: keyof ScanStats["skipped"]; bytes?: number };

/** A skipped file as the report names it (notRegular and excluded are not content left unread). */
export function skippedSource(file: WalkFile, outcome: FileOutcome): SkippedSource | undefined {
  if (outcome.kind !== "tooLarge" && outcome.kind !== "binary" && outcome.kind !== "unreadable")
    return undefined;
  return {
    path: file.shown,
    reason: outcome.kind,
    ...(outcome.bytes === undefined ? {} : { bytes: outcome.bytes }),
  };
}

export interface FileReadOptions {
  maxFileBytes: number;
  binary: boolean;
}

// O_NONBLOCK: if the file was swapped for a FIFO after the listing, opening it must not wait for a
// writer (fstat below then refuses it). O_NOFOLLOW: nor for a link.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

/**
 * Scans one file. A generator: it yields after each chunk so the caller can give the event loop a
 * turn and notice an abort; its return value is the outcome.
 */
export function* scanFile(
  file: WalkFile,
  scanner: SourceScanner,
  buffer: Buffer,
  options: FileReadOptions,
): Generator<number, FileOutcome> {
  let fd: number;
  try {
    fd = openSync(file.path, OPEN_FLAGS);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    return { kind: code === "ELOOP" ? "notRegular" : "unreadable" };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: "notRegular" };
    // The cap is for what a folder walk meets: a file the person named is read whatever its size.
    if (!file.named && st.size > options.maxFileBytes) return { kind: "tooLarge", bytes: st.size };
    scanner.begin();
    let position = 0;
    // Set when the file starts with a UTF-16 BOM: the scanner then sees its text as UTF-8 (utf16.ts).
    let utf16: Utf16ToUtf8 | undefined;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, buffer.length, position);
      } catch {
        return { kind: "unreadable" };
      }
      if (position === 0) utf16 = Utf16ToUtf8.forSource(buffer.subarray(0, n));
      if (position === 0 && !utf16 && !options.binary && n > 0 && looksBinary(buffer.subarray(0, n))) {
        return { kind: "binary" };
      }
      // The end is where a read returns nothing, never st.size: Linux's /proc files report size 0
      // (/proc/<pid>/environ was read only up to its first chunk), and a live log grows while read.
      const final = n === 0;
      const read = buffer.subarray(0, n);
      scanner.write(utf16 ? utf16.write(read, final) : read, final);
      position += n;
      if (final) break;
      yield position;
    }
    const raw = scanner.end();
    const dropped = scanner.dropped;
    if (raw.length === 0) return { kind: "scanned", bytes: position, hits: [], dropped };
    let lines = new Map<number, LineColumn>();
    try {
      // Hits of a UTF-16 file are at offsets of its UTF-8 text: the whole file, transcoded again.
      lines = locateOffsets(
        utf16
          ? transcodeChunks(readAgain(fd, buffer, Infinity), utf16.order)
          : readAgain(fd, buffer, lastOf(raw)),
        raw.map((h) => h.offset),
      );
    } catch {
      // Unreadable the second time (a disk error): the hits stand, at line 1.
    }
    return { kind: "scanned", bytes: position, hits: locate(raw, { path: file.shown }, lines), dropped };
  } finally {
    closeSync(fd);
  }
}

/**
 * Scans a source held in memory (a git blob handed to a worker), in CHUNK_BYTES slices as a file is
 * read; its hits are located at `where` (the caller puts each of the blob's places in).
 */
export function scanBytes(
  bytes: Uint8Array,
  scanner: SourceScanner,
  binary: boolean,
): { kind: "binary" } | { kind: "scanned"; hits: ScanHit[]; dropped: number } {
  const order = utf16Order(bytes);
  if (!order && !binary && looksBinary(bytes)) return { kind: "binary" };
  // A UTF-16 blob is searched and located as its UTF-8 text (utf16.ts); blobs here are small.
  if (order) bytes = asUtf8(bytes);
  scanner.begin();
  for (let at = 0; ; at += CHUNK_BYTES) {
    const end = Math.min(bytes.length, at + CHUNK_BYTES);
    scanner.write(bytes.subarray(at, end), end >= bytes.length);
    if (end >= bytes.length) break;
  }
  const raw = scanner.end();
  const dropped = scanner.dropped;
  if (raw.length === 0) return { kind: "scanned", hits: [], dropped };
  const lines = locateOffsets(
    [bytes],
    raw.map((h) => h.offset),
  );
  return { kind: "scanned", hits: locate(raw, { path: "" }, lines), dropped };
}

/** The offset of the last hit. */
function lastOf(raw: readonly RawHit[]): number {
  // A loop, not Math.max(...spread): the spread throws past ~120k arguments.
  let last = 0;
  for (const h of raw) if (h.offset > last) last = h.offset;
  return last;
}

/** The file's bytes again from the start, up to offset `last` (its last hit). */
function* readAgain(fd: number, buffer: Buffer, last: number): Generator<Uint8Array> {
  let position = 0;
  while (position <= last) {
    const n = readSync(fd, buffer, 0, buffer.length, position);
    if (n === 0) return;
    yield buffer.subarray(0, n);
    position += n;
  }
}

/** Raw hits → `ScanHit`s at their line and column, with the given location fields. */
export function locate(
  raw: readonly RawHit[],
  where: { path: string; commit?: string; commitDate?: string; repository?: string },
  lines: Map<number, LineColumn>,
): ScanHit[] {
  return raw.map((h) => {
    const lc = lines.get(h.offset) ?? { line: 1, column: 1 };
    const location = { ...where, line: lc.line, column: lc.column };
    if (h.type === "needle") return { type: "needle", ref: h.ref, location };
    const { exchange, confidence, key, secret, passphrase } = h.leak;
    return {
      type: "pattern",
      exchange,
      confidence,
      key,
      ...(secret === undefined ? {} : { secret }),
      ...(passphrase === undefined ? {} : { passphrase }),
      location,
    };
  });
}
