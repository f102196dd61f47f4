/**
 * The table every benchmark prints: per row the measured time, its bound, their ratio and the rate-limit
 * rejections counted (a blank where a row counts none, "-" where a figure does not apply).
 */
import { ratio } from "./bound.js";

export interface Phase {
  name: string;
  measuredMs: number;
  boundMs: number;
  /** NaN: the row counts no rejections (its phase is part of another row that does). */
  rejections: number;
}

const seconds = (ms: number) =>
  Number.isNaN(ms) ? "-".padStart(9) : `${(ms / 1000).toFixed(2)} s`.padStart(9);

/** The header and one line per phase, names padded to `width`. */
export function phaseTable(phases: readonly Phase[], width: number): string {
  const rows = phases.map((p) => {
    const r = ratio(p.measuredMs, p.boundMs);
    const ratioCell = Number.isNaN(r) ? "   -  " : `${r.toFixed(2)}x`.padStart(6);
    const rejectionsCell = Number.isNaN(p.rejections) ? "" : String(p.rejections).padStart(10);
    return `${p.name.padEnd(width)} ${seconds(p.measuredMs)} ${seconds(p.boundMs)}  ${ratioCell}  ${rejectionsCell}\n`;
  });
  return `\n${"".padEnd(width)}  measured     bound   ratio  rejections\n${rows.join("")}`;
}
