/**
 * A git repository with leaked exchange credentials buried in its history, for `keyward scan --git`'s
 * tests and the scan bench (bench/src/scan.ts). Built with one `git fast-import` stream (10,000 commits
 * in seconds; a `git commit` per commit would take minutes): ordinary source files changing over time on
 * `main`, plus each planted credential in one of the places a history scan must reach without checking
 * anything out:
 *
 * - "deleted": a file added on main and deleted in a later commit: only history holds it;
 * - "branch": a commit on a side branch that was never merged;
 * - "tag": a commit reachable only from an annotated tag (a release cut off main, the branch deleted);
 * - "tree": a file added on main and still in its final tree.
 *
 * The repository is deterministic: the same options give the same commit hashes (fixed authors and
 * dates). The ordinary files hold no credential-shaped token (identifiers stay short, numbers small, no
 * hex), so any pattern hit outside the manifest is a false positive. Credentials are the caller's
 * (e.g. from leak-corpus.ts's fakeCredentials); where one is written next to its exchange's name, the name
 * comes from the exchange's profile (its `leaks.names`, else its `name`), never from code here.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { exchangeProfile } from "../adapters/registry.js";
import { seededRng } from "./leak-random.js";

export type LeakRepoPlacement = "deleted" | "branch" | "tag" | "tree";
export const LEAK_REPO_PLACEMENTS: readonly LeakRepoPlacement[] = ["deleted", "branch", "tag", "tree"];

/** A credential to bury in the repository. */
export interface LeakRepoCredential {
  /** The exchange's profile id. */
  exchange: string;
  /** "known": a key id the scan is given as a needle; "unknown": only the exchange's patterns find it. */
  kind: "known" | "unknown";
  key: string;
  secret?: string;
  passphrase?: string;
  /** Where in history; default: deleted, branch, tag, tree in turn, in the order of `plant`. */
  placement?: LeakRepoPlacement;
  /** Write the exchange's name next to it (OKX_API_KEY=…); default true. False: API_KEY=… */
  nearName?: boolean;
}

export interface GenerateLeakRepoOptions {
  /** The repository's folder: created if missing; must be empty. */
  dir: string;
  /** Commits on main (at least 8). Side branches and tags add one commit per credential placed there. */
  commits: number;
  seed: number;
  plant: readonly LeakRepoCredential[];
  /** Ordinary source files in main's first commit; default min(60, commits). */
  files?: number;
  /** Fill the working tree with main's final tree (default false: the repository is history only). */
  checkout?: boolean;
}

/** Where one planted credential is. Holds the key (test data), never its secret. */
export interface LeakRepoPlanted {
  exchange: string;
  kind: "known" | "unknown";
  key: string;
  placement: LeakRepoPlacement;
  nearName: boolean;
  /** The commit (full hash) that added the file holding it: the first commit with that blob at `path`. */
  commit: string;
  /** The file's path in the repository. */
  path: string;
  /** The blob (full hash) holding it: `git cat-file blob <blob>`. */
  blob: string;
  /** The ref it is reachable from ("refs/heads/main", "refs/heads/experiment/…", "refs/tags/v…"). */
  ref: string;
  /** "deleted": the main commit that removed the file. */
  deletedIn?: string;
}

export interface LeakRepoManifest {
  dir: string;
  /** Commits on main; and in the whole repository (main + side branches + tagged commits). */
  mainCommits: number;
  totalCommits: number;
  /** Main's last commit. */
  head: string;
  /** Every ref the repository has. */
  refs: string[];
  planted: LeakRepoPlanted[];
  /** Bytes of blob data written (every version of every file). */
  blobBytes: number;
}

