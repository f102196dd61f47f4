/**
 * "New key": core's key create from the browser (POST /api/keys/create), for the kinds of key an
 * exchange creates by API. File targets only (programs run only from a terminal: `keyward key create`);
 * the secret goes to the vault and the targets, never to this page. Once started, the run is followed
 * on the Rotate page's run panel (progress over SSE, Deribit's code field when no seed is held).
 */
import { useEffect, useState } from "react";
import { type AccountsResponse, type ApiError, api, call } from "../api.js";
import { ErrorBox } from "../components.js";
import { useAction } from "../hooks/use-action.js";
import { RunPanel } from "./rotation-run.js";

const PERMISSIONS = ["read", "trade", "withdraw"] as const;

const list = (text: string): string[] =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

export function NewKeyPage() {
  const [accounts, setAccounts] = useState<AccountsResponse["accounts"]>([]);
  const [account, setAccount] = useState("");
  const [sub, setSub] = useState("");
  const [label, setLabel] = useState("");
  const [perms, setPerms] = useState<ReadonlySet<string>>(new Set(["read"]));
  const [allowWithdraw, setAllowWithdraw] = useState(false);
  const [ips, setIps] = useState("");
  const [noIp, setNoIp] = useState(false);
  const [deliver, setDeliver] = useState("");
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, runCreate] = useAction(setError);
  const [runId, setRunId] = useState<string | undefined>();

  useEffect(() => {
    call(api.accounts.$get({ query: {} })).then(
      (res) => {
        setAccounts(res.accounts);
        setAccount((a) => a || res.accounts[0]?.name || "");
      },
      (e: ApiError) => setError(e),
    );
  }, []);

  const create = () =>
    runCreate(async () => {
      const res = await call(
        api.keys.create.$post({
          json: {
            account,
            subAccount: sub.trim() || null,
            label: label.trim(),
            permissions: [...perms] as ("read" | "trade" | "withdraw")[],
            ip: list(ips),
            noIp,
            allowWithdraw,
            deliver: deliver
              .split("\n")
              .map((l) => l.trim())
              .filter(Boolean),
          },
        }),
      );
      setRunId(res.runId);
    });

  if (runId) return <RunPanel runId={runId} back={() => setRunId(undefined)} />;

  return (
    <section className="new-key">
      <div className="page-head">
        <h1>New key</h1>
      </div>
      {error ? <ErrorBox error={error} title="Not created" /> : null}
      <div className="panel">
        <p className="muted">
          Keyward creates the key by API where the exchange allows it (e.g. OKX sub-accounts, Deribit), puts
          its secret in the vault and the targets, proves it with a probe, and never shows the secret here.
          The label finds the key again if anything is interrupted: submitting the same form again continues.
        </p>
        <div className="row">
          <label>
            Account:{" "}
            <select aria-label="Account" value={account} onChange={(e) => setAccount(e.target.value)}>
              {accounts.map((a) => (
                <option key={a.name} value={a.name}>
                  {a.name} ({a.exchange})
                </option>
              ))}
            </select>
          </label>
          <label>
            Sub-account:{" "}
            <input
              aria-label="Sub-account"
              value={sub}
              onChange={(e) => setSub(e.target.value)}
              placeholder="(the account itself)"
            />
          </label>
          <label>
            Label: <input aria-label="Label" value={label} onChange={(e) => setLabel(e.target.value)} />
          </label>
        </div>
        <fieldset className="row">
          <legend>Permissions</legend>
          {PERMISSIONS.map((p) => (
            <label key={p}>
              <input
                type="checkbox"
                aria-label={`Permission ${p}`}
                checked={perms.has(p)}
                onChange={(e) => {
                  const next = new Set(perms);
                  if (e.target.checked) next.add(p);
                  else next.delete(p);
                  setPerms(next);
                }}
              />{" "}
              {p}
            </label>
          ))}
          <label>
            <input
              type="checkbox"
              aria-label="Allow withdraw"
              checked={allowWithdraw}
              onChange={(e) => setAllowWithdraw(e.target.checked)}
            />{" "}
            I accept the withdraw permission (money can leave the account if the key leaks)
          </label>
        </fieldset>
        <div className="row">
          <label>
            IP addresses or CIDR ranges:{" "}
            <input
              aria-label="IP addresses"
              value={ips}
              onChange={(e) => setIps(e.target.value)}
              size={40}
              placeholder="203.0.113.7, 10.0.0.0/24"
            />
          </label>
          <label>
            <input
              type="checkbox"
              aria-label="No IP binding"
              checked={noIp}
              onChange={(e) => setNoIp(e.target.checked)}
            />{" "}
            No IP binding (a trade key then works from anywhere; <code>keyward check</code> flags it)
          </label>
        </div>
        <label className="block">
          Where the secret goes, one target per line (files only; programs run from a terminal with{" "}
          <code>keyward key create</code>):
          <textarea
            aria-label="Delivery targets"
            rows={3}
            value={deliver}
            onChange={(e) => setDeliver(e.target.value)}
            placeholder="dotenv:/srv/bots/mm-bot-2.env"
            spellCheck={false}
          />
        </label>
        <div className="actions">
          <button
            type="button"
            className="primary"
            onClick={() => void create()}
            disabled={busy || !account || !label.trim()}
          >
            {busy ? "Checking…" : "Create key"}
          </button>
        </div>
      </div>
    </section>
  );
}
