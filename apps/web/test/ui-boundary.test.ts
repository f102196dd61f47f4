/**
 * The browser UI's boundary with the server and core: it takes nothing of the server but the API's type
 * (`import type { AppType }`, erased from the bundle) and nothing of core but `@keyward/core/browser`
 * (browser-safe: core's test/browser-entry.test.ts). The API's inputs and answers are checked at compile
 * time from the routes to the UI's client: the `@ts-expect-error` lines below fail `npm run typecheck`
 * if a route's input stops being typed.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { api } from "../src/ui/api.js";

const UI = fileURLToPath(new URL("../src/ui/", import.meta.url));

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  );

/** Every import or export statement with a module specifier, whole, with the specifier. */
const imports = (file: string) =>
  [
    ...readFileSync(file, "utf8").matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)";/gms),
    ...readFileSync(file, "utf8").matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
  ].map((m) => ({ statement: m[0].replace(/\s+/g, " "), from: m[1] as string }));

describe("the browser UI's imports", () => {
  it("take only AppType (type-only) from the server and only @keyward/core/browser from core", () => {
    const wrong: string[] = [];
    let typedApi = 0;
    for (const file of sources(UI)) {
      for (const { statement, from } of imports(file)) {
        const where = `${relative(UI, file)}: ${statement}`;
        if (from.includes("/server/")) {
          if (/^import type \{ AppType \} from /.test(statement)) typedApi++;
          else wrong.push(where);
        } else if (from.startsWith("@keyward/") && from !== "@keyward/core/browser") {
          wrong.push(where);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(typedApi).toBe(1);
  });

  it("the client's routes are the server's (a path the server lacks is no route)", () => {
    expect(api.revoke.jobs[":id"].$path({ param: { id: "x" } })).toBe("/api/revoke/jobs/x");
    expect(api.rotation.runs[":id"].abort.$path({ param: { id: "rot-abc123" } })).toBe(
      "/api/rotation/runs/rot-abc123/abort",
    );
    expect(api.audit.$path({ query: { limit: "5" } })).toBe("/api/audit?limit=5");
  });

  it("the routes' inputs are types (checked by `npm run typecheck`, not run)", () => {
    expect(inputsAreTyped).toBeTypeOf("function");
  });
});

/** Never called: compiled by `npm run typecheck`, where each marked line must stay a type error. */
function inputsAreTyped() {
  // @ts-expect-error the revoke plan takes core's selector: no such field
  void api.revoke.plan.$post({ json: { nope: true } });
  // @ts-expect-error the abort body's confirm is the literal "abort"
  void api.rotation.runs[":id"].abort.$post({ param: { id: "rot-abc123" }, json: { confirm: 1 } });
  // @ts-expect-error query parameters travel as strings
  void api.audit.$get({ query: { limit: 5 } });
  // @ts-expect-error the server has no such route
  void api.revoke.nothing.$get();
}
