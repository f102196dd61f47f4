/** The keys across every account, the accounts themselves, and their health (live probes). */
import { type AccountHealth, accountHealth, shortKey } from "@keyward/core";
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
    const tracked = await home.tracked().list();
    return send(c, {
      accounts: home.config.accounts.map((a) => ({
        name: a.name,
        exchange: a.exchange,
        endpoint: a.endpoint ?? null,
        region: a.region ?? null,
        tracked: tracked
          .filter((t) => t.account === a.name)
          .map((t) => ({
            label: t.label,
            apiKeyShort: shortKey(t.apiKey),
            provable: t.credentialsRef !== null,
          })),
      })),
    });
  });

  // One account's failed probe is reported in its row; the others still answer.
  app.get("/api/accounts/health", async (c) => {
    const { account } = parseQuery(c, z.strictObject({ account: z.string().min(1).max(64).optional() }));
    const accounts = account ? [home.account(account)] : home.config.accounts;
    const vault = await home.vault();
    const adapters = await inventory.adapters();
    const results = await Promise.all(
      accounts.map(async (a) => {
        const credentials = vault.get(a.credentialsRef);
        const adapter = adapters.get(a.name);
        if (!credentials || !adapter) {
          return {
            account: a.name,
            exchange: a.exchange,
            health: null as AccountHealth | null,
            error: {
              message: "no credentials in the vault for this account",
              hint: `Remove it and add it again: keyward account remove ${a.name}; keyward account add …`,
            },
          };
        }
        try {
          return {
            account: a.name,
            exchange: a.exchange,
            health: accountHealth(a.exchange, await adapter.probe(credentials)),
            error: null,
          };
        } catch (error) {
          const e = toHttpError(error);
          return {
            account: a.name,
            exchange: a.exchange,
            health: null,
            error: { message: e.message, hint: e.hint },
          };
        }
      }),
    );
    return send(c, { checkedAt: new Date().toISOString(), accounts: results });
  });
}
