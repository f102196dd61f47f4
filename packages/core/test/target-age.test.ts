/**
 * The age target through the shared delivery-target suite (testTarget): read back with the identity
 * whose recipient the delivery was given. Its own cases are in rotation-targets.test.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Decrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
import { ageTarget } from "../src/index.js";
import { testTarget } from "../src/testing/index.js";

let identity: string | undefined;

testTarget(ageTarget, {
  good: (folder) => [
    {
      text: "age:drop",
      parsed: { kind: "age", dir: join(folder, "drop"), file: join(folder, "drop", "desk.bots01.bot-1.age") },
    },
    {
      text: "age:/secure/{account}",
      parsed: { kind: "age", dir: "/secure/desk", file: "/secure/desk/desk.bots01.bot-1.age" },
    },
  ],
  bad: [
    { text: "age:", field: "dir" },
    { text: "age:/srv/{label}/../..", field: "dir" },
  ],
  // One file per account, sub-account and label: two keys with the same label clash in one folder.
  clash: { shared: "age:/drop", perKey: "age:/drop/{slot}", other: { slot: 2 } },
  at: (path) => `age:${path}`,
  options: async () => {
    identity = await generateX25519Identity();
    return { recipient: await identityToRecipient(identity) };
  },
  readBack: async (target) => {
    const d = new Decrypter();
    d.addIdentity(identity ?? "");
    const doc = JSON.parse(await d.decrypt(readFileSync(target.file), "text"));
    return { apiKey: doc.apiKey, secret: doc.secret, passphrase: doc.passphrase };
  },
});
