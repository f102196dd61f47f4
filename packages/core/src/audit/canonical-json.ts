/**
 * Canonical JSON for hashing: object keys sorted (by UTF-16 code unit, as Array#sort does), no
 * whitespace, numbers and strings as JSON.stringify writes them. For the plain data accepted here
 * this matches RFC 8785 (JCS), so an auditor can re-check the chain with any JCS implementation.
 *
 * Only plain JSON data is accepted: a class instance (a `Secret`, a Date, a Map), a function, a
 * bigint, NaN or Infinity is an error, not silently turned into something else. `undefined` object
 * properties are dropped, as JSON.stringify does, so `{hint: undefined}` is fine.
 */
import { Secret } from "../domain/secret.js";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export class CanonicalJsonError extends TypeError {
  /** Where the bad value is, e.g. `details.error.cause`. */
  readonly path: string;
  constructor(path: string, what: string) {
    super(`${path} ${what}`);
    this.path = path;
  }
}

export function canonicalJson(value: unknown, path = "value"): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new CanonicalJsonError(path, "is not a finite number");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item, i) => canonicalJson(item, `${path}[${i}]`)).join(",")}]`;
  }
  if (value instanceof Secret) {
    throw new CanonicalJsonError(path, "is a Secret; audit entries never carry secrets");
  }
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new CanonicalJsonError(path, "is not plain JSON data (a class instance)");
    }
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${canonicalJson(item, `${path}.${key}`)}`);
    }
    return `{${parts.join(",")}}`;
  }
  throw new CanonicalJsonError(path, `is not JSON data (${typeof value})`);
}
