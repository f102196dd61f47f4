/**
 * Stand-ins for what only a person can do on the real sites: an "API management" page per exchange
 * that lists keys, revokes one after a confirmation step, and creates one (its API key and secret shown
 * once on the page, as the real sites do). Each exchange module says where its page is, what it is
 * called, what its buttons say (the words Keyward's manual steps use for that exchange), what its create
 * form asks and what its rows show; its own listener serves it, at the path of the real page.
 */
import type { UiRevokeResult, UiRow } from "./exchange-module.js";
import type { Reply } from "./http-kit.js";
import { escapeHtml } from "./http-kit.js";

/** A form field's comma- or space-separated list, empty items dropped. */
export const listOf = (text: string | null): string[] =>
  (text ?? "")
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** A form field's text, trimmed ("" when absent). */
export const textOf = (text: string | null): string => (text ?? "").trim();

/** One field of a create form. */
export interface UiFormField {
  name: string;
  label: string;
  /** "password": typed hidden and never shown back (OKX's passphrase). */
  kind: "text" | "password" | "checkbox";
  /** The notation, under the field (e.g. the Permissions column's). */
  help?: string;
}

/** What a person fills in to create a key, and how the page turns it into the control API's /ui/create body. */
export interface UiCreateForm {
  fields: readonly UiFormField[];
  /** `POST /ui/create`'s body for this exchange, without `exchange`, from the submitted form. */
  body(form: URLSearchParams): Record<string, unknown>;
  /** What the page shows once from /ui/create's answer (the new key's API key and secret), in order. */
  shown(answer: Record<string, unknown>): { label: string; value: string }[];
}

/** What a module says about its page (its ui spec, beside the rows its world gives). */
export interface UiSpec {
  path: string;
  title: string;
  /**
   * The buttons' words, as Keyward's manual steps for this exchange name them ("Delete", "Create New
   * Key"), so a person following the steps finds the button they name.
   */
  words: { revoke: string; create: string };
  /** The create form; absent where a person cannot create keys on the site. */
  create?: UiCreateForm;
}

/**
 * A box of label/value lines under the keys, for what a person needs beside the page on this exchange
 * (Deribit: the simulator-only authenticator showing each account's current two-factor code).
 */
export interface UiPanel {
  title: string;
  note: string;
  items: { label: string; value: string }[];
}

/** One exchange's page over its current state. */
export interface UiPage extends UiSpec {
  rows(now: number): UiRow[];
  panel?(now: number): UiPanel;
  revoke(apiKey: string): UiRevokeResult;
  /** The control API's /ui/create for this exchange (the body without `exchange`): 201 with the new key. */
  createKey?(body: Record<string, unknown>): Reply;
}

