/**
 * The code field for an exchange's second-factor challenge met by a running revoke or rotation whose
 * account has no seed in the vault (server: second-factor.ts). The job's event stream says when one
 * opens (`second-factor`) and closes (`second-factor-closed`: answered, expired or cancelled); the code
 * is posted for that job only, and never shown back.
 */
import { useEffect, useState } from "react";
import type { ApiError } from "../api.js";
import { ErrorBox } from "../components.js";
import type { EventData } from "../hooks/use-live-events.js";

export interface Challenge {
  challengeId: string;
  account: string;
  exchange: string;
  action: string;
  expiresAt: number;
  retry: boolean;
}

export const SECOND_FACTOR_EVENTS = ["second-factor", "second-factor-closed"];

/** The open challenges after an event, and the live log's line for it. */
export function applySecondFactorEvent(
  open: Challenge[],
  type: string,
  data: EventData,
): { open: Challenge[]; line?: string } {
  if (type === "second-factor") {
    const c = data as unknown as Challenge;
    return {
      open: [...open.filter((x) => x.challengeId !== c.challengeId), c],
      line: `${c.retry ? "The code was refused. " : ""}${c.exchange} asks for a two-factor code for ${c.account} to ${c.action}.`,
    };
  }
  if (type === "second-factor-closed") {
    const outcome = String(data.outcome);
    return {
      open: open.filter((x) => x.challengeId !== data.challengeId),
      line:
        outcome === "answered"
          ? "Two-factor code sent to the exchange."
          : outcome === "expired"
            ? "No two-factor code was typed in time: that step failed."
            : "Two-factor code cancelled: that step failed.",
    };
  }
  return { open };
}

function useSecondsLeft(until: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);
  return Math.max(0, Math.floor((until - now) / 1000));
}

export function SecondFactorField({
  challenge,
  send,
  cancel,
}: {
  challenge: Challenge;
  send: (code: string) => Promise<void>;
  cancel: () => Promise<void>;
}) {
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const left = useSecondsLeft(challenge.expiresAt);
  const act = async (what: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await what();
      setCode("");
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel second-factor" aria-label="Two-factor code" data-testid="second-factor">
      <h2>
        {challenge.exchange} asks for a two-factor code for {challenge.account}
      </h2>
      <p>
        To {challenge.action}. {left} s left.
        {challenge.retry ? (
          <strong> The exchange refused the previous code (wrong or stale): type the next one.</strong>
        ) : null}
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void act(() => send(code.trim()));
        }}
      >
        <label>
          Code from the authenticator app:{" "}
          <input
            aria-label="Two-factor code"
            value={code}
            onChange={(e) => setCode(e.target.value)}
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]{6,8}"
            maxLength={8}
            disabled={busy}
          />
        </label>{" "}
        <button type="submit" className="primary" disabled={busy || left === 0}>
          Send code
        </button>{" "}
        <button type="button" onClick={() => void act(cancel)} disabled={busy}>
          Cancel (that step fails)
        </button>
      </form>
      {error ? <ErrorBox error={error} title="Not sent" /> : null}
    </section>
  );
}
