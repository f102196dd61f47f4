/**
 * `json:PATH#POINTER`: sets `apiKey`, `secret` and (OKX) `passphrase` in the object the RFC 6901 pointer
 * names (e.g. `/exchange` in a bot's config), creating missing objects on the way; every other member
 * keeps its value and order. The indentation of the file is kept (two spaces for a new file), the file is
 * replaced atomically keeping its owner, group and mode (0600 for a new file; place.ts), and a symlink
 * is followed.
 */
import { KeywardError } from "../../errors.js";
import { readText } from "./dotenv.js";
import { describeTarget, type Target } from "./parse.js";
import type { DeliveryPayload } from "./payload.js";
import { checkedPlace, replaceFile } from "./place.js";

type JsonTarget = Extract<Target, { kind: "json" }>;
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

export async function deliverJson(
  target: JsonTarget,
  payload: DeliveryPayload,
  home: string,
): Promise<string> {
  const { credentials } = payload;
  const values: Record<string, string> = {
    apiKey: credentials.apiKey,
    secret: credentials.secret.reveal(),
    ...(credentials.passphrase ? { passphrase: credentials.passphrase.reveal() } : {}),
  };
  const name = describeTarget(target);
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
