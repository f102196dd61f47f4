/**
 * Printing: tables for people, JSON for scripts, progress on stderr only when it is a terminal.
 *
 * Everything a person reads goes through `terminalSafe`: labels, names and error messages come from
 * exchanges and users, and printed raw, an ESC sequence, a CR or a U+202E in a label could repaint or
 * reorder the revoke review on screen. JSON is written as is (`printJson`): scripts get the exact bytes.
 */

/** Every control, format, surrogate, private-use or unassigned character (`\p{C}`: C0, DEL, C1, …). */
const UNSAFE = /\p{C}/gu;
/** The same minus `\n`: for text whose line breaks are Keyward's own. */
const UNSAFE_BUT_NEWLINE = /(?!\n)\p{C}/gu;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

const visible = (c: string): string => {
  const named = NAMED[c];
  if (named) return named;
  const cp = c.codePointAt(0) ?? 0;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, "0")}` : `\\u{${cp.toString(16)}}`;
};

/**
 * Text safe to print on a terminal: each `\p{C}` character becomes a visible escape (`\x1b`, `\r`,
 * `\u{202e}`). With `keepNewlines`, `\n` stays a line break (for whole messages Keyward composed);
 * without it (a table cell, one value) a `\n` is escaped too, so a value cannot forge a line.
 */
export const terminalSafe = (text: string, keepNewlines = false): string =>
  text.replace(keepNewlines ? UNSAFE_BUT_NEWLINE : UNSAFE, visible);

/**
 * One value from outside (a label, a name, a step an adapter wrote around a label) inside a line Keyward
 * composes: escaped whole, newlines included, so it stays on its line and cannot forge the next one.
 */
export const field = (value: string): string => terminalSafe(value);

const printable = (text: string): string => {
  const safe = terminalSafe(text, true);
  return safe.endsWith("\n") ? safe : `${safe}\n`;
};
/**
 * Lines printed while a hidden prompt is open (a second-factor code asked for in the middle of a revoke
 * or rotation, whose other keys go on reporting) wait here and are printed once it closes: written at
 * once, they would garble the prompt line the person is typing into.
 */
let held: { stream: NodeJS.WriteStream; text: string }[] | undefined;
const write = (stream: NodeJS.WriteStream, text: string): void => {
  if (held) held.push({ stream, text });
  else stream.write(text);
};

/** Runs `ask` (a prompt) with `out` and `err` held back until it settles. Prompts must not overlap. */
export async function withOutputHeld<T>(ask: () => Promise<T>): Promise<T> {
  held = [];
  try {
    return await ask();
  } finally {
    const lines = held;
    held = undefined;
    for (const { stream, text } of lines) stream.write(text);
  }
}

export const out = (text: string): void => {
  write(process.stdout, printable(text));
};
export const err = (text: string): void => {
  write(process.stderr, printable(text));
};
export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

/** A plain aligned table; the last column may run long. */
export function table(headers: string[], rawRows: string[][]): string {
  // Cells are escaped whole (newlines too): a label must not break the table into forged rows.
  const rows = rawRows.map((r) => r.map((c) => terminalSafe(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** A one-line progress bar on a TTY; silent otherwise (logs and CI stay clean). */
export class Progress {
  readonly #tty = Boolean(process.stderr.isTTY);
  #done = 0;
  constructor(
    private readonly total: number,
    private readonly label: string,
  ) {}
  tick(note = ""): void {
    this.#done++;
    if (!this.#tty) return;
    const width = 24;
    const filled = Math.round((this.#done / Math.max(1, this.total)) * width);
    process.stderr.write(
      `\r${terminalSafe(`${this.label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${this.#done}/${this.total} ${note}`)}`
        .slice(0, 120)
        .padEnd(120),
    );
  }
  finish(): void {
    if (this.#tty) process.stderr.write(`${"\r".padEnd(121)}\r`);
  }
}

/** "a, b or c". */
export const orList = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
