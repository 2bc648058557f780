import { useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, featureApi } from "../api/client";
import type { RunDetail, StepStatus } from "../api/types";
import { fmtCost, fmtDuration, fmtJson, fmtTime } from "../components/format";
import { StatusBadge } from "../components/StatusBadge";
import { ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";
import { ReadOnlyCanvas } from "../editor/ReadOnlyCanvas";
import { workflowOrder } from "./order";
import { StepTries, stepTries, triesSummary, type StepWithTries } from "./StepTries";
import { isFinal, useRunEvents } from "./useRunEvents";

export function RunPage() {
  const { id = "" } = useParams();
  const run = useApi(() => api.run(id), [id]);
  if (run.loading && !run.data) return <Loading label="Loading run…" />;
  if (run.error || !run.data)
    return (
      <main className="page">
        <ErrorBox error={run.error} onRetry={() => void run.reload()} />
      </main>
    );
  return <RunView key={run.data.id} run={run.data} refresh={() => void run.reload(true)} />;
}

const RERUNNABLE = new Set(["succeeded", "failed", "skipped", "outcome_unknown"]);

/** Child runs a `flow.subworkflow` / `logic.loop` step started: from its output, or while it
 * waits from its `request.runs` ({key: run id}). */
function childRunIds(step: unknown): string[] {
  const s = (step ?? {}) as { output?: unknown; request?: unknown };
  const out = (s.output ?? {}) as { run_id?: unknown; run_ids?: unknown };
  if (Array.isArray(out.run_ids)) return out.run_ids.map(String);
  if (typeof out.run_id === "string") return [out.run_id];
  const req = (s.request ?? {}) as { kind?: unknown; runs?: unknown };
  if (req.kind === "children" && req.runs && typeof req.runs === "object") return Object.values(req.runs).map(String);
  return [];
}

interface StepRowProps {
  nodeId: string;
  label: string;
  type: string;
  step?: StepWithTries;
  /** Live (streamed) text of an LLM step, when any arrived on this page. */
  liveText?: string;
  /** Set when the step may start a re-run (the run is final, the step ended). */
  onRerunFrom?: () => void;
  rerunBusy?: boolean;
}

function StepRow({ nodeId, label, type, step, liveText, onRerunFrom, rerunBusy }: StepRowProps) {
  const [open, setOpen] = useState(false);
  const tokens = step && (step.tokens_in != null || step.tokens_out != null) ? `${step.tokens_in ?? 0} → ${step.tokens_out ?? 0}` : "—";
  const running = step?.status === "running" || step?.status === "retrying";
  const tries = stepTries(step);
  const fallback = triesSummary(tries);
  const attemptCount = typeof step?.attempts === "number" ? step.attempts : tries.length || undefined;
  const showLive = liveText !== undefined || (running && type === "llm.prompt");
  return (
    <li className="step" data-testid={`step-${nodeId}`}>
      <div className="step-row">
        <button
          type="button"
          className="step-head"
          aria-expanded={open}
          aria-label={`${label} details`}
          onClick={() => setOpen((o) => !o)}
        >
          <span className="step-caret" aria-hidden="true">{open ? "▾" : "▸"}</span>
          <span className="step-label">
            {label} <span className="muted">{type}</span>
            {step?.round ? (
              <span className="muted" data-testid={`step-round-${nodeId}`}> · round {step.round}</span>
            ) : null}
          </span>
          {step?.status ? <StatusBadge status={step.status} /> : <span className="muted">not started</span>}
          <span>{fmtDuration(step?.duration_ms)}</span>
          <span>{step?.model ?? "—"}</span>
          <span title="tokens in → out">{tokens}</span>
          <span>
            {fmtCost(step?.cost_usd)}
            {step?.children_cost_usd ? (
              <span className="muted" title="spent by this step's child runs">
                {" "}+ {fmtCost(step.children_cost_usd)} in child runs
              </span>
            ) : null}
          </span>
        </button>
        <span className="step-actions">
          {onRerunFrom && (
            <button
              type="button"
              className="btn small"
              disabled={rerunBusy}
              title={`Start a new run that repeats ${label} and everything after it`}
              onClick={onRerunFrom}
            >
              Re-run from here
            </button>
          )}
        </span>
      </div>
      {showLive && (
        <div className={`step-live ${running ? "streaming" : ""}`} data-testid={`step-live-${nodeId}`} aria-live="polite">
          {liveText ? liveText : <span className="muted">Waiting for the model…</span>}
          {running && <span className="live-caret" aria-hidden="true" />}
        </div>
      )}
      {(step?.reason || fallback) && !open ? (
        <p className="step-reason muted">
          {fallback ? <span data-testid={`step-fallback-${nodeId}`}>Tries: {fallback}. </span> : null}
          {step?.reason}
        </p>
      ) : null}
      {open && (
        <div className="step-body">
          {step?.reason && tries.length === 0 ? <p className="muted">{step.reason}</p> : null}
          {attemptCount != null && attemptCount > 1 ? <p className="muted">Attempts: {attemptCount}</p> : null}
          <StepTries nodeId={nodeId} tries={tries} reason={step?.reason} />
          {typeof step?.meta?.copied_from_run === "number" && (
            <p className="muted">
              Copied from <Link to={`/runs/${step.meta.copied_from_run}`}>run #{step.meta.copied_from_run}</Link> (not run again).
            </p>
          )}
          {childRunIds(step).length > 0 && (
            <p className="muted" data-testid={`step-children-${nodeId}`}>
              Child runs: {childRunIds(step).map((rid, i) => (
                <span key={rid}>{i > 0 ? ", " : ""}<Link to={`/runs/${rid}`}>#{rid}</Link></span>
              ))}
            </p>
          )}
          <h4>Inputs</h4>
          <pre className="json">{fmtJson(step?.inputs)}</pre>
          <h4>Output</h4>
          <pre className="json">{fmtJson(step?.output)}</pre>
          {step?.error != null && (
            <>
              <h4>Error</h4>
              <pre className="json json-error">{fmtJson(step.error)}</pre>
            </>
          )}
          {(step?.rounds ?? []).map((r, i) => (
            <div key={i} data-testid={`step-earlier-round-${nodeId}`}>
              <h4>
                Round {r.round ?? i + 1} <span className="muted">({r.status}, before changes were requested)</span>
              </h4>
              <pre className="json">{fmtJson(r.error ?? r.output)}</pre>
            </div>
          ))}
        </div>
      )}
    </li>
  );
}

function RunView({ run, refresh }: { run: RunDetail; refresh: () => void }) {
  const types = useApi(() => api.nodeTypes().then((r) => r.results), []);
  const navigate = useNavigate();
  const [rerunBusy, setRerunBusy] = useState(false);
  const [rerunError, setRerunError] = useState<unknown>(null);
  // While the run is not final, replay its events from the start: the live text of a step that
  // is streaming (or already streamed) is only in the `step.delta` events.
  const live = useRunEvents(run.id, isFinal(run.status) ? run.last_seq : 0, {
    initialStatus: run.status,
    // A final status brings timings and cost: refetch the detail once.
    onEvent: (e) => e.type === "run.status" && isFinal(e.data.status) && refresh(),
  });
  const status = live.status ?? run.status;
  // The socket state starts afresh when the final detail is refetched: keep the last texts seen.
  const keptTexts = useRef(live.texts);
  if (Object.keys(live.texts).length > 0) keptTexts.current = live.texts;
  const texts = Object.keys(live.texts).length > 0 ? live.texts : keptTexts.current;
  const steps = useMemo(() => {
    const by: Record<string, StepWithTries> = {};
    for (const s of run.steps) by[s.node_id] = s;
    for (const [nodeId, patch] of Object.entries(live.steps)) by[nodeId] = { ...by[nodeId], ...patch };
    return by;
  }, [run.steps, live.steps]);
  const statuses = useMemo(() => {
    const out: Record<string, StepStatus | undefined> = {};
    for (const [k, s] of Object.entries(steps)) out[k] = s.status;
    return out;
  }, [steps]);
  const order = useMemo(() => {
    const ids = workflowOrder(run.document);
    return [...ids, ...Object.keys(steps).filter((k) => !ids.includes(k))];
  }, [run.document, steps]);
  const nodesById = useMemo(() => new Map(run.document.nodes.map((n) => [n.id, n])), [run.document]);
  const typeTitle = (key: string) => types.data?.find((t) => t.key === key)?.title;
  const runError = live.runError ?? run.error;
  const final = isFinal(status);

  async function rerun(fromNode?: string) {
    if (rerunBusy) return;
    setRerunBusy(true);
    setRerunError(null);
    try {
      const fresh = await featureApi.rerun(run.id, fromNode);
      navigate(`/runs/${fresh.id}`);
    } catch (e) {
      setRerunError(e);
    } finally {
      setRerunBusy(false);
    }
  }

  return (
    <main className="page run-page">
      <div className="page-head">
        <h1>
          Run #{run.id}: <Link to={`/workflows/${run.workflow.id}`}>{run.workflow.name}</Link>
        </h1>
        <div className="page-head-actions">
          <StatusBadge status={status} testId="run-status" />
          <button
            type="button"
            className="btn"
            disabled={!final || rerunBusy}
            title={final ? "Start a new run of the same version with the same inputs" : "The run has not finished yet"}
            onClick={() => void rerun()}
          >
            Re-run
          </button>
        </div>
      </div>
      {run.rerun_of != null && (
        <p className="muted rerun-of" data-testid="rerun-of">
          Re-run of <Link to={`/runs/${run.rerun_of}`}>#{run.rerun_of}</Link>
          {run.rerun_from_node ? ` from ${nodesById.get(run.rerun_from_node)?.label || run.rerun_from_node}` : ""}
        </p>
      )}
      {rerunError ? <ErrorBox error={rerunError} /> : null}
      <dl className="facts">
        <div><dt>Version</dt><dd>{run.version != null ? `v${run.version}` : "draft"}</dd></div>
        <div><dt>Started by</dt><dd>{run.started_by ?? "—"}</dd></div>
        <div><dt>Started</dt><dd>{fmtTime(run.started_at ?? run.created_at)}</dd></div>
        <div><dt>Finished</dt><dd>{fmtTime(run.finished_at)}</dd></div>
        <div><dt>Duration</dt><dd>{fmtDuration(run.duration_ms)}</dd></div>
        <div><dt>Cost</dt><dd>{fmtCost(run.cost_usd)}</dd></div>
        <div><dt>Live</dt><dd>{isFinal(status) ? "finished" : live.connected ? "connected" : "connecting…"}</dd></div>
      </dl>
      {status === "waiting" && (
        <div className="banner banner-warn" role="status">
          Waiting for review in the inbox. <Link to="/inbox">Open the review inbox</Link>
        </div>
      )}
      {runError != null && (
        <div className="state state-error" role="alert">
          <pre className="json">{fmtJson(runError)}</pre>
        </div>
      )}
      {live.closedReason && <div className="banner banner-error">Live updates stopped: {live.closedReason}</div>}
      <div className="run-canvas" aria-label="Run graph">
        <ReadOnlyCanvas document={run.document} types={types.data ?? []} statuses={statuses} />
      </div>
      <h2>Steps</h2>
      {order.length === 0 ? (
        <p className="muted">This run has no steps.</p>
      ) : (
        <ol className="steps">
          <li className="step step-row" aria-hidden="true">
            <div className="step-header">
              <span />
              <span>Node</span>
              <span>Status</span>
              <span>Duration</span>
              <span>Model</span>
              <span>Tokens</span>
              <span>Cost</span>
            </div>
            <span className="step-actions" />
          </li>
          {order.map((nodeId) => {
            const n = nodesById.get(nodeId);
            const label = n?.label || (n && typeTitle(n.type)) || nodeId;
            const step = steps[nodeId];
            const canRerun = final && !!step?.status && RERUNNABLE.has(step.status) && !!n;
            return (
              <StepRow
                key={nodeId}
                nodeId={nodeId}
                label={label}
                type={n?.type ?? ""}
                step={step}
                liveText={texts[nodeId]}
                rerunBusy={rerunBusy}
                onRerunFrom={canRerun ? () => void rerun(nodeId) : undefined}
              />
            );
          })}
        </ol>
      )}
    </main>
  );
}
