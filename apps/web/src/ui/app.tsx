/**
 * The shell: session check, navigation between the pages, and the state they share (the
 * inventory as last loaded, and the keys selected for revoke).
 */
import { useCallback, useEffect, useState } from "react";
import {
  type ApiError,
  api,
  call,
  forgetSessionSecret,
  type InventoryResponse,
  type SessionInfo,
} from "./api.js";
import { usePageTitle } from "./components/job-title.js";
import { ErrorBox, learnFacts } from "./components.js";
import { useRevokeJobEnd } from "./hooks/use-revoke-job-end.js";
import { AccountsPage } from "./pages/accounts.js";
import { AuditPage } from "./pages/audit.js";
import { CheckPage } from "./pages/check.js";
import { InventoryPage } from "./pages/inventory.js";
import { NewKeyPage } from "./pages/new-key.js";
import { RevokePage } from "./pages/revoke.js";
import { RotatePage } from "./pages/rotate.js";
import { ScanPage } from "./pages/scan.js";

const PAGES = [
  { path: "/inventory", title: "Inventory" },
  { path: "/revoke", title: "Revoke" },
  { path: "/rotate", title: "Rotate" },
  { path: "/new-key", title: "New key" },
  { path: "/check", title: "Check" },
  { path: "/scan", title: "Scan" },
  { path: "/audit", title: "Audit log" },
  { path: "/accounts", title: "Accounts" },
] as const;
type PagePath = (typeof PAGES)[number]["path"];

const currentPage = (): PagePath => {
  const found = PAGES.find((p) => p.path === window.location.pathname);
  return found?.path ?? "/inventory";
};

const SELECTION_KEY = "keyward.selectedKeys";

/** The key ids selected before a reload of this tab (sessionStorage), or none. */
function storedSelection(): ReadonlySet<string> {
  try {
    const ids: unknown = JSON.parse(window.sessionStorage.getItem(SELECTION_KEY) ?? "[]");
    return new Set(Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : []);
  } catch {
    return new Set();
  }
}

export interface InventoryState {
  data: InventoryResponse | undefined;
  loading: boolean;
  error: ApiError | undefined;
  load(refresh?: boolean): Promise<void>;
}

