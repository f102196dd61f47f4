/**
 * `exec:CMD`: runs CMD through `/bin/sh -c` with the credentials document (payload.ts) as JSON on its
 * stdin. Exit 0 is success; anything else (a non-zero exit, a signal, the time limit) fails the delivery.
 * Secrets are never put in the command line or the environment: the environment is the caller's (less
 * KEYWARD_PASSPHRASE, stripped by the engine) plus identifiers only (KEYWARD_KEY_ID, …). The command's
 * output is not shown; on failure its last lines of stderr are, with any secret of the payload redacted.
 * It runs a program on this machine, so the web server refuses it (`webAllowed: false`): a browser
 * session must not be able to do that.
 */
import { spawn } from "node:child_process";
import { z } from "zod";
import { secretsOf } from "../../domain/credentials.js";
import { redact } from "../../domain/secret.js";
import { KeywardError } from "../../errors.js";
import { type DeliveryContext, type DeliveryPayload, payloadJson } from "./payload.js";
import { expand, forPath } from "./placeholders.js";
import type { DeliveryTarget } from "./target.js";

const ExecSchema = z.strictObject({ kind: z.literal("exec"), command: z.string().min(1) });
export type ExecTarget = z.infer<typeof ExecSchema>;

export interface ShellResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The last ~2 KB of stderr. */
  stderrTail: string;
}

/** Runs a shell command with optional stdin; never throws for the command's own failure. */
export function runShell(
  command: string,
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], {
      stdio: ["pipe", "ignore", "pipe"],
      env: options.env ?? process.env,
    });
    let tail = "";
    let timedOut = false;
    child.stderr.on("data", (chunk: Buffer) => {
      tail = (tail + chunk.toString("utf8")).slice(-2048);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stderrTail: tail.trim() });
    });
    // A command that does not read its stdin closes the pipe early: that is its business.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

export function describeShellFailure(result: ShellResult): string {
  if (result.timedOut) return "did not finish in time (killed)";
  if (result.signal) return `was killed by ${result.signal}`;
  return `exited ${result.code}`;
}

async function deliverExec(
  target: ExecTarget,
  payload: DeliveryPayload,
  options: DeliveryContext,
): Promise<string> {
  const result = await runShell(target.command, {
    input: `${payloadJson(payload)}\n`,
    timeoutMs: options.timeoutMs ?? 60_000,
    env: {
      ...(options.env ?? process.env),
      KEYWARD_KEY_ID: payload.keyId,
      KEYWARD_ROTATION_ID: payload.rotationId,
      KEYWARD_SLOT: String(payload.slot),
    },
  });
  if (result.code === 0) return `exec: ${target.command} exited 0`;
  const stderr = redact(result.stderrTail, secretsOf(payload.credentials));
  throw new KeywardError(
    "DELIVERY_FAILED",
    `exec: \`${target.command}\` ${describeShellFailure(result)}${stderr ? `: ${stderr.split("\n").slice(-3).join(" | ")}` : ""}`,
    {
      hint: "The command must read the credentials JSON from stdin and exit 0 once they are in place; fix it and run `keyward rotate resume`.",
    },
  );
}

const describe = (target: ExecTarget): string => `exec:${target.command}`;

export const execTarget = {
  kind: "exec",
  schema: ExecSchema,
  usage: {
    form: "exec:CMD",
    text: "runs CMD with sh; the credentials arrive as JSON on its stdin; non-zero fails",
  },
  example: "exec:/usr/local/bin/install-bot-key",
  webAllowed: false,
  options: [],
  parse(spec, ctx) {
    const command = expand(spec, ctx.vars, forPath).trim();
    if (!command) ctx.fail("command", "the command is missing");
    return { kind: "exec", command };
  },
  describe,
  // A command decides for itself where the credentials go: two keys never clash on it.
  clashKey: () => undefined,
  place: () => undefined,
  deliver: deliverExec,
} satisfies DeliveryTarget<ExecTarget, never>;
