import { useMemo, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api } from "../api/client";
import type { RunDetail, Step, StepStatus } from "../api/types";
import { fmtCost, fmtDuration, fmtJson, fmtTime } from "../components/format";
import { StatusBadge } from "../components/StatusBadge";
import { ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";
import { ReadOnlyCanvas } from "../editor/ReadOnlyCanvas";
import { workflowOrder } from "./order";
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
  return <RunView run={run.data} refresh={() => void run.reload(true)} />;
}

function StepRow({ nodeId, label, type, step }: { nodeId: string; label: string; type: string; step?: Partial<Step> }) {
  const [open, setOpen] = useState(false);
  const tokens = step && (step.tokens_in != null || step.tokens_out != null) ? `${step.tokens_in ?? 0} → ${step.tokens_out ?? 0}` : "—";
  return (
    <li className="step" data-testid={`step-${nodeId}`}>
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
        </span>
        {step?.status ? <StatusBadge status={step.status} /> : <span className="muted">not started</span>}
        <span>{fmtDuration(step?.duration_ms)}</span>
        <span>{step?.model ?? "—"}</span>
        <span title="tokens in → out">{tokens}</span>
        <span>{fmtCost(step?.cost_usd)}</span>
      </button>
      {open && (
        <div className="step-body">
          {step?.reason ? <p className="muted">{step.reason}</p> : null}
          {step?.attempts != null && step.attempts > 1 ? <p className="muted">Attempts: {step.attempts}</p> : null}
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
        </div>
      )}
    </li>
  );
}

function RunView({ run, refresh }: { run: RunDetail; refresh: () => void }) {
  const types = useApi(() => api.nodeTypes().then((r) => r.results), []);
  const live = useRunEvents(run.id, run.last_seq, {
    initialStatus: run.status,
    // A final status brings timings and cost: refetch the detail once.
    onEvent: (e) => e.type === "run.status" && isFinal(e.data.status) && refresh(),
  });
  const status = live.status ?? run.status;
  const steps = useMemo(() => {
    const by: Record<string, Partial<Step>> = {};
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

  return (
    <main className="page run-page">
      <div className="page-head">
        <h1>
          Run #{run.id}: <Link to={`/workflows/${run.workflow.id}`}>{run.workflow.name}</Link>
        </h1>
        <StatusBadge status={status} testId="run-status" />
      </div>
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
          <li className="step step-header" aria-hidden="true">
            <span />
            <span>Node</span>
            <span>Status</span>
            <span>Duration</span>
            <span>Model</span>
            <span>Tokens</span>
            <span>Cost</span>
          </li>
          {order.map((nodeId) => {
            const n = nodesById.get(nodeId);
            const label = n?.label || (n && typeTitle(n.type)) || nodeId;
            return <StepRow key={nodeId} nodeId={nodeId} label={label} type={n?.type ?? ""} step={steps[nodeId]} />;
          })}
        </ol>
      )}
    </main>
  );
}
