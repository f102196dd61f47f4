/**
 * Structured log events. Adapters and engines emit them; the shells decide where they go. Entries carry
 * identifiers (exchange, account, path, API key) and outcomes, never a secret, a signature or a body.
 */
export interface LogEntry {
  level: "debug" | "info" | "warn";
  event: string;
  exchange?: string;
  account?: string;
  method?: string;
  path?: string;
  /** The exchange's code, or the kind of failure. */
  code?: string;
  status?: number;
  attempt?: number;
  ms?: number;
  detail?: string;
}

export type LogSink = (entry: LogEntry) => void;

export const silentLog: LogSink = () => {};
