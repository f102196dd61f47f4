/**
 * A bulk job's title, for its page's h1 and the browser tab: what is happening while it runs ("Revoking 4
 * keys"), what happened once it is over ("Revoked 3 keys; 1 failed"), with every key that did not end
 * well counted in words, so a tab left in the background says how the job ended.
 */
import { PROVEN_WORDS, REVOKE_OUTCOME_WORDS, ROTATION_OUTCOME_WORDS } from "@keyward/core/browser";
import { useEffect } from "react";

const keys = (n: number) => `${n} key${n === 1 ? "" : "s"}`;

/** "1 failed, 2 waiting for a person": the non-zero parts, in order. */
const partsOf = (parts: [number, string][]) =>
  parts
    .filter(([n]) => n > 0)
    .map(([n, words]) => `${n} ${words}`)
    .join(", ");

export interface RevokeCounts {
  total: number;
  /** Revoked (or already revoked) and proven dead. */
  proven: number;
  waiting: number;
  failed: number;
  disabledOnly: number;
  /** Revoked but not proven dead (still listed or still answering). */
  unproven: number;
}

/** The revoke job's title: "Revoking 4 keys" while it runs, "Revoked 3 keys; 1 failed" once over. */
export function revokeTitle(status: "running" | "waiting" | "finished" | "error", c: RevokeCounts): string {
  if (status === "running" || status === "waiting") return `Revoking ${keys(c.total)}`;
  if (status === "error") return `The revoke of ${keys(c.total)} could not run`;
  const rest = partsOf([
    [c.unproven, PROVEN_WORDS.no.toLowerCase()],
    [c.waiting, REVOKE_OUTCOME_WORDS["awaiting-manual"]],
    [c.disabledOnly, REVOKE_OUTCOME_WORDS.disabled],
    [c.failed, REVOKE_OUTCOME_WORDS.failed],
  ]);
  return `Revoked ${keys(c.proven)}${rest ? `; ${rest}` : ""}`;
}

export interface RotationCounts {
  total: number;
  finished: number;
  waiting: number;
  failed: number;
  aborted: number;
}

/** The rotation's title: "Rotating 4 keys", "Rotated 3 keys; 1 failed", "Rotation aborted: …". */
export function rotationTitle(
  state: "active" | "finished" | "aborted",
  running: boolean,
  c: RotationCounts,
): string {
  const rest = partsOf([
    [c.waiting, ROTATION_OUTCOME_WORDS.waiting],
    [c.failed, ROTATION_OUTCOME_WORDS.failed],
    [c.aborted, "undone"],
  ]);
  if (state === "aborted") return `Rotation aborted: ${keys(c.finished)} rotated${rest ? `, ${rest}` : ""}`;
  if (state === "active" && running) return `Rotating ${keys(c.total)}`;
  if (state === "active")
    return `Rotation paused: ${keys(c.finished)} of ${c.total} rotated${rest ? `, ${rest}` : ""}`;
  return `Rotated ${keys(c.finished)}${rest ? `; ${rest}` : ""}`;
}

/** A key create's title (`key create`, the New key page): "Creating 1 key", "Created 1 key", … */
export function createTitle(
  state: "active" | "finished" | "aborted",
  running: boolean,
  c: RotationCounts,
): string {
  const rest = partsOf([
    [c.waiting, "waiting for a person"],
    [c.failed, "failed"],
    [c.aborted, "undone"],
  ]);
  if (state === "aborted") return `Key create aborted: ${keys(c.finished)} created${rest ? `, ${rest}` : ""}`;
  if (state === "active" && running) return `Creating ${keys(c.total)}`;
  if (state === "active")
    return `Key create paused: ${keys(c.finished)} of ${c.total} created${rest ? `, ${rest}` : ""}`;
  return `Created ${keys(c.finished)}${rest ? `; ${rest}` : ""}`;
}

/**
 * The browser tab's title: the open page's name ("Audit log — Keyward"), or, while a job's page is open,
 * the job's title over it. Kept here rather than in each effect's cleanup, so the order React runs the
 * shell's and a job page's effects in cannot leave the wrong one in the tab.
 */
let pageTitle: string | undefined;
const jobTitles: { title: string }[] = [];
const showTitle = () => {
  const title = jobTitles.at(-1)?.title ?? pageTitle;
  document.title = title ? `${title} — Keyward` : "Keyward";
};

/** Names the open page in the browser tab (the shell calls it with the page's nav name). */
export function usePageTitle(title: string): void {
  useEffect(() => {
    pageTitle = title;
    showTitle();
  }, [title]);
}

/** Shows `title` in the browser tab while the page is open, then puts the page's title back. */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    const entry = { title };
    jobTitles.push(entry);
    showTitle();
    return () => {
      jobTitles.splice(jobTitles.indexOf(entry), 1);
      showTitle();
    };
  }, [title]);
}
