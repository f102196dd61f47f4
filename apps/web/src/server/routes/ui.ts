/** The built UI: every page path answers with the single-page app; its assets are served as files. */
import type { Hono } from "hono";
import { html } from "../responses.js";
import { PAGES, type StaticUi } from "../static-ui.js";

export function uiRoutes(app: Hono, ui: StaticUi) {
  for (const page of PAGES) {
    app.get(page, () => ui.page());
  }
  app.get("/assets/*", async (c) => (await ui.asset(c.req.path)) ?? html(404, "Not found", "No such file."));
}
