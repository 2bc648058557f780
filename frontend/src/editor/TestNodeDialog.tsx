// "Test node": run only the selected node on sample data, without a run (POST .../nodes/{id}/test/).
import { useContext, useEffect, useId, useState, type FormEvent } from "react";
import { api, nodeTestApi, type NodeTestInputs, type NodeTestResult } from "../api/client";
import type { RunDetail } from "../api/types";
import { Dialog } from "../components/Dialog";
import { fmtCost, fmtDuration, fmtJson } from "../components/format";
import { ErrorBox } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { ExpressionEnvContext } from "./context";
import type { FieldOption } from "./upstream";

const STEP_PATH = /^steps\.("(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*)/;

/** The node ids upstream of the node, as the expression picker lists them (`steps.<id>...`). */
export function upstreamIds(fields: FieldOption[]): string[] {
  const ids: string[] = [];
  for (const f of fields) {
    const m = STEP_PATH.exec(f.path);
    if (!m) continue;
    const id = m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1];
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** The sample the dialog starts with: the run's trigger input and its upstream steps' outputs. */
export function sampleInputs(run: RunDetail | null, nodeId: string, upstream: string[]): NodeTestInputs {
  if (!run) return { trigger: {}, steps: {} };
  const steps: Record<string, Record<string, unknown>> = {};
  for (const st of run.steps) {
    if (st.node_id === nodeId || !upstream.includes(st.node_id)) continue;
    if (st.output && typeof st.output === "object" && !Array.isArray(st.output)) {
      steps[st.node_id] = st.output as Record<string, unknown>;
    }
  }
  return { trigger: run.inputs ?? {}, steps };
}

/** Parses the sample text; a message instead when it is not `{"trigger"?: ..., "steps"?: {...}}`. */
export function parseSample(text: string): NodeTestInputs | string {
  let value: unknown;
  try {
    value = JSON.parse(text.trim() || "{}");
  } catch (e) {
    return `Not valid JSON: ${(e as Error).message}`;
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return "The sample must be a JSON object.";
  const unknown = Object.keys(value).filter((k) => k !== "trigger" && k !== "steps");
  if (unknown.length) return `Unknown keys: ${unknown.join(", ")} (use "trigger" and "steps").`;
  const steps = (value as { steps?: unknown }).steps;
  if (steps !== undefined && (!steps || typeof steps !== "object" || Array.isArray(steps)))
    return '"steps" must map node ids to output objects.';
  return value as NodeTestInputs;
}

function Result({ result }: { result: NodeTestResult }) {
  const blocked = result.error?.code === "SIDE_EFFECT_BLOCKED";
  const cost = typeof result.meta?.cost_usd === "number" ? result.meta.cost_usd : null;
  return (
    <div className="test-node-result" data-testid="test-node-result">
      <p className="last-run-meta">
        <StatusBadge status={result.status} /> {fmtDuration(result.duration_ms)}
        {cost !== null ? ` · ${fmtCost(cost)}` : ""}
        {result.ports.length ? ` · fires ${result.ports.join(", ")}` : ""}
      </p>
      {blocked && (
        <p className="state" role="status" data-testid="side-effect-blocked">
          Side effects are blocked in a test: this node would act on the world (send an e-mail or a
          non-GET HTTP request), so it was not run. Run the workflow to try it for real.
        </p>
      )}
      {result.error && (
        <div className="last-run-block">
          <h4>Error</h4>
          <p className="state state-error">
            <code>{result.error.code}</code> {result.error.message}
          </p>
        </div>
      )}
      {result.status === "succeeded" && (
        <div className="last-run-block">
          <h4>Output</h4>
          <pre className="json" data-testid="test-node-output">
            {fmtJson(result.output)}
          </pre>
        </div>
      )}
      {result.status === "waiting" && (
        <div className="last-run-block">
          <h4>Would wait for</h4>
          <pre className="json">{fmtJson(result.request)}</pre>
        </div>
      )}
      {Object.keys(result.inputs ?? {}).length > 0 && (
        <details className="panel-section">
          <summary>Evaluated inputs</summary>
          <pre className="json">{fmtJson(result.inputs)}</pre>
        </details>
      )}
    </div>
  );
}

export function TestNodeDialog({
  workflowId,
  nodeId,
  nodeLabel,
  config,
  runId,
  upstream,
  onClose,
}: {
  workflowId: number;
  nodeId: string;
  nodeLabel: string;
  /** The node's current config (tested as is, even before the autosave). */
  config?: Record<string, unknown>;
  /** A run to take the sample from (null: start with an empty sample). */
  runId: number | null;
  upstream: string[];
  onClose: () => void;
}) {
  const [text, setText] = useState<string | null>(runId == null ? fmtJson(sampleInputs(null, nodeId, [])) : null);
  const [problem, setProblem] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<NodeTestResult | null>(null);
  const inputId = useId();
  const hintId = useId();

  useEffect(() => {
    if (runId == null) return;
    let live = true;
    api.run(runId).then(
      (run) => live && setText(fmtJson(sampleInputs(run, nodeId, upstream))),
      () => live && setText(fmtJson(sampleInputs(null, nodeId, []))),
    );
    return () => {
      live = false;
    };
  }, [runId, nodeId]); // eslint-disable-line react-hooks/exhaustive-deps

  async function submit(e?: FormEvent) {
    e?.preventDefault();
    if (busy || text === null) return;
    const sample = parseSample(text);
    if (typeof sample === "string") {
      setProblem(sample);
      return;
    }
    setProblem("");
    setBusy(true);
    setError(null);
    try {
      setResult(await nodeTestApi.test(workflowId, nodeId, sample, config));
    } catch (err) {
      setResult(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Test node ${nodeLabel}`} onClose={onClose} wide>
      <form className="dialog-form" onSubmit={(e) => void submit(e)} aria-busy={busy}>
        <div className="field">
          <label htmlFor={inputId}>Sample input (JSON)</label>
          {text === null ? (
            <p className="muted">Loading the last run’s data…</p>
          ) : (
            <textarea
              id={inputId}
              className="mono"
              autoFocus
              rows={10}
              spellCheck={false}
              value={text}
              aria-describedby={hintId}
              aria-invalid={problem ? true : undefined}
              onChange={(e) => setText(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void submit();
              }}
            />
          )}
          <p id={hintId} className="muted small-text">
            {runId != null ? "From the last run: " : ""}
            <code>trigger</code> is the trigger’s input, <code>steps</code> the outputs of the nodes before this
            one. Only this node runs, nothing is stored, and nothing is sent (e-mail, non-GET HTTP); LLM calls
            are made. Ctrl+Enter runs the test.
          </p>
          {problem && (
            <p className="state state-error" role="alert" data-testid="test-node-problem">
              {problem}
            </p>
          )}
        </div>
        <div className="dialog-actions">
          <button type="submit" className="btn primary" disabled={busy || text === null} data-testid="run-node-test">
            {busy ? "Testing…" : "Run test"}
          </button>
          <button type="button" className="btn" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
      <div aria-live="polite">
        {busy || error || result ? (
          <div className="dialog-form">
            {busy && <p className="muted">Running the node…</p>}
            {error ? <ErrorBox error={error} /> : null}
            {result && !busy && <Result result={result} />}
          </div>
        ) : null}
      </div>
    </Dialog>
  );
}

/** The config panel's "Test node" button (hidden when read-only or outside the editor). */
export function TestNodeButton({
  nodeId,
  label,
  config,
  hidden = false,
}: {
  nodeId: string;
  label: string;
  config?: Record<string, unknown>;
  hidden?: boolean;
}) {
  const env = useContext(ExpressionEnvContext);
  const [open, setOpen] = useState(false);
  if (hidden || !env) return null;
  return (
    <>
      <button type="button" className="btn small" data-testid="open-node-test" onClick={() => setOpen(true)}>
        Test node…
      </button>
      {open && (
        <TestNodeDialog
          workflowId={env.workflowId}
          nodeId={nodeId}
          nodeLabel={label}
          config={config}
          runId={env.runId}
          upstream={upstreamIds(env.fields)}
          onClose={() => setOpen(false)}
        />
      )}
    </>
  );
}
