/**
 * Stand-ins for what only a person can do on the real sites: an "API management" page per exchange
 * that lists keys and revokes one after a confirmation step. Each exchange module says where its page
 * is, what it is called and what its rows show; its own listener serves it, at the path of the real page.
 */
import type { UiRevokeResult, UiRow } from "./exchange-module.js";
import type { Reply } from "./http-kit.js";
import { escapeHtml } from "./http-kit.js";

/** One exchange's page over its current state. */
export interface UiPage {
  path: string;
  title: string;
  rows(now: number): UiRow[];
  revoke(apiKey: string): UiRevokeResult;
}

const page = (title: string, body: string): Reply => ({
  status: 200,
  contentType: "text/html; charset=utf-8",
  headers: { "cache-control": "no-store" },
  body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}code{font-size:13px}.revoked{color:#999}
.notice{background:#eef;padding:.5rem 1rem}button{padding:.3rem .8rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
});

export function uiListPage(ui: UiPage, now: number, notice?: string): Reply {
  const base = ui.path;
  const body = ui
    .rows(now)
    .map(
      (r) => `<tr class="${r.status}" data-api-key="${escapeHtml(r.apiKey)}"><td>${escapeHtml(r.owner)}</td>
<td>${escapeHtml(r.label)}</td><td><code>${escapeHtml(r.apiKey)}</code></td><td>${escapeHtml(r.detail)}</td>
<td>${r.status === "active" ? `<a href="${base}/revoke?apiKey=${encodeURIComponent(r.apiKey)}">Revoke</a>` : "revoked"}</td></tr>`,
    )
    .join("\n");
  return page(
    ui.title,
    `${notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>` : ""}
<table><thead><tr><th>Account</th><th>Label</th><th>API key</th><th>Permissions</th><th></th></tr></thead>
<tbody>${body}</tbody></table>`,
  );
}

export function uiConfirmPage(ui: UiPage, apiKey: string, now: number): Reply {
  const row = ui.rows(now).find((r) => r.apiKey === apiKey);
  if (!row) return { ...page(ui.title, "<p>No such API key.</p>"), status: 404 };
  return page(
    ui.title,
    `<p>Revoke the key <strong>${escapeHtml(row.label)}</strong> (<code>${escapeHtml(row.apiKey)}</code>) of
${escapeHtml(row.owner)}? Programs using it stop working at once.</p>
<form method="post" action="${ui.path}/revoke"><input type="hidden" name="apiKey" value="${escapeHtml(apiKey)}">
<button type="submit" name="confirm" value="yes" id="confirm-revoke">Yes, revoke this key</button>
<a href="${ui.path}">Cancel</a></form>`,
  );
}

/** Handles the page's GET/POST routes; returns undefined for paths that are not the page's. */
export function uiRoute(
  ui: UiPage,
  method: string,
  path: string,
  query: string,
  body: string,
  now: number,
  changed: () => void,
): Reply | undefined {
  const base = ui.path;
  if (method === "GET" && path === base)
    return uiListPage(ui, now, new URLSearchParams(query).get("notice") ?? undefined);
  if (method === "GET" && path === `${base}/revoke`) {
    return uiConfirmPage(ui, new URLSearchParams(query).get("apiKey") ?? "", now);
  }
  if (method === "POST" && path === `${base}/revoke`) {
    const form = new URLSearchParams(body);
    const apiKey = form.get("apiKey") ?? "";
    if (form.get("confirm") !== "yes") return uiConfirmPage(ui, apiKey, now);
    const result = ui.revoke(apiKey);
    if (!result.found) return { ...page(ui.title, "<p>No such API key.</p>"), status: 404 };
    if (!result.alreadyRevoked) changed();
    const notice = result.alreadyRevoked ? "That key was already revoked." : "API key revoked.";
    return { status: 303, body: "", headers: { location: `${base}?notice=${encodeURIComponent(notice)}` } };
  }
  return undefined;
}
