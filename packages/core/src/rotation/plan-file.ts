/**
 * The plan file: the plan as JSON (`keyward rotate plan -o plan.json`), reviewed, maybe committed to a
 * change ticket, then applied with `keyward rotate apply plan.json`. It holds no secret: key ids, API
 * keys (public identifiers), labels, permissions, IPs, target paths and an age public key. Read back, it
 * is validated with zod and every problem names its field.
 */
import { readFile } from "node:fs/promises";
import { formatZodIssues } from "../config/zod-format.js";
import { KeywardError } from "../errors.js";
import { writeFileAtomic } from "../vault/atomic-write.js";
import { type RotationPlan, RotationPlanSchema } from "./schemas.js";

export const planJson = (plan: RotationPlan): string => `${JSON.stringify(plan, null, 2)}\n`;

export async function writePlanFile(path: string, plan: RotationPlan): Promise<void> {
  await writeFileAtomic(path, Buffer.from(planJson(plan), "utf8"), { mode: 0o644 });
}

export function parsePlan(json: unknown, source: string): RotationPlan {
  const parsed = RotationPlanSchema.safeParse(json);
  if (!parsed.success) {
    throw new KeywardError(
      "CONFIG_INVALID",
      `${source}: not a valid rotation plan: ${formatZodIssues(parsed.error)}`,
      {
        hint: "Make the plan again with `keyward rotate plan … -o plan.json`; edit a plan only where you know what the field means.",
      },
    );
  }
  return parsed.data;
}

export async function readPlanFile(path: string): Promise<RotationPlan> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new KeywardError("CONFIG_INVALID", `cannot read the plan ${path} (${code})`, {
      hint: "Pass the file `keyward rotate plan -o FILE` wrote.",
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeywardError("CONFIG_INVALID", `${path}: not valid JSON`, {
      hint: "Pass the file `keyward rotate plan -o FILE` wrote.",
    });
  }
  return parsePlan(json, path);
}
