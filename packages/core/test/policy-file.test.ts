/**
 * Reading the policy file (`loadPolicy`): a symlink is refused, a normal private file loads, one another
 * user may write is refused; and the check and the read are of the same file: a swap of the file for a
 * symlink after the check (simulated: the check is shown the file that was there before the swap)
 * cannot make Keyward read another policy.
 */
import { chmodSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";

// The race, made deterministic: lstatSync of a path in `swapped` answers for the file that was there
// when it was checked (the real, private policy), as if it was swapped for a symlink right after.
const swapped = vi.hoisted(() => new Map<string, string>());
vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  const lstatSync = ((path: string, ...rest: unknown[]) =>
    (real.lstatSync as (...a: unknown[]) => unknown)(
      swapped.get(String(path)) ?? path,
      ...rest,
    )) as typeof real.lstatSync;
  return { ...real, lstatSync, default: { ...real, lstatSync } };
});

const { loadPolicy } = await import("../src/index.js");

const CONTEXT = { maxKeyAgeDays: 90, accounts: ["desk-alpha"] };
const dir = mkdtempSync(join(tmpdir(), "keyward-policy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STRICT = { maxKeyAgeDays: 30 };
const LAX = { maxKeyAgeDays: 3650 };

function file(name: string, body: unknown, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, `${JSON.stringify(body)}\n`, { mode });
  chmodSync(path, mode);
  return path;
}

describe.skipIf(process.platform === "win32")("loadPolicy: the file", () => {
  it("a normal private file loads", () => {
    const policy = loadPolicy(file("ok.json", STRICT), CONTEXT, { required: true });
    expect(policy.maxKeyAgeDays).toBe(30);
  });

  it("a symlink is refused (HOME_INSECURE), even to a private file", () => {
    const target = file("target.json", STRICT);
    const link = join(dir, "link.json");
    symlinkSync(target, link);
    expect(() => loadPolicy(link, CONTEXT, { required: true })).toThrow(
      expect.objectContaining({
        code: "HOME_INSECURE",
        message: `${link} is a symlink; the policy must be the file itself`,
      }),
    );
  });

  it("a file its group may write is refused; a missing one is the defaults or an error when required", () => {
    expect(() => loadPolicy(file("group.json", STRICT, 0o620), CONTEXT, { required: true })).toThrow(
      expect.objectContaining({
        code: "HOME_INSECURE",
        message: expect.stringMatching(/writable by its group/),
      }),
    );
    const missing = join(dir, "missing.json");
    expect(loadPolicy(missing, CONTEXT, { required: false }).maxKeyAgeDays).toBe(90);
    expect(() => loadPolicy(missing, CONTEXT, { required: true })).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID" }),
    );
  });

  it("swapped for a symlink after its check, the file read is never another policy", () => {
    const path = file("policy.json", STRICT);
    // What the check saw: the private file itself. What is there when it is read: a symlink to a lax policy.
    const checked = join(dir, "policy.checked.json");
    renameSync(path, checked);
    symlinkSync(file("lax.json", LAX), path);
    swapped.set(path, checked);
    let loaded: number | undefined;
    try {
      loaded = loadPolicy(path, CONTEXT, { required: true }).maxKeyAgeDays;
    } catch (error) {
      expect(error).toEqual(expect.objectContaining({ code: "HOME_INSECURE" }));
    }
    expect(loaded, "the lax policy behind the swapped-in symlink was read").toBeUndefined();
  });
});
