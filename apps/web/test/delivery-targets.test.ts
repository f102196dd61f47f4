/**
 * The delivery targets the rotation page offers come from core's driver list: GET /api/rotation/targets
 * lists the kinds a browser may use (webAllowed) and their options; a plan request carries each option
 * under its driver's name, and a kind that needs one is refused without it. Over real HTTP, against the
 * simulated desk.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DELIVERY_TARGETS } from "@keyward/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Client, type Desk, KEYS, login, startDesk } from "./helpers.js";

interface TargetsView {
  targets: { kind: string; form: string; text: string; example: string }[];
  cliOnly: string[];
  options: { name: string; label: string; placeholder: string }[];
  placeholders: string;
}

let desk: Desk;
let client: Client;
let dir: string;
let bot3: string;

beforeAll(async () => {
  desk = await startDesk();
  client = await login(desk.server);
  const keys = (await client.get("/api/inventory")).json<{ keys: { id: string; apiKey: string }[] }>().keys;
  bot3 = keys.find((k) => k.apiKey === KEYS.bot3.apiKey)?.id as string;
  dir = mkdtempSync(join(tmpdir(), "keyward-web-targets-"));
});
afterAll(async () => {
  await desk?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("delivery targets in the browser", () => {
  it("lists the kinds the browser may use and their options, from core's list", async () => {
    const res = await client.get("/api/rotation/targets");
    expect(res.status).toBe(200);
    const view = res.json<TargetsView>();
    expect(view.targets.map((t) => t.kind)).toEqual(
      DELIVERY_TARGETS.filter((d) => d.webAllowed).map((d) => d.kind),
    );
    expect(view.cliOnly).toEqual(DELIVERY_TARGETS.filter((d) => !d.webAllowed).map((d) => d.kind));
    expect(view.cliOnly.length).toBeGreaterThan(0); // a kind that runs programs is never offered
    for (const t of view.targets) {
      expect(t.form.startsWith(`${t.kind}:`)).toBe(true);
      expect(t.example.startsWith(`${t.kind}:`)).toBe(true);
    }
    expect(view.options.map((o) => o.name)).toEqual(
      DELIVERY_TARGETS.filter((d) => d.webAllowed).flatMap((d) => d.options.map((o) => o.name)),
    );
    expect(view.placeholders).toContain("{label}");
  });

  it("takes each kind's option under its name, and refuses a plan that needs one without it", async () => {
    // An X25519 public key (the age specification's example): the age target's option, `recipient`.
    const recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    const body = { selector: { ids: [bot3] }, deliver: [`age:${dir}/drop`] };
    const planned = await client.post("/api/rotation/plan", { ...body, recipient });
    expect(planned.status, planned.body).toBe(200);
    expect(planned.json<{ plan: { recipient: string | null } }>().plan.recipient).toBe(recipient);

    const without = await client.post("/api/rotation/plan", body);
    expect(without.status).toBe(400);
    expect(without.json<{ error: { code: string; message: string } }>().error).toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining("--recipient"),
    });
    const wrong = await client.post("/api/rotation/plan", { ...body, recipient: "age1nope" });
    expect(wrong.status).toBe(400);
    const unknown = await client.post("/api/rotation/plan", { ...body, recipient, colour: "blue" });
    expect(unknown.status).toBe(400);
  });
});
