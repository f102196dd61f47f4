/**
 * `keyward scan`'s pattern detection (scan/detect.ts) over the profiles' `leaks`: every exchange's
 * credential found in every format, near its name ("high") and as a pair alone ("medium" where the
 * profile allows, nothing where it does not), a key alone next to the name "low"; and one test per false
 * positive met while building it (base64 slices, JWT signatures, padded hashes, identifiers,
 * placeholders, names inside words, an order id next to a leaked pair, several exchanges in one file).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EXCHANGE_PROFILES, type ExchangeProfile } from "../src/index.js";
import { acceptsToken, compileLeakPatterns, detectLeaks } from "../src/scan/detect.js";
import type { LeakPatterns } from "../src/scan/scan-types.js";
import { credentialSnippet, fakeCredentials, PLANT_FORMATS, seededRng } from "../src/testing/index.js";

const WITH_LEAKS = EXCHANGE_PROFILES.filter(
  (p): p is ExchangeProfile & { leaks: LeakPatterns } => p.leaks !== undefined,
);
const ALL = compileLeakPatterns(WITH_LEAKS.map((p) => ({ exchange: p.id, leaks: p.leaks })));
const detect = (text: string) => detectLeaks(text, ALL);
const profile = (pred: (l: LeakPatterns) => boolean) => {
  const p = WITH_LEAKS.find((x) => pred(x.leaks));
  if (p === undefined) throw new Error("no profile fits");
  return p;
};
/** Plain words around a snippet, so nothing else is near it. */
const FILLER = "// the quick brown fox jumps over the lazy dog again and again\n".repeat(3);

describe("profiles' leaks", () => {
  it("every registered exchange declares how its credentials leak", () => {
    expect(WITH_LEAKS.map((p) => p.id)).toEqual(EXCHANGE_PROFILES.map((p) => p.id));
    for (const p of WITH_LEAKS) {
      expect(p.leaks.names.length).toBeGreaterThan(0);
      for (const n of p.leaks.names) expect(n).toBe(n.toLowerCase());
    }
  });

  it("fakeCredentials makes tokens the profile's shapes accept", () => {
    const rng = seededRng(7);
    for (const p of WITH_LEAKS) {
      for (let i = 0; i < 20; i++) {
        const c = fakeCredentials(p, rng);
        expect(acceptsToken(p.leaks.key, c.key)).toBe(true);
        expect(acceptsToken(p.leaks.secret, c.secret)).toBe(true);
        expect(c.passphrase !== undefined).toBe((p.leaks.passphraseWords ?? []).length > 0);
      }
    }
  });

  it("compiling refuses a shape with a capture group or bad syntax", () => {
    const leaks = WITH_LEAKS[0]?.leaks as LeakPatterns;
    expect(() =>
      compileLeakPatterns([{ exchange: "x", leaks: { ...leaks, key: { pattern: "(a)[0-9]{8}" } } }]),
    ).toThrow(/capture group/);
    expect(() =>
      compileLeakPatterns([{ exchange: "x", leaks: { ...leaks, key: { pattern: "[0-9" } } }]),
    ).toThrow(/not a valid regex/);
  });

  it("shapes of open or varying length are matched at every length they allow", () => {
    const leaks: LeakPatterns = {
      names: ["acmex"],
      key: { pattern: "AKX[0-9A-Z]{20,}", minClasses: 2 },
      secret: { pattern: "[0-9a-f]{40}|[0-9a-f]{48}" },
      pairWithoutName: false,
    };
    const compiled = compileLeakPatterns([{ exchange: "acmex", leaks }]);
    const rng = seededRng(8);
    for (const [keyLength, secretLength] of [
      [20, 40],
      [37, 48],
    ] as const) {
      const key = `AKX${Array.from({ length: keyLength }, () => "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"[rng.int(34)]).join("")}`;
      const secret = Array.from({ length: secretLength }, () => "0123456789abcdef"[rng.int(16)]).join("");
      expect(detectLeaks(`ACMEX_KEY=${key}\nACMEX_SECRET=${secret}\n`, compiled)).toEqual([
        { exchange: "acmex", confidence: "high", key, secret, offset: 10 },
      ]);
    }
  });

  it("a secret a window after a key that is a window after the name is found (two windows from the name)", () => {
    for (const p of WITH_LEAKS) {
      const w = p.leaks.window ?? 512;
      const cred = fakeCredentials(p, seededRng(40));
      const gap = (n: number) => `${"# plain words only here\n".repeat(Math.ceil(n / 24))}`.slice(0, n);
      const name = p.leaks.names[0] ?? "";
      const text = `${name}:\n${gap(w - 60)}key=${cred.key}\n${gap(w - 80)}secret=${cred.secret}\n`;
      const at = text.indexOf(cred.key);
      const secretAt = text.indexOf(cred.secret);
      expect(at).toBeLessThanOrEqual(w);
      expect(secretAt - at).toBeLessThanOrEqual(w);
      expect(secretAt).toBeGreaterThan(w + 256);
      expect(detect(text), p.id).toEqual([
        expect.objectContaining({ confidence: "high", key: cred.key, secret: cred.secret }),
      ]);
    }
  });

  it("span covers a name, a key and its secret a window apart either side", () => {
    for (const p of WITH_LEAKS) expect(ALL.span).toBeGreaterThanOrEqual(2 * (p.leaks.window ?? 512));
  });
});

