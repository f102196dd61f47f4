/**
 * Optional persistence (`--state-file`): the whole world (keys, passphrase hashes, nonces, tokens)
 * written atomically after every change, so it survives a simulator restart like a real exchange's
 * state does. Nonces especially: an exchange never forgets the highest nonce a key used.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { formatZodError, OkxRegionSchema } from "./scenario.js";
import { World } from "./world.js";

const status = z.enum(["active", "revoked"]);

const OkxKeyState = z.object({
  apiKey: z.string(),
  secretKey: z.string(),
  passphraseSalt: z.string(),
  passphraseHash: z.string(),
  label: z.string(),
  perm: z.string(),
  ip: z.array(z.string()),
  ts: z.number(),
  demo: z.boolean(),
  frozen: z.boolean(),
  lastUsedAt: z.number(),
  status,
  revokedBy: z.enum(["api", "ui", "expiry"]).optional(),
  unlisted: z.boolean().optional(),
  refusesAuth: z.boolean().optional(),
  region: OkxRegionSchema,
  ownerUid: z.string(),
  masterUid: z.string(),
  subAcct: z.string().nullable(),
});

const PersistedSchema = z.object({
  version: z.literal(1),
  okxAccounts: z.array(
    z.object({
      uid: z.string(),
      name: z.string(),
      region: OkxRegionSchema,
      keys: z.array(OkxKeyState),
      subAccounts: z.array(
        z.object({
          name: z.string(),
          uid: z.string(),
          label: z.string(),
          enable: z.boolean(),
          type: z.string(),
          ts: z.number(),
          keys: z.array(OkxKeyState),
        }),
      ),
    }),
  ),
  bitfinexUsers: z.array(
    z.object({
      id: z.number(),
      email: z.string(),
      username: z.string(),
      keys: z.array(
        z.object({
          apiKey: z.string(),
          apiSecret: z.string(),
          label: z.string(),
          permissions: z.array(
            z.tuple([
              z.string(),
              z.union([z.literal(0), z.literal(1)]),
              z.union([z.literal(0), z.literal(1)]),
            ]),
          ),
          ip: z.array(z.string()),
          createdAt: z.string(),
          status,
          userId: z.number(),
          lastNonce: z
            .string()
            .regex(/^\d+$/)
            .transform((s) => BigInt(s)),
        }),
      ),
    }),
  ),
  bitfinexTokens: z.array(
    z.object({
      token: z.string(),
      apiKey: z.string(),
      expiresAt: z.number(),
      caps: z.array(z.string()),
      writePermission: z.boolean(),
    }),
  ),
});

export function saveWorld(world: World, file: string): void {
  const data = {
    version: 1,
    okxAccounts: world.okxAccounts,
    bitfinexUsers: world.bitfinexUsers,
    bitfinexTokens: [...world.bitfinexTokens.values()],
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
  const world = new World();
  world.okxAccounts = parsed.data.okxAccounts;
  world.bitfinexUsers = parsed.data.bitfinexUsers;
  for (const account of world.okxAccounts) {
    for (const key of [...account.keys, ...account.subAccounts.flatMap((s) => s.keys)])
      world.okxKeys.set(key.apiKey, key);
  }
  for (const user of world.bitfinexUsers)
    for (const key of user.keys) world.bitfinexKeys.set(key.apiKey, key);
  for (const token of parsed.data.bitfinexTokens) world.bitfinexTokens.set(token.token, token);
  return world;
}
