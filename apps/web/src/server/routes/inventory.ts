/** The keys across every account, the accounts themselves, and their health (live probes). */
import { checkAccounts, EXCHANGE_IDS, KeywardError, listAccounts, shortKey } from "@keyward/core";
import type { Hono } from "hono";
import { z } from "zod";
import { toHttpError } from "../http-errors.js";
import { parseQuery } from "../request-input.js";
import type { RouteContext } from "./route-context.js";

const BoolParam = z.enum(["0", "1", "true", "false"]).transform((v) => v === "1" || v === "true");

export function inventoryRoutes(
  app: Hono,
  { home, inventory, send }: Pick<RouteContext, "home" | "inventory" | "send">,
) {
  app.get("/api/inventory", async (c) => {
    const { refresh } = parseQuery(c, z.strictObject({ refresh: BoolParam.optional() }));
    const snapshot = await inventory.get(refresh ?? false);
    return send(c, inventory.view(snapshot));
  });

  // From the config and tracked keys only: no exchange is asked, so this answers at once.
  app.get("/api/accounts", async (c) => {
    parseQuery(c, z.strictObject({}));
    return send(c, {
      /** The exchange ids `keyward account add` takes (the UI names no exchange itself). */
      exchanges: EXCHANGE_IDS,
      accounts: (await listAccounts(home)).map((a) => ({
        ...a,
        tracked: a.tracked.map(({ label, apiKey, provable }) => ({
          label,
          apiKeyShort: shortKey(apiKey),
          provable,
        })),
      })),
    });
  });

  // One account's failed probe is reported in its row; the others still answer.
  app.get("/api/accounts/health", async (c) => {
    const { account } = parseQuery(c, z.strictObject({ account: z.string().min(1).max(64).optional() }));
    const checks = await checkAccounts(home, {
      ...(account ? { account } : {}),
      adapterFor: async (name) => {
        const adapter = (await inventory.adapters()).get(name);
        if (!adapter) throw new KeywardError("ACCOUNT_NOT_FOUND", `no account ${name}`);
        return adapter;
      },
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
      return { account: name, exchange, health: null, error: { message: error.message, hint: error.hint } };
    });
    return send(c, { checkedAt: new Date().toISOString(), accounts: results });
  });
}