const page = (title: string, body: string): Reply => ({
  status: 200,
  contentType: "text/html; charset=utf-8",
  headers: { "cache-control": "no-store" },
  body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}code{font-size:13px}.revoked{color:#999}
.notice{background:#eef;padding:.5rem 1rem}button{padding:.3rem .8rem}label{display:block;margin:.6rem 0 .2rem}
.help{color:#555;font-size:12px}.error{background:#fee;padding:.5rem 1rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
});

export function uiListPage(ui: UiPage, now: number, notice?: string): Reply {
  const base = ui.path;
  const body = ui
    .rows(now)
    .map(
      (r) => `<tr class="${r.status}" data-api-key="${escapeHtml(r.apiKey)}"><td>${escapeHtml(r.owner)}</td>
<td>${escapeHtml(r.label)}</td><td><code>${escapeHtml(r.apiKey)}</code></td><td>${escapeHtml(r.detail)}</td>
<td>${r.status !== "revoked" ? `<a href="${base}/revoke?apiKey=${encodeURIComponent(r.apiKey)}">${escapeHtml(ui.words.revoke)}</a>` : "revoked"}</td></tr>`,
    )
    .join("\n");
  const create =
    ui.create && ui.createKey ? `<p><a href="${base}/create">${escapeHtml(ui.words.create)}</a></p>` : "";
  const panel = ui.panel?.(now);
  const aside = panel
    ? `<section id="panel" aria-label="${escapeHtml(panel.title)}"><h2>${escapeHtml(panel.title)}</h2>
<p class="help">${escapeHtml(panel.note)}</p><table>${panel.items
        .map((i) => `<tr><th>${escapeHtml(i.label)}</th><td><code>${escapeHtml(i.value)}</code></td></tr>`)
        .join("\n")}</table></section>`
    : "";
  return page(
    ui.title,
    `${notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>` : ""}${create}
<table><thead><tr><th>Account</th><th>Label</th><th>API key</th><th>Permissions</th><th></th></tr></thead>
<tbody>${body}</tbody></table>${aside}`,
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
<button type="submit" name="confirm" value="yes" id="confirm-revoke">Yes, ${escapeHtml(ui.words.revoke.toLowerCase())} this key</button>
<a href="${ui.path}">Cancel</a></form>`,
  );
}

/**
 * The create form. Values a person typed come back into the fields after an error (escaped), except a
 * password field's.
 */
export function uiCreatePage(
  ui: UiPage,
  form: UiCreateForm,
  values?: URLSearchParams,
  error?: string,
): Reply {
  const fields = form.fields
    .map((f) => {
      const id = `create-${f.name}`;
      const value = f.kind === "password" ? "" : (values?.get(f.name) ?? "");
      const input =
        f.kind === "checkbox"
          ? `<input type="checkbox" id="${id}" name="${escapeHtml(f.name)}" value="1"${values?.get(f.name) ? " checked" : ""}>`
          : `<input type="${f.kind}" id="${id}" name="${escapeHtml(f.name)}" value="${escapeHtml(value)}" size="60">`;
      const help = f.help ? `<div class="help">${escapeHtml(f.help)}</div>` : "";
      return `<label for="${id}">${escapeHtml(f.label)}</label>${input}${help}`;
    })
    .join("\n");
  return {
    ...page(
      ui.title,
      `<h2>${escapeHtml(ui.words.create)}</h2>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="${ui.path}/create">
${fields}
<p><button type="submit" name="confirm" value="yes" id="confirm-create">${escapeHtml(ui.words.create)}</button>
<a href="${ui.path}">Cancel</a></p></form>`,
    ),
    status: error ? 400 : 200,
  };
}

/** The new key, shown this once (the simulator's own page; as on the real site, it cannot be shown again). */
function uiCreatedPage(ui: UiPage, shown: { label: string; value: string }[]): Reply {
  const rows = shown
    .map((s) => `<tr><th>${escapeHtml(s.label)}</th><td><code>${escapeHtml(s.value)}</code></td></tr>`)
    .join("\n");
  return page(
    ui.title,
    `<p class="notice" role="status">API key created. Copy the secret now: it is shown only this once.</p>
<table id="created-key">${rows}</table>
<p><a href="${ui.path}">Back to the keys</a></p>`,
  );
}

/** Whether the browser says the request comes from another site (Sec-Fetch-Site, else Origin vs Host). */
function crossSite(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  const site = headers["sec-fetch-site"];
  if (typeof site === "string") return site !== "same-origin" && site !== "none";
  const origin = headers.origin;
  if (typeof origin !== "string") return false;
  try {
    return new URL(origin).host !== headers.host;
  } catch {
    return true;
  }
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
  headers: Readonly<Record<string, string | string[] | undefined>> = {},
): Reply | undefined {
  const base = ui.path;
  // A form another site posts here (a hostile page open in the same browser) would revoke or create a
  // key: the browser says where a POST comes from, and only this page's own forms are acted on.
  if (method === "POST" && (path === `${base}/revoke` || path === `${base}/create`) && crossSite(headers))
    return { ...page(ui.title, "<p>Refused: this form was sent from another site.</p>"), status: 403 };
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
  const form = ui.create;
  if (form && ui.createKey) {
    if (method === "GET" && path === `${base}/create`) return uiCreatePage(ui, form);
    if (method === "POST" && path === `${base}/create`) {
      const values = new URLSearchParams(body);
      // The button's own field: a form posted from elsewhere without it is shown back, not acted on.
      if (values.get("confirm") !== "yes") return uiCreatePage(ui, form, values);
      const reply = ui.createKey(form.body(values));
      const answer = (reply.body ?? {}) as Record<string, unknown>;
      if (reply.status !== 201) {
        const error =
          typeof answer.error === "string" ? answer.error : `could not create the key (${reply.status})`;
        return uiCreatePage(ui, form, values, error);
      }
      changed();
      return uiCreatedPage(ui, form.shown(answer));
    }
  }
  return undefined;
}