// Short words only: camelCase joins of two stay under 14 characters, so no identifier can take the
// shape of an alphanumeric key (18+ characters); numbers stay under 6 digits; nothing is hex.
const VERBS = ["load", "parse", "build", "render", "check", "format", "merge", "split", "apply", "find"];
const NOUNS = ["Order", "Trade", "Quote", "Book", "Price", "Fill", "Route", "Limit", "Fee", "Level", "Tick"];
const FIELDS = ["size", "price", "side", "count", "total", "depth", "delay", "level", "index", "weight"];
const TYPES = ["number", "string", "boolean", "Date", "unknown"];
const DIRS = ["src", "src/feed", "src/risk", "src/book", "src/util", "lib", "scripts"];
const PROSE = [
  "keep the book in step with the feed",
  "the venue may send levels out of order",
  "round before comparing prices",
  "a partial fill leaves the rest open",
  "retry once, then give up and log",
  "fees are charged on the quote side",
  "the delay is in milliseconds",
  "skip empty levels",
];
const PEOPLE = ["Ada Wolfe", "Bo Lindqvist", "Chen Hui", "Dara Okafor", "Emil Novak"];

interface Gen {
  rand: () => number;
  int(n: number): number;
  pick<T>(list: readonly T[]): T;
}

function gen(seed: number): Gen {
  const rand = seededRng(seed).next;
  const int = (n: number) => Math.floor(rand() * n);
  return { rand, int, pick: <T>(list: readonly T[]) => list[int(list.length)] as T };
}

function sourceFunction(g: Gen): string {
  const name = `${g.pick(VERBS)}${g.pick(NOUNS)}`;
  const arg = g.pick(FIELDS);
  const local = g.pick(FIELDS);
  return [
    `// ${g.pick(PROSE)}`,
    `export function ${name}(${arg}: ${g.pick(TYPES)}, opts: { ${local}?: number } = {}): number {`,
    `  const ${local}Max = opts.${local} ?? ${g.int(10_000)};`,
    `  if (typeof ${arg} !== "number") return ${g.int(100)};`,
    `  return Math.min(${arg} * ${1 + g.int(9)}, ${local}Max);`,
    "}",
    "",
  ].join("\n");
}

function sourceFile(g: Gen, functions: number): string[] {
  const blocks = [`// ${g.pick(PROSE)}.\n`];
  for (let i = 0; i < functions; i++) blocks.push(sourceFunction(g));
  return blocks;
}

/** The file holding one planted credential: a few ordinary lines around it, in one of four formats. */
function credentialFile(c: LeakRepoCredential, nearName: boolean, n: number): { path: string; text: string } {
  const profile = exchangeProfile(c.exchange);
  const name = (profile.leaks?.names[0] ?? profile.name).toLowerCase().replace(/[^a-z0-9]/g, "");
  const pass = profile.leaks?.passphraseWords?.[0] ?? "passphrase";
  const prefix = nearName ? `${name.toUpperCase()}_` : "";
  const fields: [string, string | undefined][] = [
    ["API_KEY", c.key],
    ["API_SECRET", c.secret],
    [pass.toUpperCase(), c.passphrase],
  ];
  const present = fields.filter((f): f is [string, string] => f[1] !== undefined);
  switch (n % 4) {
    case 0:
      return {
        path: `deploy/bot-${n}.env`,
        text: `# bot ${n}\nLOG_LEVEL=info\n${present.map(([k, v]) => `${prefix}${k}=${v}`).join("\n")}\nPOLL_MS=250\n`,
      };
    case 1:
      return {
        path: `config/local-${n}.json`,
        text: `${JSON.stringify({ port: 8080 + n, ...(nearName ? { exchange: name } : {}), credentials: Object.fromEntries(present.map(([k, v]) => [k.toLowerCase(), v])) }, null, 2)}\n`,
      };
    case 2:
      return {
        path: `ops/account-${n}.yaml`,
        text: `${nearName ? `${name}:\n` : "account:\n"}  ${present.map(([k, v]) => `${k.toLowerCase()}: "${v}"`).join("\n  ")}\n  timeout: 30\n`,
      };
    default:
      return {
        path: `src/keys-${n}.ts`,
        text: `// temporary, do not commit\n${present.map(([k, v]) => `export const ${nearName ? `${name}_` : ""}${k.toLowerCase()} = "${v}";`).join("\n")}\n`,
      };
  }
}

