/**
 * `keyward web`: serves the web app (@keyward/web) over the home until Ctrl-C. Where it may listen is
 * checked first (nothing is opened for a refused bind); then the vault is opened, asking for the
 * passphrase now if KEYWARD_PASSPHRASE is not set, and the one-time login URL is printed.
 */
import { readFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { KeywardHome } from "@keyward/core";
import { homeDir, passphraseProvider } from "../context.js";
import { EXIT, type ExitCode, usageError } from "../exit.js";
import { out } from "../output.js";
import type { GlobalOptions } from "../program.js";

interface WebOptions {
  port: string;
  host: string;
  allowRemote?: boolean;
  tlsCert?: string;
  tlsKey?: string;
}

const actor = (): string => {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers).
  }
  return `web:${user}@${hostname()}`;
};

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw usageError(
      `${flag}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      "Give a PEM file.",
    );
  }
}

export async function web(globals: GlobalOptions, opts: WebOptions): Promise<ExitCode> {
  if (!/^\d{1,5}$/.test(opts.port))
    throw usageError(`--port: "${opts.port}" is not a port number`, "Use 1-65535, or 0 for any free port.");
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) {
    throw usageError("--tls-cert and --tls-key go together", "Give both PEM files, or neither.");
  }
  const { checkListen, startWebServer } = await import("@keyward/web");
  const tls =
    opts.tlsCert && opts.tlsKey
      ? { cert: readPem(opts.tlsCert, "--tls-cert"), key: readPem(opts.tlsKey, "--tls-key") }
      : undefined;
  const listen = {
    host: opts.host,
    port: Number(opts.port),
    allowRemote: Boolean(opts.allowRemote),
    tls: tls !== undefined,
  };
  checkListen(listen);

  const passphrase = passphraseProvider();
  const home = KeywardHome.open(homeDir(globals), { passphrase, actor: actor() });
  try {
    const server = await startWebServer({
      home,
      host: listen.host,
      port: listen.port,
      allowRemote: listen.allowRemote,
      ...(tls ? { tls } : {}),
      print: out,
      extraSecrets: [await passphrase()],
    });
    out("Press Ctrl-C to stop.");
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    out("Stopping: waiting for running revokes to stop…");
    await server.close();
    return EXIT.OK;
  } finally {
    await home.close();
  }
}
