/** The keys across every account, the accounts themselves, and their health (live probes). */
import { checkAccounts, EXCHANGE_IDS, listAccounts, shortKey } from "@keyward/core";
import { Hono } from "hono";
import { z } from "zod";
import { toHttpError } from "../http-errors.js";
import { query } from "../request-input.js";
import type { RouteContext } from "./route-context.js";

const BoolParam = z.enum(["0", "1", "true", "false"]).transform((v) => v === "1" || v === "true");

export function inventoryRoutes({
  home,
  inventory,
  send,
}: Pick<RouteContext, "home" | "inventory" | "send">) {
  return (
    new Hono()
      .get("/api/inventory", query(z.strictObject({ refresh: BoolParam.optional() })), async (c) => {
        const { refresh } = c.req.valid("query");
        const snapshot = await inventory.get(refresh ?? false);
        return send(c, await inventory.view(snapshot));
      })

      // From the config and tracked keys only: no exchange is asked, so this answers at once.
      .get("/api/accounts", query(z.strictObject({})), async (c) => {
        return send(c, {
          /** The exchange ids `keyward account add` takes (the UI names no exchange itself). */
          exchanges: EXCHANGE_IDS,
          // `secondFactor`: whether the vault holds the account's TOTP seed (never the seed; the vault is open).
          accounts: (await listAccounts(home, { secondFactor: true })).map((a) => ({
            ...a,
            tracked: a.tracked.map(({ label, apiKey, provable }) => ({
              label,
              apiKeyShort: shortKey(apiKey),
              provable,
            })),
          })),
        });
      })

      // One account's failed probe is reported in its row; the others still answer.
      .get(
        "/api/accounts/health",
        query(z.strictObject({ account: z.string().min(1).max(64).optional() })),
        async (c) => {
          const { account } = c.req.valid("query");
          const checks = await checkAccounts(home, {
            ...(account ? { account } : {}),
            adapterFor: (name) => inventory.adapterFor(name),
          });
          const results = checks.map(({ account: name, exchange, health, problem }) => {
            if (!problem) return { account: name, exchange, health, error: null };
            const error =
              problem.kind === "no-credentials"
                ? {
                    message: "no credentials in the vault for this account",
                    hint: `Remove it and add it again: keyward account remove ${name}; keyward account add …`,
                  }
                : toHttpError(problem.error);
            return {
              account: name,
              exchange,
              health: null,
              error: { message: error.message, hint: error.hint },
            };
          });
          return send(c, { checkedAt: new Date().toISOString(), accounts: results });
        },
      )
  );
}
