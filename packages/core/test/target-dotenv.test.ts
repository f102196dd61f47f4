/** The dotenv target through the shared delivery-target suite (testTarget); its own cases are in rotation-targets.test.ts. */
import { join } from "node:path";
import { dotenvTarget, readDotenv } from "../src/index.js";
import { testTarget } from "../src/testing/index.js";

testTarget(dotenvTarget, {
  good: (folder) => [
    {
      text: "dotenv:bot.env#{label}",
      parsed: { kind: "dotenv", path: join(folder, "bot.env"), prefix: "BOT_1" },
    },
    { text: "dotenv:/srv/{sub}/.env", parsed: { kind: "dotenv", path: "/srv/bots01/.env", prefix: null } },
  ],
  bad: [
    { text: "dotenv:", field: "path" },
    { text: "dotenv:.env#1BAD", field: "prefix" },
    { text: "dotenv:/srv/bots/{label}/../../.env", field: "path" },
  ],
  clash: { shared: "dotenv:/srv/bots/.env", perKey: "dotenv:/srv/bots/.env#{label}" },
  at: (path) => `dotenv:${path}#BOT`,
  readBack: (target) => readDotenv(target),
});
