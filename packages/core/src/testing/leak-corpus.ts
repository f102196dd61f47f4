/**
 * `keyward scan` (task: patterns): a deterministic generator of ORDINARY source trees with planted
 * exchange credentials, for the scan tests and `npm run bench`.
 *
 * The ordinary part is full of what fools secret scanners: UUIDs (request and order ids, next to the
 * exchanges' names in trading code), sha1/sha256/md5 hex, base64 blobs and package-lock integrity
 * hashes, JWT-like tokens, long identifiers, random ids of the lengths keys have (away from any
 * exchange's name: a random id next to a name IS what a leaked key looks like), upper-case hex constants,
 * crypto addresses, `.env` examples with placeholders (`XXXXXXXX…`), CI files that name secrets without
 * holding them, Markdown, and minified JS/JSON on one line. Nothing in it is a credential.
 *
 * The planted part: known credentials (the caller's) and unknown ones (made from the profiles' shapes by
 * `fakeCredentials`), in varied formats, near their exchange's name and not; the manifest says where each
 * is and what pattern detection alone should make of it (`detect`).
 *
 * Exchange facts come only from the profiles given (names, shapes): no exchange is named here.
 * Speed: blocks of ordinary text are made once per run and reused, files are written many at a time, and
 * a large file is streamed, so a 1 GB / 100k-file tree takes tens of seconds, not minutes.
 */
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { EXCHANGE_PROFILES } from "../adapters/registry.js";
import { acceptsToken, DEFAULT_LEAK_WINDOW } from "../scan/detect.js";
import type { LeakPatterns, LeakTokenShape } from "../scan/scan-types.js";

// ---------------------------------------------------------------------------------------------------
// Random
// ---------------------------------------------------------------------------------------------------

/** A seeded PRNG (mulberry32): the same seed makes the same tree. */
export interface Rng {
  /** In [0, 1). */
  next(): number;
  int(below: number): number;
  pick<T>(items: readonly T[]): T;
}

export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (below: number): number => Math.floor(next() * below);
  return {
    next,
    int,
    pick<T>(items: readonly T[]): T {
      const item = items[int(items.length)];
      if (item === undefined) throw new Error("pick from an empty list");
      return item;
    },
  };
}

const HEX = "0123456789abcdef";
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}-_`;
const str = (rng: Rng, alphabet: string, n: number): string => {
  let out = "";
  for (let i = 0; i < n; i++) out += alphabet[rng.int(alphabet.length)];
  return out;
};
const uuid = (rng: Rng): string =>
  `${str(rng, HEX, 8)}-${str(rng, HEX, 4)}-4${str(rng, HEX, 3)}-${rng.pick(["8", "9", "a", "b"])}${str(rng, HEX, 3)}-${str(rng, HEX, 12)}`;

// ---------------------------------------------------------------------------------------------------
// Fake credentials from a profile's shapes
// ---------------------------------------------------------------------------------------------------

/** A string the regex source matches, for the subset profiles use: classes, literals, {n} / {n,m}, `|`. */
function sample(pattern: string, rng: Rng): string {
  const alternatives: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "[" || c === "(") depth++;
    else if (c === "]" || c === ")") depth--;
    else if (c === "|" && depth === 0) {
      alternatives.push(pattern.slice(from, i));
      from = i + 1;
    }
  }
  alternatives.push(pattern.slice(from));
  // The first alternative is the exchange's current format (later ones are older forms).
  const source = alternatives[0] ?? "";
  let out = "";
  for (let i = 0; i < source.length; ) {
    let chars: string;
    const c = source[i] ?? "";
    if (c === "[") {
      const close = source.indexOf("]", i + 1);
      chars = expandClass(source.slice(i + 1, close));
      i = close + 1;
    } else if (c === "\\") {
      chars = source[i + 1] ?? "";
      i += 2;
    } else if ("()|*+?.^$".includes(c)) {
      throw new Error(`fakeCredentials: unsupported pattern syntax "${c}" in ${pattern}`);
    } else {
      chars = c;
      i++;
    }
    let count = 1;
    const q = /^\{(\d+)(?:,(\d+))?\}/.exec(source.slice(i));
    if (q) {
      const min = Number(q[1]);
      const max = q[2] === undefined ? min : Number(q[2]);
      count = min + rng.int(max - min + 1);
      i += q[0].length;
    }
    out += str(rng, chars, count);
  }
  return out;
}

function expandClass(body: string): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? "";
    const c2 = body[i + 2];
    if (c === "\\") {
      out += body[i + 1] ?? "";
      i++;
    } else if (body[i + 1] === "-" && c2 !== undefined) {
      for (let x = c.charCodeAt(0); x <= c2.charCodeAt(0); x++) out += String.fromCharCode(x);
      i += 2;
    } else out += c;
  }
  return out;
}

function fakeToken(shape: LeakTokenShape, rng: Rng): string {
  for (let tries = 0; tries < 1000; tries++) {
    const token = sample(shape.pattern, rng);
    if (acceptsToken(shape, token)) return token;
  }
  throw new Error(`fakeCredentials: no token of ${shape.pattern} passes the detector's checks`);
}