describe("every exchange's credential in every format", () => {
  for (const p of WITH_LEAKS) {
    for (const format of PLANT_FORMATS) {
      it(`${p.id} in ${format}: near its name → high, with its secret (and passphrase)`, () => {
        const rng = seededRng(format.length * 31 + p.id.length);
        const cred = { exchange: p.id, ...fakeCredentials(p, rng) };
        for (const name of p.leaks.names) {
          const text = FILLER + credentialSnippet(format, cred, name, rng).text + FILLER;
          const found = detect(text);
          expect(found, `${format} near "${name}"`).toHaveLength(1);
          expect(found[0]).toMatchObject({
            exchange: p.id,
            confidence: "high",
            key: cred.key,
            secret: cred.secret,
          });
          expect(text.indexOf(cred.key)).toBe(found[0]?.offset);
          if (cred.passphrase !== undefined) expect(found[0]?.passphrase).toBe(cred.passphrase);
        }
      });

      it(`${p.id} in ${format}: the pair alone → ${p.leaks.pairWithoutName ? "medium (high with a passphrase)" : "nothing"}`, () => {
        const rng = seededRng(format.length * 17 + p.id.length);
        const { passphrase: _, ...pairOnly } = { exchange: p.id, ...fakeCredentials(p, rng) };
        const text = FILLER + credentialSnippet(format, pairOnly, null, rng).text + FILLER;
        const found = detect(text);
        if (!p.leaks.pairWithoutName) {
          expect(found).toEqual([]);
          return;
        }
        expect(found).toEqual([
          {
            exchange: p.id,
            confidence: "medium",
            key: pairOnly.key,
            secret: pairOnly.secret,
            offset: text.indexOf(pairOnly.key),
          },
        ]);
      });
    }

    it(`${p.id}: a key alone next to the name is low; a secret alone is nothing`, () => {
      const rng = seededRng(99);
      const cred = fakeCredentials(p, rng);
      const name = p.leaks.names[0] ?? "";
      expect(detect(`${FILLER}${name.toUpperCase()}_API_KEY=${cred.key}\n${FILLER}`)).toEqual([
        expect.objectContaining({ exchange: p.id, confidence: "low", key: cred.key }),
      ]);
      const secretOnly = detect(`${FILLER}${name.toUpperCase()}_API_SECRET=${cred.secret}\n${FILLER}`);
      expect(secretOnly.filter((f) => f.confidence !== "low")).toEqual([]);
    });

    it(`${p.id}: the name as an identifier part or a JSON value counts, inside a word it does not`, () => {
      const rng = seededRng(5);
      const cred = fakeCredentials(p, rng);
      const name = p.leaks.names[0] ?? "";
      const camel = name[0]?.toUpperCase() + name.slice(1);
      for (const text of [
        `const my${camel}Key = "${cred.key}";\nconst secret = "${cred.secret}";`,
        `{"exchange": "${name.toUpperCase()}", "k": "${cred.key}", "s": "${cred.secret}"}`,
        `${name}Secret: ${cred.secret}\n${name}_key: ${cred.key}`,
      ]) {
        expect(detect(text), text).toEqual([
          expect.objectContaining({ exchange: p.id, confidence: "high", key: cred.key }),
        ]);
      }
      // Inside a longer word (or a random token) the name is no name: no more than the pair alone gives.
      const inside = `const x${name}y = 1; const tok = "9${name}9Q"; const a = "${cred.key}"; const b = "${cred.secret}";`;
      expect(detect(inside).filter((f) => f.confidence === "high")).toEqual([]);
    });
  }
});

