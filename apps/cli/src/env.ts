/** The environment, read and checked in this one module. */
import { z } from "zod";

const EnvSchema = z.object({
  /** Where Keyward keeps its state, when --home is not given. */
  KEYWARD_HOME: z.string().min(1).optional(),
  /** The vault passphrase, for scripts (otherwise Keyward prompts on the terminal). */
  KEYWARD_PASSPHRASE: z.string().min(1).optional(),
  NO_COLOR: z.string().optional(),
});
export type Env = z.infer<typeof EnvSchema>;

let cached: Env | undefined;

export function readEnv(): Env {
  cached ??= EnvSchema.parse(process.env);
  return cached;
}
