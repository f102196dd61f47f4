/**
 * Follows a job's Server-Sent Events (revoke jobs and rotation runs): each event of the given types is
 * handed to `onEvent`, whose answer (a line, or nothing) goes to the live log; the stream's `end` closes
 * it and calls `onEnd`. `url` undefined: not following (the log is kept).
 */
import { useEffect, useRef, useState } from "react";

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
    const source = new EventSource(url);
    for (const type of handlers.current.types) {
      source.addEventListener(type, ((e: MessageEvent<string>) => {
        const line = handlers.current.onEvent(type, JSON.parse(e.data) as EventData);
        if (line)
          setLog((l) => [...l.slice(-(LOG_LINES - 1)), `${new Date().toLocaleTimeString()}  ${line}`]);
      }) as EventListener);
    }
    source.addEventListener("end", () => {
      source.close();
      setLive(false);
      handlers.current.onEnd();
    });
    source.onopen = () => setLive(true);
    source.onerror = () => setLive(false);
    return () => source.close();
  }, [url]);

  return { log, live };
}