describe("false positives met and fixed", () => {
  const withSecret = profile((l) => !l.pairWithoutName && /\{36\}/.test(l.secret.pattern));
  const name = withSecret.leaks.names[0] ?? "";

  it("slices of a base64 blob between + and / are no keys, even next to a name", () => {
    const rng = seededRng(3);
    // Fragments of every length between the separators, key and secret lengths among them.
    const blob = Array.from(
      { length: 40 },
      (_, i) => fakeCredentials(withSecret, rng)[i % 2 ? "key" : "secret"],
    ).join("+");
    expect(detect(`// ${name} fixture\nconst img = "${blob}/${blob}==";\n`)).toEqual([]);
  });

  it("a JWT's 43-character signature, a padded SHA-256 in base64 and a longer token hold no key", () => {
    const shaped = profile((l) => /\{43\}/.test(l.key.pattern));
    const n = shaped.leaks.names[0] ?? "";
    const rng = seededRng(4);
    const a = fakeCredentials(shaped, rng);
    const b = fakeCredentials(shaped, rng);
    const text = [
      `// ${n} session`,
      `const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.${a.key}";`,
      `const digest = "${b.key}=";`,
      `const longer = "${a.secret}${b.secret}";`,
      `const dotted = "${a.secret}.${b.secret}";`,
    ].join("\n");
    expect(detect(text)).toEqual([]);
  });

  it("identifiers and placeholders of a key's length are no keys", () => {
    const text = [
      `# ${name} credentials: fill in`,
      `${name.toUpperCase()}_API_KEY=XXXXXXXXXXXXXXXXXX`,
      `${name.toUpperCase()}_API_SECRET=XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX`,
      // 18 and 36 letters: the lengths of this exchange's key and secret, but words.
      `${name.toUpperCase()}_API_KEY=getAccountBalances`,
      `${name.toUpperCase()}_API_SECRET=handleIncomingWebsocketOrderMessages`,
      `const ${name}Handler = "ORDER_BOOK_SNAPSHOT_HANDLER_WITH_RETRY_LIMITS"; // ${name}`,
      `const ${name}Zeros = "000000000000000000"; const ones = "111111111111111111111111111111111111";`,
    ].join("\n");
    expect(detect(text)).toEqual([]);
  });

  it("a term with a number in it (`base64url`) is no short client id (met: this repository's docs)", () => {
    // docs/exchanges/deribit.md's key-format table: the name, `base64url`, an example secret on one line.
    const short = profile((l) => /\{8,10\}/.test(l.key.pattern));
    const n = short.leaks.names[0] ?? "";
    const { secret } = fakeCredentials(short, seededRng(32));
    const row = (term: string) =>
      `What scan looks for when a ${n} credential leaks:\n| Client secret | 43 characters of the ${term} alphabet | the example secret is \`${secret}\` |\n`;
    for (const term of ["base64url", "sha256sum", "ipv4addr", "oauth2token", "python310"]) {
      expect(detect(row(term)), term).toEqual([]);
    }
    // Real client ids (the exchange's documentation examples) in the same place still are.
    for (const id of ["IY2D68DS", "fo7WAPRm4P"]) {
      expect(detect(row(id)), id).toEqual([expect.objectContaining({ confidence: "high", key: id, secret })]);
    }
  });

  it("this repository's docs hold no key at the default confidence (medium)", () => {
    const root = fileURLToPath(new URL("../../../", import.meta.url));
    const inDocs = readdirSync(join(root, "docs"), { recursive: true }).map((f) => join("docs", String(f)));
    const docs = ["README.md", "SECURITY.md", ...inDocs].filter((f) => /\.(md|json)$/.test(f));
    expect(docs.length).toBeGreaterThan(5);
    for (const f of docs) {
      const found = detectLeaks(readFileSync(join(root, f), "utf8"), ALL, { minConfidence: "medium" });
      expect(
        found.map((l) => `${l.exchange} ${l.confidence} at ${l.offset}`),
        f,
      ).toEqual([]);
    }
  });

  it("a random client id that happens to be lower case with one run of digits is still a key (with its secret: high)", () => {
    // About one random 8-character id in 680 has this form; the technical-term rule must not take it.
    const short = profile((l) => /\{8,10\}/.test(l.key.pattern));
    const n = (short.leaks.names[0] ?? "").toUpperCase();
    const { secret } = fakeCredentials(short, seededRng(33));
    for (const id of ["qzrk4mvb", "abcd1234", "mvbq77xz"]) {
      const found = detect(`${n}_CLIENT_ID=${id}\n${n}_CLIENT_SECRET=${secret}\n`);
      expect(found, id).toEqual([expect.objectContaining({ confidence: "high", key: id, secret })]);
    }
  });

  it("a name inside a random token is no name (met: a corpus base64url id with …goBFxPl… in it)", () => {
    const shaped = profile((l) => !l.pairWithoutName && /\{43\}/.test(l.key.pattern));
    const rng = seededRng(31);
    for (const n of shaped.leaks.names) {
      const cap = (n[0] ?? "").toUpperCase() + n.slice(1);
      const a = fakeCredentials(shaped, rng);
      const b = fakeCredentials(shaped, rng);
      for (const token of [
        `Q7xgo${cap}Pl47OH82aPO36Tfqp4QBI34Npk9zR`,
        `a9Zq3_${n}Q3k8Tz1Wm5Xr2Yb7Lp4Nd6Hs0J`,
      ]) {
        const text = `var blob = []byte("${token}")\nvar x = "${a.key}"\nvar y = "${b.key}"\n`;
        expect(detect(text), token).toEqual([]);
      }
    }
  });

  it("labels tell a key from a secret of the same shape, and the last label before a token counts", () => {
    const same = profile((l) => l.key.pattern === l.secret.pattern);
    const n = same.leaks.names[0] ?? "";
    const rng = seededRng(41);
    const c = fakeCredentials(same, rng);
    for (const text of [
      `${n} key=${c.key} secret=${c.secret}`,
      `${n} secret=${c.secret} key=${c.key}`,
      `{"exchange":"${n}","secretKey":"${c.secret}","apiKey":"${c.key}"}`,
    ]) {
      expect(detect(text), text).toEqual([
        expect.objectContaining({ exchange: same.id, confidence: "high", key: c.key, secret: c.secret }),
      ]);
    }
    const withPass = profile((l) => (l.passphraseWords ?? []).length > 0);
    const o = fakeCredentials(withPass, rng);
    const m = withPass.leaks.names[0] ?? "";
    // A passphrase first on the line: the key after it is still a key.
    expect(detect(`${m} passphrase=Ab1! key=${o.key} secret=${o.secret}`)).toEqual([
      expect.objectContaining({ confidence: "high", key: o.key, secret: o.secret, passphrase: "Ab1!" }),
    ]);
  });

  it("identifiers next to an exchange's name are no keys, not even low (met in ccxt's sources)", () => {
    for (const p of WITH_LEAKS) {
      const n = p.leaks.names[0] ?? "";
      const ids = [
        "requestId",
        "currencyId",
        "marketId",
        "orderLinkId",
        "getMarginAccountId",
        "subAccountName",
      ];
      const text = ids.map((id) => `const ${id} = this.safeString(${n}Response, "${id}");`).join("\n");
      expect(detect(text).map((f) => f.key)).toEqual([]);
    }
  });

  it("random short ids, letters only or not, are almost never taken for identifiers", () => {
    // The price of the identifier rule: random 8-10 character ids it rejects (measured 0.8 %).
    const rng = seededRng(51);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const shape = { pattern: "[A-Za-z0-9]{8,10}", minClasses: 2 as const };
    let rejected = 0;
    for (let i = 0; i < 20_000; i++) {
      const id = Array.from({ length: 8 + (i % 3) }, () => alphabet[rng.int(62)]).join("");
      if (!acceptsToken(shape, id)) rejected++;
    }
    expect(rejected / 20_000).toBeLessThan(0.015);
  });

  it("an order id next to a leaked pair does not take the pair's secret", () => {
    const p = profile((l) => l.pairWithoutName);
    const n = p.leaks.names[0] ?? "";
    const rng = seededRng(11);
    const order = fakeCredentials(p, rng).key;
    const cred = fakeCredentials(p, rng);
    const text = `// ${n} order ${order} placed\n${n.toUpperCase()}_API_KEY=${cred.key}\n${n.toUpperCase()}_SECRET=${cred.secret}\n`;
    const found = detect(text);
    expect(found.filter((f) => f.confidence !== "low")).toEqual([
      expect.objectContaining({ confidence: "high", key: cred.key, secret: cred.secret }),
    ]);
    expect(found.filter((f) => f.key === order)).toEqual([expect.objectContaining({ confidence: "low" })]);
    expect(found.find((f) => f.key === order)?.secret).toBeUndefined();
  });

  it("several exchanges' credentials in one file each go to their own exchange", () => {
    const rng = seededRng(12);
    const creds = WITH_LEAKS.map((p) => ({ p, c: fakeCredentials(p, rng) }));
    const text = creds
      .map(({ p, c }) => credentialSnippet("env", { exchange: p.id, ...c }, p.leaks.names[0] ?? "", rng).text)
      .join("");
    const found = detect(text).filter((f) => f.confidence !== "low");
    expect(found.map((f) => [f.exchange, f.key, f.secret])).toEqual(
      creds.map(({ p, c }) => [p.id, c.key, c.secret]),
    );
  });

  it("a UUID beside an upper-case hex of another length, or a lower-case one, is no pair", () => {
    const p = profile((l) => l.pairWithoutName);
    const rng = seededRng(13);
    const { key } = fakeCredentials(p, rng);
    const text = `request_id = "${key}"\nsha1 = "${"A1B2C3D4E5".repeat(4)}"\nmd5 = "${"a1b2c3d4e5f60718".repeat(2)}"\n`;
    expect(detect(text)).toEqual([]);
  });

  it("a passphrase shaped like another exchange's key, near that exchange's name and an MD5, is no key", () => {
    // Met in a CI file: a Deribit variable's name, an upper-case MD5 (once a Deribit secret form), then
    // an OKX credential whose passphrase has the shape of a Deribit client id.
    const okx = profile((l) => (l.passphraseWords ?? []).length > 0);
    const other = profile((l) => l.names[0] !== okx.leaks.names[0] && /\{8,10\}/.test(l.key.pattern));
    const rng = seededRng(14);
    const cred = fakeCredentials(okx, rng);
    const text = [
      `          ${(other.leaks.names[0] ?? "").toUpperCase()}_API_KEY: \${{ secrets.API_KEY }}`,
      `      - run: echo "5395A2961CEEE886C4608539BC1F7626  dist.tgz" | md5sum -c`,
      `${okx.leaks.names[0]}:`,
      `  apiKey: ${cred.key}`,
      `  secret: "${cred.secret}"`,
      `  passphrase: "QuietFox37!"`,
    ].join("\n");
    const found = detect(text).filter((f) => f.confidence !== "low");
    expect(found).toEqual([
      expect.objectContaining({
        exchange: okx.id,
        confidence: "high",
        key: cred.key,
        passphrase: "QuietFox37!",
      }),
    ]);
    // And next to a secret of that exchange's shape: still no key.
    const otherSecret = fakeCredentials(other, rng).secret;
    const name = (other.leaks.names[0] ?? "").toUpperCase();
    expect(detect(`${name}_CLIENT_SECRET=${otherSecret}\npassphrase: "QuietFox37"\n`)).toEqual([]);
  });
});

