/**
 * Line and column of a hit, computed for hits only: clean text costs nothing (no per-byte or per-line
 * bookkeeping while scanning). A source with hits is read again up to its last hit (a file from the
 * page cache, a blob from git), counting newlines with Buffer.indexOf (memchr).
 */

export interface LineColumn {
  /** 1-based. */
  line: number;
  /** 1-based, in bytes of that line. */
  column: number;
}

/**
 * Line and column of each byte offset, from the source's bytes in order (`chunks` may stop early: it is
 * only iterated up to the last offset).
 */
export function locateOffsets(
  chunks: Iterable<Uint8Array>,
  offsets: readonly number[],
): Map<number, LineColumn> {
  const wanted = [...new Set(offsets)].sort((a, b) => a - b);
  const out = new Map<number, LineColumn>();
  if (wanted.length === 0) return out;
  let next = 0; // index into wanted
  let base = 0; // absolute offset of the chunk's first byte
  let line = 1;
  let lineStart = 0; // absolute offset of the current line's first byte
  for (const raw of chunks) {
    const chunk = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const end = base + chunk.length;
    let pos = 0;
    while (next < wanted.length) {
      const target = wanted[next] ?? 0;
      if (target >= end) break;
      // Newlines before the target in this chunk.
      for (;;) {
        const nl = chunk.indexOf(10, pos);
        if (nl === -1 || base + nl >= target) break;
        line++;
        lineStart = base + nl + 1;
        pos = nl + 1;
      }
      out.set(target, { line, column: target - lineStart + 1 });
      next++;
    }
    if (next >= wanted.length) return out;
    for (;;) {
      const nl = chunk.indexOf(10, pos);
      if (nl === -1) break;
      line++;
      lineStart = base + nl + 1;
      pos = nl + 1;
    }
    base = end;
  }
  // Offsets past the end (the source shrank since it was scanned): the last line.
  for (; next < wanted.length; next++) {
    const target = wanted[next] ?? 0;
    out.set(target, { line, column: Math.max(1, target - lineStart + 1) });
  }
  return out;
}
