/** Printing: tables for people, JSON for scripts, progress on stderr only when it is a terminal. */
export const out = (text: string): void => {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
};
export const err = (text: string): void => {
  process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
};
export const printJson = (value: unknown): void => out(JSON.stringify(value, null, 2));

/** A plain aligned table; the last column may run long. */
export function table(headers: string[], rows: string[][]): string {
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
      `\r${this.label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${this.#done}/${this.total} ${note}`
        .slice(0, 120)
        .padEnd(120),
    );
  }
  finish(): void {
    if (this.#tty) process.stderr.write(`${"\r".padEnd(121)}\r`);
  }
}
