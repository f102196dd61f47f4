/**
 * Optional persistence (`--state-file`): the whole world (keys, passphrase hashes, nonces, tokens)
 * written atomically after every change, so it survives a simulator restart like a real exchange's
 * state does. Nonces especially: an exchange never forgets the highest nonce a key used.
 * The file is `{"version": 1, …each module's own top-level fields}`.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { z } from "zod";
import type { ExchangeId } from "./exchanges.js";
import { formatZodError } from "./scenario-kit.js";
import { MODULES, World } from "./world.js";

const PersistedSchema = z.object({
  version: z.literal(1),
  ...Object.assign({}, ...MODULES.map((m) => m.persisted.shape)),
});

export function saveWorld(world: World, file: string): void {
  const data = {
    version: 1,
    ...Object.assign({}, ...MODULES.map((m) => m.save(world.section(m.id as ExchangeId)))),
  };
  const text = JSON.stringify(data, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

/** The saved world, or undefined when the file does not exist yet. */
export function loadWorld(file: string): World | undefined {
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`state file ${file}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = PersistedSchema.safeParse(json);
  if (!parsed.success) throw new Error(`state file ${file}: ${formatZodError(parsed.error)}`);
  const data = parsed.data as Record<string, unknown>;
  return World.fromSections(new Map(MODULES.map((m) => [m.id, m.restore(data)])));
}
