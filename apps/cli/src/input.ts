/**
 * Everything the user types: durations, credentials (stdin JSON or hidden prompts), confirmations.
 * Secrets never come from argv (they would show in `ps` and shell history).
 */
import {
  type CredentialsInput,
  CredentialsInputSchema,
  credentialsExample,
  type ExchangeProfile,
  needsPassphrase,
} from "@keyward/core";
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

/** Credentials as JSON on stdin: the fields the exchange's profile lists, `{"apiKey","secret","passphrase"?}`. */
export async function credentialsFromStdin(profile: ExchangeProfile): Promise<CredentialsInput> {
  const text = await readStdin();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Never echo the input: it holds secrets.
    throw usageError(
      "stdin: not valid JSON",
      `Send one JSON object, e.g. ${credentialsExample(profile)} for ${profile.name} keys.`,
    );
  }
  const parsed = CredentialsInputSchema.safeParse(json);
  if (!parsed.success)
    throw usageError(
      `stdin: ${fieldList(parsed.error)}`,
      `Expected ${credentialsExample(profile)} for ${profile.name} keys.`,
    );
  const wanted = needsPassphrase(profile);
  if (wanted && !parsed.data.passphrase) {
    throw usageError(
      `stdin: passphrase: is required for ${profile.name} keys`,
      `${profile.name} keys have the passphrase chosen when the key was made.`,
    );
  }
  if (!wanted && parsed.data.passphrase) {
    throw usageError(`stdin: passphrase: ${profile.name} keys have no passphrase`, "Leave the field out.");
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

export async function promptText(message: string, hint?: string): Promise<string> {
  if (!isInteractive()) throw usageError(`${message}: no terminal to ask on`, hint);
  const { default: input } = await import("@inquirer/input");
  return input({ message: terminalSafe(message) }, { output: process.stderr });
}

/** Credentials from prompts: the fields the exchange's profile lists, in its order, secrets hidden. */
export async function credentialsFromPrompt(profile: ExchangeProfile): Promise<CredentialsInput> {
  const input: Record<string, string> = {};
  // Without a terminal (a script, a pipe) the way in is stdin: say so, with this exchange's fields.
  const hint = `Send the credentials as JSON with --credentials-stdin, e.g. ${credentialsExample(profile)}.`;
  for (const field of profile.credentials) {
    const value = field.secret
      ? await promptSecret(field.prompt, hint)
      : await promptText(field.prompt, hint);
    // An empty passphrase is left out (the schema's optional field), as if none had been asked for.
    if (value !== "" || field.name !== "passphrase") input[field.name] = value;
  }
  const parsed = CredentialsInputSchema.safeParse(input);
  if (!parsed.success) throw usageError(`credentials: ${fieldList(parsed.error)}`);
  return parsed.data;
}