export interface FakeCredential {
  key: string;
  secret: string;
  passphrase?: string;
}

/**
 * A realistic credential of an exchange, from its profile's shapes (`leaks`): what a leak of a key the
 * exchange issued looks like. Keys with a passphrase (`passphraseWords`) get one a person might choose.
 */
export function fakeCredentials(
  profile: { leaks?: LeakPatterns | undefined; id?: string },
  rng: Rng,
): FakeCredential {
  const leaks = profile.leaks;
  if (leaks === undefined) throw new Error(`fakeCredentials: profile ${profile.id ?? "?"} has no leaks`);
  const out: FakeCredential = { key: fakeToken(leaks.key, rng), secret: fakeToken(leaks.secret, rng) };
  if ((leaks.passphraseWords ?? []).length > 0) {
    out.passphrase = `${rng.pick(["Blue", "Quiet", "Rapid", "Amber"])}${rng.pick(["Fox", "Harbor", "Cedar"])}${rng.int(90) + 10}${rng.pick(["!", "#", "%", "*"])}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Ordinary text
// ---------------------------------------------------------------------------------------------------

interface Ex {
  exchange: string;
  leaks: LeakPatterns;
}

const WORDS = [
  "account",
  "balance",
  "order",
  "client",
  "request",
  "handler",
  "config",
  "cache",
  "market",
  "ticker",
  "position",
  "session",
  "retry",
  "timeout",
  "payload",
  "stream",
  "socket",
  "parse",
  "format",
  "user",
  "report",
  "ledger",
  "wallet",
  "symbol",
  "price",
  "amount",
  "status",
  "result",
  "event",
  "queue",
];
const ident = (rng: Rng, parts = 2 + rng.int(3)): string => {
  let out = rng.pick(WORDS);
  for (let i = 1; i < parts; i++) {
    const w = rng.pick(WORDS);
    out += (w[0] ?? "").toUpperCase() + w.slice(1);
  }
  return out;
};
const snake = (rng: Rng): string => Array.from({ length: 2 + rng.int(4) }, () => rng.pick(WORDS)).join("_");
const jwtLike = (rng: Rng): string =>
  `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${str(rng, B64URL, 40 + rng.int(60))}.${str(rng, B64URL, 43)}`;
const sha = (rng: Rng, n: number): string => str(rng, HEX, n);

/** Kinds of ordinary file: where they go, their extension, and whether they name exchanges. */
type Kind = "ts" | "py" | "go" | "trading" | "lock" | "ci" | "env" | "md" | "minjs" | "minjson";
const KINDS: readonly { kind: Kind; ext: string; names: boolean; weight: number }[] = [
  { kind: "ts", ext: "ts", names: false, weight: 6 },
  { kind: "py", ext: "py", names: false, weight: 4 },
  { kind: "go", ext: "go", names: false, weight: 3 },
  { kind: "trading", ext: "ts", names: true, weight: 4 },
  { kind: "lock", ext: "json", names: false, weight: 1 },
  { kind: "ci", ext: "yml", names: true, weight: 1 },
  { kind: "env", ext: "env.example", names: true, weight: 1 },
  { kind: "md", ext: "md", names: true, weight: 2 },
  { kind: "minjs", ext: "min.js", names: false, weight: 1 },
  { kind: "minjson", ext: "min.json", names: false, weight: 1 },
];

/** One block (a few lines) of ordinary text of a kind. */
function block(kind: Kind, rng: Rng, exs: readonly Ex[]): string {
  const name = (): string => rng.pick(rng.pick(exs).leaks.names);
  switch (kind) {
    case "ts":
      return rng.pick([
        () =>
          `export async function ${ident(rng)}(${ident(rng, 1)}: string): Promise<void> {\n  const requestId = "${uuid(rng)}";\n  logger.info({ requestId }, "${rng.pick(WORDS)} ${rng.pick(WORDS)}");\n  await ${ident(rng)}(requestId);\n}\n\n`,
        () =>
          `// sha256 of the fixture, checked in CI\nconst ${ident(rng)}Digest = "${sha(rng, 64)}";\nconst commit = "${sha(rng, 40)}";\n\n`,
        () =>
          `const ${ident(rng)} = Buffer.from(\n  "${str(rng, B64, 60 + rng.int(200))}==",\n  "base64",\n);\n\n`,
        () =>
          `it("${rng.pick(WORDS)}s a ${rng.pick(WORDS)}", () => {\n  const token = "${jwtLike(rng)}";\n  expect(decode(token).${ident(rng, 1)}).toBe(${rng.int(1000)});\n});\n\n`,
        () =>
          `export const ${ident(rng, 3).toUpperCase()}_FLAGS = 0x${str(rng, "0123456789ABCDEF", 8)};\nexport const MAGIC = 0x${str(rng, "0123456789ABCDEF", 16)}n;\n\n`,
        // Random ids of the lengths keys have, away from any exchange's name.
        () =>
          `const ${ident(rng)}Id = "${str(rng, ALNUM, 18)}"; // fixture\nconst ${ident(rng)}Ref = "${str(rng, ALNUM, 36)}";\nconst nonce = "${str(rng, B64URL, 43)}";\nconst short = "${str(rng, ALNUM, 8)}";\n\n`,
        () =>
          `interface ${ident(rng, 3).replace(/^./, (c) => c.toUpperCase())} {\n  ${ident(rng)}: number;\n  ${ident(rng)}?: string;\n  ${ident(rng, 5)}: boolean;\n}\n\n`,
      ])();
    case "py":
      return rng.pick([
        () =>
          `def ${snake(rng)}(${snake(rng)}, timeout=${rng.int(60)}):\n    """${rng.pick(WORDS)} the ${rng.pick(WORDS)}."""\n    request_id = "${uuid(rng)}"\n    return ${snake(rng)}(request_id)\n\n`,
        () => `CHECKSUM = "${sha(rng, 64)}"\nSESSION_SALT = b"${str(rng, B64, 44)}"\n\n`,
        () =>
          `class ${ident(rng, 2).replace(/^./, (c) => c.toUpperCase())}:\n    ${snake(rng)} = ${rng.int(100)}\n    ${snake(rng)} = "${str(rng, ALNUM, 36)}"\n\n`,
        () => `LOOKUP = {"${snake(rng)}": ${rng.int(9)}, "${snake(rng)}": "${str(rng, ALNUM, 18)}"}\n\n`,
      ])();
    case "go":
      return rng.pick([
        () =>
          `func ${ident(rng).replace(/^./, (c) => c.toUpperCase())}(ctx context.Context) error {\n\tid := "${uuid(rng)}"\n\treturn ${ident(rng)}(ctx, id)\n}\n\n`,
        () => `const ${ident(rng)}Hash = "${sha(rng, 40)}"\n\n`,
        () => `var ${ident(rng)} = []byte("${str(rng, B64URL, 43)}")\n\n`,
      ])();
    case "trading":
      // Exchange names with UUID order ids, symbols, addresses: the words are here, no credential is.
      return rng.pick([
        () =>
          `// ${name()}: place the ${rng.pick(WORDS)} order\nconst ${name()}OrderId = "${uuid(rng)}";\nawait ${name()}.createOrder("BTC/USDT", "limit", "buy", ${rng.int(9) + 1}, ${rng.int(90000)}, { clientOrderId: "${uuid(rng)}" });\n\n`,
        () =>
          `const venue = "${name()}"; // exchange\nconst fills = await ${ident(rng)}(venue, { since: ${1_700_000_000_000 + rng.int(1e9)}, symbol: "ETH-USDT-SWAP" });\nlog.debug("fills from %s: %d (request ${uuid(rng)})", venue, fills.length);\n\n`,
        () =>
          `export const DEPOSIT_ADDRESSES = {\n  ${name()}: "0x${sha(rng, 40)}",\n  btc: "bc1q${str(rng, "023456789acdefghjklmnpqrstuvwxyz", 38)}",\n};\n\n`,
        () =>
          `if (err.code === "${rng.int(90000) + 10000}") {\n  // ${name()} rate limit: back off\n  await sleep(${rng.int(2000)});\n}\nconst instrument = "BTC-${rng.int(28) + 1}DEC25-${rng.int(9) * 10000}-C"; // ${name()}\n\n`,
      ])();
    case "lock":
      return `    "node_modules/${snake(rng).replace(/_/g, "-")}": {\n      "version": "${rng.int(9)}.${rng.int(20)}.${rng.int(20)}",\n      "resolved": "https://registry.example.org/${rng.pick(WORDS)}/-/${rng.pick(WORDS)}-1.0.0.tgz",\n      "integrity": "sha512-${str(rng, B64, 86)}==",\n      "license": "MIT"\n    },\n`;
    case "ci":
      return `  ${rng.pick(WORDS)}:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@${sha(rng, 40)}\n      - run: npm test\n        env:\n          ${name().toUpperCase()}_API_KEY: \${{ secrets.${name().toUpperCase()}_API_KEY }}\n          CACHE_KEY: ${sha(rng, 64)}\n      # artifact MD5, upper-case as the vendor prints it\n      - run: echo "${str(rng, "0123456789ABCDEF", 32)}  dist.tgz" | md5sum -c\n`;
    case "env":
      return `# ${name()} credentials (create them on the exchange's API page)\n${name().toUpperCase()}_API_KEY=XXXXXXXXXXXXXXXXXX\n${name().toUpperCase()}_API_SECRET=your-api-secret-here\nLOG_LEVEL=info\nREQUEST_ID=${uuid(rng)}\n\n`;
    case "md":
      return `## ${rng.pick(WORDS)} ${rng.pick(WORDS)}\n\nConnect your ${name()} account: create an API key with read-only access, then set\n\`API_KEY\` and \`API_SECRET\`. Example request id: \`${uuid(rng)}\`; commit \`${sha(rng, 40)}\`.\n\n`;
    // Minified code and data: a UUID in one block of four (bundles and API dumps have some, not one per line).
    case "minjs":
      return `function ${ident(rng, 1)}(e,t){var n="${str(rng, B64, 40 + rng.int(100))}";return e.${ident(rng)}(t,"${rng.int(4) === 0 ? uuid(rng) : ident(rng)}",n)}var ${ident(rng, 1)}="data:image/png;base64,${str(rng, B64, 120)}=";`;
    case "minjson":
      return `{"id":${rng.int(4) === 0 ? `"${uuid(rng)}"` : rng.int(1e9)},"${ident(rng)}":${rng.int(1e6)},"sha":"${sha(rng, 40)}","tag":"${str(rng, ALNUM, 18)}","note":"${rng.pick(WORDS)}"},`;
  }
}

