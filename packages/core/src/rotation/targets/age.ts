/**
 * `age:DIR` with `--recipient AGE_PUBLIC_KEY`: one file per key, `DIR/<account>.<sub>.<label>.age`,
 * holding the credentials document (see payload.ts) encrypted to an X25519 recipient (`age1…`) with
 * age-encryption. Keyward holds no identity for it, so it cannot read the file back: only whoever holds
 * the matching `AGE-SECRET-KEY-1…` can (`age -d -i key.txt FILE`). Replaced atomically, keeping the
 * owner, group and mode of a file already there (a new one is 0600; place.ts).
 */
import { mkdir } from "node:fs/promises";
import { KeywardError } from "../../errors.js";
import { describeTarget, type Target } from "./parse.js";
import { type DeliveryPayload, payloadJson } from "./payload.js";
import { checkedPlace, replaceFile } from "./place.js";

type AgeTarget = Extract<Target, { kind: "age" }>;

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

export async function deliverAge(
  target: AgeTarget,
  payload: DeliveryPayload,
  recipient: string | undefined,
  home: string,
): Promise<string> {
  const checked = await checkRecipient(recipient);
  const { Encrypter } = await import("age-encryption");
  const encrypter = new Encrypter();
  encrypter.addRecipient(checked);
  const ciphertext = await encrypter.encrypt(payloadJson(payload));
  const name = describeTarget(target);
  // The folder is checked before it is created, the file again once it exists.
  await checkedPlace(target.file, name, home);
  await mkdir(target.dir, { recursive: true, mode: 0o700 });
  const { real } = await checkedPlace(target.file, name, home);
  await replaceFile(real, ciphertext, name);
  return `encrypted to ${checked.slice(0, 12)}… in ${real}`;
}
