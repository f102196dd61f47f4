/**
 * What a new user reads: `--version`, every command's help, the README and the docs. No example puts a
 * secret on a command line (where it lands in `ps` and the shell's history), every command's description
 * is a complete phrase, and a prompt that cannot be shown (no terminal) names the way in that works.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { removeTempDirs, runCli, show, tempDir } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const version = (pkg: string) =>
  (JSON.parse(readFileSync(join(ROOT, pkg, "package.json"), "utf8")) as { version: string }).version;

afterAll(() => removeTempDirs());

/** `[name, description]` of each entry under "Commands:" (without `help`), continuation lines joined. */
function commandsIn(help: string): [string, string][] {
  const section = help.split(/^Commands:$/m)[1];
  if (!section) return [];
  const entries: [string, string][] = [];
  for (const line of section.split("\n").slice(1)) {
    if (line.trim() === "") break;
    const match = /^ {2}([a-z][a-z-]*)\b\S*(?: \S+)*? {2,}(.*)$/.exec(line);
    if (match?.[1]) entries.push([match[1], match[2] ?? ""]);
    else {
      const last = entries.at(-1);
      if (last) last[1] = `${last[1]} ${line.trim()}`;
    }
  }
  return entries.filter(([name]) => name !== "help");
}

/** Every command's `--help` output, by its path ("" for the top level). */
async function allHelp(): Promise<Map<string, { text: string; description: string }>> {
  const texts = new Map<string, { text: string; description: string }>();
  const visit = async (path: string[], description: string): Promise<void> => {
    const r = await runCli([...path, "--help"]);
    expect(r.code, show(r)).toBe(0);
    texts.set(path.join(" "), { text: r.stdout, description });
    await Promise.all(commandsIn(r.stdout).map(([sub, d]) => visit([...path, sub], d)));
  };
  await visit([], "");
  return texts;
}

/**
 * A line that hands a secret to a shell: JSON typed into echo/printf, a "secret" field on a line that
 * runs keyward, or the vault passphrase assigned literally on a command line.
 */
const SECRET_ON_COMMAND_LINE = [
  /\b(?:echo|printf)\s+(?:'%s'\s+)?["']?\{/,
  /"secret"\s*:.*\|\s*(?:npx\s+)?keyward\b/,
  /\bkeyward\b.*"secret"\s*:\s*"/,
  // The demo's throwaway vault (`npm run demo:cli`) has a published passphrase that protects nothing.
  /KEYWARD_PASSPHRASE=(?!"?\$\()(?!open-sesame-vault\b)[^\s$]/,
];
const offending = (text: string): string[] =>
  text.split("\n").filter((line) => SECRET_ON_COMMAND_LINE.some((p) => p.test(line)));

/** The project's documents a user reads: READMEs, SECURITY.md and everything under docs/. */
function documents(): string[] {
  const files = ["README.md", "SECURITY.md"];
  for (const dir of ["apps", "packages"]) {
    for (const name of readdirSync(join(ROOT, dir))) files.push(join(dir, name, "README.md"));
  }
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const path = join(dir, name);
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (path.endsWith(".md")) files.push(path);
    }
  };
  walk("docs");
  return files.filter((f) => {
    try {
      return statSync(join(ROOT, f)).isFile();
    } catch {
      return false;
    }
  });
}

