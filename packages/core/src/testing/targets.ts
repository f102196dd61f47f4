/**
 * The delivery-target suite: one set of cases every target driver runs (as testAdapter is for exchange
 * adapters), with real files and real commands in a fresh folder per case. It checks the driver through
 * the public functions that iterate over the list (parseTarget, describeTarget, clashKey, deliver), so a
 * driver that is not in DELIVERY_TARGETS fails it: parsing good and bad values (errors name the field),
 * the plan format, descriptions, clash keys, delivering and reading back, no secret in any text the
 * driver produces, and, for a target that writes a file, refusing Keyward's home and folders other users
 * can write (place.ts).
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Secret } from "../domain/secret.js";
import { isKeywardError, type KeywardError } from "../errors.js";
import {
  clashKey,
  DELIVERY_TARGETS,
  deliver,
  describeTarget,
  parseTarget,
  TARGET_HINT,
  type Target,
  TargetParseError,
  TargetSchema,
  targetDriver,
  targetPlace,
} from "../rotation/targets/index.js";
import type { DeliveryPayload } from "../rotation/targets/payload.js";
import type { DeliveryTarget, ParsedTarget, TargetVars } from "../rotation/targets/target.js";

export const TARGET_CASES = [
  "is in the list, with its form in the help and hints",
  "parses good values into what the plan file stores",
  "refuses bad values with an error naming the field",
  "describes a target by its kind and where it writes",
  "clash keys: one place clashes, a placeholder per key does not",
  "delivers the credentials, which read back whole",
  "no secret in usage, descriptions, evidence or errors",
  "refuses to write into Keyward's home",
  "refuses a folder every user can write to",
] as const;
export type TargetCase = (typeof TARGET_CASES)[number];

/** The credentials as the target holds them after a delivery. */
export interface ReadBack {
  apiKey?: string;
  secret?: string;
  passphrase?: string;
}

export interface TargetHarness<T extends ParsedTarget> {
  /**
   * Values that parse (text with `KIND:`, relative paths against `folder`, the placeholders those of
   * TARGET_TEST_VARS) and exactly what each must parse to. The first is delivered to.
   */
  good(folder: string): { text: string; parsed: Record<string, unknown> }[];
  /** Values that must not parse, and the field (TargetParseError.field) their error must name. */
  bad: { text: string; field: string }[];
  /**
   * Clash keys, for the suite's key and another (`other`: its placeholders that differ, by default
   * `{label: "bot-2", slot: 2}`): `shared` names one place for both (so they clash), `perKey` a place
   * each (a placeholder). Null for a kind whose targets never clash (a command).
   */
  clash: { shared: string; perKey: string; other?: Partial<TargetVars> } | null;
  /** A value writing at `path` (or, for a kind that writes into a folder, into `path`). Files only. */
  at?(path: string): string;
  /** Option values deliveries need (e.g. a recipient); called once per case. */
  options?(): Promise<Record<string, string>>;
  /** What the target holds after a delivery (a file read back, what a command received). */
  readBack(target: T, folder: string): Promise<ReadBack>;
  skips?: Partial<Record<TargetCase, string>>;
}

/** The key the suite's targets are parsed for. */
export const TARGET_TEST_VARS: TargetVars = {
  account: "desk",
  sub: "bots01",
  label: "bot-1",
  exchange: "test",
  slot: 1,
};

const SECRET = "CANARY-suite-secret-5d1e9a";
const PASSPHRASE = "CANARY-suite-pass-8c2f70";

const payload = (): DeliveryPayload => ({
  credentials: {
    apiKey: "suite-api-key-0001",
    secret: new Secret(SECRET),
    passphrase: new Secret(PASSPHRASE),
  },
  keyId: "test:desk:bots01:suite-api-key-0001",
  exchange: "test",
  account: "desk",
  subAccount: "bots01",
  label: "bot-1-rot-abc123-1",
  rotationId: "rot-abc123",
  slot: 1,
  replacesKeyId: "test:desk:bots01:old",
});

