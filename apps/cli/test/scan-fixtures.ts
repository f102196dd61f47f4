/**
 * What the `keyward scan` tests share: a temporary tree with planted files, and the official SARIF 2.1.0
 * schema to validate `--sarif` against (one copy instead of one per test file).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { tempDir } from "./helpers.js";

/**
 * A temporary tree with `planted` files (path → content) in it; with `ordinary`, that many ordinary
 * source files around them (what a real checkout holds besides the leak).
 */
export function plantedTree(planted: Record<string, string>, ordinary = 0): string {
  const root = tempDir("tree-");
  for (let i = 0; i < ordinary; i++) {
    const dir = join(root, "src", `pkg${i % 5}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, `module${i}.ts`),
      `import { helper } from "./helper.js";\n\nexport function step${i}(x: number): number {\n  return helper(x) * ${i};\n}\n`,
    );
  }
  for (const [path, content] of Object.entries(planted)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

/** The official SARIF 2.1.0 schema (the copy @microsoft/jest-sarif ships, draft-04), as core's SARIF test uses it. */
export function sarifValidator() {
  const require = createRequire(import.meta.url);
  const Ajv = (require("ajv-draft-04") as typeof import("ajv-draft-04")).default;
  const addFormats = (require("ajv-formats") as typeof import("ajv-formats")).default;
  const schema = require("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json") as Record<
    string,
    unknown
  >;
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}
