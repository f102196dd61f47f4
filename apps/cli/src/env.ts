/** The environment, read and checked in this one module. */
import { z } from "zod";

const EnvSchema = z.object({
  /** Where Keyward keeps its state, when --home is not given. */
  KEYWARD_HOME: z.string().min(1).optional(),
  /** The vault passphrase, for scripts (otherwise Keyward prompts on the terminal). */
  KEYWARD_PASSPHRASE: z.string().min(1).optional(),
  NO_COLOR: z.string().optional(),
  /**
   * TESTS ONLY: the rotation crash seam. `rotate apply|resume` kills itself with SIGKILL right after the
   * journal records this step (e.g. `creating`, `delivered`) or after the exchange answers a create or a
   * revoke (`create-answered`, `revoke-answered`), so tests can prove `rotate resume` recovers from a
   * crash at every step. See packages/core/src/rotation/engine.ts.
   */
  KEYWARD_TEST_CRASH_AFTER: z.string().min(1).optional(),
  /**
   * TESTS ONLY: the scrypt work factor (log2 N) of a vault `keyward init` creates, instead of the
   * production default (core's VAULT_SCRYPT_WORK_FACTOR, 16). The end-to-end tests run hundreds of CLI
   * processes, each opening the vault; at 10 an open costs milliseconds instead of ~0.35 s of CPU. An
   * existing vault keeps the factor it was written with; `init` says when this is in effect.
   */
  KEYWARD_TEST_VAULT_WORK_FACTOR: z.coerce.number().int().min(10).max(20).optional(),
});
export type Env = z.infer<typeof EnvSchema>;

let cached: Env | undefined;

export function readEnv(): Env {
  cached ??= EnvSchema.parse(process.env);
  return cached;
}
