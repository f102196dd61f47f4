/**
 * UTF-16 files and blobs (a BOM first: FF FE, FE FF), as Windows tools save keys: searched as their
 * UTF-8 text, each hit at the line and column the same text saved as UTF-8 gets; without a BOM, NULs
 * still make a file binary. Files, a file over one 1 MiB read with characters across the read's
 * boundary, git history in-process and in the worker threads (the built engine), and the transcoder
 * fed chunks cut at every byte.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scanSources } from "../src/scan/engine.js";
import { CHUNK_BYTES } from "../src/scan/file-scan.js";
import type { ScanEngineOptions, ScanEngineResult, ScanHit } from "../src/scan/scan-types.js";
import { Utf16ToUtf8 } from "../src/scan/utf16.js";
import {
  ACME_KEY,
  ACME_PATTERNS,
  ACME_SECRET,
  commitAll,
  initRepo,
  putFile,
  removeDir,
  tempDir,
} from "./helpers/scan-fs.js";

const KEY_UUID = "8f14e45f-ceea-467f-a0e6-1c2b3d4e5f60";
const needles = [{ text: KEY_UUID, ref: 0 }];
const patterns = ACME_PATTERNS;

/** A Windows-saved .env: CRLF, a non-ASCII line (é, an emoji: a surrogate pair), then the credential. */
const ENV = [
  "# Clés d'API 🔑 exportées par PowerShell",
  "EXCHANGE=acmex",
  `ID=${KEY_UUID}`,
  `ACMEX_KEY=${ACME_KEY}  # née 🔑`,
  `ACMEX_SECRET=${ACME_SECRET}`,
  "",
].join("\r\n");

const utf16le = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
const utf16be = (text: string) =>
  Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, "utf16le").swap16()]);

let dir: string;
beforeEach(() => {
  dir = tempDir("scan-utf16");
});
afterEach(() => removeDir(dir));

const put = (rel: string, content: string | Buffer) => putFile(dir, rel, content);
const run = (extra: Partial<ScanEngineOptions> = {}) =>
  scanSources({ roots: [dir], git: false, needles, patterns, workers: 1, ...extra });

/** Each hit as what it found and where, the path cut to its file name (commits left out). */
const found = (r: ScanEngineResult) =>
  r.hits.map((h: ScanHit) => {
    const what =
      h.type === "needle" ? `needle ${h.ref}` : `${h.exchange} ${h.confidence} ${h.key} ${h.secret}`;
    const file = h.location.path.split("/").pop();
    return `${what} @ ${file}:${h.location.line}:${h.location.column}`;
  });

