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

/**
 * How wide a table may be: the terminal's width when stdout is one, else 120 columns (pipes, logs, CI
 * and tests get tables that fit a 120-column terminal whatever the widest label is).
 */
export const tableWidth = (): number => {
  const columns = process.stdout.isTTY ? process.stdout.columns : undefined;
  return columns && columns >= 60 ? columns : 120;
};

/** Words of `text` in lines of at most `width` characters (a longer word is cut). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/ +/)) {
    const next = line ? `${line} ${word}` : word;
    if ([...next].length <= width) line = next;
    else {
      if (line) lines.push(line);
      let rest = word;
      while ([...rest].length > width) {
        lines.push([...rest].slice(0, width).join(""));
        rest = [...rest].slice(width).join("");
      }
      line = rest;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** A paragraph wrapped to the table width, continuation lines indented by `indent` spaces. */
export const paragraph = (text: string, indent = 2, width = tableWidth()): string =>
  wrap(text, width - indent)
    .map((l, i) => (i === 0 ? l : `${" ".repeat(indent)}${l}`))
    .join("\n");

/**
 * A plain aligned table; the last column may run long. With `fit`, a last-column cell that does not fit
 * `tableWidth()` goes to its own indented line(s) under its row (it is the detail: notes, evidence,
 * risks; the whole of it is in --json too). The other cells are never shortened: a label, a permission
 * or an escaped control character cut out of a revoke review would hide what is revoked, so an
 * exceptionally long label still widens its column.
 */
export function table(
  headers: string[],
  rawRows: string[][],
  options: {
    fit?: boolean;
    /**
     * Further last-column values per row (e.g. every place a key was found), one line each: aligned under
     * the last column when they fit, else on their own indented lines with the row's detail.
     */
    more?: readonly (readonly string[] | undefined)[];
  } = {},
): string {
  // Cells are escaped whole (newlines too): a label must not break the table into forged rows.
  const rows = rawRows.map((r) => r.map((c) => terminalSafe(c)));
  const len = (c: string) => c.length;
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const max = options.fit ? tableWidth() : Number.POSITIVE_INFINITY;
  const last = headers.length - 1;
  const prefix = widths.slice(0, last).reduce((a, w) => a + w + 2, 0);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const body = rows.flatMap((r, index) => {
    const whole = line(r);
    const detail = r[last] ?? "";
    const extra = (options.more?.[index] ?? []).map((c) => terminalSafe(c));
    const fits = len(whole) <= max && extra.every((e) => prefix + len(e) <= max);
    // No line of its own for a detail that says nothing: the row stands as it is.
    if (fits || detail.trim() === "" || detail.trim() === "-") {
      return [whole, ...extra.map((e) => `${" ".repeat(prefix)}${e}`)];
    }
    return [
      line([...r.slice(0, last), ""]),
      ...[detail, ...extra].flatMap((d) => wrap(d, max - 4).map((l) => `    ${l}`)),
    ];
  });
  const rule = widths.map((w, i) => "-".repeat(i === last ? Math.min(w, Math.max(4, max - prefix)) : w));
  return [line(headers), line(rule), ...body].join("\n");
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

/** Splits a command line at spaces outside quotes (a break inside quotes would change the argument). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let quote: string | undefined;
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === " ") {
      if (word) words.push(word);
      word = "";
      continue;
    }
    word += c;
  }
  if (word) words.push(word);
  return words;
}

const EXAMPLE = /^(?:npx )?keyward(?:-sim)? /;

/**
 * Help text in lines of at most `width` columns. Commander wraps its own option and command lists, not
 * the text a command adds (what it does, examples), so that is fitted here: a prose line breaks between
 * words, its continuation indented as it was; an example command breaks between its arguments with a
 * trailing ` \`, so it still runs as printed, and its `# comment` goes on the line above (a ` \` inside a
 * comment would end the command there).
 */
export function fitHelp(text: string, width = 120): string {
  const fitted = text.split("\n").flatMap((line): string[] => {
    if ([...line].length <= width) return [line];
    const indent = /^ */.exec(line)?.[0] ?? "";
    const body = line.slice(indent.length);
    if (!EXAMPLE.test(body)) return wrap(body, width - indent.length).map((l) => indent + l);
    const hash = body.search(/ {2,}# | # /);
    const command = hash >= 0 ? body.slice(0, hash).trimEnd() : body;
    const comment = hash >= 0 ? body.slice(hash).trim() : "";
    const lines: string[] = [];
    if (comment)
      lines.push(
        ...wrap(comment.replace(/^# */, ""), width - indent.length - 2).map((l) => `${indent}# ${l}`),
      );
    const room = width - indent.length - 6; // the continuation's indent and ` \`
    const parts: string[] = [];
    let current = "";
    for (const word of shellWords(command)) {
      if (current && [...current].length + 1 + [...word].length > room) {
        parts.push(current);
        current = word;
      } else current = current ? `${current} ${word}` : word;
    }
    parts.push(current);
    lines.push(
      ...parts.map(
        (part, i) => `${indent}${i === 0 ? "" : "    "}${part}${i < parts.length - 1 ? " \\" : ""}`,
      ),
    );
    return lines;
  });
  return fitted.join("\n");
}
