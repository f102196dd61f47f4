/**
 * IP whitelist matching (IPv4, IPv6 and CIDR) against the caller's socket address, with Node's own
 * BlockList doing the address arithmetic.
 */
import { BlockList, isIP } from "node:net";

/** `::ffff:127.0.0.1` (an IPv4 client on a dual-stack socket) is the IPv4 address 127.0.0.1. */
export function normaliseAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

export function ipAllowed(whitelist: readonly string[], remoteAddress: string): boolean {
  if (whitelist.length === 0) return true;
  const address = normaliseAddress(remoteAddress);
  const family = isIP(address);
  if (family === 0) return false;
  const list = new BlockList();
  for (const entry of whitelist) {
    const [net, prefix] = entry.split("/");
    if (net === undefined) continue;
    const entryFamily = isIP(net);
    if (entryFamily === 0) continue;
    const type = entryFamily === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) list.addAddress(net, type);
    else list.addSubnet(net, Number(prefix), type);
  }
  return list.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** An IPv4/IPv6 address or a CIDR range of one, as exchanges accept in whitelists. */
export function isIpOrCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split("/");
  if (rest.length > 0 || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
