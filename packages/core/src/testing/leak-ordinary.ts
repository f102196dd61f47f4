/**
 * Ordinary text for the leak corpus (task: patterns): blocks of source code, config, docs and minified
 * files full of what fools secret scanners (see leak-corpus.ts), and the plain padding put around a
 * planted credential. Exchange names come from the profiles given.
 */
import type { LeakPatterns } from "../scan/scan-types.js";
import { ALNUM, B64, B64URL, HEX, type Rng, str, uuid } from "./leak-random.js";

export interface Ex {
  exchange: string;
  leaks: LeakPatterns;
}

export const WORDS = [
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
export type Kind = "ts" | "py" | "go" | "trading" | "lock" | "ci" | "env" | "md" | "minjs" | "minjson";
export const KINDS: readonly { kind: Kind; ext: string; names: boolean; weight: number }[] = [
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
export function block(kind: Kind, rng: Rng, exs: readonly Ex[]): string {
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
export function pad(kind: Kind, rng: Rng, bytes: number): string {
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
