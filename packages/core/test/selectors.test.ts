/**
 * Label globs in selectors: plain `* ? [..]`, case-insensitive, length-capped, and linear enough that a
 * hostile pattern (the extglob `*(*)*(*)*(*)z` that froze the web app for minutes) answers in
 * milliseconds against any label.
 */
import { describe, expect, it } from "vitest";
import {
  isKeywardError,
  type KeyRecord,
  MAX_LABEL_GLOB_LENGTH,
  risksOf,
  SelectorSchema,
  selectKeys,
} from "../src/index.js";

const key = (label: string, n = 0): KeyRecord => ({
  id: `okx:desk:bots01:key-${n}`,
  exchange: "okx",
  account: "desk",
  subAccount: "bots01",
  apiKey: `key-${n}`,
  label,
  permissions: ["read", "trade"],
  rawPermissions: "read_only,trade",
  ip: ["10.0.0.1"],
  createdAt: null,
  expiresAt: null,
  location: "sub-account",
  actions: { revoke: "api", create: "api" },
  probeable: false,
  state: "active",
  meta: {},
});

const RISK = { maxKeyAgeDays: 90 };
const labelsMatching = (glob: string, labels: string[]): string[] =>
  selectKeys(
    labels.map((l, i) => key(l, i)),
    SelectorSchema.parse({ label: glob }),
    RISK,
  ).map((k) => k.label);

/** The extglob of issue 9.5; in a plain glob `(` and `)` are ordinary characters. */
const HOSTILE = "*(*)*(*)*(*)z";

describe("label globs", () => {
  it("match *, ? and [..] case-insensitively; every other character matches itself", () => {
    const labels = ["bot-1", "BOT-2", "bot-10", "mm-a", "mm-b", "arb-1", "(x)", "a*b", "x[1]", "über-1"];
    expect(labelsMatching("bot-*", labels)).toEqual(["bot-1", "BOT-2", "bot-10"]);
    expect(labelsMatching("bot-?", labels)).toEqual(["bot-1", "BOT-2"]);
    expect(labelsMatching("mm-[a]", labels)).toEqual(["mm-a"]);
    expect(labelsMatching("mm-[!a]", labels)).toEqual(["mm-b"]);
    expect(labelsMatching("mm-[^a]", labels)).toEqual(["mm-b"]);
    expect(labelsMatching("*-[0-9]", labels)).toEqual(["bot-1", "BOT-2", "arb-1", "über-1"]);
    expect(labelsMatching("[]x]*", labels)).toEqual(["x[1]"]);
    expect(labelsMatching("(x)", labels)).toEqual(["(x)"]);
    expect(labelsMatching("a\\*b", labels)).toEqual(["a*b"]);
    expect(labelsMatching("x\\[1]", labels)).toEqual(["x[1]"]);
    expect(labelsMatching("Ü*", labels)).toEqual(["über-1"]);
    expect(labelsMatching("*", labels)).toEqual(labels);
    // No braces, extglobs or leading-! negation any more: they are literal text, so they select nothing.
    expect(labelsMatching("{mm,arb}-*", labels)).toEqual([]);
    expect(labelsMatching("!bot-*", labels)).toEqual([]);
    expect(labelsMatching("@(bot-1|mm-a)", labels)).toEqual([]);
  });

  it("answer the hostile extglob in milliseconds (picomatch took seconds on a 22-character label)", () => {
    const keys = [key("a".repeat(22)), key(`${"a".repeat(21)}z`, 1)];
    const started = performance.now();
    const selected = selectKeys(keys, SelectorSchema.parse({ label: HOSTILE }), RISK);
    const ms = performance.now() - started;
    expect(selected).toEqual([]);
    expect(ms).toBeLessThan(50);
  });

  it("answer hostile patterns against 2,000 long labels in milliseconds", () => {
    // Each label is 1,000 characters: the matcher's cost is at most pattern × label steps per key.
    const keys = Array.from({ length: 2000 }, (_, i) => key(`${"a(".repeat(499)}${i % 2 ? "z" : "y"}`, i));
    // [pattern, how many keys it selects]: half the labels end in "z", none holds ")" or "b".
    const patterns: [string, number][] = [
      [HOSTILE, 0],
      ["*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", 0],
      [`${"*?".repeat(63)}z`, 1000],
      ["*[a(]*[a(]*[!z]", 1000],
    ];
    for (const [glob, count] of patterns) {
      expect(glob.length).toBeLessThanOrEqual(MAX_LABEL_GLOB_LENGTH);
      const selector = SelectorSchema.parse({ label: glob });
      const started = performance.now();
      const selected = selectKeys(keys, selector, RISK);
      const ms = performance.now() - started;
      // About 2 M steps at worst (2,000 keys × 1,000 characters, one backtrack point): tens of ms
      // idle; the budget leaves room for a loaded 2-core machine, picomatch needed minutes.
      expect.soft(ms, glob).toBeLessThan(1000);
      expect(selected.length, glob).toBe(count);
    }
  });

  it("refuse a glob over the cap, and a malformed one, naming the field", () => {
    const tooLong = SelectorSchema.safeParse({ label: "*".repeat(MAX_LABEL_GLOB_LENGTH + 1) });
    expect(tooLong.success).toBe(false);
    expect(tooLong.error?.issues[0]?.path).toEqual(["label"]);
    expect(tooLong.error?.issues[0]?.message).toMatch(/at most 128 characters/);
    expect(SelectorSchema.safeParse({ label: "*".repeat(MAX_LABEL_GLOB_LENGTH) }).success).toBe(true);
    for (const [bad, message] of [
      ["bot-[12", /not closed/],
      ["bot-\\", /lone \\/],
      ["[z-a]", /backwards/],
    ] as const) {
      const parsed = SelectorSchema.safeParse({ label: bad });
      expect(parsed.success, bad).toBe(false);
      expect(parsed.error?.issues[0]?.path).toEqual(["label"]);
      expect(parsed.error?.issues[0]?.message).toMatch(message);
    }
  });

  it("refuse an oversized glob even when a caller skips the schema", () => {
    const selector = { ...SelectorSchema.parse({}), label: `${"*(".repeat(200)}z` };
    try {
      selectKeys([key("a")], selector, RISK);
      expect.unreachable("an oversized glob was accepted");
    } catch (error) {
      expect(isKeywardError(error, "CONFIG_INVALID")).toBe(true);
      expect((error as Error).message).toMatch(/^label: .*at most 128/);
    }
  });
});

