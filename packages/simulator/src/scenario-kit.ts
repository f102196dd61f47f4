/**
 * What scenario parsing shares with the exchange modules: the error type and how zod issues are
 * named (`<id>.accounts[0].keys[1].secretKey: …`). No registry import here, so modules can use it.
 */
import { z } from "zod";

export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
}

/** `<id>.accounts[0].keys[1].secretKey` from a zod issue path. */
export const formatIssuePath = (path: readonly PropertyKey[]): string =>
  path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`))
    .join("") || "(root)";

export const formatZodError = (error: z.ZodError): string =>
  error.issues.map((issue) => `${formatIssuePath(issue.path)}: ${issue.message}`).join("; ");

const DAY_MS = 86_400_000;
const RELATIVE_TIME = /^now([+-]\d{1,5})d$/;

/**
 * A date-time in a scenario: ISO 8601 (`2026-10-01T09:00:00Z`), or `now-80d` / `now+5d`, days from the
 * moment the scenario is loaded, turned into ISO. For a fact that must stay relative to today whenever a
 * committed scenario is loaded (a key made 80 days ago that expires in 10, in the demo desk): a fixed date
 * would drift out of what it was written to show.
 */
export const ScenarioDateTime = z.union([
  z.iso.datetime(),
  z
    .string()
    .regex(RELATIVE_TIME, { message: 'expected an ISO date-time or "now-<days>d" / "now+<days>d"' })
    .transform((text) => new Date(Date.now() + Number(RELATIVE_TIME.exec(text)?.[1]) * DAY_MS).toISOString()),
]);
