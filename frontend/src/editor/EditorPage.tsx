import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useReducer, useRef, useState, type DragEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { api, ApiError } from "../api/client";
import type { Issue, NodeType, RunStatus, StaleRevisionDetails, WorkflowDetail } from "../api/types";
import { fmtTime } from "../components/format";
import { StatusBadge } from "../components/StatusBadge";
import { ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";
import { useRunEvents } from "../runs/useRunEvents";
import { NodePanel, WorkflowPanel } from "./ConfigPanel";
import { nodeTypes } from "./nodeTypes";
import { DRAG_MIME, Palette } from "./Palette";
import { PublishDialog } from "./PublishDialog";
import { RunDialog } from "./RunDialog";
import { indexNodeTypes, toDocument } from "./serialize";
import { editorReducer, initialEditorState, isDirty } from "./store";

const FIT_VIEW = { padding: 0.2, maxZoom: 1 };

export function EditorPage() {
  const { id = "" } = useParams();
  const wf = useApi(() => api.workflow(id), [id]);
  const types = useApi(() => api.nodeTypes(), []);
  if ((wf.loading && !wf.data) || (types.loading && !types.data)) return <Loading label="Loading workflow…" />;
  if (wf.error || !wf.data) return <main className="page"><ErrorBox error={wf.error} onRetry={() => void wf.reload()} /></main>;
  if (types.error || !types.data)
    return <main className="page"><ErrorBox error={types.error} onRetry={() => void types.reload()} /></main>;
  return (
    <ReactFlowProvider>
      <Editor key={wf.data.id} workflow={wf.data} types={types.data.results} />
    </ReactFlowProvider>
  );
}

type SaveState = { kind: "idle" } | { kind: "saving" } | { kind: "error"; error: unknown };

function Editor({ workflow, types }: { workflow: WorkflowDetail; types: NodeType[] }) {
  const index = useMemo(() => indexNodeTypes(types), [types]);
  const [state, dispatch] = useReducer(editorReducer, initialEditorState, (s) =>
    editorReducer(s, { type: "load", document: workflow.document, nodeTypes: index }),
  );
  const [wf, setWf] = useState(workflow);
  const [meta, setMeta] = useState({ name: workflow.name, description: workflow.description ?? "" });
  const [metaDirty, setMetaDirty] = useState(false);
  const [issues, setIssues] = useState<Issue[] | null>(workflow.issues ?? null);
  const [showIssues, setShowIssues] = useState(false);
  const [save, setSave] = useState<SaveState>({ kind: "idle" });
  const [stale, setStale] = useState<StaleRevisionDetails | null>(null);
  const [dialog, setDialog] = useState<"run" | "publish" | null>(null);
  const [run, setRun] = useState<{ id: number; status: RunStatus } | null>(null);
  const [notice, setNotice] = useState<unknown>(null);
  const { screenToFlowPosition } = useReactFlow();
  const readOnly = !wf.can_edit;
  const dirty = isDirty(state) || metaDirty;

  const live = useRunEvents(run?.id ?? null, 0);
  useEffect(() => {
    const statuses: Record<string, NonNullable<(typeof live.steps)[string]["status"]>> = {};
    for (const [nodeId, s] of Object.entries(live.steps)) if (s.status) statuses[nodeId] = s.status;
    dispatch({ type: "setStatuses", statuses });
  }, [live.steps]);
  const runStatus = live.status ?? run?.status;

  const applyIssues = useCallback((list: Issue[]) => {
    setIssues(list);
    dispatch({ type: "setIssues", issues: list });
  }, []);

  // Latest values for callbacks bound to window events.
  const latest = useRef({ state, wf, meta, metaDirty, readOnly });
  latest.current = { state, wf, meta, metaDirty, readOnly };

  const doSave = useCallback(async (): Promise<WorkflowDetail | null> => {
    const { state: s, wf: w, meta: m, metaDirty: md, readOnly: ro } = latest.current;
    if (ro) return w;
    setSave({ kind: "saving" });
    try {
      const saved = await api.updateWorkflow(w.id, {
        document: toDocument(s.nodes, s.edges),
        revision: w.revision,
        ...(md ? { name: m.name, description: m.description } : {}),
      });
      setWf(saved);
      setMetaDirty(false);
      dispatch({ type: "markSaved", version: s.version });
      if (saved.issues) applyIssues(saved.issues);
      setSave({ kind: "idle" });
      setStale(null);
      return saved;
    } catch (err) {
      if (err instanceof ApiError && err.code === "STALE_REVISION") {
        setStale((err.details as StaleRevisionDetails) ?? { current_revision: 0, updated_by: null, updated_at: "" });
        setSave({ kind: "idle" });
      } else {
        setSave({ kind: "error", error: err });
      }
      return null;
    }
  }, [applyIssues]);

  const reload = useCallback(async () => {
    try {
      const fresh = await api.workflow(wf.id);
      dispatch({ type: "load", document: fresh.document, nodeTypes: index });
      setWf(fresh);
      setMeta({ name: fresh.name, description: fresh.description ?? "" });
      setMetaDirty(false);
      setStale(null);
      setIssues(fresh.issues ?? null);
      setSave({ kind: "idle" });
    } catch (err) {
      setNotice(err);
    }
  }, [wf.id, index]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") {
        e.preventDefault();
        void doSave();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [doSave]);

  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  async function validate() {
    setNotice(null);
    try {
      const res = await api.validateWorkflow(wf.id, toDocument(state.nodes, state.edges));
      applyIssues(res.issues);
      setShowIssues(true);
    } catch (err) {
      setNotice(err);
    }
  }

  async function openRun() {
    setNotice(null);
    if (dirty && !readOnly) {
      const saved = await doSave();
      if (!saved) return;
    }
    setDialog("run");
  }

  async function startRun(inputs: Record<string, unknown>) {
    const r = await api.startRun(wf.id, inputs, "draft");
    dispatch({ type: "setStatuses", statuses: {} });
    setRun({ id: r.id, status: r.status });
    setDialog(null);
  }

  async function openPublish() {
    setNotice(null);
    if (dirty) {
      const saved = await doSave();
      if (!saved) return;
    }
    setDialog("publish");
  }

  async function publish(note: string): Promise<number> {
    const v = await api.publishWorkflow(wf.id, note || undefined);
    setWf((w) => ({ ...w, published_version: v.number }));
    return v.number;
  }

  const onConnect = useCallback(
    (c: Connection) => dispatch({ type: "connect", ...c }),
    [],
  );

  function onDrop(e: DragEvent) {
    e.preventDefault();
    const key = e.dataTransfer.getData(DRAG_MIME);
    const t = index[key];
    if (!t || readOnly) return;
    dispatch({ type: "addNode", nodeType: t, position: screenToFlowPosition({ x: e.clientX, y: e.clientY }) });
  }

  const selected = state.nodes.filter((n) => n.selected);
  const selectedNode = selected.length === 1 ? selected[0] : null;
  const saveLabel =
    save.kind === "saving" ? "Saving…" : save.kind === "error" ? "Save failed" : dirty ? "Unsaved changes" : "Saved";

  return (
    <div className="editor">
      <div className="toolbar" role="toolbar" aria-label="Workflow actions">
        <h1 className="toolbar-title" title={meta.name}>
          {meta.name}
        </h1>
        <span className={`save-state ${dirty ? "dirty" : ""}`} data-testid="save-state" aria-live="polite">
          {saveLabel}
        </span>
        {wf.published_version != null && <span className="muted">published v{wf.published_version}</span>}
        <div className="toolbar-actions">
          <button type="button" className="btn" onClick={() => void doSave()} disabled={readOnly || save.kind === "saving"}>
            Save
          </button>
          <button type="button" className="btn" onClick={() => void validate()}>
            Validate
          </button>
          <button type="button" className="btn" onClick={() => void openPublish()} disabled={readOnly}>
            Publish
          </button>
          <button type="button" className="btn primary" onClick={() => void openRun()} disabled={!wf.can_run}>
            Run
          </button>
          {run && (
            <span className="run-info">
              Run #{run.id} <StatusBadge status={runStatus} testId="run-status" />{" "}
              <Link to={`/runs/${run.id}`}>Open run page</Link>
            </span>
          )}
        </div>
      </div>
      {stale && (
        <div className="banner banner-warn" role="alert">
          This workflow was changed by {stale.updated_by ?? "someone else"} at {fmtTime(stale.updated_at)}.{" "}
          <button type="button" className="btn small" onClick={() => void reload()}>
            Reload
          </button>
        </div>
      )}
      {save.kind === "error" && <ErrorBox error={save.error} />}
      {notice ? <ErrorBox error={notice} /> : null}
      {showIssues && issues && (
        <div className={`banner ${issues.length ? "banner-error" : "banner-ok"}`} role="status" data-testid="validation-result">
          {issues.length === 0 ? (
            "✓ The workflow is valid."
          ) : (
            <>
              <strong>{issues.length} problem{issues.length > 1 ? "s" : ""}:</strong>
              <ul className="issues">
                {issues.map((i, k) => (
                  <li key={k}>
                    <code>{i.code}</code> {i.message}
                    {i.node_id ? <span className="muted"> ({i.node_id})</span> : null}
                  </li>
                ))}
              </ul>
            </>
          )}
          <button type="button" className="icon-btn" aria-label="Dismiss validation result" onClick={() => setShowIssues(false)}>
            ×
          </button>
        </div>
      )}
      {live.closedReason && <div className="banner banner-error">Live updates stopped: {live.closedReason}</div>}
      <div className="editor-main">
        <Palette
          types={types}
          disabled={readOnly}
          onAdd={(t) => dispatch({ type: "addNode", nodeType: t })}
        />
        <div className="canvas" onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = "move"; }} onDrop={onDrop}>
          <ReactFlow
            nodes={state.nodes}
            edges={state.edges}
            nodeTypes={nodeTypes}
            onNodesChange={(changes) => dispatch({ type: "nodesChange", changes })}
            onEdgesChange={(changes) => dispatch({ type: "edgesChange", changes })}
            onConnect={onConnect}
            isValidConnection={(c) => c.source !== c.target}
            deleteKeyCode={readOnly ? null : ["Delete", "Backspace"]}
            nodesDraggable={!readOnly}
            nodesConnectable={!readOnly}
            fitView
            fitViewOptions={FIT_VIEW}
            proOptions={{ hideAttribution: true }}
          >
            <Background />
            <MiniMap pannable zoomable ariaLabel="Mini map" />
            <Controls fitViewOptions={FIT_VIEW} />
          </ReactFlow>
        </div>
        {selectedNode ? (
          <NodePanel
            key={selectedNode.id}
            node={selectedNode}
            readOnly={readOnly}
            onLabel={(label) => dispatch({ type: "updateLabel", id: selectedNode.id, label })}
            onConfig={(config) => dispatch({ type: "updateConfig", id: selectedNode.id, config })}
            onDelete={() => dispatch({ type: "deleteNodes", ids: [selectedNode.id] })}
          />
        ) : (
          <WorkflowPanel
            name={meta.name}
            description={meta.description}
            readOnly={readOnly}
            issues={issues}
            onName={(name) => {
              setMeta((m) => ({ ...m, name }));
              setMetaDirty(true);
            }}
            onDescription={(description) => {
              setMeta((m) => ({ ...m, description }));
              setMetaDirty(true);
            }}
            onSelect={(nodeId) => dispatch({ type: "select", id: nodeId })}
          />
        )}
      </div>
      {dialog === "run" && (
        <RunDialog fields={wf.trigger_fields ?? []} onStart={startRun} onClose={() => setDialog(null)} />
      )}
      {dialog === "publish" && (
        <PublishDialog
          onPublish={publish}
          onIssues={(list) => applyIssues(list)}
          onClose={() => setDialog(null)}
        />
      )}
    </div>
  );
}

