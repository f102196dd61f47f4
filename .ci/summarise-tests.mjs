// Sums the vitest JSON reports of every workspace into one closing line: "tests: N passed, N failed".
import { existsSync, readdirSync, readFileSync } from "node:fs";

const dirs = JSON.parse(readFileSync("package.json", "utf8")).workspaces.flatMap((pattern) => {
  if (!pattern.endsWith("/*")) return [pattern];
  const base = pattern.slice(0, -2);
  return existsSync(base) ? readdirSync(base).map((d) => `${base}/${d}`) : [];
});
let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of dirs) {
  const file = `${dir}/.vitest-report.json`;
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