function git(dir: string, args: string[], input?: Buffer): string {
  const r = spawnSync("git", args, {
    cwd: dir,
    input,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    // The repository must not depend on the person's git config (hooks, templates, signing).
    env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
  });
  if (r.status !== 0) throw new Error(`git ${args[0]} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Builds the repository (see the module comment) and says where each credential is. */
export function generateLeakRepo(options: GenerateLeakRepoOptions): LeakRepoManifest {
  const { dir, commits, seed, plant } = options;
  if (!Number.isInteger(commits) || commits < 8) throw new RangeError("commits must be an integer >= 8");
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) throw new Error(`${dir} is not empty`);
  git(dir, ["init", "-q", "-b", "main"]);

  const g = gen(seed);
  const chunks: string[] = [];
  let blobBytes = 0;
  const data = (text: string): string => {
    blobBytes += Buffer.byteLength(text);
    return `data ${Buffer.byteLength(text)}\n${text}\n`;
  };
  const msgData = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  // Fixed dates (an hour apart from 2024-01-01) make the hashes the same on every run.
  const T0 = 1_704_067_200;
  const who = (i: number, role: "author" | "committer" | "tagger") => {
    const person = PEOPLE[i % PEOPLE.length] as string;
    return `${role} ${person} <${person.split(" ")[0]?.toLowerCase()}@example.com> ${T0 + i * 3600} +0000\n`;
  };

  // Where each credential goes: spread over main's history, away from both ends.
  const placed = plant.map((c, i) => {
    const placement =
      c.placement ?? (LEAK_REPO_PLACEMENTS[i % LEAK_REPO_PLACEMENTS.length] as LeakRepoPlacement);
    const at = 1 + Math.floor(((i + 1) * (commits - 3)) / (plant.length + 1));
    const deleteAt =
      placement === "deleted" ? Math.min(commits - 1, at + 1 + g.int(Math.max(1, (commits - at) / 2))) : -1;
    return {
      c,
      i,
      placement,
      nearName: c.nearName ?? true,
      at,
      deleteAt,
      file: credentialFile(c, c.nearName ?? true, i),
    };
  });
  const credentialMarks = new Map<
    number,
    { commitMark: number; blobMark: number; ref: string; deletedMark?: number }
  >();

  let mark = 0;
  const files = new Map<string, string[]>();
  const nFiles = options.files ?? Math.min(60, commits);
  const newPath = (n: number) => `${g.pick(DIRS)}/${g.pick(VERBS)}-${g.pick(NOUNS).toLowerCase()}-${n}.ts`;
  let mainMark = 0;
  let extra = 0;

  for (let c = 0; c < commits; c++) {
    const changes: string[] = [];
    if (c === 0) {
      changes.push(`M 100644 inline README.md\n${data("# desk-bot\n\nA trading bot's helpers.\n")}`);
      for (let f = 0; f < nFiles; f++) {
        const path = newPath(f);
        files.set(path, sourceFile(g, 1 + g.int(4)));
      }
      for (const [path, blocks] of files) changes.push(`M 100644 inline ${path}\n${data(blocks.join("\n"))}`);
    } else {
      const paths = [...files.keys()];
      const edits = 1 + g.int(2);
      for (let e = 0; e < edits; e++) {
        if (g.rand() < 0.08) {
          const path = newPath(files.size);
          if (files.has(path)) continue;
          files.set(path, sourceFile(g, 1 + g.int(3)));
          changes.push(`M 100644 inline ${path}\n${data((files.get(path) as string[]).join("\n"))}`);
          continue;
        }
        const path = g.pick(paths);
        const blocks = files.get(path) as string[];
        // Replace, add or drop a function; files stay between 1 and 8 functions.
        const k = 1 + g.int(Math.max(1, blocks.length - 1));
        const op = g.rand();
        if (op < 0.5 && blocks.length > 1) blocks[Math.min(k, blocks.length - 1)] = sourceFunction(g);
        else if ((op < 0.8 || blocks.length < 3) && blocks.length < 9) blocks.push(sourceFunction(g));
        else if (blocks.length > 2) blocks.splice(Math.min(k, blocks.length - 1), 1);
        else blocks.push(sourceFunction(g));
        changes.push(`M 100644 inline ${path}\n${data(blocks.join("\n"))}`);
      }
    }
    const onMain = placed.filter((p) => p.at === c && (p.placement === "deleted" || p.placement === "tree"));
    const blobFor = new Map<number, number>();
    for (const p of onMain) {
      mark++;
      chunks.push(`blob\nmark :${mark}\n${data(p.file.text)}`);
      blobFor.set(p.i, mark);
      changes.push(`M 100644 :${mark} ${p.file.path}\n`);
    }
    for (const p of placed.filter((q) => q.deleteAt === c)) changes.push(`D ${p.file.path}\n`);

    mark++;
    const commitMark = mark;
    chunks.push(
      `commit refs/heads/main\nmark :${commitMark}\n${who(c, "author")}${who(c, "committer")}${msgData(`${g.pick(VERBS)} ${g.pick(NOUNS).toLowerCase()}: ${g.pick(PROSE)}`)}${c > 0 ? `from :${mainMark}\n` : ""}${changes.join("")}\n`,
    );
    mainMark = commitMark;
    for (const p of onMain)
      credentialMarks.set(p.i, { commitMark, blobMark: blobFor.get(p.i) as number, ref: "refs/heads/main" });
    for (const p of placed.filter((q) => q.deleteAt === c)) {
      const m = credentialMarks.get(p.i);
      if (m) m.deletedMark = commitMark;
    }

    // Side branches and tags fork from this main commit.
    for (const p of placed.filter((q) => q.at === c && (q.placement === "branch" || q.placement === "tag"))) {
      extra++;
      mark++;
      const blobMark = mark;
      chunks.push(`blob\nmark :${blobMark}\n${data(p.file.text)}`);
      mark++;
      const side = mark;
      const ref =
        p.placement === "branch"
          ? `refs/heads/experiment/${g.pick(NOUNS).toLowerCase()}-${p.i}`
          : `refs/keyward-tmp/${p.i}`;
      chunks.push(
        `commit ${ref}\nmark :${side}\n${who(c + 1, "author")}${who(c + 1, "committer")}${msgData(`wip: try ${g.pick(NOUNS).toLowerCase()} settings`)}from :${commitMark}\nM 100644 :${blobMark} ${p.file.path}\n\n`,
      );
      let reachable = ref;
      if (p.placement === "tag") {
        const tag = `v0.${1 + p.i}.${g.int(10)}-hotfix`;
        chunks.push(`tag ${tag}\nfrom :${side}\n${who(c + 1, "tagger")}${msgData(`hotfix release ${tag}`)}`);
        reachable = `refs/tags/${tag}`;
      }
      credentialMarks.set(p.i, { commitMark: side, blobMark, ref: reachable });
    }
  }

  const marksFile = join(dir, ".git", "keyward-marks");
  git(dir, ["fast-import", "--quiet", `--export-marks=${marksFile}`], Buffer.from(chunks.join("")));
  const shaOf = new Map<number, string>();
  for (const line of readFileSync(marksFile, "utf8").split("\n")) {
    const [m, sha] = line.split(" ");
    if (m && sha) shaOf.set(Number(m.slice(1)), sha);
  }
  rmSync(marksFile);
  // The tagged commits' temporary branches go: the tag alone reaches them, as after `git branch -D`.
  for (const p of placed)
    if (p.placement === "tag") git(dir, ["update-ref", "-d", `refs/keyward-tmp/${p.i}`]);
  if (options.checkout) git(dir, ["reset", "-q", "--hard", "main"]);

  const sha = (m: number | undefined): string => {
    const s = m === undefined ? undefined : shaOf.get(m);
    if (!s) throw new Error(`fast-import gave no hash for mark ${m}`);
    return s;
  };
  const planted = placed.map((p): LeakRepoPlanted => {
    const m = credentialMarks.get(p.i);
    if (!m) throw new Error(`credential ${p.i} was not placed`);
    return {
      exchange: p.c.exchange,
      kind: p.c.kind,
      key: p.c.key,
      placement: p.placement,
      nearName: p.nearName,
      commit: sha(m.commitMark),
      path: p.file.path,
      blob: sha(m.blobMark),
      ref: m.ref,
      ...(m.deletedMark === undefined ? {} : { deletedIn: sha(m.deletedMark) }),
    };
  });
  const refs = git(dir, ["for-each-ref", "--format=%(refname)"]).split("\n").filter(Boolean);
  return {
    dir,
    mainCommits: commits,
    totalCommits: commits + extra,
    head: sha(mainMark),
    refs,
    planted,
    blobBytes,
  };
}
