/**
 * Stand-ins for what only a person can do on the real sites: an "API management" page per exchange
 * that lists keys and revokes one after a confirmation step (OKX master keys; every Bitfinex key).
 * Served by each exchange's own listener, at the path of the real page.
 */
import type { Reply } from "./http-kit.js";
import { escapeHtml } from "./http-kit.js";
import type { World } from "./world.js";

export const UI_PATHS = { okx: "/account/my-api", bitfinex: "/api" } as const;

interface UiRow {
  owner: string;
  label: string;
  apiKey: string;
  detail: string;
  status: string;
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

function rows(world: World, exchange: "okx" | "bitfinex", now: number): UiRow[] {
  if (exchange === "okx") {
    return world.okxAccounts.flatMap((a) => [
      ...a.keys.map((k) => {
        world.okxKeyExpired(k, now);
        return {
          owner: `${a.name} (UID ${a.uid}) master`,
          label: k.label,
          apiKey: k.apiKey,
          detail: `${k.perm}; IP ${k.ip.join(",") || "none"}`,
          status: k.status,
        };
      }),
      ...a.subAccounts.flatMap((s) =>
        s.keys.map((k) => {
          world.okxKeyExpired(k, now);
          return {
            owner: `${a.name} / ${s.name}`,
            label: k.label,
            apiKey: k.apiKey,
            detail: `${k.perm}; IP ${k.ip.join(",") || "none"}`,
            status: k.status,
          };
        }),
      ),
    ]);
  }
  return world.bitfinexUsers.flatMap((u) =>
    u.keys.map((k) => ({
      owner: `${u.email} (ID ${u.id})`,
      label: k.label,
      apiKey: k.apiKey,
      detail: k.permissions
        .filter((p) => p[1] || p[2])
        .map((p) => `${p[0]}:${p[2] ? "rw" : "r"}`)
        .join(" "),
      status: k.status,
    })),
  );
}

const TITLES = { okx: "OKX — API management (simulator)", bitfinex: "Bitfinex — API Keys (simulator)" };

export function uiListPage(world: World, exchange: "okx" | "bitfinex", now: number, notice?: string): Reply {
  const base = UI_PATHS[exchange];
  const body = rows(world, exchange, now)
    .map(
      (r) => `<tr class="${r.status}" data-api-key="${escapeHtml(r.apiKey)}"><td>${escapeHtml(r.owner)}</td>
<td>${escapeHtml(r.label)}</td><td><code>${escapeHtml(r.apiKey)}</code></td><td>${escapeHtml(r.detail)}</td>
<td>${r.status === "active" ? `<a href="${base}/revoke?apiKey=${encodeURIComponent(r.apiKey)}">Revoke</a>` : "revoked"}</td></tr>`,
    )
    .join("\n");
  return page(
    TITLES[exchange],
    `${notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>` : ""}
<table><thead><tr><th>Account</th><th>Label</th><th>API key</th><th>Permissions</th><th></th></tr></thead>
<tbody>${body}</tbody></table>`,
  );
}

export function uiConfirmPage(
  world: World,
  exchange: "okx" | "bitfinex",
  apiKey: string,
  now: number,
): Reply {
  const row = rows(world, exchange, now).find((r) => r.apiKey === apiKey);
  if (!row) return { ...page(TITLES[exchange], "<p>No such API key.</p>"), status: 404 };
  return page(
    TITLES[exchange],
    `<p>Revoke the key <strong>${escapeHtml(row.label)}</strong> (<code>${escapeHtml(row.apiKey)}</code>) of
${escapeHtml(row.owner)}? Programs using it stop working at once.</p>
<form method="post" action="${UI_PATHS[exchange]}/revoke"><input type="hidden" name="apiKey" value="${escapeHtml(apiKey)}">
<button type="submit" name="confirm" value="yes" id="confirm-revoke">Yes, revoke this key</button>
<a href="${UI_PATHS[exchange]}">Cancel</a></form>`,
  );
}

/** Handles the page's GET/POST routes; returns undefined for paths that are not the page's. */
export function uiRoute(
  world: World,
  exchange: "okx" | "bitfinex",
  method: string,
  path: string,
  query: string,
  body: string,
  now: number,
  changed: () => void,
): Reply | undefined {
  const base = UI_PATHS[exchange];
  if (method === "GET" && path === base)
    return uiListPage(world, exchange, now, new URLSearchParams(query).get("notice") ?? undefined);
  if (method === "GET" && path === `${base}/revoke`) {
    return uiConfirmPage(world, exchange, new URLSearchParams(query).get("apiKey") ?? "", now);
  }
  if (method === "POST" && path === `${base}/revoke`) {
    const form = new URLSearchParams(body);
    const apiKey = form.get("apiKey") ?? "";
    if (form.get("confirm") !== "yes") return uiConfirmPage(world, exchange, apiKey, now);
    const result = world.uiRevoke(exchange, apiKey);
    if (!result.found) return { ...page(TITLES[exchange], "<p>No such API key.</p>"), status: 404 };
    if (!result.alreadyRevoked) changed();
    const notice = result.alreadyRevoked ? "That key was already revoked." : "API key revoked.";
    return { status: 303, body: "", headers: { location: `${base}?notice=${encodeURIComponent(notice)}` } };
  }
  return undefined;
}
