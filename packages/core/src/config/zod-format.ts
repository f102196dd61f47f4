import type { z } from "zod";

/** `accounts[0].endpoint: Invalid URL` for each issue, so messages name the field to fix. */
export function formatZodIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path
        .map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`))
        .join("");
      return `${path || "(root)"}: ${issue.message}`;
    })
    .join("; ");
}