export function App() {
  const [page, setPage] = useState<PagePath>(currentPage);
  const [session, setSession] = useState<SessionInfo | undefined>();
  const [sessionError, setSessionError] = useState<ApiError | undefined>();
  const [inventory, setInventory] = useState<InventoryResponse | undefined>();
  const [inventoryLoading, setInventoryLoading] = useState(false);
  const [inventoryError, setInventoryError] = useState<ApiError | undefined>();
  const [selected, setSelected] = useState<ReadonlySet<string>>(storedSelection);
  // The Revoke badge counts the selection: a job's done keys leave it when the job ends (hook's comment).
  const followRevokeJob = useRevokeJobEnd(setSelected);
  // The Scan page's "Revoke these": the Revoke page reviews the plan for them as it opens.
  const [reviewOnOpen, setReviewOnOpen] = useState(false);
  // The scan whose "Revoke these" made the selection: its revoke plan names that scan as its cause.
  const [scanCause, setScanCause] = useState<{
    scan: number;
    selection: string;
    reasons: Record<string, string>;
  } | null>(null);
  usePageTitle(PAGES.find((p) => p.path === page)?.title ?? "Inventory");
  // The selection survives a reload of the tab (key ids are not secrets); ids no longer in the inventory
  // are dropped when it loads, as for a refresh.
  useEffect(() => {
    try {
      window.sessionStorage.setItem(SELECTION_KEY, JSON.stringify([...selected]));
    } catch {
      // Storage refused (private mode, quota): the selection lives as long as the page, as before.
    }
  }, [selected]);

  const navigate = useCallback((path: PagePath) => {
    if (window.location.pathname !== path) window.history.pushState(null, "", path);
    setPage(path);
    window.scrollTo(0, 0);
  }, []);

  useEffect(() => {
    if (window.location.pathname === "/") window.history.replaceState(null, "", "/inventory");
    const onPop = () => setPage(currentPage());
    // (the inventory page follows its own view in the query string on popstate)
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  useEffect(() => {
    call(api.session.$get()).then(
      (s) => setSession(s),
      (e: ApiError) => setSessionError(e),
    );
  }, []);

  const loadInventory = useCallback(async (refresh = false) => {
    setInventoryLoading(true);
    setInventoryError(undefined);
    try {
      const data = await call(api.inventory.$get({ query: refresh ? { refresh: "1" } : {} }));
      learnFacts(data);
      setInventory(data);
      // Forget selected keys that are gone.
      const ids = new Set(data.keys.map((k) => k.id));
      setSelected((prev) => {
        const next = new Set([...prev].filter((id) => ids.has(id)));
        return next.size === prev.size ? prev : next;
      });
    } catch (e) {
      setInventoryError(e as ApiError);
    } finally {
      setInventoryLoading(false);
    }
  }, []);

  useEffect(() => {
    if (session) void loadInventory();
  }, [session, loadInventory]);

  const state: InventoryState = {
    data: inventory,
    loading: inventoryLoading,
    error: inventoryError,
    load: loadInventory,
  };

  if (sessionError) {
    return (
      <main className="login-needed">
        <h1>Keyward</h1>
        {sessionError.status === 401 ? (
          <div className="panel">
            <h2>Not logged in</h2>
            <p>
              Open the login URL that <code>keyward web</code> printed in its terminal. Each URL works once;
              after a login the server prints the next one. Restarting <code>keyward web</code> also prints a
              new one. A login holds for the browser tab it was opened in (a new tab needs a new URL).
            </p>
          </div>
        ) : (
          <ErrorBox error={sessionError} />
        )}
      </main>
    );
  }
  if (!session) return <main className="booting">Keyward is starting…</main>;

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">Keyward</span>
        <nav>
          {PAGES.map((p) => (
            <a
              key={p.path}
              href={p.path}
              className={p.path === page ? "active" : ""}
              aria-current={p.path === page ? "page" : undefined}
              onClick={(e) => {
                e.preventDefault();
                navigate(p.path);
              }}
            >
              {p.title}
              {p.path === "/revoke" && selected.size > 0 ? (
                <span className="pill">{selected.size}</span>
              ) : null}
            </a>
          ))}
        </nav>
        <span className="home" title={session.home}>
          {session.home}
        </span>
        <button
          type="button"
          className="link"
          onClick={() => {
            void call(api.session.logout.$post({ json: {} })).finally(() => {
              forgetSessionSecret();
              window.location.reload();
            });
          }}
        >
          Log out
        </button>
      </header>
      <main>
        {page === "/inventory" && (
          <InventoryPage
            inventory={state}
            selected={selected}
            setSelected={setSelected}
            goRevoke={() => navigate("/revoke")}
            goRotate={() => navigate("/rotate")}
          />
        )}
        {page === "/revoke" && (
          <RevokePage
            inventory={state}
            selected={selected}
            setSelected={setSelected}
            goInventory={() => navigate("/inventory")}
            followJob={followRevokeJob}
            reviewOnOpen={reviewOnOpen}
            reviewed={() => setReviewOnOpen(false)}
            cause={scanCause}
          />
        )}
        {page === "/rotate" && (
          <RotatePage inventory={state} selected={selected} goInventory={() => navigate("/inventory")} />
        )}
        {page === "/audit" && <AuditPage />}
        {page === "/accounts" && <AccountsPage />}
        {page === "/check" && <CheckPage />}
        {page === "/new-key" && <NewKeyPage />}
        {page === "/scan" && (
          <ScanPage
            revokeThese={(ids, scan, reasons) => {
              setSelected(new Set(ids));
              setScanCause(scan === null ? null : { scan, selection: [...ids].sort().join("\n"), reasons });
              setReviewOnOpen(true);
              navigate("/revoke");
            }}
          />
        )}
      </main>
    </div>
  );
}
