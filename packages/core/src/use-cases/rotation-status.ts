/**
 * Use case: where each rotation stands, from the journal alone (no vault, no exchange): the run, its
 * slots, its report, and for views that show more, the targets, grace periods and programs.
 */
import type { KeywardHome } from "../home/home.js";
import { type RotationReport, reportOf } from "../rotation/engine.js";
import type { RunRow, SlotRow } from "../rotation/journal.js";
import { describeTarget } from "../rotation/targets/index.js";
import { readOnlyJournal } from "./rotation-common.js";

export interface RotationStatus {
  id: string;
  state: RunRow["state"];
  createdAt: string;
  updatedAt: string;
  options: RunRow["options"];
  report: RotationReport;
  slots: SlotRow[];
}

/** What one run shows. */
export function statusOf(run: RunRow, slots: SlotRow[]): RotationStatus {
  return {
    id: run.id,
    state: run.state,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    options: run.options,
    report: reportOf(run, slots),
    slots,
  };
}

/** The newest runs (at most `limit`, default 20), or the one `runId` names (none if it names none). */
export async function rotationStatus(
  home: KeywardHome,
  query: { runId?: string; limit?: number } = {},
): Promise<{ run: RunRow; slots: SlotRow[]; status: RotationStatus }[]> {
  const journal = readOnlyJournal(home);
  const runs = query.runId
    ? [await journal.run(query.runId)].filter((r) => r !== undefined)
    : await journal.runs({ limit: query.limit ?? 20 });
  const out: { run: RunRow; slots: SlotRow[]; status: RotationStatus }[] = [];
  for (const run of runs) {
    const slots = await journal.slots(run.id);
    out.push({ run, slots, status: statusOf(run, slots) });
  }
  return out;
}

/** Each slot's targets as text, in slot order. */
export const runTargets = (run: Pick<RunRow, "plan">): string[][] =>
  run.plan.slots.map((s) => s.deliver.map(describeTarget));

/**
 * Slots in their grace period and when it ends, from the journal (a resumed slot does not announce its
 * grace period again).
 */
export const graceOf = (slots: readonly SlotRow[]): { slot: number; until: string }[] =>
  slots.flatMap((s) =>
    s.graceUntil && (s.step === "checked" || s.step === "delivered")
      ? [{ slot: s.slot, until: s.graceUntil }]
      : [],
  );
