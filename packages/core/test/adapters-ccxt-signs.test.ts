/**
 * The project's rule for adapters: ccxt signs, no hand-rolled HMAC (security review, finding 3: Deribit's
 * public/auth `client_signature` was made with node:crypto's createHmac; it now uses ccxt's own `hmac`,
 * and the probes in deribit-adapter.test.ts prove against the simulator, which checks it independently).
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ADAPTERS = join(import.meta.dirname, "..", "src", "adapters");

describe("adapters sign with ccxt", () => {
  it("no adapter source makes an HMAC of its own", async () => {
    const files = (await readdir(ADAPTERS, { recursive: true })).filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(10);
    const offenders: string[] = [];
    for (const file of files) {
      const text = await readFile(join(ADAPTERS, file), "utf8");
      if (/\bcreateHmac\b|\bsubtle\.sign\b|from "@noble\/hashes\/hmac/.test(text)) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });
});
