/**
 * Citations stay true: every `docs/<file>.md#<anchor>` that a source file, test, README or doc page in
 * this repository cites must name a file that exists and a heading in it (GitHub's anchor rules), and so
 * must the relative links between the docs pages. Comments cite the docs for the facts the code relies
 * on (docs/exchanges/okx.md, docs/exchanges/bitfinex.md, docs/ccxt.md); renaming a heading without its
 * citations fails here.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The anchors of a Markdown file's headings, as GitHub makes them (duplicates get -1, -2, …). */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = (heading[1] ?? "")
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // links and images: their text
      .replace(/<[^>]+>/g, ""); // inline HTML
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

interface Citation {
  from: string;
  line: number;
  /** The cited file, relative to the repository root. */
  file: string;
  anchor: string | undefined;
}

/** Why a citation does not resolve, or undefined when it does. */
function brokenCitation(c: Pick<Citation, "file" | "anchor">, root = ROOT): string | undefined {
  const path = join(root, c.file);
  if (!existsSync(path)) return `${c.file} does not exist`;
  if (c.anchor === undefined) return undefined;
  return headingAnchors(readFileSync(path, "utf8")).has(c.anchor)
    ? undefined
    : `${c.file} has no heading #${c.anchor}`;
}

const lineOf = (text: string, index: number) => text.slice(0, index).split("\n").length;

/** `docs/….md#anchor` anywhere in a file (not part of a URL such as docs.example.com/docs/x). */
const REPO_CITATION = /(?<![\w./@-])(docs\/[\w./-]*\.md)(?:#([\w-]+))?/g;
/** Relative Markdown links in the docs pages: `[text](other.md#anchor)`, `[text](#anchor)`. */
const MD_LINK = /\]\((?!\w+:)([^)#\s]*)(?:#([^)\s]+))?\)/g;

function citations(): Citation[] {
  const files = execFileSync(
    "git",
    ["ls-files", "--cached", "--others", "--exclude-standard", "packages", "apps", "bench", "docs", "*.md"],
    { cwd: ROOT, encoding: "utf8" },
  )
    .split("\n")
    .filter((f) => /\.(ts|tsx|js|mjs|cjs|md|json|css|html)$/.test(f) && !f.includes("node_modules/"));
  const found: Citation[] = [];
  for (const from of files) {
    const path = join(ROOT, from);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, "utf8");
    for (const m of text.matchAll(REPO_CITATION)) {
      found.push({ from, line: lineOf(text, m.index), file: normalize(m[1] as string), anchor: m[2] });
    }
    if (from.startsWith("docs/") && from.endsWith(".md")) {
      for (const m of text.matchAll(MD_LINK)) {
        const target = m[1] ? relative(ROOT, join(dirname(path), m[1])) : from;
        if (!target.endsWith(".md")) continue;
        found.push({ from, line: lineOf(text, m.index), file: target, anchor: m[2] });
      }
    }
  }
  return found;
}

describe("docs citations", () => {
  it("every docs/…md#anchor cited in the repository names an existing file and heading", () => {
    const all = citations();
    // The scan finds what it should (a broken regex must not pass this vacuously).
    expect(all.length).toBeGreaterThan(80);
    expect(all.some((c) => c.from.startsWith("packages/core/src/") && c.file === "docs/ccxt.md")).toBe(true);
    expect(
      all.some((c) => c.from === "docs/exchanges/bitfinex.md" && c.file === "docs/exchanges/okx.md"),
    ).toBe(true);
    const broken = all.flatMap((c) => {
      const why = brokenCitation(c);
      return why ? [`${c.from}:${c.line}: ${why}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it("resolves anchors by GitHub's rules, and rejects a missing heading or file", () => {
    const anchors = headingAnchors(
      "# Title\n## Where the exchange is silent: what Keyward and the simulator assume\n" +
        "## Throttling is Keyward's\n## `last_*` fields\n```\n## not a heading\n```\n## Notes\n## Notes\n",
    );
    expect([...anchors]).toEqual([
      "title",
      "where-the-exchange-is-silent-what-keyward-and-the-simulator-assume",
      "throttling-is-keywards",
      "last_-fields",
      "notes",
      "notes-1",
    ]);
    expect(brokenCitation({ file: "docs/exchanges/okx.md", anchor: "rate-limits" })).toBeUndefined();
    expect(brokenCitation({ file: "docs/exchanges/okx.md", anchor: "no-such-heading" })).toMatch(
      /has no heading #no-such-heading/,
    );
    // (Built, so that this file's own scan does not find it.)
    const nowhere = ["docs", "exchanges", "nowhere.md"].join("/");
    expect(brokenCitation({ file: nowhere, anchor: undefined })).toMatch(/does not exist/);
  });
});
