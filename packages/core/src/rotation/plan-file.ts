/**
 * The plan file: the plan as JSON (`keyward rotate plan -o plan.json`), reviewed, maybe committed to a
 * change ticket, then applied with `keyward rotate apply plan.json`. It holds no secret: key ids, API
 * keys (public identifiers), labels, permissions, IPs, target paths and an age public key. Read back, it
 * is validated with zod and every problem names its field.
 *
 * It says where new secrets go (a target may be a command, run by `rotate apply`), so whoever can change
 * it decides what Keyward runs and where it writes credentials. It is written 0600, and read only when
 * no other user could have changed it: owned by the user running Keyward, writable by nobody else, in a
 * folder (and below folders) that nobody but root and that user could rename or replace it in; a
 * sticky folder such as /tmp may hold it (others cannot replace a file they do not own there). The
 * same rule and error (HOME_INSECURE, exit 2) as the home's files.
 */
import { open, realpath, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { formatZodIssues } from "../config/zod-format.js";
import { KeywardError } from "../errors.js";
import { writeFileAtomic } from "../vault/atomic-write.js";
import { type RotationPlan, RotationPlanSchema } from "./schemas.js";
import { folderProblem } from "./targets/place.js";

export const planJson = (plan: RotationPlan): string => `${JSON.stringify(plan, null, 2)}\n`;

export async function writePlanFile(path: string, plan: RotationPlan): Promise<void> {
  await writeFileAtomic(path, Buffer.from(planJson(plan), "utf8"), { mode: 0o600 });
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

const insecure = (path: string, why: string, fix: string) =>
  new KeywardError(
    "HOME_INSECURE",
    `the plan ${path}: ${why}; another user could have changed where it delivers`,
    {
      hint: `Check the plan (every --deliver target), then make it yours alone: ${fix}; or make the plan again with \`keyward rotate plan … -o FILE\` in a folder of your own.`,
    },
  );

/**
 * Refuses a plan file another user could have written or replaced (see the top of this file). `st`
 * is the opened file's own stat, so what is checked is what is read.
 */
async function checkPlanPrivacy(path: string, st: { uid: number; mode: number; dev: number; ino: number }) {
  if (typeof process.getuid !== "function") return;
  const uid = process.getuid();
  if (st.uid !== uid) {
    throw insecure(
      path,
      `owned by uid ${st.uid}, not by the user running Keyward (uid ${uid})`,
      `chown ${uid} ${path}`,
    );
  }
  if (st.mode & 0o022) {
    const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
    throw insecure(
      path,
      `writable by ${st.mode & 0o002 ? "every user" : "its group"} (mode ${mode})`,
      `chmod 600 ${path}`,
    );
  }
  // The folder of the file itself and, through a symlink, the folder of the link.
  const real = await realpath(path);
  const now = await stat(real);
  if (now.dev !== st.dev || now.ino !== st.ino)
    throw insecure(path, "it was replaced while being read", `keyward rotate apply ${path} again`);
  const folders = new Set([dirname(real), await realpath(dirname(path))]);
  for (const folder of folders) {
    const open = await folderProblem(folder, { writers: 0o022, owners: true, stickyLast: true });
    if (open) throw insecure(path, open, `move it to a folder of your own (mkdir -m 700 …)`);
  }
}

export async function readPlanFile(path: string): Promise<RotationPlan> {
  let text: string;
  try {
    const handle = await open(path, "r");
    try {
      await checkPlanPrivacy(path, await handle.stat());
      text = await handle.readFile("utf8");
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof KeywardError) throw error;
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
