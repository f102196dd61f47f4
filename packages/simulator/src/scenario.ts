/**
 * The scenario file: the whole simulated world (accounts, sub-accounts, keys) as JSON, one optional
 * section per exchange (`{"<id>": …}`), each defined and checked by its module. Field names mirror the
 * exchanges' own so a fixture reads like their API answers.
 */
import { z } from "zod";
import type { ScenarioRules } from "./exchange-module.js";
import { EXCHANGES, type ExchangeId, type ModuleOf } from "./exchanges.js";
import { formatZodError, ScenarioError } from "./scenario-kit.js";

export { formatIssuePath, formatZodError, ScenarioError } from "./scenario-kit.js";

const sections = Object.fromEntries(EXCHANGES.map((m) => [m.id, m.scenario.optional()])) as {
  [Id in ExchangeId]: z.ZodOptional<ModuleOf<Id>["scenario"]>;
};

export const ScenarioSchema = z.strictObject(sections);

export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Scenario = z.output<typeof ScenarioSchema>;

/** Validates a scenario, then checks the rules a schema cannot express (unique ids and labels). */
export function parseScenario(input: unknown): Scenario {
  const result = ScenarioSchema.safeParse(input);
  if (!result.success) throw new ScenarioError(formatZodError(result.error));
  const scenario = result.data;
  const claim = (set: Set<string>, value: string, where: string, what: string) => {
    if (set.has(value)) throw new ScenarioError(`${where}: duplicate ${what} "${value}"`);
    set.add(value);
  };
  // API keys are unique across every exchange of the scenario.
  const seenKeys = new Set<string>();
  const rules: ScenarioRules = {
    claim,
    claimApiKey: (apiKey, where) => claim(seenKeys, apiKey, where, "apiKey"),
    fail: (message) => {
      throw new ScenarioError(message);
    },
  };
  for (const module of EXCHANGES) {
    const section = scenario[module.id];
    // Each module checks its own section; the cast pairs a module with its section (both by id).
    if (section) (module.checkScenario as (s: unknown, r: ScenarioRules) => void)(section, rules);
  }
  return scenario;
}

/** Parses scenario text (a file's content); `source` names the file in errors. */
export function parseScenarioText(text: string, source: string): Scenario {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  try {
    return parseScenario(json);
  } catch (error) {
    if (error instanceof ScenarioError) throw new ScenarioError(`${source}: ${error.message}`);
    throw error;
  }
}
