/**
 * The demos' printed text (`npm run demo`, `npm run demo:cli`) in lines of at most DEMO_WIDTH columns, so
 * it reads in a 120-column terminal and pastes as printed. Prose is wrapped between words (a path or URL
 * is never cut). A command line (indented, starting with `npx`, `export`, `mkdir` or `$ keyward`) stays
 * one shell command: a comment after it ("   # exits 1 …") moves to its own line(s) above it, and a
 * command still too long is broken between arguments with a trailing ` \` (a continuation sh and bash
 * join), never inside a quoted argument.
 */
export const DEMO_WIDTH = 120;

const COMMAND = /^(\s*)(npx |export |mkdir |\$ keyward )/;

/** Words of `text`, split at spaces outside single or double quotes. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let quote: string | undefined;
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = undefined;
      word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word += c;
    } else if (c === " ") {
      if (word) words.push(word);
      word = "";
    } else word += c;
  }
  if (word) words.push(word);
  return words;
}

/** Words into lines of at most `width` (a longer word stands alone), each after `indent`. */
function fill(words: readonly string[], indent: string, width: number, suffix = ""): string[] {
  const lines: string[] = [];
  let line = "";
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    if (line && indent.length + next.length + suffix.length > width) {
      lines.push(line);
      line = w;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l);
}

/** A comment starting at " # " outside quotes, or undefined. */
function splitComment(line: string): { command: string; comment?: string } {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && line[i - 1] === " ") {
      return { command: line.slice(0, i).trimEnd(), comment: line.slice(i + 1).trim() };
    }
  }
  return { command: line };
}

function commandLines(line: string, indent: string, width: number): string[] {
  const { command, comment } = splitComment(line);
  const above = comment ? fill(comment.split(/ +/), `${indent}# `, width) : [];
  if (command.length <= width) return [...above, command];
  // Continuation lines are indented two more; each line but the last ends with " \".
  const words = shellWords(command.trim());
  const lines: string[] = [];
  let current = "";
  const lead = () => (lines.length === 0 ? indent : `${indent}  `);
  for (const w of words) {
    const next = current ? `${current} ${w}` : w;
    if (current && lead().length + next.length + 2 > width) {
      lines.push(`${lead()}${current} \\`);
      current = w;
    } else current = next;
  }
  lines.push(`${lead()}${current}`);
  return [...above, ...lines];
}

/** The demo's text with every line at most `width` columns (see above). */
export function demoText(text: string, width = DEMO_WIDTH): string {
  return text
    .split("\n")
    .flatMap((line) => {
      const command = COMMAND.exec(line);
      if (command) return commandLines(line, command[1] ?? "", width);
      if (line.length <= width) return [line];
      const indent = /^\s*/.exec(line)?.[0] ?? "";
      return fill(line.trim().split(/ +/), indent, width);
    })
    .join("\n");
}