describe("--version", () => {
  it("keyward --version and -V print the CLI package's version and exit 0", async () => {
    for (const flag of ["--version", "-V"]) {
      const r = await runCli([flag]);
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout.trim()).toBe(version("apps/cli"));
    }
  });

  it("keyward-sim --version prints the simulator package's version and exit 0", () => {
    const bin = join(ROOT, "packages/simulator/dist/bin.js");
    for (const flag of ["--version", "-V"]) {
      const r = spawnSync(process.execPath, [bin, flag], { encoding: "utf8", timeout: 20_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(version("packages/simulator"));
    }
  });
});

describe("help texts", () => {
  it("the pattern catches the examples this test exists for", () => {
    // A test that cannot fail proves nothing: the lines the help used to show are caught.
    expect(
      offending(`  echo '{"apiKey":"…","secret":"…"}' | keyward key track ops --credentials-stdin`),
    ).toHaveLength(1);
    expect(
      offending(`  printf '%s' '{"apiKey":"k","secret":"s"}' | npx keyward account add okx a`),
    ).toHaveLength(1);
    expect(offending("  KEYWARD_PASSPHRASE=hunter2 keyward init")).toHaveLength(1);
    expect(offending("  KEYWARD_PASSPHRASE=… keyward --home ./kw init")).toHaveLength(1);
    expect(offending('  KEYWARD_PASSPHRASE="$(cat ~/.keyward-passphrase)" keyward keys')).toEqual([]);
    expect(offending("  keyward account add bitfinex ops --credentials-stdin < ops-key.json")).toEqual([]);
  });

  it("no command's --help, README or doc puts a secret on a command line", async () => {
    const problems: string[] = [];
    for (const [name, { text }] of await allHelp()) {
      for (const line of offending(text)) problems.push(`keyward ${name} --help: ${line.trim()}`);
    }
    for (const file of documents()) {
      for (const line of offending(readFileSync(join(ROOT, file), "utf8")))
        problems.push(`${file}: ${line.trim()}`);
    }
    expect(problems).toEqual([]);
  });

  it("every command's --help fits 120 columns; an example too long for a line continues with ` \\`", async () => {
    const problems: string[] = [];
    let continued = 0;
    for (const [name, { text }] of await allHelp()) {
      const lines = text.split("\n");
      lines.forEach((line, i) => {
        if (line.length > 120) problems.push(`keyward ${name} --help: ${line.length}: ${line}`);
        if (line.endsWith(" \\")) {
          continued++;
          // The next line carries on the same command, indented under it (never a comment).
          if (!/^ {6}\S/.test(lines[i + 1] ?? "") || /^\s*#/.test(lines[i + 1] ?? ""))
            problems.push(`keyward ${name} --help: continuation of ${line}`);
        }
      });
    }
    expect(problems).toEqual([]);
    expect(continued).toBeGreaterThan(0);
  });

  it("every command's description is a complete phrase, not cut off", async () => {
    // A description ending in a word that needs another after it was cut off ("…and the new key goes").
    const dangling =
      /\b(?:a|an|the|and|or|to|of|with|for|by|from|in|on|at|is|are|goes|go|its|their|then|but|before|after|where|when|that|which|while)[.,;:]?$/i;
    const problems: string[] = [];
    for (const [name, { description }] of await allHelp()) {
      if (name === "") continue;
      if (description.trim().length < 8 || dangling.test(description.trim())) {
        problems.push(`keyward ${name}: "${description}"`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("web --help says what the web app does and what it leaves to the CLI", async () => {
    const r = await runCli(["web", "--help"]);
    expect(r.code, show(r)).toBe(0);
    const flat = r.stdout.replace(/\s+/g, " ");
    for (const page of ["inventory", "revoke", "rotation", "audit log", "accounts"]) {
      expect(flat).toContain(page);
    }
    expect(flat).toContain("never in the browser");
  });
});

describe("no terminal to ask on", () => {
  it("the vault passphrase prompt names KEYWARD_PASSPHRASE and how to set it without the command line", async () => {
    const home = tempDir();
    const r = await runCli(["--home", home, "init"], { env: { KEYWARD_PASSPHRASE: undefined } });
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toContain("Vault passphrase: no terminal to ask on");
    expect(r.stderr).toContain("KEYWARD_PASSPHRASE");
    expect(r.stderr).toContain("never type it on the command line");
  });

  it("a credentials prompt names --credentials-stdin", async () => {
    const home = tempDir();
    const init = await runCli(["--home", home, "init"]);
    expect(init.code, show(init)).toBe(0);
    const r = await runCli([
      "--home",
      home,
      "account",
      "add",
      "okx",
      "desk-x",
      "--endpoint",
      "http://127.0.0.1:9",
    ]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toContain("no terminal to ask on");
    expect(r.stderr).toContain("--credentials-stdin");
  });
});
