/**
 * Keyward's domain, as zod schemas with the types inferred from them: accounts, credentials, key
 * records, probe results and the steps a person must take where an exchange has no API.
 */
import { z } from "zod";
import { EXCHANGE_IDS, EXCHANGE_PROFILES, exchangeProfile } from "../adapters/registry.js";
import { endpointProblem } from "../config/endpoint.js";
import { PERMISSIONS } from "./permissions.js";

export const ExchangeIdSchema = z.enum(EXCHANGE_IDS);

export const AccountNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
  );

/**
 * The name a person gave a key on the exchange's page, for exchanges whose API does not return it
 * (`keyward account add --label`). Shown in tables and pages, so: one line, no control characters.
 */
export const KeyLabelTextSchema = z
  .string()
  .trim()
  .min(1, "give a label of 1-64 characters")
  .max(64, "use at most 64 characters")
  .refine((s) => !/\p{C}/u.test(s), "control or format characters are not allowed");

export const AccountSchema = z
  .strictObject({
    name: AccountNameSchema,
    exchange: ExchangeIdSchema,
    /** Base URL override (a proxy, or the local simulator): https, or http to a loopback address. */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    /** Regional host, for exchanges whose profile declares `regions` (checked against them below). */
    region: z.string().optional(),
    /** Where the account's credentials live in the vault. */
    credentialsRef: z.string().min(1),
    /**
     * The label the account's own key has on the exchange's page, where the exchange does not list it.
     * Tied to that key's API key (not a secret): after a rotation switches the account to a new key it
     * no longer matches, so the old key's name is never shown for the new one.
     */
    keyLabel: z.strictObject({ text: KeyLabelTextSchema, apiKey: z.string().min(1) }).optional(),
  })
  .superRefine((account, ctx) => {
    const regions = exchangeProfile(account.exchange).regions;
    if (account.region !== undefined && !regions) {
      const regional = EXCHANGE_PROFILES.filter((p) => p.regions).map((p) => p.name);
      ctx.addIssue({
        code: "custom",
        path: ["region"],
        message: `only ${regional.join(" or ")} accounts have a region`,
      });
    } else if (account.region !== undefined && regions && !Object.hasOwn(regions.hosts, account.region)) {
      const known = Object.keys(regions.hosts);
      ctx.addIssue({
        code: "custom",
        path: ["region"],
        message: `Invalid option: expected one of ${known.map((r) => JSON.stringify(r)).join("|")}`,
      });
    }
    // Signed requests (key, signature, passphrase if any) go to the endpoint: https, or loopback only.
    const problem = account.endpoint === undefined ? undefined : endpointProblem(account.endpoint);
    if (problem) ctx.addIssue({ code: "custom", path: ["endpoint"], message: problem });
  });
export type Account = z.infer<typeof AccountSchema>;

/**
 * Permissions normalised across exchanges. `read` is implied by every key that authenticates;
 * the dangerous ones are `withdraw` and `transfer`.
 */
export const PermissionSchema = z.enum(PERMISSIONS);
export type Permission = z.infer<typeof PermissionSchema>;

/** The permissions exactly as the exchange reports them: a string, or `[scope, read, write]` triples. */
export const RawPermissionsSchema = z.union([
  z.string(),
  z.array(z.tuple([z.string(), z.number(), z.number()])),
]);
export type RawPermissions = z.infer<typeof RawPermissionsSchema>;

export const KeyLocationSchema = z.enum(["master", "sub-account", "tracked"]);
export type KeyLocation = z.infer<typeof KeyLocationSchema>;

/** How an action can be done for a key: by API, or by a person on the exchange's web site. */
export const ActionModeSchema = z.enum(["api", "manual"]);
export type ActionMode = z.infer<typeof ActionModeSchema>;

