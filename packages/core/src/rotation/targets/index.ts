/**
 * Delivering credentials to a target, one kind per file (dotenv.ts, json.ts, age.ts, exec.ts). Writes
 * to one file are serialised in this process, so keys sharing a dotenv or JSON file (with different
 * prefixes or pointers) never lose each other's update. Every file target checks, right before it
 * writes, where its path really leads (place.ts): never into Keyward's home, never through a symlink
 * another user could change, never into a folder every user can write to.
 */
import { KeyedSerialQueue } from "../../adapters/rate-limiter.js";
import { deliverAge } from "./age.js";
import { deliverDotenv } from "./dotenv.js";
import { deliverExec } from "./exec.js";
import { deliverJson } from "./json.js";
import { describeTarget, type Target } from "./parse.js";
import type { DeliveryOptions, DeliveryPayload } from "./payload.js";
import { resolvePlace } from "./place.js";

const files = new KeyedSerialQueue();

/** Writes the payload's credentials to the target; returns a line of evidence (no secret). */
export async function deliver(
  target: Target,
  payload: DeliveryPayload,
  options: DeliveryOptions,
): Promise<string> {
  const real = async (path: string) => (await resolvePlace(path, describeTarget(target))).real;
  switch (target.kind) {
    case "dotenv":
      return files.run(await real(target.path), () => deliverDotenv(target, payload, options.home));
    case "json":
      return files.run(await real(target.path), () => deliverJson(target, payload, options.home));
    case "age":
      return files.run(target.file, () => deliverAge(target, payload, options.recipient, options.home));
    case "exec":
      return deliverExec(target, payload, options);
  }
}

export { checkRecipient } from "./age.js";
export { dotenvNames, dotenvUnsafe, readDotenv, rewriteDotenv } from "./dotenv.js";
export { runShell, type ShellResult } from "./exec.js";
export { pointerTokens, readJson, rewriteJson } from "./json.js";
export {
  checkTargetSyntax,
  clashKey,
  describeTarget,
  hasPlaceholder,
  parseTarget,
  TARGET_KINDS,
  type Target,
  type TargetKind,
  TargetSchema,
  type TargetVars,
} from "./parse.js";
export { type DeliveryOptions, type DeliveryPayload, payloadJson } from "./payload.js";
