/**
 * The built browser UI (dist/ui, made by `vite build`): index.html for the app's pages, and the hashed
 * files under /assets. Only names that look like Vite's output are served, from that folder only.
 */
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PAGES = [
  "/",
  "/inventory",
  "/revoke",
  "/rotate",
  "/new-key",
  "/check",
  "/scan",
  "/audit",
  "/accounts",
] as const;

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

export const defaultUiDir = (): string => fileURLToPath(new URL("../ui/", import.meta.url));

export class StaticUi {
  readonly #index: string | undefined;

  constructor(readonly dir: string) {
    const index = join(dir, "index.html");
    this.#index = existsSync(index) ? readFileSync(index, "utf8") : undefined;
  }

  get built(): boolean {
    return this.#index !== undefined;
  }

  page(): Response {
    if (!this.#index) {
      return new Response(
        "The Keyward web UI is not built. Run `npm run build` in the repository, then start `keyward web` again.\n",
        {
          status: 503,
          headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
        },
      );
    }
    return new Response(this.#index, {
      status: 200,
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
    });
  }

  /** A file under /assets/, or undefined (the caller answers 404). */
  async asset(path: string): Promise<Response | undefined> {
    const match = /^\/assets\/([A-Za-z0-9_-][A-Za-z0-9_.-]{0,200})$/.exec(path);
    const name = match?.[1];
    if (!name || name.includes("..")) return undefined;
    const type = TYPES[extname(name)];
    if (!type) return undefined;
    try {
      const bytes = await readFile(join(this.dir, "assets", name));
      return new Response(bytes, {
        status: 200,
        headers: { "content-type": type, "cache-control": "public, max-age=31536000, immutable" },
      });
    } catch {
      return undefined;
    }
  }
}
