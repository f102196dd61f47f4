/**
 * The selection (and with it the nav's Revoke badge) once a revoke job ends: its keys leave the selection,
 * except those that failed (still live: selected again for a retry). Followed here, in the shell, because
 * the person may leave the revoke page while the job runs: the page's own "done" then never fires, and the
 * badge kept counting keys long revoked.
 */
import { useEffect, useState } from "react";
import { api, call, type JobView } from "../api.js";

type SetSelected = (update: (prev: ReadonlySet<string>) => ReadonlySet<string>) => void;

/** The selection without the job's keys that are done (every outcome but a failure). */
export function withoutDone(prev: ReadonlySet<string>, job: JobView): ReadonlySet<string> {
  const done = new Set(job.results.filter((r) => r.outcome !== "failed" && !r.pending).map((r) => r.id));
  const next = new Set([...prev].filter((id) => !done.has(id)));
  return next.size === prev.size ? prev : next;
}

/** How often the shell asks whether the followed job ended (the revoke page itself follows it live). */
const POLL_MS = 1500;

/** Follows one revoke job until it ends, then takes its done keys out of the selection; returns `follow`. */
export function useRevokeJobEnd(setSelected: SetSelected): (jobId: string) => void {
  const [jobId, follow] = useState<string | undefined>();
  useEffect(() => {
    if (!jobId) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const tick = async () => {
      try {
        const job = await call(api.revoke.jobs[":id"].$get({ param: { id: jobId } }));
        if (job.status !== "running" && job.status !== "waiting") {
          setSelected((prev) => withoutDone(prev, job));
          follow(undefined);
          return;
        }
      } catch {
        // A blip (the server restarting, the network): ask again at the next round.
      }
      if (!stopped) timer = setTimeout(() => void tick(), POLL_MS);
    };
    timer = setTimeout(() => void tick(), POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [jobId, setSelected]);
  return follow;
}
