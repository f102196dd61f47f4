/**
 * Which account endpoints Keyward may send signed requests to. A request to the endpoint carries the
 * API key and its signature (and the passphrase, where the exchange has one) in its headers: over plain http anyone on the
 * path reads them. So endpoints are https, except loopback addresses, where the local simulator (and
 * a local TLS-terminating proxy) listen and no network is crossed.
 */
import { BlockList, isIP } from "node:net";

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/**
 * True for `localhost`, 127.0.0.0/8 and ::1 (also as an IPv4-mapped ::ffff:127.x.y.z). The host is
 * the WHATWG URL parser's: it has already turned `0x7f.1` or `2130706433` into `127.0.0.1` and
 * `[0:0::1]` into `[::1]`, so nothing here pattern-matches text.
 */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === "localhost") return true;
  const address = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  const family = isIP(address);
  if (family === 4) return LOOPBACK.check(address, "ipv4");
  if (family === 6) return LOOPBACK.check(address, "ipv6");
  return false;
}

/** What is wrong with an endpoint URL, or undefined if Keyward may use it. */
export function endpointProblem(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "not a URL";
  }
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:") {
    return isLoopbackHost(url.hostname)
      ? undefined
      : `must be https: (plain http is allowed only to localhost, 127.0.0.0/8 or [::1]; "${url.hostname}" is not one)`;
  }
  return `must be an https: URL, not ${url.protocol}`;
}
