/**
 * `keyward scan --verify`: each unknown key found with its secret is probed by its exchange's adapter
 * (use-cases/scan-leaks.ts says what this sends where, and why it is off by default).
 */

import type { AdapterOptions, ExchangeAdapter } from "../adapters/interface.js";
import { exchangeProfile, loadAdapterFactory, needsPassphrase } from "../adapters/registry.js";
import type { Credentials } from "../domain/credentials.js";
import type { Account } from "../domain/schemas.js";
import { Secret } from "../domain/secret.js";
import { KeywardError } from "../errors.js";
import type { KeywardHome } from "../home/home.js";
import type { Unknown } from "./findings.js";
import type { ScanFinding } from "./scan-types.js";

/** Probes each unknown key found with its secret, one at a time per exchange (the adapter paces them). */
export async function verifyUnknown(
  home: KeywardHome,
  findings: ScanFinding[],
  unknowns: Map<ScanFinding, Unknown>,
  options: AdapterOptions,
): Promise<void> {
  const byExchange = new Map<string, ScanFinding[]>();
  for (const f of findings) {
    const u = unknowns.get(f);
    if (!u) continue;
    const profile = exchangeProfile(u.exchange);
    if (!u.secret) {
      f.verify = { status: "skipped", detail: "no secret was found with the key: nothing to probe with" };
      continue;
    }
    if (needsPassphrase(profile) && !u.passphrase) {
      f.verify = {
        status: "skipped",
        detail: `no passphrase was found with the key (${profile.name} keys need one to sign a request)`,
      };
      continue;
    }
    byExchange.set(u.exchange, [...(byExchange.get(u.exchange) ?? []), f]);
  }
  await Promise.all(
    [...byExchange].map(async ([exchange, list]) => {
      // One adapter per exchange, so its rate limiter paces every probe sent there.
      let adapter: ExchangeAdapter | undefined;
      for (const f of list) {
        const u = unknowns.get(f) as Unknown;
        const credentials: Credentials = {
          apiKey: u.key,
          secret: new Secret(u.secret as string),
          ...(u.passphrase ? { passphrase: new Secret(u.passphrase) } : {}),
        };
        try {
          adapter ??= await verifyAdapter(home, exchange, credentials, options);
          const probe = await adapter.probe(credentials);
          if (probe.status === "alive") {
            f.verify = { status: "alive", permissions: [...probe.permissions] };
          } else if (probe.status === "dead") {
            f.verify = { status: "dead" };
            f.live = false;
          } else {
            f.verify = {
              status: "unknown",
              detail: `the exchange's answer did not settle it (${probe.reason})`,
            };
          }
        } catch (error) {
          // The error's message could echo what was sent: only its code is kept.
          const code = error instanceof KeywardError ? error.code : "error";
          f.verify = { status: "unknown", detail: `the probe failed (${code})` };
        }
      }
    }),
  );
}

/**
 * An adapter of the found key's exchange, reaching the endpoint (or region) configured for an account
 * of that exchange, else the profile's default host. Built with the found credentials as its own: it
 * only probes them, and holds nothing of the vault.
 */
async function verifyAdapter(
  home: KeywardHome,
  exchange: string,
  credentials: Credentials,
  options: AdapterOptions,
): Promise<ExchangeAdapter> {
  const profile = exchangeProfile(exchange);
  const configured = home.config.accounts.find((a) => a.exchange === exchange);
  const account: Account = {
    name: "scan-verify",
    exchange: profile.id as Account["exchange"],
    credentialsRef: "scan-verify",
    ...(configured?.endpoint ? { endpoint: configured.endpoint } : {}),
    ...(configured?.region ? { region: configured.region } : {}),
  };
  const factory = await loadAdapterFactory(account.exchange);
  return factory({ account, credentials, tracked: [] }, options);
}
