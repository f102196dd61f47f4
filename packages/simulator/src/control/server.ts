/**
 * The control API (loopback only, JSON): inspect and replace the world, act as the person on the
 * exchanges' web pages, read the request log, inject faults and move the clock.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { OffsetClock } from "../clock.js";
import { FaultSpecSchema, type Faults } from "../faults.js";
import { BodyTooLargeError, type Reply, readRaw, send } from "../http-kit.js";
import { isIpOrCidr } from "../ip-whitelist.js";
import type { RequestLog } from "../request-log.js";
import { formatZodError, parseScenario, ScenarioError } from "../scenario.js";
import { hashPassphrase, newBitfinexCredentials, newOkxCredentials, World } from "../world.js";

export interface ControlDeps {
  world(): World;
  replaceWorld(world: World): void;
  clock: OffsetClock;
  faults: Faults;
  log: RequestLog;
  changed(): void;
}

const RevokeBody = z.strictObject({ exchange: z.enum(["okx", "bitfinex"]), apiKey: z.string().min(1) });

const bit = z.union([z.literal(0), z.literal(1)]);
/** What a person does on the real site to create a key: Bitfinex keys, and OKX master keys. */
const CreateBody = z.discriminatedUnion("exchange", [
  z.strictObject({
    exchange: z.literal("bitfinex"),
    userId: z.number().int(),
    label: z.string().min(1),
    permissions: z.array(z.tuple([z.string().min(1), bit, bit])),
    ip: z.array(z.string().refine(isIpOrCidr, "expected an IP address or CIDR range")).max(20).default([]),
  }),
  z.strictObject({
    exchange: z.literal("okx"),
    uid: z.string().min(1),
    label: z.string().min(1),
    perm: z.string().regex(/^(read_only|trade|withdraw)(,(read_only|trade|withdraw))*$/),
    ip: z.string().default(""),
    passphrase: z.string().min(1),
  }),
]);

const ClockBody = z.strictObject({ advanceMs: z.number().int() });

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
        ],
      }),
    "GET /state": () => json(200, deps.world().view(deps.clock.now())),
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
      const parsed = parseJson(CreateBody, body);
      if (isReply(parsed)) return parsed;
      return parsed.exchange === "bitfinex"
        ? createBitfinexKey(deps, parsed)
        : createOkxMasterKey(deps, parsed);
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

function createBitfinexKey(
  deps: ControlDeps,
  body: Extract<z.output<typeof CreateBody>, { exchange: "bitfinex" }>,
): Reply {
  const user = deps.world().bitfinexUser(body.userId);
  if (!user) return json(404, { error: `no bitfinex user ${body.userId}` });
  const { apiKey, apiSecret } = newBitfinexCredentials();
  const key = {
    apiKey,
    apiSecret,
    label: body.label,
    permissions: body.permissions,
    ip: body.ip,
    createdAt: new Date(deps.clock.now()).toISOString(),
    status: "active" as const,
    userId: user.id,
    lastNonce: 0n,
  };
  user.keys.push(key);
  deps.world().bitfinexKeys.set(apiKey, key);
  deps.changed();
  // Shown once, as on the real site.
  return json(201, { apiKey, apiSecret });
}

function createOkxMasterKey(
  deps: ControlDeps,
  body: Extract<z.output<typeof CreateBody>, { exchange: "okx" }>,
): Reply {
  const world = deps.world();
  const account = world.okxAccounts.find((a) => a.uid === body.uid);
  if (!account) return json(404, { error: `no okx account ${body.uid}` });
  const ips = body.ip
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (ips.length > 20 || !ips.every(isIpOrCidr))
    return badRequest("ip: up to 20 IP addresses or CIDR ranges");
  const { apiKey, secretKey } = newOkxCredentials();
  const { salt, hash } = hashPassphrase(body.passphrase);
  const now = deps.clock.now();
  const key = {
    apiKey,
    secretKey,
    passphraseSalt: salt,
    passphraseHash: hash,
    label: body.label,
    perm: body.perm,
    ip: ips,
    ts: now,
    demo: false,
    frozen: false,
    lastUsedAt: now,
    status: "active" as const,
    region: account.region,
    ownerUid: account.uid,
    masterUid: account.uid,
    subAcct: null,
  };
  account.keys.push(key);
  world.okxKeys.set(apiKey, key);
  deps.changed();
  return json(201, { apiKey, secretKey, passphrase: body.passphrase });
}
