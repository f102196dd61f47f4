/**
 * The home's `config.json`: accounts (no secrets: those live in the vault) and settings. Checked the
 * changesets way: schema → normalise → rules, and every problem names the field to fix.
 */
import { z } from "zod";
import { AccountSchema } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import { formatZodIssues } from "./zod-format.js";

export const SettingsSchema = z.strictObject({
  /** Keys older than this are flagged as risky. */
  maxKeyAgeDays: z.number().int().positive().max(3650).default(90),
  /** How long `revoke` waits for a person to finish manual steps. */
  manualTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(15 * 60_000),
});
export type Settings = z.output<typeof SettingsSchema>;

export const ConfigSchema = z.strictObject({
  version: z.literal(1),
  accounts: z.array(AccountSchema).default([]),
  settings: SettingsSchema.default(SettingsSchema.parse({})),
});
export type Config = z.output<typeof ConfigSchema>;

export const emptyConfig = (): Config => ConfigSchema.parse({ version: 1 });

/** Parses and checks a config document; `source` names the file in messages. */
export function parseConfig(input: unknown, source: string): Config {
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new KeywardError("CONFIG_INVALID", `${source}: ${formatZodIssues(parsed.error)}`, {
      hint: `Fix the field named above in ${source}; Keyward does not rewrite a config it cannot read.`,
    });
  }
  // Normalise: endpoints without a trailing slash, so URLs join predictably.
  const config: Config = {
    ...parsed.data,
    accounts: parsed.data.accounts.map((a) =>
      a.endpoint ? { ...a, endpoint: a.endpoint.replace(/\/+$/, "") } : a,
    ),
  };
  // Rules a schema cannot express.
  const names = new Set<string>();
  config.accounts.forEach((account, i) => {
    if (names.has(account.name.toLowerCase())) {
      throw new KeywardError(
        "CONFIG_INVALID",
        `${source}: accounts[${i}].name: "${account.name}" is used twice`,
        {
          hint: "Account names must be unique (case-insensitive).",
        },
      );
    }
    names.add(account.name.toLowerCase());
  });
  return config;
}
