/**
 * age's passphrase (scrypt) recipient, unwrapped with Node's native scrypt instead of age-encryption's
 * pure-JS one. Why: every command that needs a secret opens the vault first. age-encryption runs
 * scrypt synchronously on the main thread (~0.35 s at work factor 16 on the 2-core development
 * machine); Node's runs natively on the libuv thread pool, faster, and in parallel with what the
 * command loads meanwhile (ccxt), so on two cores opening the vault costs almost no wall time.
 * Only the unwrap of the file key moves here: age-encryption still parses the header, checks its MAC
 * and decrypts the payload, and writing still uses age-encryption's own scrypt recipient.
 *
 * The checks are age's (and age-encryption's ScryptIdentity's): the scrypt stanza must be the only
 * one, its salt 16 bytes of unpadded base64, its work factor 1-20 (age's ceiling: 1 GiB of memory)
 * and its body 32 bytes.
 */
import { createDecipheriv, scrypt } from "node:crypto";
import type { Identity, Stanza } from "age-encryption";

const LABEL = "age-encryption.org/v1/scrypt";
/** 16 bytes in unpadded base64: 22 characters, the last carrying 2 bits. */
const SALT = /^[A-Za-z0-9+/]{21}[AQgw]$/;
const MAX_LOG_N = 20;

export class NativeScryptIdentity implements Identity {
  readonly #passphrase: string;

  constructor(passphrase: string) {
    this.#passphrase = passphrase;
  }

  async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
    for (const stanza of stanzas) {
      if (stanza.args[0] !== "scrypt") continue;
      if (stanzas.length !== 1) throw new Error("scrypt recipient is not the only one in the header");
      const [, salt64 = "", logNText = ""] = stanza.args;
      if (stanza.args.length !== 3 || !SALT.test(salt64) || !/^[1-9][0-9]?$/.test(logNText)) {
        throw new Error("invalid scrypt stanza");
      }
      const logN = Number(logNText);
      if (logN > MAX_LOG_N) throw new Error("scrypt work factor is too high");
      if (stanza.body.length !== 32) throw new Error("invalid scrypt stanza");
      const salt = Buffer.concat([Buffer.from(LABEL, "latin1"), Buffer.from(salt64, "base64")]);
      const key = await scryptAsync(this.#passphrase, salt, 2 ** logN);
      return unwrap(stanza.body, key);
    }
    return null;
  }
}

function scryptAsync(passphrase: string, salt: Buffer, N: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // scrypt needs 128 * N * r bytes; Node's default ceiling (32 MiB) is below work factor 16's 64 MiB.
    scrypt(passphrase, salt, 32, { N, r: 8, p: 1, maxmem: 256 * N * 8 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** ChaCha20-Poly1305 with a zero nonce, as age wraps file keys; null when the tag does not verify. */
function unwrap(body: Uint8Array, key: Buffer): Uint8Array | null {
  const decipher = createDecipheriv("chacha20-poly1305", key, Buffer.alloc(12), { authTagLength: 16 });
  decipher.setAuthTag(body.subarray(16));
  const head = decipher.update(body.subarray(0, 16));
  try {
    return new Uint8Array(Buffer.concat([head, decipher.final()]));
  } catch {
    // Wrong passphrase: age-encryption then reports "no identity matched".
    return null;
  } finally {
    key.fill(0);
  }
}