describe("minConfidence", () => {
  it("drops finds below it where they are made", () => {
    const p = profile((l) => l.pairWithoutName);
    const n = p.leaks.names[0] ?? "";
    const rng = seededRng(21);
    const order = fakeCredentials(p, rng).key;
    const named = fakeCredentials(p, rng);
    const alone = fakeCredentials(p, rng);
    const text = `// ${n} order ${order}\n${n}_key=${named.key}\n${n}_secret=${named.secret}\n${FILLER.repeat(6)}key=${alone.key}\nsecret=${alone.secret}\n`;
    const levels = (min?: "low" | "medium" | "high") =>
      detectLeaks(text, ALL, min === undefined ? {} : { minConfidence: min }).map((f) => f.confidence);
    expect(levels()).toEqual(["low", "high", "medium"]);
    expect(levels("low")).toEqual(["low", "high", "medium"]);
    expect(levels("medium")).toEqual(["high", "medium"]);
    expect(levels("high")).toEqual(["high"]);
  });
});

describe("hostile input", () => {
  it("a long run of token characters and a text full of names still give exactly the credential", () => {
    const p = profile((l) => l.pairWithoutName);
    const n = p.leaks.names[0] ?? "";
    const cred = fakeCredentials(p, seededRng(30));
    const run = "A1b2C3d4".repeat(250_000); // 2 MB of one token
    const names = `${n} `.repeat(200_000);
    const text = `${run}\n${names}\n${n}_key=${cred.key}\n${n}_secret=${cred.secret}\n${names}${run}`;
    expect(detect(text).filter((f) => f.confidence !== "low")).toEqual([
      expect.objectContaining({ confidence: "high", key: cred.key, secret: cred.secret }),
    ]);
  });
});
