/**
 * `age:DIR` with `--recipient AGE_PUBLIC_KEY`: one file per key, `DIR/<account>.<sub>.<label>.age`,
 * holding the credentials document (see payload.ts) encrypted to an X25519 recipient (`age1…`) with
 * age-encryption. Keyward holds no identity for it, so it cannot read the file back: only whoever holds
 * the matching `AGE-SECRET-KEY-1…` can (`age -d -i key.txt FILE`). Replaced atomically, keeping the
 * owner, group and mode of a file already there (a new one is 0600; place.ts).
 *
 * The recipient is this kind's option: given once per plan (`--recipient` on the command line, a field
 * of the web form), stored in the plan file as `recipient`, and checked whenever a plan with an age
 * target is made, applied or delivered.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { KeywardError } from "../../errors.js";
import { type DeliveryPayload, payloadJson } from "./payload.js";
import { checkedPlace, replaceFile, serialised } from "./place.js";
import { AbsolutePath, expandPath, forPath } from "./placeholders.js";
import type { DeliveryTarget, TargetOption } from "./target.js";

const AgeSchema = z.strictObject({
  kind: z.literal("age"),
  dir: AbsolutePath,
  /** The file inside `dir` for this key; set when the plan is made. */
  file: AbsolutePath,
});
export type AgeTarget = z.infer<typeof AgeSchema>;

const RECIPIENT_HINT =
  "Pass the public key of whoever reads the files: --recipient age1… (from `age-keygen -y key.txt`).";

/** Checks an age recipient; age-encryption's own parser decides (X25519 `age1…` and its other kinds). */
export async function checkRecipient(recipient: string | undefined): Promise<string> {
  if (!recipient) {
    throw new KeywardError("CONFIG_INVALID", "age targets need --recipient AGE_PUBLIC_KEY", {
      hint: RECIPIENT_HINT,
    });
  }
  const { Encrypter } = await import("age-encryption");
  try {
    new Encrypter().addRecipient(recipient.trim());
  } catch {
    throw new KeywardError("CONFIG_INVALID", `--recipient "${recipient}" is not an age public key`, {
      hint: RECIPIENT_HINT,
    });
  }
  return recipient.trim();
}

const recipientOption = {
  name: "recipient",
  flag: "--recipient <age-public-key>",
  help: "age targets: encrypt to this X25519 recipient (age1…)",
  label: "age recipient (optional)",
  placeholder: "age1…",
  check: checkRecipient,
} as const satisfies TargetOption<"recipient">;

const describe = (target: AgeTarget): string => `age:${target.file}`;

async function deliverAge(
  target: AgeTarget,
  payload: DeliveryPayload,
  recipient: string | null | undefined,
  home: string,
): Promise<string> {
  const checked = await checkRecipient(recipient ?? undefined);
  const { Encrypter } = await import("age-encryption");
  const encrypter = new Encrypter();
  encrypter.addRecipient(checked);
  const ciphertext = await encrypter.encrypt(payloadJson(payload));
  const name = describe(target);
  // The folder is checked before it is created, the file again once it exists.
  await checkedPlace(target.file, name, home);
  await mkdir(target.dir, { recursive: true, mode: 0o700 });
  const { real } = await checkedPlace(target.file, name, home);
  await replaceFile(real, ciphertext, name);
  return `encrypted to ${checked.slice(0, 12)}… in ${real}`;
}

export const ageTarget = {
  kind: "age",
  schema: AgeSchema,
  usage: {
    form: "age:DIR",
    text: "DIR/<account>.<sub>.<label>.age encrypted to the age recipient (age1…) given with the plan; Keyward cannot read it back",
  },
  example: "age:/secure/drop",
  webAllowed: true,
  options: [recipientOption],
  parse(spec, ctx) {
    if (!spec) ctx.fail("dir", "the directory is missing");
    const dir = expandPath(spec, ctx, "dir");
    const { account, sub, label } = ctx.vars;
    const name = [account, sub, label].map(forPath).join(".");
    return { kind: "age", dir, file: join(dir, `${name}.age`) };
  },
  describe,
  // One file per key: two keys clash only when account, sub-account and label are all the same.
  clashKey: describe,
  // Keyward makes the drop folder itself.
  place: (target) => ({ path: target.file, needsFolder: false }),
  deliver: (target, payload, options) =>
    serialised(target.file, () => deliverAge(target, payload, options.recipient, options.home)),
} satisfies DeliveryTarget<AgeTarget, "recipient">;
