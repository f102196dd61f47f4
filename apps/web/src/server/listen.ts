/**
 * Where the server may listen. Loopback only by default; any other address needs an explicit
 * `allowRemote` AND TLS (a session cookie must never cross a network in clear text). Wildcard addresses
 * are refused: the Host header is checked against the bound host (DNS-rebinding defence), so the
 * server must be bound to the name or address browsers will use.
 */
import { isIP } from "node:net";
import { KeywardError } from "@keyward/core";

export interface ListenOptions {
  host: string;
  port: number;
  allowRemote: boolean;
  tls: boolean;
}

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 7420;

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

const WILDCARDS = new Set(["0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", "*"]);

/** Throws CONFIG_INVALID (the CLI's exit 2) with what to do, before anything is opened or bound. */
export function checkListen(options: ListenOptions): void {
  const { host, port, allowRemote, tls } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new KeywardError("CONFIG_INVALID", `--port: ${port} is not a port number`, {
      hint: "Use a number from 1 to 65535, or 0 for any free port.",
    });
  }
  if (!/^(\[?[0-9a-fA-F:.]+\]?|[A-Za-z0-9]([A-Za-z0-9.-]{0,252}))$/.test(host)) {
    throw new KeywardError("CONFIG_INVALID", `--host: "${host}" is not an address or host name`, {
      hint: "Use 127.0.0.1 (the default), ::1, localhost, or with --allow-remote a host name or address.",
    });
  }
  if (WILDCARDS.has(host)) {
    throw new KeywardError("CONFIG_INVALID", `--host: refusing to listen on every interface (${host})`, {
      hint: "Name the one address or host name browsers will use: requests for any other Host are refused (DNS-rebinding defence).",
    });
  }
  if (isLoopback(host)) return;
  if (!allowRemote) {
    throw new KeywardError("CONFIG_INVALID", `--host: ${host} is not a loopback address`, {
      hint: "keyward web listens on this machine only unless you pass --allow-remote with --tls-cert and --tls-key. Anyone who reaches the page can revoke every key.",
    });
  }
  if (!tls) {
    throw new KeywardError(
      "CONFIG_INVALID",
      `--allow-remote needs TLS: refusing to serve ${host} over plain HTTP`,
      {
        hint: "Pass --tls-cert FILE and --tls-key FILE (PEM), so the session cookie never crosses the network in clear text.",
      },
    );
  }
}

/** How the host appears in URLs and Host headers (IPv6 in brackets). */
export const urlHost = (host: string): string => {
  const bare = host.replace(/^\[|\]$/g, "");
  return isIP(bare) === 6 ? `[${bare}]` : bare;
};
