/** The `POST /faults` body: the shared switches (faults.ts) and every module's own, in registry order. */
import { z } from "zod";
import { EXCHANGE_IDS } from "./exchanges.js";
import { SHARED_FAULT_FIELDS } from "./faults.js";
import { MODULES } from "./world.js";

const moduleFields: Record<string, z.ZodType> = Object.assign({}, ...MODULES.map((m) => m.faultFields ?? {}));

export const FaultSpecSchema = z.strictObject({
  /** Limit the spec to one exchange; without it the spec applies to every exchange. */
  exchange: z.enum(EXCHANGE_IDS).optional(),
  ...SHARED_FAULT_FIELDS,
  ...moduleFields,
});
export type FaultSpecInput = z.input<typeof FaultSpecSchema>;
