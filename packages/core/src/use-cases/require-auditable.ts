/**
 * Fail closed before touching any exchange: an action that must be audited (a revoke, a rotation) is
 * refused while the audit log cannot be written (a read-only state.db, a frozen audit log). Shared by
 * the revoke and rotation use cases, so both shells refuse the same way.
 */
import { KeywardError } from "../errors.js";
import type { KeywardHome } from "../home/home.js";

/** The hint of a refused revoke. */
export const REVOKE_UNAUDITABLE_HINT =
  "Revoking is refused when it cannot be audited. Make the state database writable and try again.";

/** Throws AUDIT_UNAVAILABLE (with `hint`: what was refused, what to do) when state.db is read-only. */
export async function requireAuditable(home: KeywardHome, hint: string): Promise<void> {
  if (!(await home.state().isWritable())) {
    throw new KeywardError("AUDIT_UNAVAILABLE", `the audit log at ${home.paths.state} is read-only`, {
      hint,
    });
  }
}
