/**
 * The control API (loopback only, JSON): inspect and replace the world, act as the person on the
 * exchanges' web pages, read the request log, inject faults and move the clock.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { OffsetClock } from "../clock.js";
import { EXCHANGE_IDS, type ExchangeId } from "../exchanges.js";
import { FaultSpecSchema } from "../fault-spec.js";
import type { Faults } from "../faults.js";
import { BodyTooLargeError, type Reply, readRaw, send } from "../http-kit.js";
import type { RequestLog } from "../request-log.js";
import { formatZodError, parseScenario, ScenarioError } from "../scenario.js";
import { MODULES, World } from "../world.js";

export interface ControlDeps {
  world(): World;
  replaceWorld(world: World): void;
  clock: OffsetClock;
  faults: Faults;
  log: RequestLog;
  changed(): void;
}

const RevokeBody = z.strictObject({ exchange: z.enum(EXCHANGE_IDS), apiKey: z.string().min(1) });

/** What a person does on the real site to create a key, per exchange that lets a person do so. */
const creators = MODULES.flatMap((m) => (m.uiCreate ? [{ id: m.id, ...m.uiCreate }] : []));
const CreateBody = z.discriminatedUnion(
  "exchange",
  creators.map((c) => c.body) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

const ClockBody = z.strictObject({ advanceMs: z.number().int() });

/** Each module's own reads (`controlRoutes`), at `GET /<id>/<name>`. */
const moduleRoutes = MODULES.flatMap((m) =>
  Object.entries(m.controlRoutes ?? {}).map(([name, handle]) => ({
    id: m.id,
    path: `/${m.id}/${name}`,
    handle,
  })),
);

const json = (status: number, body: unknown): Reply => ({ status, body });
const badRequest = (message: string): Reply => json(400, { error: message });

function parseJson<T>(schema: z.ZodType<T>, text: string): T | Reply {
  let value: unknown;
  try {
    value = JSON.parse(text || "{}");
  } catch (error) {
    return badRequest(`body is not valid JSON (${(error as Error).message})`);
  }
  const result = schema.safeParse(value);
  return result.success ? result.data : badRequest(formatZodError(result.error));
}

const isReply = (v: unknown): v is Reply =>
  typeof v === "object" && v !== null && "status" in v && "body" in v;

export function controlListener(deps: ControlDeps) {
  const routes: Record<string, (body: string, query: URLSearchParams) => Reply> = {
    "GET /": () =>
      json(200, {
        routes: [
          "GET /state",
          "POST /scenario",
          "POST /ui/revoke",
          "POST /ui/create",
          "GET /requests?since=SEQ",
          "DELETE /requests",
          "GET /faults",
          "POST /faults",
          "DELETE /faults",
          "GET /clock",
          "POST /clock",
          ...moduleRoutes.map((r) => `GET ${r.path}`),
        ],
      }),
    "GET /state": () => json(200, deps.world().view(deps.clock.now())),
    // A browser opening /state (the demo prints it) asks for an icon too: an empty answer, no console error.
    "GET /favicon.ico": () => ({ status: 204, body: "", contentType: "image/x-icon" }),
    "POST /scenario": (body) => {
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch (error) {
        return badRequest(`scenario is not valid JSON (${(error as Error).message})`);
      }
      try {
        deps.replaceWorld(World.fromScenario(parseScenario(value), deps.clock.now()));
      } catch (error) {
        if (error instanceof ScenarioError) return badRequest(error.message);
        throw error;
      }
      return json(200, { ok: true });
    },
    "POST /ui/revoke": (body) => {
      const parsed = parseJson(RevokeBody, body);
      if (isReply(parsed)) return parsed;
      const result = deps.world().uiRevoke(parsed.exchange, parsed.apiKey);
      if (!result.found) return json(404, { error: `no ${parsed.exchange} key ${parsed.apiKey}` });
      if (!result.alreadyRevoked) deps.changed();
      return json(200, { apiKey: parsed.apiKey, status: "revoked", alreadyRevoked: result.alreadyRevoked });
    },
    "POST /ui/create": (body) => {
      const parsed = parseJson(CreateBody, body) as Record<string, unknown> | Reply;
      if (isReply(parsed)) return parsed;
      const exchange = parsed.exchange as ExchangeId;
      const creator = creators.find((c) => c.id === exchange);
      if (!creator) return badRequest(`exchange: no key creation for ${exchange}`);
      const reply = creator.create(deps.world().section(exchange), parsed, deps.clock.now());
      if (reply.status === 201) deps.changed();
      return reply;
    },
    "GET /requests": (_body, query) => json(200, deps.log.list(Number(query.get("since") ?? 0) || 0)),
    "DELETE /requests": () => {
      deps.log.clear();
      return json(200, { ok: true });
    },
    "GET /faults": () => json(200, deps.faults.view()),
    "POST /faults": (body) => {
      const parsed = parseJson(FaultSpecSchema, body);
      if (isReply(parsed)) return parsed;
      deps.faults.set(parsed);
      return json(200, deps.faults.view());
    },
    "DELETE /faults": () => {
      deps.faults.reset();
      return json(200, deps.faults.view());
    },
    "GET /clock": () => json(200, { now: deps.clock.now(), offsetMs: deps.clock.offsetMs }),
    "POST /clock": (body) => {
      const parsed = parseJson(ClockBody, body);
      if (isReply(parsed)) return parsed;
      deps.clock.advance(parsed.advanceMs);
      return json(200, { now: deps.clock.now(), offsetMs: deps.clock.offsetMs });
    },
  };
  for (const r of moduleRoutes) {
    routes[`GET ${r.path}`] = (_body, query) =>
      r.handle(deps.world().section(r.id as ExchangeId), query, deps.clock.now());
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      try {
        const raw = await readRaw(req);
        const route = routes[`${raw.method} ${raw.path}`];
        if (!route) return send(res, json(404, { error: `no route ${raw.method} ${raw.path}` }));
        send(res, route(raw.body, new URLSearchParams(raw.query)));
      } catch (error) {
        if (error instanceof BodyTooLargeError) return send(res, badRequest("body too large"));
        send(res, json(500, { error: (error as Error).message }));
      }
    })();
  };
}
