/**
 * Everything the user types: durations, credentials (stdin JSON or hidden prompts), confirmations.
 * Secrets never come from argv (they would show in `ps` and shell history).
 */
import { type CredentialsInput, CredentialsInputSchema } from "@keyward/core";
import type { z } from "zod";
import { usageError } from "./exit.js";
import { terminalSafe } from "./output.js";

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** "15m", "90s", "1h", "500ms" → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text.trim());
  if (!match)
    throw usageError(
      `${flag}: "${text}" is not a duration`,
      "Use a number with a unit: 500ms, 90s, 15m or 1h.",
    );
  return Number(match[1]) * UNITS[match[2] as keyof typeof UNITS];
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const fieldList = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`).join("; ");

/** Credentials as JSON on stdin: `{"apiKey","secret","passphrase"?}`. */
export async function credentialsFromStdin(needsPassphrase: boolean): Promise<CredentialsInput> {
  const text = await readStdin();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Never echo the input: it holds secrets.
    throw usageError(
      "stdin: not valid JSON",
      'Send one JSON object, e.g. {"apiKey":"…","secret":"…","passphrase":"…"}.',
    );
  }
  const parsed = CredentialsInputSchema.safeParse(json);
  if (!parsed.success)
    throw usageError(
      `stdin: ${fieldList(parsed.error)}`,
      'Expected {"apiKey","secret"} (OKX also "passphrase").',
    );
  if (needsPassphrase && !parsed.data.passphrase) {
    throw usageError(
      "stdin: passphrase: is required for OKX keys",
      "OKX keys have the passphrase chosen when the key was made.",
    );
  }
  if (!needsPassphrase && parsed.data.passphrase) {
    throw usageError("stdin: passphrase: Bitfinex keys have no passphrase", "Leave the field out.");
  }
  return parsed.data;
}

export const isInteractive = (): boolean => Boolean(process.stdin.isTTY && process.stderr.isTTY);

/** A hidden prompt on the terminal (prompts go to stderr so stdout stays clean for --json). */
export async function promptSecret(
  message: string,
  hint = "Pipe the value as JSON with --credentials-stdin.",
): Promise<string> {
  if (!isInteractive()) throw usageError(`${message}: no terminal to ask on`, hint);
  const { default: password } = await import("@inquirer/password");
  return password({ message: terminalSafe(message), mask: false }, { output: process.stderr });
}

export async function promptText(message: string): Promise<string> {
  if (!isInteractive()) throw usageError(`${message}: no terminal to ask on`);
  const { default: input } = await import("@inquirer/input");
  return input({ message: terminalSafe(message) }, { output: process.stderr });
}

/** Credentials from hidden prompts. */
export async function credentialsFromPrompt(needsPassphrase: boolean): Promise<CredentialsInput> {
  const apiKey = await promptText("API key");
  const secret = await promptSecret("API secret");
  const passphrase = needsPassphrase ? await promptSecret("API passphrase") : undefined;
  const parsed = CredentialsInputSchema.safeParse({ apiKey, secret, ...(passphrase ? { passphrase } : {}) });
  if (!parsed.success) throw usageError(`credentials: ${fieldList(parsed.error)}`);
  return parsed.data;
}
