/**
 * `@keyward/core/browser` stays browser-safe: walking its run-time import graph (type-only imports and
 * exports are erased by the compiler, so they are skipped) reaches only core's own plain-data modules,
 * never a Node built-in, a native or heavy package (better-sqlite3, ccxt, age, zod…), nor the adapters.
 */
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import * as browser from "../src/browser.js";
import { RISKS } from "../src/index.js";
import { STEPS as JOURNAL_STEPS, StepSchema } from "../src/rotation/schemas.js";

const src = join(dirname(fileURLToPath(import.meta.url)), "..", "src");

/** The specifiers a module loads at run time (type-only imports and exports left out). */
function runtimeImports(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const onlyTypes =
        clause?.isTypeOnly ||
        (clause !== undefined &&
          clause.name === undefined &&
          clause.namedBindings !== undefined &&
          ts.isNamedImports(clause.namedBindings) &&
          clause.namedBindings.elements.length > 0 &&
          clause.namedBindings.elements.every((e) => e.isTypeOnly));
      if (!onlyTypes) found.push(node.moduleSpecifier.text);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const onlyTypes =
        node.isTypeOnly ||
        (node.exportClause !== undefined &&
          ts.isNamedExports(node.exportClause) &&
          node.exportClause.elements.every((e) => e.isTypeOnly));
      if (!onlyTypes) found.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === "require"))
    ) {
      const arg = node.arguments[0];
      found.push(arg && ts.isStringLiteral(arg) ? arg.text : "<computed specifier>");
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Every module reached from `entry` at run time, and every import that leaves core's own sources. */
function walk(entry: string): { modules: string[]; outside: string[] } {
  const seen = new Set<string>();
  const outside = new Set<string>();
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of runtimeImports(file)) {
      if (!spec.startsWith(".")) {
        outside.add(spec);
        continue;
      }
      const target = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
      if (!existsSync(target)) outside.add(`${spec} (unresolved from ${relative(src, file)})`);
      else queue.push(target);
    }
  }
  return { modules: [...seen].map((f) => relative(src, f)).sort(), outside: [...outside].sort() };
}

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

describe("@keyward/core/browser", () => {
  it("reaches no package, Node built-in or adapter at run time", () => {
    const { modules, outside } = walk(join(src, "browser.ts"));
    expect(outside).toEqual([]);
    expect(modules.filter((m) => m.startsWith("adapters/"))).toEqual([]);
    expect(modules).toContain("rotation/steps.ts");
  });

  it("the walk does find what the full entry reaches (so the check above can fail)", () => {
    const { modules, outside } = walk(join(src, "index.ts"));
    expect(outside.filter((s) => NODE_BUILTINS.has(s)).length).toBeGreaterThan(0);
    expect(outside).toEqual(expect.arrayContaining(["better-sqlite3", "zod"]));
    expect(modules).toContain("adapters/registry.ts");
  });

  it("is exported as a package entry next to the full one", () => {
    const pkg = JSON.parse(readFileSync(join(src, "..", "package.json"), "utf8")) as {
      exports: Record<string, { default: string }>;
    };
    expect(pkg.exports["./browser"]?.default).toBe("./dist/browser.js");
  });

  it("carries the same facts the server uses: shared risk texts, journal steps, permissions", () => {
    for (const [risk, text] of Object.entries(browser.SHARED_RISK_TEXT)) {
      expect(RISKS[risk as keyof typeof RISKS]).toBe(text);
    }
    expect(browser.STEPS).toBe(JOURNAL_STEPS);
    for (const step of [...browser.API_STEPS, ...browser.ASSISTED_STEPS]) {
      expect(StepSchema.safeParse(step).success).toBe(true);
    }
    expect(browser.stepsOf("api").at(-1)).toBe("finished");
    expect(browser.stepsOf("assisted")).toContain("awaiting-new-key");
    expect(browser.riskWeight(["withdraw"])).toBeGreaterThan(
      browser.riskWeight(["transfer", "no-ip", "old"]),
    );
  });
});
