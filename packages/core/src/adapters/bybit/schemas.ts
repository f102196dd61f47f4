/**
 * zod schemas for every Bybit v5 answer the adapter reads (https://bybit-exchange.github.io/docs/v5/user/).
 * Objects are non-strict on purpose (Bybit adds fields; unknown ones are stripped). Every answer has the
 * envelope `{retCode, retMsg, result, retExtInfo, time}` and `retCode` 0 means success
 * (https://bybit-exchange.github.io/docs/v5/intro).
 */
import { z } from "zod";

/** A success envelope around a result of one shape. */
export const bybitSuccess = <T extends z.ZodType>(result: T) =>
  z.object({ retCode: z.literal(0), retMsg: z.string().optional(), result });

/** An error envelope, read from the raw body (ccxt's message is `"bybit " + body`). */
export const BybitErrorBodySchema = z.object({
  retCode: z.number().int(),
  retMsg: z.string().optional().default(""),
  /** The server's clock (epoch ms): every answer carries it, errors too; used to resync after 10002. */
  time: z.number().optional().catch(undefined),
});

/** Grants per group; Bybit sends an empty list (or omits the group) for none. */
export const PermissionsSchema = z.record(
  z.string(),
  z
    .array(z.string())
    .nullable()
    .transform((v) => v ?? []),
);

/** Bybit's date-times ("2023-06-21T07:49:31Z"), or "" / absent where a key has none. */
const optionalTime = z
  .string()
  .optional()
  .transform((v) => (v ? v : undefined));

/** apikey-info: the calling key. `secret` is always "" here and is dropped. */
export const QueryApiSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  note: z.string().default(""),
  apiKey: z.string().min(1),
  readOnly: z.union([z.literal(0), z.literal(1)]),
  permissions: PermissionsSchema,
  ips: z.array(z.string()).default([]),
  deadlineDay: z.number().optional(),
  expiredAt: optionalTime,
  createdAt: optionalTime,
  userID: z.union([z.string(), z.number()]).transform(String),
  isMaster: z.boolean(),
  parentUid: z.union([z.string(), z.number()]).transform(String).optional(),
});
export type BybitApiInfo = z.infer<typeof QueryApiSchema>;

/** page-subuid: one page of the master's sub-members; `nextCursor` is "0" (or absent) on the last page. */
export const SubMembersPageSchema = z.object({
  subMembers: z
    .array(
      z.object({
        uid: z.string().min(1),
        username: z.string(),
        memberType: z.number().optional(),
        status: z.number().optional(),
      }),
    )
    .default([]),
  nextCursor: z.string().optional().default("0"),
});
export type BybitSubMember = z.infer<typeof SubMembersPageSchema>["subMembers"][number];

/** list-sub-apikeys: one page of a sub-member's keys; the secret is masked ("******") and dropped. */
export const SubKeysPageSchema = z.object({
  result: z
    .array(
      z.object({
        id: z.union([z.string(), z.number()]).transform(String),
        apiKey: z.string().min(1),
        note: z.string().default(""),
        ips: z.array(z.string()).default([]),
        status: z.number().optional(),
        readOnly: z.union([z.boolean(), z.literal(0), z.literal(1)]).transform((v) => v === true || v === 1),
        permissions: PermissionsSchema,
        deadlineDay: z.number().optional(),
        expiredAt: optionalTime,
        createdAt: optionalTime,
      }),
    )
    .default([]),
  nextPageCursor: z.string().optional().default(""),
});
export type BybitSubKey = z.infer<typeof SubKeysPageSchema>["result"][number];

/** rm-sub-apikey and rm-master-apikey: an empty result. */
export const EmptyResultSchema = z.unknown();

/** create-subuid-apikey: the only answer that carries the new key's secret. */
export const CreatedKeySchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  note: z.string().default(""),
  apiKey: z.string().min(1),
  readOnly: z.union([z.literal(0), z.literal(1)]),
  secret: z.string().min(1),
  permissions: PermissionsSchema,
});
