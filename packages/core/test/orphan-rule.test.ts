/**
 * The `creating` reconciliation's rule (rotation/api-steps.ts, `notOurOrphan`): a listed key with the
 * slot's label whose secret the vault does not hold is this slot's orphan only with exactly the planned
 * permissions and IPs and, where the exchange reports it, a creation time no earlier than the journaled
 * `creating` step less ORPHAN_CLOCK_SKEW_MS. Over HTTP: apps/cli/test/key-create.test.ts (a colleague's
 * key) and the rotation crash tests (a real orphan).
 */
import { describe, expect, it } from "vitest";
import type { KeyRecord } from "../src/domain/schemas.js";
import { notOurOrphan, ORPHAN_CLOCK_SKEW_MS } from "../src/rotation/api-steps.js";
import type { SlotContext } from "../src/rotation/context.js";
import type { SlotRow } from "../src/rotation/journal.js";

const CREATING_AT = "2026-12-02T02:00:00.000Z";
const ctx = {
  plan: {
    old: { exchange: "okx" },
    new: { permissions: ["read", "trade"], rawPermissions: "", ip: ["127.0.0.1"], subAccount: "s1" },
  },
} as unknown as SlotContext;
const row = { updatedAt: CREATING_AT } as SlotRow;
const key = (over: Partial<KeyRecord>): KeyRecord =>
  ({
    apiKey: "5e1f0c2a-0000-0000-0000-000000000001",
    label: "mm-shared",
    permissions: ["trade", "read"],
    rawPermissions: "read_only,trade",
    ip: ["127.0.0.1"],
    createdAt: null,
    ...over,
  }) as KeyRecord;
const at = (ms: number) => new Date(Date.parse(CREATING_AT) + ms).toISOString();

describe("notOurOrphan", () => {
  it("the key the attempt asked for, made after `creating` (or within the skew, or with no time reported), is ours", () => {
    expect(notOurOrphan(ctx, row, key({ createdAt: at(2_000) }))).toBeUndefined();
    expect(notOurOrphan(ctx, row, key({ createdAt: at(-ORPHAN_CLOCK_SKEW_MS) }))).toBeUndefined();
    expect(notOurOrphan(ctx, row, key({ createdAt: null }))).toBeUndefined();
  });

  it("other permissions, another IP binding (or none), or made before `creating`: not ours, and says why", () => {
    expect(notOurOrphan(ctx, row, key({ permissions: ["read"] }))).toMatch(/permissions differ/);
    expect(notOurOrphan(ctx, row, key({ ip: ["10.0.0.7"] }))).toMatch(/IP whitelist \(10\.0\.0\.7\)/);
    expect(notOurOrphan(ctx, row, key({ ip: [] }))).toMatch(/IP whitelist \(no binding\)/);
    expect(notOurOrphan(ctx, row, key({ createdAt: at(-ORPHAN_CLOCK_SKEW_MS - 1_000) }))).toMatch(
      /created at .* before this run's create attempt/,
    );
  });
});