describe("scan engine: UTF-16 text", () => {
  it("finds keys in UTF-16LE and UTF-16BE files at the line and column of the same text as UTF-8", async () => {
    put("a-utf8.env", ENV);
    put("b-le.env", utf16le(ENV));
    put("c-be.env", utf16be(ENV));
    const r = await run();
    const inFile = (name: string) =>
      found(r)
        .filter((f) => f.includes(`@ ${name}:`))
        .map((f) => f.replace(`@ ${name}:`, "@ "));
    const utf8 = inFile("a-utf8.env");
    expect(utf8).toEqual([`needle 0 @ 3:4`, `acmex high ${ACME_KEY} ${ACME_SECRET} @ 4:11`]);
    expect(inFile("b-le.env")).toEqual(utf8);
    expect(inFile("c-be.env")).toEqual(utf8);
    expect(r.stats.files).toBe(3);
    expect(r.stats.skipped.binary).toBe(0);
  });

  it("without a BOM, UTF-16 (NULs) is still binary", async () => {
    put("no-bom.env", Buffer.from(ENV, "utf16le"));
    const r = await run();
    expect(r.hits).toEqual([]);
    expect(r.stats.skipped.binary).toBe(1);
  });

  it("a UTF-16LE file over one read: a surrogate pair across the 1 MiB boundary, a credential around it", async () => {
    // Code units are 2 bytes: the first read ends after CHUNK_BYTES / 2 of them. An emoji's high
    // surrogate is the first read's last unit: the exchange's name is before it, the key just after.
    const units = CHUNK_BYTES / 2;
    const lines: string[] = [];
    let length = 1; // the BOM's unit
    for (let i = 0; length < units - 200; i++) {
      const line = `line ${i}: ordinaire, déjà vu ${"·".repeat(i % 40)}`;
      lines.push(line);
      length += line.length + 2;
    }
    const pad = "x".repeat(units - length - 8); // then " acmex " and the emoji's high surrogate
    const body = `${lines.join("\r\n")}\r\n${pad} acmex 🔑${ACME_KEY} secret ${ACME_SECRET}\r\nend\r\n`;
    const bytes = utf16le(body);
    expect(bytes.readUInt16LE(CHUNK_BYTES - 2)).toBe(0xd83d); // the boundary cuts the pair
    put("big-le.txt", bytes);
    put("big-utf8.txt", body);
    const r = await run();
    const at = found(r).map((f) => f.replace(/@ [^:]+:/, "@ "));
    expect(at).toHaveLength(2);
    expect(at[0]).toBe(at[1]);
    expect(at[0]).toBe(
      `acmex high ${ACME_KEY} ${ACME_SECRET} @ ${lines.length + 1}:${pad.length + 7 + 4 + 1}`,
    );
  });

  it("finds keys in UTF-16 blobs of the git history, read in-process and by the worker threads", async () => {
    const git = initRepo(dir);
    // Enough blobs for the history to go to the workers when there are two.
    for (let f = 0; f < 260; f++) put(`src/f${f}.ts`, `export const n${f} = ${f};\n`);
    put("keys-le.env", utf16le(ENV));
    put("keys-be.env", utf16be(ENV));
    const added = commitAll(git, "keys");
    git("rm", "-q", "keys-le.env", "keys-be.env");
    git("commit", "-q", "-m", "gone");
    const history = (r: ScanEngineResult) =>
      found({ ...r, hits: r.hits.filter((h) => h.location.commit === added) });
    const expected = ["be", "le"].flatMap((o) => [
      `needle 0 @ keys-${o}.env:3:4`,
      `acmex high ${ACME_KEY} ${ACME_SECRET} @ keys-${o}.env:4:11`,
    ]);
    const inProcess = await run({ git: true });
    expect(history(inProcess)).toEqual(expected);
    // The workers run the built engine (see scan-workers.test.ts).
    const built = (await import(new URL("../dist/scan/engine.js", import.meta.url).href)) as {
      scanSources: typeof scanSources;
    };
    const workers = await built.scanSources({ roots: [dir], git: true, needles, patterns, workers: 2 });
    expect(history(workers)).toEqual(expected);
  });
});

describe("UTF-16 to UTF-8, streamed", () => {
  it("gives the same text whatever the chunks, cut at every byte, in both byte orders", () => {
    const text = "a🔑é\r\nKEY=AKX7Q2M9Z4K8T1V6B3N5P0R 😀\n";
    for (const [order, bytes] of [
      ["le", utf16le(text)],
      ["be", utf16be(text)],
    ] as const) {
      for (let cut = 0; cut <= bytes.length; cut++) {
        for (const step of [1, 3]) {
          const decoder = new Utf16ToUtf8(order);
          const out: Buffer[] = [decoder.write(bytes.subarray(0, cut), false)];
          for (let at = cut; at < bytes.length; at += step) {
            out.push(decoder.write(bytes.subarray(at, Math.min(bytes.length, at + step)), false));
          }
          out.push(decoder.write(new Uint8Array(0), true));
          expect(Buffer.concat(out).toString("utf8"), `${order} cut ${cut} step ${step}`).toBe(text);
        }
      }
    }
  });
});
