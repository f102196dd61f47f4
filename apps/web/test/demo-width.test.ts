/**
 * `npm run demo` (apps/web's `demo` script, the built dist/server/demo.js) prints its instructions in lines
 * of at most 120 columns, and its commands as one line each (the CLI demo's commands are run verbatim by
 * apps/cli/test/demo-commands.test.ts). No browser: the printed text only.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

describe("npm run demo's printed text", () => {
  it("no line is over 120 columns; the export line is whole", async ({ onTestFinished }) => {
    const script = fileURLToPath(new URL("../dist/server/demo.js", import.meta.url));
    const child = spawn(process.execPath, [script], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      env: { ...process.env, KEYWARD_WEB_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
    onTestFinished(async () => {
      // Ctrl-C: the demo stops its server and simulator and deletes its throwaway home and leaked folder.
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
      await exited;
    });
    let out = "";
    const printed = await new Promise<string>((resolve, reject) => {
      const add = (c: Buffer) => {
        out += c.toString("utf8");
        if (out.includes("Press Ctrl-C to stop")) resolve(out);
      };
      child.stdout.on("data", add);
      child.stderr.on("data", add);
      child.on("close", (code) => reject(new Error(`the demo ended (exit ${code}):\n${out}`)));
    });
    for (const line of printed.split("\n")) expect(line.length, line).toBeLessThanOrEqual(120);
    expect(printed).toMatch(/^ {2}export KEYWARD_HOME=\S+ KEYWARD_PASSPHRASE=\S+$/m);
    expect(printed).toMatch(/^ {2}http:\/\/127\.0\.0\.1:\d+\/login\?token=\S+$/m);
  });
});
