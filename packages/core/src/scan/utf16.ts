/**
 * UTF-16 text for the scan: files and blobs that start with a UTF-16 byte order mark (FF FE, FE FF) are
 * transcoded to UTF-8 before they are searched. Windows tools write keys this way (PowerShell's
 * `Out-File`, `.reg` exports, some `.env` editors); read as bytes, every other byte of such a file is
 * a NUL, so the binary rule would skip it and no key in it could match. Without a BOM a file keeps the
 * NUL rule: a guess from NULs alone would read real binaries as text.
 *
 * The searches, and line and column, then see the text as the UTF-8 file it would be (BOM left out):
 * offsets of hits are offsets in that UTF-8 stream, so locating them transcodes the source again.
 */
export type Utf16Order = "le" | "be";

/**
 * The byte order the source's BOM gives, or undefined: no UTF-16 BOM. FF FE 00 00 is UTF-32LE's BOM
 * (and UTF-32 is not transcoded: it keeps the NUL rule).
 */
export function utf16Order(first: Uint8Array): Utf16Order | undefined {
  if (first.length < 2) return undefined;
  if (first[0] === 0xfe && first[1] === 0xff) return "be";
  if (first[0] === 0xff && first[1] === 0xfe && !(first.length >= 4 && first[2] === 0 && first[3] === 0))
    return "le";
  return undefined;
}

/**
 * Streamed UTF-16 → UTF-8, chunks cut anywhere: an odd byte (half a code unit) or a high surrogate at a
 * chunk's end waits for the next chunk, so a character across a boundary comes out whole, once. The
 * BOM is dropped; an unpaired surrogate becomes U+FFFD and a last odd byte is dropped.
 */
export class Utf16ToUtf8 {
  // Not node:string_decoder: it lets a surrogate pair whose high half was itself cut in two come out
  // as two U+FFFD.
  private bomLeft = 2;
  /** The last chunk's tail, in the source's byte order: an odd byte, a high surrogate, or both. */
  private carry: Buffer = Buffer.alloc(0);

  constructor(readonly order: Utf16Order) {}

  /** A decoder for a source whose first bytes are these, if they start with a UTF-16 BOM. */
  static forSource(first: Uint8Array): Utf16ToUtf8 | undefined {
    const order = utf16Order(first);
    return order === undefined ? undefined : new Utf16ToUtf8(order);
  }

  /** The UTF-8 bytes of this chunk's whole characters (`final`: the source's last chunk, flushes all). */
  write(chunk: Uint8Array, final: boolean): Buffer {
    let bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.bomLeft > 0) {
      const skip = Math.min(this.bomLeft, bytes.length);
      bytes = bytes.subarray(skip);
      this.bomLeft -= skip;
    }
    // A copy either way (concat, or from): the caller reuses its buffer, and swap16 works in place.
    const all = this.carry.length > 0 ? Buffer.concat([this.carry, bytes]) : Buffer.from(bytes);
    let whole = all.length & ~1;
    if (!final && whole >= 2) {
      const last = this.order === "le" ? all.readUInt16LE(whole - 2) : all.readUInt16BE(whole - 2);
      if (last >= 0xd800 && last <= 0xdbff) whole -= 2;
    }
    this.carry = final ? Buffer.alloc(0) : all.subarray(whole);
    const units = all.subarray(0, whole);
    if (this.order === "be") units.swap16();
    return Buffer.from(units.toString("utf16le"), "utf8");
  }
}

/** A whole source (a git blob) that starts with a UTF-16 BOM, as UTF-8; others as they are. */
export function asUtf8(bytes: Uint8Array): Uint8Array {
  const order = utf16Order(bytes);
  return order === undefined ? bytes : new Utf16ToUtf8(order).write(bytes, true);
}

/** The chunks of a UTF-16 source (its BOM first), transcoded as they come. */
export function* transcodeChunks(chunks: Iterable<Uint8Array>, order: Utf16Order): Generator<Uint8Array> {
  const decoder = new Utf16ToUtf8(order);
  for (const chunk of chunks) yield decoder.write(chunk, false);
  yield decoder.write(new Uint8Array(0), true);
}
