/**
 * A label given for an account's own key (`account add --label`, `account set-label`) where the exchange
 * lists none: shown for that key only, never over the exchange's own label, and no longer after the
 * account moves to another key (a rotation): it named the old key. The label is checked like any input.
 */
import { describe, expect, it } from "vitest";
import {
  AccountSchema,
  HOW_WORDS,
  howWord,
  inventoryRow,
  type KeyRecord,
  keyLabelsOf,
} from "../src/index.js";

const key = (apiKey: string, label = ""): KeyRecord => ({
  id: `bitfinex:desk-bfx:-:${apiKey}`,
  exchange: "bitfinex",
  account: "desk-bfx",
  subAccount: null,
  apiKey,
  label,
  permissions: ["read"],
  rawPermissions: "read",
  ip: [],
  createdAt: null,
  expiresAt: null,
  location: "master",
  actions: { revoke: "manual", create: "manual" },
  probeable: true,
  state: "active",
  meta: {},
});

const account = (keyLabel?: { text: string; apiKey: string }) =>
  AccountSchema.parse({
    name: "desk-bfx",
    exchange: "bitfinex",
    credentialsRef: "accounts/desk-bfx",
    ...(keyLabel ? { keyLabel } : {}),
  });

describe("a given key label", () => {
  const given = keyLabelsOf([account({ text: "keyward-reader", apiKey: "OLDKEY0001" })]);

  it("labels the account's key where the exchange gave none, marked as given", () => {
    expect(inventoryRow(key("OLDKEY0001"), { maxKeyAgeDays: 90 }, undefined, given)).toMatchObject({
      label: "keyward-reader",
      labelGiven: true,
    });
  });

  it("never replaces a label the exchange gave, and labels no other key", () => {
    const named = inventoryRow(key("OLDKEY0001", "from-exchange"), { maxKeyAgeDays: 90 }, undefined, given);
    expect(named.label).toBe("from-exchange");
    expect(named.labelGiven).toBeUndefined();
    expect(inventoryRow(key("OTHERKEY02"), { maxKeyAgeDays: 90 }, undefined, given).label).toBe("");
  });

  it("is not shown for the account's new key after a rotation switched it (it named the old key)", () => {
    const rotated = inventoryRow(key("NEWKEY0003"), { maxKeyAgeDays: 90 }, undefined, given);
    expect(rotated.label).toBe("");
    expect(rotated.labelGiven).toBeUndefined();
  });

  it("is one line of 1-64 characters without control or format characters", () => {
    const bad = ["", " ", "x".repeat(65), "a\u001bb", "a\nb", "a\u202eb"];
    for (const text of bad) {
      expect(AccountSchema.safeParse({ ...account(), keyLabel: { text, apiKey: "K" } }).success, text).toBe(
        false,
      );
    }
    expect(account({ text: "  ops key  ", apiKey: "K" }).keyLabel?.text).toBe("ops key");
  });
});

describe("the words for how a key is revoked", () => {
  it("are one pair, for the machine values api and manual", () => {
    expect(HOW_WORDS).toEqual({ api: "by API", manual: "by a person" });
    expect(howWord("manual")).toBe("by a person");
  });
});
