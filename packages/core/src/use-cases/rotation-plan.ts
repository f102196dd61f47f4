/**
 * Use case: plan a rotation of keys already selected (listed live by the shell's selection), with the
 * delivery targets given. Checks the targets' syntax (and, where no program may run, refuses targets
 * that run one), the age recipient, then builds the plan: which keys Keyward holds the secret of, which
 * are an account's own key, which are busy in another unfinished rotation.
 */
import type { KeyRecord } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import type { KeywardHome } from "../home/home.js";
import { buildRotationPlan } from "../rotation/plan.js";
import type { RotationPlan } from "../rotation/schemas.js";
import { checkRecipient } from "../rotation/targets/age.js";
import { checkTargetSyntax } from "../rotation/targets/parse.js";
import { rotationJournal } from "./rotation-common.js";

/** Targets that only write files; the others (exec:) run programs on this machine. */
export const FILE_TARGET_KINDS = ["dotenv", "json", "age"] as const;

export interface RotationTargetsInput {
  deliver: readonly string[];
  /** The age recipient, unchecked; null or undefined when none was given. */
  recipient?: string | null;
  /** Where relative target paths resolve; null refuses them (the web server's directory is nobody's choice). */
  cwd: string | null;
  /** false where no program may run (a browser session): exec targets are refused. */
  allowPrograms: boolean;
}

/**
 * Checks the targets (syntax, relative paths, programs) and the recipient before anything is listed;
 * returns the recipient as checked, or null. `planRotation` runs it again.
 */
export async function checkRotationTargets(input: RotationTargetsInput): Promise<string | null> {
  for (const target of input.deliver) {
    const kind = checkTargetSyntax(target, input.cwd);
    if (!input.allowPrograms && !(FILE_TARGET_KINDS as readonly string[]).includes(kind)) {
      throw new KeywardError(
        "TARGET_NOT_ALLOWED",
        `${kind}: targets run programs on this machine and are not allowed from the browser`,
        {
          hint: "Deliver to files (dotenv:, json:, age:) here, or run `keyward rotate` in a terminal for exec targets and check commands.",
        },
      );
    }
  }
  return input.recipient ? await checkRecipient(input.recipient) : null;
}

export interface PlanRotationInput extends RotationTargetsInput {
  /** The selected keys, listed live. */
  keys: readonly KeyRecord[];
}

export async function planRotation(home: KeywardHome, input: PlanRotationInput): Promise<RotationPlan> {
  const recipient = await checkRotationTargets(input);
  const vault = await home.vault();
  const held = new Set<string>();
  for (const key of input.keys) if (await home.credentialsForKey(key)) held.add(key.id);
  const busy = new Map(
    rotationJournal(home)
      .busyKeys(input.keys.map((k) => k.id))
      .map((b) => [b.keyId, b.runId]),
  );
  return buildRotationPlan({
    keys: input.keys,
    deliver: input.deliver,
    recipient,
    cwd: input.cwd,
    home: home.paths.dir,
    isAccountKey: (key) => {
      const account = home.config.accounts.find((a) => a.name === key.account);
      return account !== undefined && vault.get(account.credentialsRef)?.apiKey === key.apiKey;
    },
    holdsSecret: (key) => held.has(key.id),
    busy,
  });
}
