/** Accounts: where each one is, its tracked keys, and its key's health, permissions and warnings (probed). */
import { useCallback, useEffect, useState } from "react";
import { type AccountsResponse, type ApiError, api, call, type HealthResponse } from "../api.js";
import { ErrorBox, Spinner, time } from "../components.js";

export function AccountsPage() {
  const [accounts, setAccounts] = useState<AccountsResponse | undefined>();
  const [health, setHealth] = useState<HealthResponse | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [probing, setProbing] = useState(false);

  const probe = useCallback(async () => {
    setProbing(true);
    try {
      setHealth(await call(api.accounts.health.$get({ query: {} })));
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setProbing(false);
    }
  }, []);

  useEffect(() => {
    call(api.accounts.$get({ query: {} })).then(setAccounts, (e: ApiError) => setError(e));
    void probe();
  }, [probe]);

  const healthOf = (name: string) => health?.accounts.find((h) => h.account === name);

  return (
    <section className="accounts">
      <div className="page-head">
        <h1>Accounts</h1>
        <div className="actions">
          {health ? <span className="muted">checked {time(health.checkedAt)}</span> : null}
          <button type="button" onClick={() => void probe()} disabled={probing}>
            {probing ? "Probing…" : "Check again"}
          </button>
        </div>
      </div>
      {error ? <ErrorBox error={error} title="Could not load the accounts" /> : null}
      {accounts && accounts.accounts.length === 0 ? (
        <div className="panel">
          No accounts yet. Add one with{" "}
          <code>keyward account add &lt;{accounts.exchanges.join("|")}&gt; &lt;name&gt;</code>, then reload.
        </div>
      ) : null}
      {!accounts && !error ? <Spinner label="Loading accounts…" /> : null}
      <div className="cards">
        {accounts?.accounts.map((a) => {
          const h = healthOf(a.name);
          const status = h?.health?.status ?? (h?.error ? "error" : undefined);
          return (
            <article className="card" key={a.name} data-account={a.name}>
              <header>
                <h2>{a.name}</h2>
                <span className={`badge ex-${a.exchange}`}>{a.exchange}</span>{" "}
                {status ? (
                  <span className={`badge health-${status}`} data-testid="health">
                    {status}
                  </span>
                ) : probing ? (
                  <span className="badge">probing…</span>
                ) : null}
              </header>
              {h?.health ? (
                <p className={`health-summary health-${h.health.status}`} data-testid="health-summary">
                  {h.health.summary}
                </p>
              ) : null}
              <dl>
                <dt>Where</dt>
                <dd>{a.endpoint ?? (a.region ? `region ${a.region}` : "default")}</dd>
                {a.keyLabel ? (
                  <>
                    <dt>Key label</dt>
                    <dd data-testid="key-label" title="given at account add: the exchange lists no label">
                      {a.keyLabel}
                    </dd>
                  </>
                ) : null}
                {a.secondFactor ? (
                  <>
                    <dt>Two-factor codes</dt>
                    <dd data-testid="second-factor">
                      {a.secondFactor === "seed"
                        ? "answered by Keyward (seed in the vault; each answer audited)"
                        : "asked of you on the job's page (no seed in the vault)"}
                    </dd>
                  </>
                ) : null}
                {h?.health ? (
                  <>
                    {h.health.master !== null ? (
                      <>
                        <dt>Master-account key</dt>
                        <dd>{h.health.master ? "yes" : "no"}</dd>
                      </>
                    ) : null}
                    <dt>Permissions</dt>
                    <dd>{h.health.permissions.join(", ") || "none reported"}</dd>
                    <dt>IP binding</dt>
                    <dd>
                      {h.health.ip === null
                        ? "not reported by the exchange"
                        : h.health.ip.join(", ") || "none"}
                    </dd>
                    <dt>Evidence</dt>
                    <dd className="muted">
                      {/* The exchange's raw answer, one click away: the summary above says it in words. */}
                      <details>
                        <summary>raw evidence</summary>
                        <code>{h.health.evidence}</code>
                      </details>
                    </dd>
                  </>
                ) : null}
                <dt>Tracked keys</dt>
                <dd>
                  {a.tracked.length === 0
                    ? "none"
                    : a.tracked
                        .map((t) => `${t.label} (${t.apiKeyShort})${t.provable ? "" : " — no secret held"}`)
                        .join("; ")}
                </dd>
              </dl>
              {h?.health?.warnings.map((w) => (
                <div className="warning" key={w}>
                  {w}
                </div>
              ))}
              {h?.health && h.health.status !== "alive" ? (
                <div className="error">
                  {h.health.summary}.
                  <div className="hint">
                    What to do: check the key on the exchange (it may be revoked, expired or not whitelisted
                    for this machine's IP), then replace it: keyward account remove {a.name}; keyward account
                    add …
                  </div>
                </div>
              ) : null}
              {h?.error ? (
                <div className="error">
                  {h.error.message}
                  {h.error.hint ? <div className="hint">What to do: {h.error.hint}</div> : null}
                </div>
              ) : null}
            </article>
          );
        })}
      </div>
    </section>
  );
}
