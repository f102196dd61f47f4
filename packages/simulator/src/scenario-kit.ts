/**
 * What scenario parsing shares with the exchange modules: the error type and how zod issues are
 * named (`<id>.accounts[0].keys[1].secretKey: …`). No registry import here, so modules can use it.
 */
import type { z } from "zod";

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
