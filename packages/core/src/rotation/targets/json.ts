/**
 * `json:PATH#POINTER`: sets `apiKey`, `secret` and (for keys that have one) `passphrase` in the object the RFC 6901 pointer
 * names (e.g. `/exchange` in a bot's config), creating missing objects on the way; every other member
 * keeps its value and order. The indentation of the file is kept (two spaces for a new file), the file is
 * replaced atomically keeping its owner, group and mode (0600 for a new file; place.ts), and a symlink
 * is followed. Writes to one file are serialised in this process (place.ts).
 */

import { z } from "zod";
import { withPassphraseNote } from "../../adapters/registry.js";
import { KeywardError } from "../../errors.js";
import { readText } from "./dotenv.js";
import type { DeliveryPayload } from "./payload.js";
import { checkedPlace, replaceFile, resolvePlace, serialised } from "./place.js";
import { AbsolutePath, expand, expandPath, forPointer } from "./placeholders.js";
import type { DeliveryTarget } from "./target.js";

const JsonSchema = z.strictObject({ kind: z.literal("json"), path: AbsolutePath, pointer: z.string() });
export type JsonTarget = z.infer<typeof JsonSchema>;
type JsonObject = { [key: string]: unknown };

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** RFC 6901: "" is the whole document; "/a~1b/c" is ["a/b", "c"]. */
export function pointerTokens(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new Error(`"${pointer}" is not a JSON pointer`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

const failed = (file: string, why: string) =>
  new KeywardError("DELIVERY_FAILED", `json: ${file}: ${why}`, {
    hint: "Fix the file or the pointer in the plan (json:PATH#POINTER), then run `keyward rotate resume`.",
  });

/** The object at the pointer, created (as {}) where members are missing. */
function objectAt(doc: unknown, pointer: string, file: string): JsonObject {
  let node = doc;
  let at = "";
  for (const token of pointerTokens(pointer)) {
    at += `/${token.replace(/~/g, "~0").replace(/\//g, "~1")}`;
    if (Array.isArray(node)) {
      const index = /^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : Number.NaN;
      if (!(index < node.length)) throw failed(file, `${at}: no such array element`);
      node = node[index];
    } else if (isObject(node)) {
      if (!Object.hasOwn(node, token)) {
        Object.defineProperty(node, token, {
          value: {},
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      node = node[token];
    } else {
      throw failed(file, `${at}: the pointer goes through a value that is not an object`);
    }
  }
  if (!isObject(node)) throw failed(file, `${pointer || "(the document)"} is not a JSON object`);
  return node;
}

const indentOf = (text: string): string | number => /^[{[]\s*\r?\n([ \t]+)\S/.exec(text)?.[1] ?? 2;

export function rewriteJson(
  text: string,
  pointer: string,
  values: Record<string, string>,
  file = "file",
): string {
  let doc: unknown = {};
  if (text.trim() !== "") {
    try {
      doc = JSON.parse(text);
    } catch {
      // JSON.parse's message quotes the text, which may hold secrets: never echo it.
      throw failed(file, "not valid JSON");
    }
  }
  const target = objectAt(doc, pointer, file);
  for (const [k, v] of Object.entries(values)) target[k] = v;
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const body = JSON.stringify(doc, null, indentOf(text)).replace(/\n/g, eol);
  return text === "" || /\r?\n$/.test(text) ? `${body}${eol}` : body;
}

const describe = (target: JsonTarget): string => `json:${target.path}#${target.pointer}`;

async function deliverJson(target: JsonTarget, payload: DeliveryPayload, home: string): Promise<string> {
  const { credentials } = payload;
  const values: Record<string, string> = {
    apiKey: credentials.apiKey,
    secret: credentials.secret.reveal(),
    ...(credentials.passphrase ? { passphrase: credentials.passphrase.reveal() } : {}),
  };
  const name = describe(target);
  const { real: file } = await checkedPlace(target.path, name, home);
  const next = rewriteJson(await readText(file), target.pointer, values, file);
  await replaceFile(file, Buffer.from(next, "utf8"), name);
  return `set ${Object.keys(values).join(", ")} at ${target.pointer || "(root)"} in ${file}`;
}

/** The credentials the object at the pointer holds now. */
export async function readJson(
  target: JsonTarget,
): Promise<{ apiKey?: string; secret?: string; passphrase?: string }> {
  const text = await readText(target.path);
  if (text.trim() === "") return {};
  let node: unknown = JSON.parse(text);
  for (const token of pointerTokens(target.pointer)) {
    node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
  }
  if (!isObject(node)) return {};
  const pick = (k: string) => (typeof node[k] === "string" ? { [k]: node[k] as string } : {});
  return { ...pick("apiKey"), ...pick("secret"), ...pick("passphrase") };
}

export const jsonTarget = {
  kind: "json",
  schema: JsonSchema,
  usage: {
    form: "json:PATH#POINTER",
    text: `sets apiKey, secret and ${withPassphraseNote()} passphrase at the RFC 6901 pointer; the rest stays`,
  },
  example: "json:/srv/bots/config.json#/keys/{label}",
  webAllowed: true,
  options: [],
  parse(spec, ctx) {
    const hash = spec.lastIndexOf("#");
    if (hash < 0) ctx.fail("pointer", "a JSON pointer is required after '#', e.g. #/exchange");
    const file = spec.slice(0, hash);
    const pointer = expand(spec.slice(hash + 1), ctx.vars, forPointer);
    if (!file) ctx.fail("path", "the file path is missing");
    if (pointer !== "" && !pointer.startsWith("/")) {
      ctx.fail(
        "pointer",
        `"${pointer}" is not a JSON pointer (RFC 6901): it must be empty or start with "/"`,
      );
    }
    if (/~[^01]|~$/.test(pointer))
      ctx.fail("pointer", `"${pointer}" has a "~" not followed by 0 or 1 (RFC 6901)`);
    return { kind: "json", path: expandPath(file, ctx), pointer };
  },
  describe,
  // The same file and pointer: the same object.
  clashKey: describe,
  place: (target) => ({ path: target.path, needsFolder: true }),
  async deliver(target, payload, options) {
    const { real } = await resolvePlace(target.path, describe(target));
    return serialised(real, () => deliverJson(target, payload, options.home));
  },
} satisfies DeliveryTarget<JsonTarget, never>;
