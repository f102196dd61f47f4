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
  optionalCredentialFields,
  totpSeedProblem,
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

/**
 * Where credentials are for: an account (`keyward account add`: its TOTP seed may come along, where the
 * exchange's profile lists the field) or one key (tracked, or a rotation's new key: never a seed).
 */
export interface CredentialsFor {
  account?: boolean;
}

/**
 * The JSON example for hints, with the optional fields it may carry: `{"apiKey":"…","secret":"…"}
 * (optional: "totpSeed")` for a Deribit account. A seed belongs to an account, never to one key.
 */
function stdinExample(profile: ExchangeProfile, to: CredentialsFor): string {
  const optional = optionalCredentialFields(profile).filter((f) => to.account || f.name !== "totpSeed");
  return optional.length === 0
    ? credentialsExample(profile)
    : `${credentialsExample(profile)} (optional: ${optional.map((f) => `"${f.name}"`).join(", ")})`;
}

/** The seed rule as a usage error (nothing is stored): the profile must list the field; it must be a seed. */
function checkSeed(
  profile: ExchangeProfile,
  input: CredentialsInput,
  to: CredentialsFor,
  from: string,
): void {
  if (input.totpSeed === undefined) return;
  if (!to.account) {
    throw usageError(
      `${from}totpSeed: belongs to the account, not to one key`,
      "Leave the field out; store an account's seed with `keyward account set-seed <account>`.",
    );
  }
  const problem = totpSeedProblem(profile, input.totpSeed);
  if (problem) throw usageError(`${from}${problem.message}`, problem.hint);
}

/**
 * Credentials as JSON on stdin: the fields the exchange's profile lists, `{"apiKey","secret","passphrase"?}`
 * (and, for an account of an exchange that takes one, `"totpSeed"?`).
 */
export async function credentialsFromStdin(
  profile: ExchangeProfile,
  to: CredentialsFor = {},
): Promise<CredentialsInput> {
  const text = await readStdin();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Never echo the input: it holds secrets.
    throw usageError(
      "stdin: not valid JSON",
      `Send one JSON object, e.g. ${stdinExample(profile, to)} for ${profile.name} keys.`,
    );
  }
  const parsed = CredentialsInputSchema.safeParse(json);
  if (!parsed.success)
    throw usageError(
      `stdin: ${fieldList(parsed.error)}`,
      `Expected ${stdinExample(profile, to)} for ${profile.name} keys.`,
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
  checkSeed(profile, parsed.data, to, "stdin: ");
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

/**
 * Credentials from prompts: the fields the exchange's profile lists, in its order, secrets hidden. An
 * optional field (a TOTP seed) says it may be left empty; the seed is asked for an account only.
 */
export async function credentialsFromPrompt(
  profile: ExchangeProfile,
  to: CredentialsFor = {},
): Promise<CredentialsInput> {
  const input: Record<string, string> = {};
  // Without a terminal (a script, a pipe) the way in is stdin: say so, with this exchange's fields.
  const hint = `Send the credentials as JSON with --credentials-stdin, e.g. ${stdinExample(profile, to)}.`;
  for (const field of profile.credentials) {
    if (field.name === "totpSeed" && !to.account) continue;
    const prompt = field.optional ? `${field.prompt} (optional: Enter to leave it out)` : field.prompt;
    const value = field.secret ? await promptSecret(prompt, hint) : await promptText(prompt, hint);
    // An empty passphrase or optional field is left out (the schema's optional field), as if none had been asked for.
    if (value !== "" || (field.name !== "passphrase" && !field.optional)) input[field.name] = value;
  }
  const parsed = CredentialsInputSchema.safeParse(input);
  if (!parsed.success) throw usageError(`credentials: ${fieldList(parsed.error)}`);
  checkSeed(profile, parsed.data, to, "");
  return parsed.data;
}