describe("risk flags", () => {
  it("a dead key flags nothing, though its last facts (withdraw, no IP binding) would, so --risky skips it", () => {
    const wide = {
      ...key("sweeper", 1),
      permissions: ["read", "withdraw"] as KeyRecord["permissions"],
      ip: [],
    };
    expect(risksOf(wide, RISK)).toEqual(expect.arrayContaining(["withdraw", "no-ip"]));
    const dead = { ...wide, id: "okx:desk:bots01:key-2", apiKey: "key-2", state: "dead" as const };
    expect(risksOf(dead, RISK)).toEqual([]);
    const selected = selectKeys([wide, dead], SelectorSchema.parse({ risky: true }), RISK);
    expect(selected.map((k) => k.apiKey)).toEqual(["key-1"]);
  });
});

describe("the disabled state", () => {
  it("a disabled key keeps its flags (it can be enabled again) but is not 'unverified', so --risky still selects it; --state picks keys by state", () => {
    const wide = {
      ...key("sweeper", 1),
      permissions: ["read", "withdraw"] as KeyRecord["permissions"],
      ip: [],
    };
    const off = { ...wide, id: "okx:desk:bots01:key-2", apiKey: "key-2", state: "disabled" as const };
    expect(risksOf(off, RISK)).toEqual(risksOf(wide, RISK));
    expect(risksOf(off, RISK)).not.toContain("unverified");
    const risky = selectKeys([wide, off], SelectorSchema.parse({ risky: true }), RISK);
    expect(risky.map((k) => k.apiKey)).toEqual(["key-1", "key-2"]);
    const disabled = selectKeys([wide, off], SelectorSchema.parse({ state: "disabled" }), RISK);
    expect(disabled.map((k) => k.apiKey)).toEqual(["key-2"]);
    expect(SelectorSchema.safeParse({ state: "asleep" }).success).toBe(false);
  });
});
