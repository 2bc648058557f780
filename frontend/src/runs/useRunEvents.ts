// Live run events over /ws/runs/{id}/?after=<seq>, with replay-aware reconnects.
import { useEffect, useRef, useState } from "react";
import { FINAL_RUN_STATUSES, type RunEvent, type RunStatus, type Step, type StepDeltaEvent } from "../api/types";
import { mergeDelta, type LiveTexts } from "./deltas";

export interface RunEventsState {
  /** Latest run status seen on the socket (undefined until one arrives). */
  status: RunStatus | undefined;
  runError: unknown;
  /** Step patches by node id, merged from every `step.status` event. */
  steps: Record<string, Partial<Step>>;
  /** Live text of streaming LLM steps by node id (`step.delta`, see deltas.ts). */
  texts: LiveTexts;
  lastSeq: number;
  connected: boolean;
  /** Set when the server refused the socket (4401/4404). */
  closedReason: string | null;
}

export function isFinal(status: string | null | undefined): boolean {
  return !!status && (FINAL_RUN_STATUSES as readonly string[]).includes(status);
}

export function runSocketUrl(runId: number | string, after: number, loc: Location = window.location): string {
  const proto = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${loc.host}/ws/runs/${runId}/?after=${after}`;
}

const EMPTY: RunEventsState = {
  status: undefined,
  runError: null,
  steps: {},
  texts: {},
  lastSeq: 0,
  connected: false,
  closedReason: null,
};

/**
 * Subscribes to a run's events. `initialLastSeq` is the `last_seq` of the detail already
 * on screen (0 for a fresh run). Stops once the run is final; pass `initialStatus` so a
 * finished run does not connect at all.
 */
export function useRunEvents(
  runId: number | string | null | undefined,
  initialLastSeq: number,
  options: { initialStatus?: RunStatus; onEvent?: (e: RunEvent) => void } = {},
): RunEventsState {
  const [state, setState] = useState<RunEventsState>(EMPTY);
  const onEventRef = useRef(options.onEvent);
  onEventRef.current = options.onEvent;
  const initialFinal = isFinal(options.initialStatus);

  useEffect(() => {
    setState({ ...EMPTY, lastSeq: initialLastSeq });
    if (runId == null || runId === "" || initialFinal || typeof WebSocket === "undefined") return;
    let lastSeq = initialLastSeq;
    let stopped = false;
    let socket: WebSocket | null = null;
    let timer: number | undefined;
    let attempt = 0;

    const connect = () => {
      if (stopped) return;
      const ws = new WebSocket(runSocketUrl(runId, lastSeq));
      socket = ws;
      ws.onopen = () => {
        attempt = 0;
        setState((s) => ({ ...s, connected: true }));
      };
      ws.onmessage = (msg) => {
        let ev: RunEvent | StepDeltaEvent;
        try {
          ev = JSON.parse(String(msg.data)) as RunEvent | StepDeltaEvent;
        } catch {
          return;
        }
        if (typeof ev.seq === "number") {
          if (ev.seq <= lastSeq) return; // already seen (replay overlap)
          lastSeq = ev.seq;
        }
        setState((s) => {
          const next: RunEventsState = { ...s, lastSeq, texts: mergeDelta(s.texts, ev) };
          if (ev.type === "step.status" && ev.node_id) {
            next.steps = { ...s.steps, [ev.node_id]: { ...s.steps[ev.node_id], ...ev.data, node_id: ev.node_id } };
          } else if (ev.type === "run.status") {
            next.status = ev.data.status;
            next.runError = ev.data.error ?? null;
          }
          return next;
        });
        if (ev.type !== "step.delta") onEventRef.current?.(ev);
        if (ev.type === "run.status" && isFinal(ev.data.status)) {
          stopped = true;
          ws.close(1000);
        }
      };
      ws.onclose = (e) => {
        setState((s) => ({ ...s, connected: false }));
        if (stopped) return;
        if (e.code === 4401 || e.code === 4404) {
          setState((s) => ({
            ...s,
            closedReason: e.code === 4401 ? "Not signed in" : "Run not found",
          }));
          return;
        }
        const delay = Math.min(15000, 500 * 2 ** attempt);
        attempt += 1;
        timer = window.setTimeout(connect, delay);
      };
    };
    connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      if (socket && socket.readyState <= 1) socket.close(1000);
    };
  }, [runId, initialLastSeq, initialFinal]);

  return state;
}