async function errorOf(fn: () => unknown): Promise<KeywardError> {
  try {
    await fn();
  } catch (error) {
    if (isKeywardError(error)) return error;
    throw error;
  }
  throw new Error("expected a KeywardError");
}

export function testTarget<T extends ParsedTarget>(
  driver: DeliveryTarget<T, string>,
  harness: TargetHarness<NoInfer<T>>,
): void {
  describe(`${driver.kind} delivery target`, () => {
    let folder: string;
    let home: string;
    beforeEach(() => {
      folder = mkdtempSync(join(tmpdir(), `keyward-target-${driver.kind}-`));
      home = mkdtempSync(join(tmpdir(), `keyward-target-home-`));
      writeFileSync(join(home, "vault.age"), "age-encryption.org/v1\n-> scrypt vault bytes\n", {
        mode: 0o600,
      });
    });
    afterEach(() => {
      chmodSync(folder, 0o700);
      rmSync(folder, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    });
    const parse = (text: string, vars: Partial<TargetVars> = {}) =>
      parseTarget(text, { ...TARGET_TEST_VARS, ...vars }, folder) as Target & T;
    const options = async () => (harness.options ? await harness.options() : {});
    const caseFn = (name: TargetCase, fn: () => Promise<void>) => {
      const skip = harness.skips?.[name];
      if (skip) it.skip(`${name} — skipped: ${skip}`, () => {});
      else it(name, fn);
    };

    caseFn("is in the list, with its form in the help and hints", async () => {
      expect(targetDriver(driver.kind)).toBe(driver);
      expect(DELIVERY_TARGETS.filter((d) => d.kind === driver.kind)).toHaveLength(1);
      expect(driver.usage.form.startsWith(`${driver.kind}:`)).toBe(true);
      expect(TARGET_HINT).toContain(driver.usage.form);
      expect(typeof driver.webAllowed).toBe("boolean");
      expect(parse(driver.example).kind).toBe(driver.kind);
      for (const option of driver.options) {
        expect(option.flag.startsWith("--")).toBe(true);
        // Not given: refused, naming the option's flag.
        const e = await errorOf(() => option.check(undefined));
        expect(e.code).toBe("CONFIG_INVALID");
        expect(e.message).toContain(option.flag.split(" ")[0]);
      }
    });

    caseFn("parses good values into what the plan file stores", async () => {
      const good = harness.good(folder);
      expect(good.length).toBeGreaterThan(0);
      for (const { text, parsed } of good) {
        const target = parse(text);
        expect(target, text).toEqual(parsed);
        // What plans and the journal store, and read back: the same, and nothing more is accepted.
        expect(TargetSchema.parse(JSON.parse(JSON.stringify(target)))).toEqual(target);
        expect(driver.schema.safeParse({ ...target, extra: 1 }).success).toBe(false);
      }
    });

    caseFn("refuses bad values with an error naming the field", async () => {
      expect(harness.bad.length).toBeGreaterThan(0);
      for (const { text, field } of harness.bad) {
        const e = await errorOf(() => parse(text));
        expect(e, text).toBeInstanceOf(TargetParseError);
        expect(e.code).toBe("CONFIG_INVALID");
        expect((e as TargetParseError).field, text).toBe(field);
        expect(e.message).toContain(JSON.stringify(text));
        expect(e.hint).toBe(TARGET_HINT);
      }
    });

    caseFn("describes a target by its kind and where it writes", async () => {
      for (const { text } of harness.good(folder)) {
        const target = parse(text);
        const description = describeTarget(target);
        expect(description.startsWith(`${driver.kind}:`)).toBe(true);
        expect(describeTarget(parse(text))).toBe(description);
        const place = targetPlace(target);
        if (place) expect(description).toContain(place.path);
      }
    });

    caseFn("clash keys: one place clashes, a placeholder per key does not", async () => {
      if (harness.clash === null) {
        for (const { text } of harness.good(folder)) expect(clashKey(parse(text))).toBeUndefined();
        return;
      }
      const { shared, perKey, other = { label: "bot-2", slot: 2 } } = harness.clash;
      expect(clashKey(parse(shared))).toBeDefined();
      expect(clashKey(parse(shared))).toBe(clashKey(parse(shared, other)));
      expect(clashKey(parse(perKey))).not.toBe(clashKey(parse(perKey, other)));
    });

    caseFn("delivers the credentials, which read back whole", async () => {
      const first = harness.good(folder)[0];
      if (!first) throw new Error("the harness has no good value");
      const target = parse(first.text);
      const evidence = await deliver(target, payload(), { home, ...(await options()) });
      expect(typeof evidence).toBe("string");
      expect(await harness.readBack(target, folder)).toEqual({
        apiKey: "suite-api-key-0001",
        secret: SECRET,
        passphrase: PASSPHRASE,
      });
      // Again (a resumed rotation delivers once more): the same result, no temp file left behind.
      await deliver(target, payload(), { home, ...(await options()) });
      expect((await harness.readBack(target, folder)).secret).toBe(SECRET);
      expect(readdirSync(folder, { recursive: true }).filter((f) => String(f).endsWith(".tmp"))).toEqual([]);
    });

    caseFn("no secret in usage, descriptions, evidence or errors", async () => {
      const texts: string[] = [driver.usage.form, driver.usage.text, driver.example];
      for (const option of driver.options) texts.push(option.flag, option.help, option.label);
      const first = harness.good(folder)[0];
      if (!first) throw new Error("the harness has no good value");
      const target = parse(first.text);
      texts.push(describeTarget(target), JSON.stringify(target));
      texts.push(await deliver(target, payload(), { home, ...(await options()) }));
      for (const { text } of harness.bad) texts.push((await errorOf(() => parse(text))).message);
      if (harness.at) {
        // A delivery that fails (into Keyward's home) says so without the secret.
        const e = await errorOf(async () =>
          deliver(parse(harness.at?.(join(home, "new")) ?? ""), payload(), {
            home,
            ...(await options()),
          }),
        );
        texts.push(e.message, e.hint ?? "");
      }
      for (const text of texts) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain(PASSPHRASE);
      }
    });

    const fileCase = (name: TargetCase, fn: (at: (path: string) => string) => Promise<void>) =>
      caseFn(name, async () => {
        const first = harness.good(folder)[0];
        const writesFile = first !== undefined && targetPlace(parse(first.text)) !== undefined;
        expect(harness.at !== undefined, "`at` is required exactly for a target that writes files").toBe(
          writesFile,
        );
        if (harness.at) await fn(harness.at);
      });

    fileCase("refuses to write into Keyward's home", async (at) => {
      const before = readFileSync(join(home, "vault.age"), "utf8");
      for (const path of [home, join(home, "new")]) {
        const e = await errorOf(async () =>
          deliver(parse(at(path)), payload(), { home, ...(await options()) }),
        );
        expect(e.code, path).toBe("DELIVERY_FAILED");
        expect(e.message, path).toMatch(/Keyward's home/);
      }
      expect(readFileSync(join(home, "vault.age"), "utf8")).toBe(before);
      expect(readdirSync(home)).toEqual(["vault.age"]);
    });

    fileCase("refuses a folder every user can write to", async (at) => {
      const open = join(folder, "open");
      mkdirSync(open);
      chmodSync(open, 0o777);
      const e = await errorOf(async () =>
        deliver(parse(at(join(open, "bot"))), payload(), { home, ...(await options()) }),
      );
      expect(e.code).toBe("DELIVERY_FAILED");
      expect(e.message).toMatch(/can write to/);
      expect(readdirSync(open)).toEqual([]);
    });
  });
}