export const KeyRecordSchema = z.strictObject({
  /** Stable id: exchange:account:sub-account (or "-"):apiKey. */
  id: z.string(),
  exchange: ExchangeIdSchema,
  account: z.string(),
  subAccount: z.string().nullable(),
  apiKey: z.string(),
  label: z.string(),
  permissions: z.array(PermissionSchema),
  rawPermissions: RawPermissionsSchema,
  /** IP whitelist; empty means "no binding": usable from anywhere. */
  ip: z.array(z.string()),
  createdAt: z.iso.datetime().nullable(),
  /**
   * When the exchange says the key stops working (e.g. Bybit's 90 days for a key without an IP binding);
   * null when it does not expire or the exchange does not say. Defaults to null so an inventory cached
   * before the field existed still parses (store/inventory-cache.ts treats a parse failure as a miss).
   */
  expiresAt: z.iso.datetime().nullable().default(null),
  location: KeyLocationSchema,
  actions: z.strictObject({ revoke: ActionModeSchema, create: ActionModeSchema }),
  /** Whether Keyward holds the key's secret, and so can probe it. */
  probeable: z.boolean(),
  /**
   * What the exchange last said of it: listed or probed alive; listed but switched off (it fails
   * authentication until enabled again, e.g. Deribit's disable_api_key); dead; or not known.
   */
  state: z.enum(["active", "disabled", "dead", "unknown"]),
  /** Exchange-specific facts the adapter needs later (e.g. the id of the account a key belongs to); opaque outside it. */
  meta: z.record(z.string(), z.string()).default({}),
  /**
   * Set when the exchange could not list the key just now (the account's own key died, or its IP
   * binding no longer matches) and the record comes from the last successful inventory, fetched then.
   * Everything but `state` may be out of date; only a person can act on the key (see inventory.ts).
   */
  stale: z.strictObject({ fetchedAt: z.iso.datetime() }).optional(),
});
export type KeyRecord = z.infer<typeof KeyRecordSchema>;

export const keyId = (exchange: string, account: string, subAccount: string | null, apiKey: string): string =>
  `${exchange}:${account}:${subAccount ?? "-"}:${apiKey}`;

/** How a person recognises a key on an exchange page without Keyward showing the whole key. */
// In a file of its own so browser code (core/browser.ts) can take it without zod.
export { shortKey } from "./short-key.js";

export const ManualStepsSchema = z.strictObject({
  exchange: ExchangeIdSchema,
  action: z.enum(["revoke", "create"]),
  /** The page to open. */
  url: z.string(),
  /** Numbered instructions, in order. */
  steps: z.array(z.string()).min(1),
  recognise: z.strictObject({
    label: z.string(),
    apiKeyStart: z.string(),
    apiKeyEnd: z.string(),
    where: z.string(),
  }),
});
export type ManualSteps = z.infer<typeof ManualStepsSchema>;

export const InconclusiveReasonSchema = z.enum([
  "wrong-secret",
  "wrong-passphrase",
  "ip-not-whitelisted",
  "clock-skew",
  "nonce",
  "wrong-region",
  "wrong-environment",
  "frozen",
  "rate-limited",
  "network",
  "ambiguous",
  "exchange-error",
]);
export type InconclusiveReason = z.infer<typeof InconclusiveReasonSchema>;

/** A probe's answer. `dead` is only given on evidence that the exchange no longer knows the key. */
export type ProbeResult =
  | {
      status: "alive";
      permissions: Permission[];
      rawPermissions: RawPermissions;
      /** null when the exchange does not report the key's IP binding. */
      ip: string[] | null;
      label?: string;
      /** The exchange's id of the account the key belongs to. */
      accountId?: string;
      /** Where the exchange has master and sub-accounts: the master's id (equal to accountId for a master key). */
      masterId?: string;
      /** When the exchange says the key stops working (ISO date-time), where it says (KeyRecord.expiresAt). */
      expiresAt?: string;
      evidence: string;
    }
  | { status: "dead"; evidence: string }
  | { status: "inconclusive"; reason: InconclusiveReason; evidence: string };

/** What a kill switch did (the adapter's `disableKey`): the key fails authentication until enabled again. */
export type DisableResult =
  | { outcome: "disabled"; evidence: string }
  | { outcome: "already-disabled"; evidence: string }
  | { outcome: "already-revoked"; evidence: string };

export type RevokeResult =
  | { outcome: "revoked"; evidence: string }
  | { outcome: "already-revoked"; evidence: string }
  | { outcome: "manual"; steps: ManualSteps };
