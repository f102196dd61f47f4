/** The exec target through the shared delivery-target suite (testTarget); its own cases are in rotation-targets.test.ts. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execTarget } from "../src/index.js";
import { testTarget } from "../src/testing/index.js";

testTarget(execTarget, {
  good: (folder) => [
    {
      text: `exec:cat > ${folder}/{label}.json`,
      parsed: { kind: "exec", command: `cat > ${folder}/bot-1.json` },
    },
    { text: "exec:  reload-bot {sub} ", parsed: { kind: "exec", command: "reload-bot bots01" } },
  ],
  bad: [
    { text: "exec:", field: "command" },
    { text: "exec:   ", field: "command" },
  ],
  // A command decides where the credentials go: two keys never clash on it.
  clash: null,
  readBack: async (_, folder) => {
    const doc = JSON.parse(readFileSync(join(folder, "bot-1.json"), "utf8"));
    return { apiKey: doc.apiKey, secret: doc.secret, passphrase: doc.passphrase };
  },
});