/** Lines of plain words (comments, or records in a one-line JSON file) of at least `bytes`. */
function pad(kind: Kind, rng: Rng, bytes: number): string {
  let out = "";
  while (out.length < bytes) {
    const words = Array.from({ length: 8 }, () => rng.pick(WORDS)).join(" ");
    if (kind === "minjson") out += `{"note":"${words}"},`;
    else if (kind === "minjs") out += `/* ${words} */`;
    else if (kind === "md") out += `${words}\n`;
    else if (kind === "py" || kind === "ci" || kind === "env") out += `# ${words}\n`;
    else out += `// ${words}\n`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Planted credentials
// ---------------------------------------------------------------------------------------------------

export type PlantFormat = "env" | "yaml" | "json" | "minified-json" | "python" | "shell" | "log";
export const PLANT_FORMATS: readonly PlantFormat[] = [
  "env",
  "yaml",
  "json",
  "minified-json",
  "python",
  "shell",
  "log",
];

export interface PlantedCredential {
  exchange: string;
  key: string;
  secret?: string;
  passphrase?: string;
}

export interface PlantedLeak extends PlantedCredential {
  /** Relative to the root, with "/". */
  path: string;
  /** 1-based line of the key. */
  line: number;
  /** Whether the exchange's name is within the profile's window of the key. */
  nearName: boolean;
  format: PlantFormat;
  /** Given by the caller (`plant.known`): what the engine finds by exact match. */
  known: boolean;
  /** What pattern detection alone should report for it, by the profile's rules; null: nothing. */
  detect: "high" | "medium" | "low" | null;
}

/**
 * A credential written in one of the formats leaks come in (`name`: the exchange's name beside it, or
 * null for a pair alone), and the index of the line holding the key.
 */
export function credentialSnippet(
  format: PlantFormat,
  cred: PlantedCredential,
  name: string | null,
  rng: Rng,
): { text: string; keyLine: number } {
  const N = name?.toUpperCase();
  const pre = N === undefined ? "" : `${N}_`;
  const s = cred.secret;
  const p = cred.passphrase;
  switch (format) {
    case "env": {
      const lines = [`${pre}API_KEY=${cred.key}`];
      if (s !== undefined) lines.push(`${pre}API_SECRET=${s}`);
      if (p !== undefined) lines.push(`${pre}PASSPHRASE=${p}`);
      return { text: `${lines.join("\n")}\n`, keyLine: 0 };
    }
    case "shell": {
      const lines = [`export ${pre}KEY="${cred.key}"`];
      if (s !== undefined) lines.push(`export ${pre}SECRET="${s}"`);
      if (p !== undefined) lines.push(`export ${pre}PASSPHRASE='${p}'`);
      return { text: `${lines.join("\n")}\n`, keyLine: 0 };
    }
    case "yaml": {
      const lines = [name === null ? "credentials:" : `${name}:`, `  apiKey: ${cred.key}`];
      if (s !== undefined) lines.push(`  secret: "${s}"`);
      if (p !== undefined) lines.push(`  passphrase: "${p}"`);
      return { text: `${lines.join("\n")}\n`, keyLine: 1 };
    }
    case "json": {
      const lines = ["{"];
      if (name !== null) lines.push(`  "exchange": "${name}",`);
      lines.push(`  "apiKey": "${cred.key}"${s !== undefined || p !== undefined ? "," : ""}`);
      const keyLine = lines.length - 1;
      if (s !== undefined) lines.push(`  "secret": "${s}"${p !== undefined ? "," : ""}`);
      if (p !== undefined) lines.push(`  "password": "${p}"`);
      lines.push("}");
      return { text: `${lines.join("\n")}\n`, keyLine };
    }
    case "minified-json": {
      const fields = [
        ...(name === null ? [] : [`"exchange":"${name}"`]),
        `"apiKey":"${cred.key}"`,
        ...(s === undefined ? [] : [`"secret":"${s}"`]),
        ...(p === undefined ? [] : [`"passphrase":"${p}"`]),
      ];
      return { text: `{"id":${rng.int(1e6)},${fields.join(",")},"enabled":true},`, keyLine: 0 };
    }
    case "python": {
      const inner = [`"api_key": "${cred.key}"`];
      if (s !== undefined) inner.push(`"secret": "${s}"`);
      if (p !== undefined) inner.push(`"passphrase": "${p}"`);
      const head = name === null ? "CREDENTIALS = {" : `EXCHANGES = {"${name}": {`;
      const tail = name === null ? "}" : "}}";
      return { text: `${head}${inner.join(", ")}${tail}\n`, keyLine: 0 };
    }
    case "log": {
      const where = name === null ? "venue" : name;
      const rest = `${s !== undefined ? ` secret=${s}` : ""}${p !== undefined ? ` passphrase=${p}` : ""}`;
      return {
        text: `2025-11-${10 + rng.int(18)}T0${rng.int(9)}:1${rng.int(9)}:00.000Z INFO connect ${where} apiKey=${cred.key}${rest} attempt=${rng.int(5) + 1}\n`,
        keyLine: 0,
      };
    }
  }
}

/** What pattern detection alone makes of a planted credential, by the profile's rules. */
function expectedDetect(
  cred: PlantedCredential,
  leaks: LeakPatterns,
  nearName: boolean,
): PlantedLeak["detect"] {
  if (!acceptsToken(leaks.key, cred.key)) return null;
  const secret = cred.secret !== undefined && acceptsToken(leaks.secret, cred.secret);
  const pass = cred.passphrase !== undefined && (leaks.passphraseWords ?? []).length > 0;
  if (secret && nearName) return "high";
  if (secret && leaks.pairWithoutName) return pass ? "high" : "medium";
  if (nearName) return pass ? "medium" : "low";
  return null;
}

// ---------------------------------------------------------------------------------------------------
// The tree
// ---------------------------------------------------------------------------------------------------

export interface LeakCorpusOptions {
  /** The folder to write into (made if missing). */
  root: string;
  seed?: number;
  /** How many files (default 200) and about how many bytes in all (default 2 MB). */
  files?: number;
  totalBytes?: number;
  /** The exchanges (default: every registered profile with `leaks`). */
  exchanges?: readonly Ex[];
  plant?: {
    /** Credentials the caller knows (e.g. keys in a test home's inventory). */
    known?: readonly PlantedCredential[];
    /** Unknown credentials per exchange, made with `fakeCredentials`. */
    unknownPerExchange?: number;
  };
  /** One more file of this many bytes (a log), with a credential whose key spans the 1 MiB boundary. */
  largeFile?: { bytes: number };
}

export interface LeakCorpus {
  root: string;
  files: number;
  bytes: number;
  planted: PlantedLeak[];
}

/** The offset of the 1 MiB boundary that `largeFile` puts a key across (engines read 1 MiB chunks). */
export const LARGE_FILE_BOUNDARY = 1024 * 1024;

const profileExchanges = (): Ex[] =>
  EXCHANGE_PROFILES.flatMap((p) => (p.leaks === undefined ? [] : [{ exchange: p.id, leaks: p.leaks }]));

/** Writes the tree and returns what was planted where. */
export async function generateLeakCorpus(options: LeakCorpusOptions): Promise<LeakCorpus> {
  // Mixed with a constant: a caller that makes its known credentials with seededRng(seed) must not find
  // them among the tree's ordinary random ids.
  const rng = seededRng((options.seed ?? 1) ^ 0x6c65616b);
  const exs = options.exchanges ?? profileExchanges();
  const fileCount = options.files ?? 200;
  const totalBytes = options.totalBytes ?? 2_000_000;
  const perFile = Math.max(200, Math.floor(totalBytes / Math.max(1, fileCount)));
  const byId = new Map(exs.map((e) => [e.exchange, e]));
  const padBytes = Math.max(...exs.map((e) => e.leaks.window ?? DEFAULT_LEAK_WINDOW), 0) + 64;

  // Blocks of ordinary text, made once and reused (what makes a large tree quick to write).
  const POOL = 400;
  const pools = new Map<Kind, Buffer[]>();
  for (const k of KINDS) {
    pools.set(
      k.kind,
      Array.from({ length: POOL }, () => Buffer.from(block(k.kind, rng, exs), "latin1")),
    );
  }
  const weighted = KINDS.flatMap((k) => Array.from({ length: k.weight }, () => k));

  // The plants: known ones first, then unknown ones per exchange; alternately near the name and not
  // (not: only where detection or an exact match can find them).
  const plants: { cred: PlantedCredential; known: boolean; nearName: boolean; format: PlantFormat }[] = [];
  let f = 0;
  (options.plant?.known ?? []).forEach((cred, i) => {
    plants.push({
      cred,
      known: true,
      nearName: i % 2 === 0,
      format: PLANT_FORMATS[f++ % PLANT_FORMATS.length] ?? "env",
    });
  });
  for (const e of exs) {
    for (let i = 0; i < (options.plant?.unknownPerExchange ?? 0); i++) {
      const nearName = !e.leaks.pairWithoutName || i % 2 === 0;
      const cred: PlantedCredential = {
        exchange: e.exchange,
        ...fakeCredentials({ id: e.exchange, leaks: e.leaks }, rng),
      };
      if (i % 4 === 1) delete cred.passphrase; // a pair without its passphrase too
      plants.push({
        cred,
        known: false,
        nearName,
        format: PLANT_FORMATS[f++ % PLANT_FORMATS.length] ?? "env",
      });
    }
  }
  if (plants.length > fileCount)
    throw new Error(`${plants.length} credentials to plant in ${fileCount} files`);
  // One plant per file, in files spread over the tree.
  const plantAt = new Map<number, (typeof plants)[number]>();
  const step = Math.max(1, Math.floor(fileCount / Math.max(1, plants.length)));
  plants.forEach((p, i) => {
    plantAt.set((i * step + rng.int(step)) % fileCount, p);
  });

  const planted: PlantedLeak[] = [];
  let bytes = 0;
  const jobs: Promise<void>[] = [];
  const madeDirs = new Set<string>();
  const flush = async (): Promise<void> => {
    await Promise.all(jobs.splice(0));
  };
  for (let i = 0; i < fileCount; i++) {
    const plant = plantAt.get(i);
    const cred = plant?.cred;
    const e = cred === undefined ? undefined : byId.get(cred.exchange);
    // A plant without its name goes into a file that names no exchange; a minified-JSON plant into one.
    let kind = rng.pick(weighted);
    const tsKind = KINDS.find((k) => k.kind === "ts") ?? kind;
    if (plant !== undefined) {
      if (plant.format === "minified-json") kind = KINDS.find((k) => k.kind === "minjson") ?? kind;
      else if (kind.kind === "minjs" || kind.kind === "minjson" || (!plant.nearName && kind.names))
        kind = tsKind;
    }
    const oneLine = kind.kind === "minjs" || kind.kind === "minjson";
    const pool = pools.get(kind.kind) ?? [];
    const parts: Buffer[] = [];
    let size = 0;
    const target = perFile / 2 + rng.int(perFile);
    while (size < target) {
      const b = pool[rng.int(pool.length)] ?? EMPTY;
      parts.push(b);
      size += b.length;
    }
    if (kind.kind === "minjson") {
      parts.unshift(JSON_OPEN);
      parts.push(JSON_CLOSE);
    } else if (kind.kind === "lock") {
      parts.unshift(LOCK_OPEN);
      parts.push(LOCK_CLOSE);
    } else if (oneLine) parts.push(NEWLINE);
    let data: Buffer;
    if (plant !== undefined && cred !== undefined) {
      const name = plant.nearName && e !== undefined ? rng.pick(e.leaks.names) : null;
      const sn = credentialSnippet(plant.format, cred, name, rng);
      // Into the middle of the file, at a block boundary (one line in a one-line file).
      const at = 1 + rng.int(Math.max(1, parts.length - 2));
      // Plain words either side, a window wide: what else the file holds (random ids, other exchanges'
      // names) stays out of the credential's window, so the manifest says what detection should find.
      const padding = pad(kind.kind, rng, padBytes);
      let head = Buffer.concat(parts.slice(0, at)).toString("latin1") + padding;
      if (!oneLine && !head.endsWith("\n")) head += "\n";
      data = Buffer.concat([Buffer.from(head + sn.text + padding, "latin1"), ...parts.slice(at)]);
      const leaks = e?.leaks;
      planted.push({
        ...cred,
        path: filePath(i, kind.ext),
        line: oneLine ? 1 : countLines(head) + 1 + sn.keyLine,
        nearName: plant.nearName,
        format: plant.format,
        known: plant.known,
        detect: leaks === undefined ? null : expectedDetect(cred, leaks, plant.nearName),
      });
    } else data = Buffer.concat(parts);
    const path = join(options.root, filePath(i, kind.ext));
    const dir = dirname(path);
    if (!madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      madeDirs.add(dir);
    }
    bytes += data.length;
    jobs.push(writeFile(path, data));
    if (jobs.length >= 64) await flush();
  }
  await flush();
  let files = fileCount;

  if (options.largeFile !== undefined) {
    const e = exs[0];
    if (e === undefined) throw new Error("largeFile needs an exchange to plant");
    const cred = { exchange: e.exchange, ...fakeCredentials({ id: e.exchange, leaks: e.leaks }, rng) };
    const written = await writeLargeFile(
      options.root,
      options.largeFile.bytes,
      cred,
      rng.pick(e.leaks.names),
      rng,
    );
    planted.push({
      ...cred,
      path: LARGE_FILE_PATH,
      line: written.line,
      nearName: true,
      format: "log",
      known: false,
      detect: expectedDetect(cred, e.leaks, true),
    });
    bytes += written.bytes;
    files++;
  }
  return { root: options.root, files, bytes, planted };
}

const LARGE_FILE_PATH = "var/log/bot.log";
const EMPTY = Buffer.alloc(0);
const NEWLINE = Buffer.from("\n");
const JSON_OPEN = Buffer.from("[");
const JSON_CLOSE = Buffer.from('{"end":true}]\n');
const LOCK_OPEN = Buffer.from('{\n  "name": "app",\n  "lockfileVersion": 3,\n  "packages": {\n');
const LOCK_CLOSE = Buffer.from('    "": {}\n  }\n}\n');

const countLines = (s: string): number => {
  let n = 0;
  for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) n++;
  return n;
};

/** 100 files a folder, in folders that look like a monorepo's. */
function filePath(i: number, ext: string): string {
  const top = ["src", "lib", "services", "packages", "scripts", "docs"][Math.floor(i / 100) % 6] ?? "src";
  return `${top}/m${Math.floor(i / 100)}/${WORDS[i % WORDS.length]}-${i}.${ext}`;
}

/** Streams a log of `bytes` with the credential's key across LARGE_FILE_BOUNDARY. */
async function writeLargeFile(
  root: string,
  bytes: number,
  cred: PlantedCredential,
  name: string,
  rng: Rng,
): Promise<{ bytes: number; line: number }> {
  if (bytes < 2 * LARGE_FILE_BOUNDARY) throw new Error("largeFile: at least 2 MiB");
  const path = join(root, LARGE_FILE_PATH);
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path, { encoding: "latin1" });
  const lines = Array.from(
    { length: 200 },
    () =>
      `2025-11-20T10:${rng.int(60)}:00.000Z INFO ${rng.pick(WORDS)} ${rng.pick(WORDS)} request=${uuid(rng)} took=${rng.int(900)}ms\n`,
  );
  let written = 0;
  let line = 1;
  const write = (s: string): Promise<void> =>
    new Promise((resolve) => {
      written += s.length;
      line += countLines(s);
      if (out.write(s)) resolve();
      else out.once("drain", resolve);
    });
  const prefix = `2025-11-20T11:00:00.000Z INFO connect ${name} apiKey=`;
  const keyAt = LARGE_FILE_BOUNDARY - Math.floor(cred.key.length / 2);
  // Ordinary lines up to the credential's line, padded so the key starts at keyAt.
  while (written + 200 < keyAt - prefix.length) await write(lines[rng.int(lines.length)] ?? "\n");
  await write(`${" ".repeat(keyAt - prefix.length - written - 1)}\n`);
  const keyLine = line;
  await write(
    `${prefix}${cred.key} secret=${cred.secret ?? ""}${cred.passphrase ? ` passphrase=${cred.passphrase}` : ""}\n`,
  );
  while (written < bytes) await write(lines[rng.int(lines.length)] ?? "\n");
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return { bytes: written, line: keyLine };
}
