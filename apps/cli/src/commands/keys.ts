/** `keyward keys`: the live inventory across all accounts, as a table or JSON. */
import {
  exchangeProfile,
  howWord,
  type InventoryRow,
  inventoryRow,
  keyLabelsOf,
  keyWhere,
  selectLiveKeys,
  timeLeft,
} from "@keyward/core";
import { withHome } from "../context.js";
import { EXIT, type ExitCode } from "../exit.js";
import { err, out, paragraph, printJson, table } from "../output.js";
import type { GlobalOptions } from "../program.js";
import { age, listingProgress, parseSelector, type SelectorFlags, staleNote } from "../selection.js";

/**
 * A key's expiry, compact for the RISKS column (the last one, so it widens no other): "expires 12d",
 * "expires 5h", "expired"; "" for a key that does not expire. Days are whole days left, rounded down,
 * so the table never promises more time than there is. The exact date is in `--json` (`expiresAt`).
 */
export function expiryNote(expiresAt: string | null, now = Date.now()): string {
  const left = timeLeft(expiresAt, now);
  if (!left) return "";
  return left.expired ? "expired" : `expires ${left.amount}${left.unit}`;
}

/**
 * The NOTES column: only what sets a key apart, so the common row fits 120 columns with it. Its state
 * when it is not simply live (DEAD, STALE, DISABLED: first, it matters most), "by a person" when only a
 * person can revoke it (revoked by API is the rule), its risk flags and expiry, and Keyward's own key.
 * Empty for a live, unflagged key revoked by API; everything is in --json (`state`, `management`, ...).
 */
export function keyNotes(r: InventoryRow, now = Date.now()): string {
  const state =
    r.state === "dead"
      ? "DEAD"
      : r.stale
        ? `STALE ${age(r.stale.ageMs)}`
        : r.state === "disabled"
          ? "DISABLED"
          : "";
  return [
    state,
    r.management === "manual" ? howWord("manual") : "",
    r.risks.join(","),
    expiryNote(r.expiresAt, now),
    r.accountKey ? "(Keyward's key)" : "",
  ]
    .filter(Boolean)
    .join(" ");
}

export async function keys(
  globals: GlobalOptions,
  opts: SelectorFlags & { json?: boolean },
): Promise<ExitCode> {
  const selector = parseSelector([], opts);
  return withHome(globals, async (home) => {
    const { keys, inventory } = await selectLiveKeys(home, {
      selector,
      onEvent: listingProgress(!opts.json),
    });
    const { maxKeyAgeDays } = home.config.settings;
    // Labels people gave their accounts' own keys, shown where the exchange lists none.
    const given = keyLabelsOf(home.config.accounts);
    // Keyward's own keys (any account's) are marked as such, as in the web app.
    const accountKeys = await home.accountKeyUses();
    const rows = keys.map((k) => inventoryRow(k, { maxKeyAgeDays }, accountKeys, given));
    const failed = inventory.accounts.filter((a) => a.error);
    if (opts.json) {
      printJson({
        keys: rows,
        accounts: inventory.accounts.map((a) => ({
          account: a.account,
          exchange: a.exchange,
          keys: a.keys.length,
          ...(a.error ? { error: a.error } : {}),
          ...(a.stale ? { stale: a.stale } : {}),
          ...(a.unlisted ? { unlisted: a.unlisted } : {}),
        })),
      });
    } else {
      if (rows.length === 0) out("No keys match.");
      else {
        out(
          table(
            ["ACCOUNT", "LABEL", "API KEY", "PERMISSIONS", "IP", "NOTES"],
            rows.map((r) => [
              keyWhere(r),
              r.label || "-",
              r.apiKeyShort,
              r.permissions.join(","),
              exchangeProfile(r.exchange).reportsIpWhitelist ? r.ip.join(",") || "any" : "n/a",
              keyNotes(r),
            ]),
            { fit: true },
          ),
        );
        const risky = rows.filter((r) => r.risks.length > 0).length;
        out(
          `\n${rows.length} key(s), ${risky} with risk flags. Ids for revoke: keyward keys --json | jq -r '.keys[].id'`,
        );
      }
      // What the exchange cannot list, per account: such keys exist only if tracked.
      const notes = inventory.accounts.filter((a) => a.unlisted);
      if (notes.length > 0) out("");
      for (const a of notes) out(paragraph(`${a.account}: ${a.unlisted}`));
      for (const a of failed) {
        err(`keyward: ${a.account}: ${a.error?.message}${a.error?.hint ? `\n  hint: ${a.error.hint}` : ""}`);
        err(staleNote(a));
      }
    }
    return failed.length > 0 ? EXIT.FAILED : EXIT.OK;
  });
}
