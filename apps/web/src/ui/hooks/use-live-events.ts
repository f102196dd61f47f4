/**
 * Follows a job's Server-Sent Events (revoke jobs and rotation runs): each event of the given types is
 * handed to `onEvent`, whose answer (a line, or nothing) goes to the live log; the stream's `end` closes
 * it and calls `onEnd`. `url` undefined: not following (the log is kept). The stream is read with fetch
 * (api.ts streamEvents) so it carries the session's secret; a dropped stream is picked up again after
 * the last event seen, as EventSource would.
 */
import { useEffect, useRef, useState } from "react";
import { streamEvents } from "../api.js";

export type EventData = Record<string, unknown>;

const LOG_LINES = 200;

export function useLiveEvents(
  url: string | undefined,
  types: readonly string[],
  onEvent: (type: string, data: EventData) => string | undefined,
  onEnd: () => void,
): { log: string[]; live: boolean } {
  const [log, setLog] = useState<string[]>([]);
  const [live, setLive] = useState(false);
  const handlers = useRef({ types, onEvent, onEnd });
  handlers.current = { types, onEvent, onEnd };

  useEffect(() => {
    if (!url) return;
    const abort = new AbortController();
    let lastId: string | undefined;
    let ended = false;
    const follow = async () => {
      while (!ended && !abort.signal.aborted) {
        try {
          await streamEvents(
            url,
            lastId,
            {
              onOpen: () => setLive(true),
              onEvent: (type, data, id) => {
                if (id) lastId = id;
                if (type === "end") {
                  ended = true;
                  setLive(false);
                  handlers.current.onEnd();
                  return;
                }
                if (!handlers.current.types.includes(type)) return;
                const line = handlers.current.onEvent(type, JSON.parse(data) as EventData);
                if (line)
                  setLog((l) => [
                    ...l.slice(-(LOG_LINES - 1)),
                    `${new Date().toLocaleTimeString()}  ${line}`,
                  ]);
              },
            },
            abort.signal,
          );
        } catch {
          // Network error or a refused stream: shown as not live, tried again below.
        }
        setLive(false);
        if (!ended && !abort.signal.aborted) await new Promise((r) => setTimeout(r, 2_000));
      }
    };
    void follow();
    return () => abort.abort();
  }, [url]);

  return { log, live };
}
