/** The json target through the shared delivery-target suite (testTarget); its own cases are in rotation-targets.test.ts. */
import { join } from "node:path";
import { jsonTarget, readJson } from "../src/index.js";
import { testTarget } from "../src/testing/index.js";

testTarget(jsonTarget, {
  good: (folder) => [
    {
      text: "json:config.json#/keys/{label}",
      parsed: { kind: "json", path: join(folder, "config.json"), pointer: "/keys/bot-1" },
    },
    { text: "json:/srv/{account}.json#", parsed: { kind: "json", path: "/srv/desk.json", pointer: "" } },
  ],
  bad: [
    { text: "json:cfg.json", field: "pointer" },
    { text: "json:cfg.json#exchange", field: "pointer" },
    { text: "json:cfg.json#/a~2", field: "pointer" },
    { text: "json:#/exchange", field: "path" },
  ],
  clash: { shared: "json:/srv/c.json#/exchange", perKey: "json:/srv/c.json#/keys/{label}" },
  at: (path) => `json:${path}#/exchange`,
  readBack: (target) => readJson(target),
});
