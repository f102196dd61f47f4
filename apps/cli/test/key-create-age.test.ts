/**
 * `keyward key create … --deliver age:DIR --recipient age1…`: the target kinds' own options come to
 * `key create` from the same list as `rotate plan`'s. Without a recipient the age target is refused
 * (exit 2, nothing created); with one, the new key's credentials arrive encrypted to it (decrypted here
 * with the identity, as core's target-age test does) and the key authenticates with them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Decrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
import { afterAll, describe, expect, it } from "vitest";
import { OKX_ACCOUNT, removeTempDirs, show } from "./helpers.js";
import { okxProbe, rotationDesk } from "./rotate-helpers.js";

afterAll(() => removeTempDirs());

describe("key create into an age target", () => {
  it("takes --recipient as rotate plan does, and the file decrypts to the new key's working credentials", {
    timeout: 90_000,
  }, async (context) => {
    const { sim, home, dir } = await rotationDesk(context, 1);
    const args = [
      "key",
      "create",
      OKX_ACCOUNT,
      "--sub",
      "rotbots01",
      "--label",
      "mm-age-1",
      "--perm",
      "read",
    ];

    const refused = await home.run([...args, "--deliver", `age:${dir}`]);
    expect(refused.code, show(refused)).toBe(2);
    expect(refused.stderr).toMatch(/recipient/);
    expect(readdirSync(dir)).toEqual([]);

    const help = await home.run(["key", "create", "--help"]);
    expect(help.stdout).toMatch(/--recipient <age-public-key>/);
    expect(help.stdout).toMatch(/^ {2}age:DIR/m);

    const identity = await generateX25519Identity();
    const r = await home.run(
      [...args, "--deliver", `age:${dir}`, "--recipient", await identityToRecipient(identity), "--json"],
      { timeoutMs: 60_000 },
    );
    expect(r.code, show(r)).toBe(0);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/mm-age-1\.age$/);
    const d = new Decrypter();
    d.addIdentity(identity);
    const doc = JSON.parse(await d.decrypt(readFileSync(join(dir, files[0] ?? "")), "text")) as {
      apiKey: string;
      secret: string;
      passphrase: string;
    };
    expect(JSON.parse(r.stdout).keyId).toContain(doc.apiKey);
    expect((await okxProbe(sim.okx, doc)).code).toBe("0");
    expect(r.stdout + r.stderr).not.toContain(doc.secret);
  });
});
