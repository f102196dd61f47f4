/**
 * A secret value that cannot leak by accident: it prints, serialises and inspects as "[redacted]".
 * Only `reveal()` gives the value, and only the signing layer and the vault call it.
 */
const REDACTED = "[redacted]";

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return REDACTED;
  }
}

/** Replaces every occurrence of the given secrets in a text (defence in depth for error messages). */
export function redact(text: string, secrets: Iterable<Secret | string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    const value = s instanceof Secret ? s.reveal() : s;
    if (value && value.length >= 4) out = out.split(value).join(REDACTED);
  }
  return out;
}
