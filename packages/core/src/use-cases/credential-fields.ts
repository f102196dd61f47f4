/**
 * The passphrase rule, for whoever asks a person for a key's credentials (adding an account, tracking
 * a key): OKX keys carry the passphrase chosen when the key was made; Bitfinex keys have none.
 */
export function needsPassphrase(exchange: string): boolean {
  return exchange === "okx";
}
