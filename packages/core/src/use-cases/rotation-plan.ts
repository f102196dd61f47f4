/**
 * Use case: plan a rotation of keys already selected (listed live by the shell's selection), with the
 * delivery targets given. Checks the targets' syntax (and, where no program may run, refuses targets
 * that run one) and the targets' own options, then builds the plan: which keys Keyward holds the secret of, which
 * are an account's own key, which are busy in another unfinished rotation.
 */
import { accountsUsing } from "../domain/account-keys.js";
import type { KeyRecord } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import type { KeywardHome } from "../home/home.js";
import { buildRotationPlan } from "../rotation/plan.js";
import type { RotationPlan } from "../rotation/schemas.js";
import {
  checkTargetSyntax,
  DELIVERY_TARGETS,
  isWebAllowed,
  type PlanTargetOptions,
  readTargetOptions,
} from "../rotation/targets/index.js";
import { rotationJournal } from "./rotation-common.js";

export interface RotationTargetsInput {
  deliver: readonly string[];
  /** The targets' own options as given (e.g. the age target's recipient), unchecked; absent when not given. */
  options?: Readonly<Record<string, unknown>>;
  /** Where relative target paths resolve; null refuses them (the web server's directory is nobody's choice). */
  cwd: string | null;
  /** false where no program may run (a browser session): targets the web may not use are refused. */
  allowPrograms: boolean;
}

const webKinds = () =>
  DELIVERY_TARGETS.filter((d) => d.webAllowed)
    .map((d) => `${d.kind}:`)
    .join(", ");

/**
 * Checks the targets (syntax, relative paths, programs) and their options before anything is listed;
 * returns the options as checked. `planRotation` runs it again.
 */
export async function checkRotationTargets(input: RotationTargetsInput): Promise<PlanTargetOptions> {
  for (const target of input.deliver) {
    const kind = checkTargetSyntax(target, input.cwd);
    if (!input.allowPrograms && !isWebAllowed({ kind })) {
      throw new KeywardError(
        "TARGET_NOT_ALLOWED",
        `${kind}: targets run programs on this machine and are not allowed from the browser`,
        {
          hint: `Deliver to files (${webKinds()}) here, or run \`keyward rotate\` in a terminal for targets that run programs.`,
        },
      );
    }
  }
  return readTargetOptions(input.options ?? {});
}

export interface PlanRotationInput extends RotationTargetsInput {
  /** The selected keys, listed live. */
  keys: readonly KeyRecord[];
  /** Plan in-place resets (same key id, new secret, no grace) where the exchange has them; refuse the rest. */
  resetInPlace?: boolean;
}

export async function planRotation(home: KeywardHome, input: PlanRotationInput): Promise<RotationPlan> {
  const targetOptions = await checkRotationTargets(input);
  const vault = await home.vault();
  const uses = await home.accountKeyUses();
  const held = new Set<string>();
  for (const key of input.keys) if (await home.credentialsForKey(key)) held.add(key.id);
  const busy = new Map(
    (await rotationJournal(home).busyKeys(input.keys.map((k) => k.id))).map((b) => [b.keyId, b.runId]),
  );
  return buildRotationPlan({
    keys: input.keys,
    deliver: input.deliver,
    ...targetOptions,
    cwd: input.cwd,
    home: home.paths.dir,
    isAccountKey: (key) => {
      const account = home.config.accounts.find((a) => a.name === key.account);
      return account !== undefined && vault.get(account.credentialsRef)?.apiKey === key.apiKey;
    },
    usedByOtherAccounts: (key) => accountsUsing(key, uses).filter((a) => a !== key.account),
    holdsSecret: (key) => held.has(key.id),
    busy,
    ...(input.resetInPlace ? { resetInPlace: true } : {}),
  });
}
