/**
 * Where the server may listen. Loopback only by default; any other address needs an explicit
 * `allowRemote` AND TLS (a session cookie must never cross a network in clear text). Wildcard addresses
 * are refused: the Host header is checked against the bound host (DNS-rebinding defence), so the
 * server must be bound to the name or address browsers will use.
 *
 * Addresses are normalised before any rule: the operating system's resolver accepts `0`, `0x0`,
 * `0.0.0.00`, `::0`, `::ffff:0.0.0.0` and more as the unspecified address, so a list of spellings
 * cannot be complete. The WHATWG URL parser (the same rules browsers apply to Host) turns every
 * spelling of an IP address into one canonical form, and net.BlockList classifies it (IPv4-mapped IPv6
 * addresses included). A host name that resolves to a wildcard is caught after binding (server.ts).
 */
import { BlockList, isIP } from "node:net";
import { isLoopbackHost, KeywardError } from "@keyward/core";

export interface ListenOptions {
  host: string;
  port: number;
  allowRemote: boolean;
  tls: boolean;
}

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 7420;

/** 0.0.0.0/8 ("this network", which the kernel may treat as any address) and ::, mapped forms included. */
const UNSPECIFIED = new BlockList();
UNSPECIFIED.addSubnet("0.0.0.0", 8, "ipv4");
UNSPECIFIED.addAddress("::", "ipv6");

/**
 * The canonical form of a host: an IP address in any spelling becomes its one textual form (IPv6
 * without brackets, e.g. "::", "::ffff:0:0"; IPv4 dotted, e.g. "0" → "0.0.0.0", "127.1" → "127.0.0.1");
 * a name is lower-cased without a trailing dot. Undefined when it is neither.
 */
export function normalizeHost(host: string): string | undefined {
  const bare = host.replace(/^\[|\]$/g, "");
  if (bare === "" || bare.includes("%")) return undefined;
  try {
    const { hostname } = new URL(`http://${bare.includes(":") ? `[${bare}]` : bare}/`);
    const h = hostname.replace(/^\[|\]$/g, "");
    return isIP(h) === 0 ? h.replace(/\.$/, "") : h;
  } catch {
    return undefined;
  }
}

const family = (ip: string) => (isIP(ip) === 6 ? "ipv6" : "ipv4");

/** True for every spelling of 0.0.0.0 (and 0.0.0.0/8) and ::, IPv4-mapped forms included. */
export function isUnspecified(host: string): boolean {
  const h = normalizeHost(host);
  return h !== undefined && isIP(h) !== 0 && UNSPECIFIED.check(h, family(h));
}

/** localhost, 127.0.0.0/8 or ::1 in any spelling: the same rule as account endpoints (core's isLoopbackHost). */
export function isLoopback(host: string): boolean {
  const h = normalizeHost(host);
  return h !== undefined && isLoopbackHost(h);
}

/**
 * Throws CONFIG_INVALID (the CLI's exit 2) with what to do, before anything is opened or bound.
 * Returns the host in its canonical form (normalizeHost): the one to bind to and to expect in Host.
 */
export function checkListen(options: ListenOptions): string {
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
  const normal = host === "*" ? "0.0.0.0" : normalizeHost(host);
  if (normal === undefined) {
    throw new KeywardError("CONFIG_INVALID", `--host: "${host}" is not an address or host name`, {
      hint: "Use 127.0.0.1 (the default), ::1, localhost, or with --allow-remote a host name or address.",
    });
  }
  if (isUnspecified(normal)) {
    throw new KeywardError(
      "CONFIG_INVALID",
      `--host: refusing to listen on every interface (${host} is the unspecified address ${normal})`,
      {
        hint: "Name the one address or host name browsers will use: requests for any other Host are refused (DNS-rebinding defence).",
      },
    );
  }
  if (isLoopback(normal)) return normal;
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
  return normal;
}

/** How the host appears in URLs and Host headers (IPv6 in brackets). */
export const urlHost = (host: string): string => {
  const bare = host.replace(/^\[|\]$/g, "");
  return isIP(bare) === 6 ? `[${bare}]` : bare;
};
