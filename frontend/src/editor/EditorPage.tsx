import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  SelectionMode,
  useReactFlow,
  type Connection,
  type Edge,
  type FinalConnectionState,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useReducer, useRef, useState, type DragEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { api, ApiError, editorApi } from "../api/client";
import type {
  Issue,
  JsonSchema,
  NodeType,
  NodeTypeList,
  RunStatus,
  StaleRevisionDetails,
  Step,
  WorkflowDetail,
} from "../api/types";
import { fmtTime } from "../components/format";
import { onInboxChanged } from "../components/inboxEvents";
import { StatusBadge } from "../components/StatusBadge";
import { ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";
import { useRunEvents } from "../runs/useRunEvents";
import { AUTOSAVE_DELAY_MS, canAutosave, Debouncer, readAutosavePref, writeAutosavePref } from "./autosave";
import { readClipboard, writeClipboard } from "./clipboard";
import { NodePanel, SelectionPanel, WorkflowPanel } from "./ConfigPanel";
import { EditorActionsContext, ExpressionEnvContext, RunStepsContext, type EditorActions, type ExpressionEnv } from "./context";
import { runDataOf, useLatestRun, useUpstreamFields } from "./lastRun";
import { nodeTypes } from "./nodeTypes";
import { DRAG_MIME, NOTE_MIME, Palette } from "./Palette";
import { PublishDialog, type PublishOutcome } from "./PublishDialog";
import type { ReviewedVersion } from "./apiTypes";
import { reviewStatusOf, watchReviewStatus } from "./reviewStatus";
import { RunDialog } from "./RunDialog";
import { indexNodeTypes } from "./serialize";
import { ShareButton } from "./ShareDialog";
import { ShortcutsDialog } from "./ShortcutsDialog";
import { VersionsDialog } from "./VersionsDialog";
import { WebhookDialog } from "./WebhookDialog";
import {
  canRedo,
  canUndo,
  connectionProblem,
  documentOf,
  editorReducer,
  initialEditorState,
  isDirty,
  PASTE_OFFSET,
  selectionPayload,
  type FlowNode,
} from "./store";

const FIT_VIEW = { padding: 0.2, maxZoom: 1 };
const MULTI_SELECT_KEYS = ["Meta", "Control"];

/** Keys typed into a field belong to the field, not to the canvas shortcuts. */
function isEditable(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || !!target.closest("input, textarea, select, [contenteditable='true']");
}

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
      <Editor
        key={wf.data.id}
        workflow={wf.data}
        types={types.data.results}
        settingsSchema={(types.data as NodeTypeList).settings_schema}
      />
    </ReactFlowProvider>
  );
}

type SaveState = { kind: "idle" } | { kind: "saving" } | { kind: "error"; error: unknown };

function Editor({
  workflow,
  types,
  settingsSchema,
}: {
  workflow: WorkflowDetail;
  types: NodeType[];
  settingsSchema?: JsonSchema;
}) {
  const index = useMemo(() => indexNodeTypes(types), [types]);
  const [state, dispatch] = useReducer(editorReducer, initialEditorState, (s) => {
    const loaded = editorReducer(s, { type: "load", document: workflow.document, nodeTypes: index });
    // Problems known from the last save are outlined on the canvas right away.
    return workflow.issues ? editorReducer(loaded, { type: "setIssues", issues: workflow.issues }) : loaded;
  });
  const [wf, setWf] = useState(workflow);
  const [meta, setMeta] = useState({ name: workflow.name, description: workflow.description ?? "" });
  const [metaDirty, setMetaDirty] = useState(false);
  const [issues, setIssues] = useState<Issue[] | null>(workflow.issues ?? null);
  const [showIssues, setShowIssues] = useState(false);
  const [save, setSave] = useState<SaveState>({ kind: "idle" });
  const [stale, setStale] = useState<StaleRevisionDetails | null>(null);
  const [dialog, setDialog] = useState<"run" | "publish" | "shortcuts" | "versions" | "webhook" | null>(null);
  const [toast, setToast] = useState<{ text: string; kind: "info" | "error"; n: number } | null>(null);
  const [run, setRun] = useState<{ id: number; status: RunStatus } | null>(null);
  const [notice, setNotice] = useState<unknown>(null);
  const { screenToFlowPosition, fitView } = useReactFlow();
  const readOnly = !wf.can_edit;
  const dirty = isDirty(state) || metaDirty;

  const live = useRunEvents(run?.id ?? null, 0);
  useEffect(() => {
    const statuses: Record<string, NonNullable<(typeof live.steps)[string]["status"]>> = {};
    for (const [nodeId, s] of Object.entries(live.steps)) if (s.status) statuses[nodeId] = s.status;
    dispatch({ type: "setStatuses", statuses });
  }, [live.steps]);
  const runStatus = live.status ?? run?.status;

  // The finished run's steps (inputs, output, error) for the node badges and "Last run".
  const [runDetail, setRunDetail] = useState<{ runId: number; steps: Record<string, Step>; inputs?: unknown } | null>(
    null,
  );
  const runId = run?.id ?? null;
  // Refetched whenever the run status changes or another step finishes (inputs/output are not on the socket).
  const doneSteps = Object.values(live.steps).filter(
    (st) => st.status && !["queued", "running", "waiting"].includes(st.status),
  ).length;
  const runKey = `${live.status ?? ""}:${doneSteps}`;
  useEffect(() => {
    if (runId == null || doneSteps === 0) return;
    let cancelled = false;
    api.run(runId).then(
      (d) => {
        if (cancelled) return;
        const steps: Record<string, Step> = {};
        for (const st of d.steps) steps[st.node_id] = st;
        setRunDetail({ runId, steps, inputs: d.inputs });
      },
      () => {},
    );
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runId, runKey]);
  const runSteps = useMemo<Record<string, Partial<Step>>>(() => {
    const detail = runDetail && runDetail.runId === runId ? runDetail.steps : {};
    const out: Record<string, Partial<Step>> = { ...live.steps };
    for (const [nodeId, st] of Object.entries(detail)) out[nodeId] = { ...out[nodeId], ...st };
    return out;
  }, [live.steps, runDetail, runId]);

  // The expression picker and preview use this editor's run, else the workflow's latest run.
  const latestRun = useLatestRun(workflow.id);
  const previewRun = useMemo(() => {
    if (runId == null) return latestRun;
    const inputs = runDetail && runDetail.runId === runId ? runDetail.inputs : undefined;
    return { runId, data: runDataOf(inputs, runSteps) };
  }, [runId, runDetail, runSteps, latestRun]);

  // A version sent for review (publish-review policy) that nobody decided yet.
  // Re-read on focus, when the inbox changes, and every 20 s while one is pending, so the
  // badge follows another builder's decision without a reload.
  const [pendingReview, setPendingReview] = useState<number | null>(null);
  const pendingRef = useRef<number | null>(null);
  pendingRef.current = pendingReview;
  useEffect(() => {
    let live = true;
    const load = () =>
      api.versions(workflow.id).then(
        (page) => {
          if (!live) return;
          const status = reviewStatusOf(page.results as ReviewedVersion[]);
          setPendingReview(status.pending);
          if (status.live != null) {
            setWf((w) => (w.published_version === status.live ? w : { ...w, published_version: status.live }));
          }
        },
        () => {},
      );
    const stop = watchReviewStatus(() => void load(), () => pendingRef.current != null);
    const off = onInboxChanged(() => void load());
    return () => {
      live = false;
      stop();
      off();
    };
  }, [workflow.id]);

  const applyIssues = useCallback((list: Issue[]) => {
    setIssues(list);
    dispatch({ type: "setIssues", issues: list });
  }, []);

  // Latest values for callbacks bound to window events.
  const latest = useRef({ state, wf, meta, metaDirty, readOnly, dialog });
  latest.current = { state, wf, meta, metaDirty, readOnly, dialog };

  const say = useCallback((text: string, kind: "info" | "error" = "info") => {
    setToast((t) => ({ text, kind, n: (t?.n ?? 0) + 1 }));
  }, []);
  useEffect(() => {
    if (!toast) return;
    const t = window.setTimeout(() => setToast(null), 4000);
    return () => window.clearTimeout(t);
  }, [toast]);

  const doSave = useCallback(async (): Promise<WorkflowDetail | null> => {
    const { state: s, wf: w, meta: m, metaDirty: md, readOnly: ro } = latest.current;
    if (ro) return w;
    setSave({ kind: "saving" });
    try {
      const saved = await api.updateWorkflow(w.id, {
        document: documentOf(s),
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

  // Autosave: a debounced doSave once the user pauses (see autosave.ts).
  const [autosave, setAutosave] = useState(readAutosavePref);
  const autosaveConditions = () => ({
    enabled: autosave,
    readOnly,
    dirty,
    saving: save.kind === "saving",
    stale: stale !== null,
  });
  const autosaveNow = useRef(autosaveConditions);
  autosaveNow.current = autosaveConditions;
  const debouncer = useRef<Debouncer | null>(null);
  if (!debouncer.current) {
    debouncer.current = new Debouncer(AUTOSAVE_DELAY_MS, () => {
      const c = autosaveNow.current();
      if (c.saving && c.enabled && c.dirty && !c.stale) return "retry";
      if (canAutosave(c)) void doSave();
    });
  }
  useEffect(() => () => debouncer.current?.cancel(), []);
  // Every document / name edit restarts the wait; conditions are checked again when it fires.
  useEffect(() => {
    const c = autosaveNow.current();
    if (c.enabled && c.dirty && !c.readOnly && !c.stale) debouncer.current?.schedule();
    else debouncer.current?.cancel();
  }, [state.version, meta, autosave, stale, dirty]);

  const applyFresh = useCallback(
    (fresh: WorkflowDetail) => {
      dispatch({ type: "load", document: fresh.document, nodeTypes: index });
      setWf(fresh);
      setMeta({ name: fresh.name, description: fresh.description ?? "" });
      setMetaDirty(false);
      setStale(null);
      setIssues(fresh.issues ?? null);
      dispatch({ type: "setIssues", issues: fresh.issues ?? [] });
      setSave({ kind: "idle" });
    },
    [index],
  );

  const reload = useCallback(async () => {
    try {
      applyFresh(await api.workflow(wf.id));
    } catch (err) {
      setNotice(err);
    }
  }, [wf.id, applyFresh]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === "s") {
        e.preventDefault();
        void doSave();
        return;
      }
      const { readOnly: ro, dialog: open } = latest.current;
      if (open || e.defaultPrevented || isEditable(e.target)) return;
      if (mod && !e.altKey && (key === "z" || key === "y")) {
        e.preventDefault();
        if (!ro) dispatch({ type: key === "y" || e.shiftKey ? "redo" : "undo" });
      } else if (mod && key === "a") {
        e.preventDefault();
        dispatch({ type: "selectAll" });
      } else if (!mod && !e.altKey && (e.key === "Delete" || e.key === "Backspace")) {
        if (ro) return;
        e.preventDefault();
        dispatch({ type: "deleteSelection" });
      } else if (e.key === "?" && !mod) {
        e.preventDefault();
        setDialog("shortcuts");
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [doSave]);

  // Copy / cut / paste of the canvas selection, through the system clipboard (or memory).
  const pasteRun = useRef<{ text: string; n: number } | null>(null);
  useEffect(() => {
    const onCopy = (e: ClipboardEvent) => {
      const { state: s, readOnly: ro, dialog: open } = latest.current;
      if (open || isEditable(e.target) || window.getSelection()?.toString()) return;
      const payload = selectionPayload(s);
      if (!payload) return;
      e.preventDefault();
      const text = JSON.stringify(payload, null, 2);
      void writeClipboard(text, e.clipboardData);
      pasteRun.current = null;
      const n = payload.nodes.length + (payload.notes?.length ?? 0);
      const what = `${n} item${n === 1 ? "" : "s"}`;
      if (e.type === "cut" && !ro) {
        dispatch({ type: "deleteSelection" });
        say(`Cut ${what}`);
      } else say(`Copied ${what}`);
    };
    const onPaste = (e: ClipboardEvent) => {
      const { readOnly: ro, dialog: open } = latest.current;
      if (ro || open || isEditable(e.target)) return;
      e.preventDefault();
      void readClipboard(e.clipboardData).then((payload) => {
        if (!payload) return;
        const text = JSON.stringify(payload);
        const run = pasteRun.current?.text === text ? pasteRun.current.n + 1 : 1;
        pasteRun.current = { text, n: run };
        dispatch({ type: "paste", payload, offset: { x: PASTE_OFFSET.x * run, y: PASTE_OFFSET.y * run } });
        const n = payload.nodes.length + (payload.notes?.length ?? 0);
        say(`Pasted ${n} item${n === 1 ? "" : "s"}`);
      });
    };
    document.addEventListener("copy", onCopy);
    document.addEventListener("cut", onCopy);
    document.addEventListener("paste", onPaste);
    return () => {
      document.removeEventListener("copy", onCopy);
      document.removeEventListener("cut", onCopy);
      document.removeEventListener("paste", onPaste);
    };
  }, [say]);

  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  async function validate() {
    setNotice(null);
    try {
      const res = await api.validateWorkflow(wf.id, documentOf(state));
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
    setRunDetail(null);
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

  async function publish(note: string): Promise<PublishOutcome> {
    const v = await editorApi.publish(wf.id, note || undefined);
    if (v.review?.status === "pending") {
      setPendingReview(v.number);
      return { number: v.number, pending: true };
    }
    setPendingReview(null);
    setWf((w) => ({ ...w, published_version: v.number }));
    return { number: v.number, pending: false };
  }

  const onConnect = useCallback(
    (c: Connection) => {
      const problem = connectionProblem(latest.current.state, c);
      if (problem) say(problem, "error");
      else dispatch({ type: "connect", ...c });
    },
    [say],
  );

  const isValidConnection = useCallback(
    (c: Connection | Edge) => !connectionProblem(latest.current.state, c),
    [],
  );

  // A refused connection: say why (xyflow only greys the handle out).
  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, cs: FinalConnectionState) => {
      if (cs.isValid || !cs.fromHandle) return;
      const from = cs.fromHandle;
      let reason: string | null = null;
      if (cs.toHandle) {
        if (cs.toHandle.type === from.type) reason = "Connect an output (right side) to an input (left side)";
        else {
          const c =
            from.type === "source"
              ? { source: from.nodeId, sourceHandle: from.id, target: cs.toHandle.nodeId, targetHandle: cs.toHandle.id }
              : { source: cs.toHandle.nodeId, sourceHandle: cs.toHandle.id, target: from.nodeId, targetHandle: from.id };
          reason = connectionProblem(latest.current.state, c);
        }
      } else {
        // Dropped on a node without a matching handle (e.g. a trigger, which has no input).
        const point = "changedTouches" in event ? event.changedTouches[0] : event;
        const el = point ? document.elementFromPoint(point.clientX, point.clientY) : null;
        const targetId = el?.closest<HTMLElement>(".react-flow__node")?.dataset.id;
        const target = latest.current.state.nodes.find((n) => n.id === targetId);
        if (target && from.type === "source") {
          reason = connectionProblem(latest.current.state, {
            source: from.nodeId,
            sourceHandle: from.id,
            target: target.id,
            targetHandle: target.data.nodeType?.inputs[0]?.name ?? "in",
          });
        }
      }
      if (reason) say(reason, "error");
    },
    [say],
  );

  function onDrop(e: DragEvent) {
    e.preventDefault();
    if (readOnly) return;
    const position = screenToFlowPosition({ x: e.clientX, y: e.clientY });
    if (e.dataTransfer.getData(NOTE_MIME)) {
      dispatch({ type: "addNote", position });
      return;
    }
    const t = index[e.dataTransfer.getData(DRAG_MIME)];
    if (t) dispatch({ type: "addNode", nodeType: t, position });
  }

  function autoLayout() {
    dispatch({ type: "autoLayout" });
    // Let xyflow render the new positions before framing them.
    window.setTimeout(() => void fitView({ ...FIT_VIEW, duration: 200 }), 50);
  }

  function showNode(nodeId: string) {
    dispatch({ type: "select", id: nodeId });
    window.setTimeout(() => void fitView({ nodes: [{ id: nodeId }], ...FIT_VIEW, duration: 200 }), 0);
  }

  const actions = useMemo<EditorActions>(
    () => ({
      readOnly,
      updateNote: (noteId, text) => dispatch({ type: "updateNote", id: noteId, text, at: Date.now() }),
      checkpoint: () => dispatch({ type: "checkpoint" }),
    }),
    [readOnly],
  );
  const flowNodes = useMemo<FlowNode[]>(() => [...state.notes, ...state.nodes], [state.notes, state.nodes]);

  const selected = state.nodes.filter((n) => n.selected);
  const selectedNotes = state.notes.filter((n) => n.selected).length;
  const selectedNode = selected.length === 1 && !selectedNotes ? selected[0] : null;
  const upstream = useUpstreamFields(selectedNode?.id ?? null, state.nodes, state.edges, index, previewRun?.data ?? null);
  const expressionEnv = useMemo<ExpressionEnv | null>(
    () =>
      selectedNode
        ? { workflowId: wf.id, nodeId: selectedNode.id, fields: upstream, runId: previewRun?.runId ?? null }
        : null,
    [selectedNode?.id, wf.id, upstream, previewRun?.runId], // eslint-disable-line react-hooks/exhaustive-deps
  );
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
        {pendingReview != null && (
          <span className="badge status-waiting" data-testid="review-pending" title="Another builder must approve it in the review inbox">
            v{pendingReview} sent for review
          </span>
        )}
        <div className="toolbar-actions">
          <div className="btn-group" role="group" aria-label="Edit history">
            <button
              type="button"
              className="btn"
              aria-label="Undo"
              title="Undo (Ctrl+Z)"
              onClick={() => dispatch({ type: "undo" })}
              disabled={readOnly || !canUndo(state)}
            >
              ↶ Undo
            </button>
            <button
              type="button"
              className="btn"
              aria-label="Redo"
              title="Redo (Ctrl+Shift+Z)"
              onClick={() => dispatch({ type: "redo" })}
              disabled={readOnly || !canRedo(state)}
            >
              ↷ Redo
            </button>
          </div>
          <button
            type="button"
            className="btn"
            aria-label="Auto layout"
            title="Arrange the nodes left to right"
            onClick={autoLayout}
            disabled={readOnly || state.nodes.length === 0}
          >
            Auto layout
          </button>
          <button
            type="button"
            className="btn"
            aria-label="Shortcuts"
            aria-haspopup="dialog"
            title="Keyboard shortcuts (?)"
            onClick={() => setDialog("shortcuts")}
          >
            Shortcuts
          </button>
          <button type="button" className="btn" onClick={() => void doSave()} disabled={readOnly || save.kind === "saving"}>
            Save
          </button>
          {!readOnly && (
            <label className="autosave-toggle" title="Save the draft 3 s after you stop editing">
              <input
                type="checkbox"
                checked={autosave}
                onChange={(e) => {
                  setAutosave(e.target.checked);
                  writeAutosavePref(e.target.checked);
                }}
              />{" "}
              Autosave
            </label>
          )}
          <button type="button" className="btn" aria-haspopup="dialog" onClick={() => setDialog("versions")}>
            Versions
          </button>
          {wf.can_edit && <ShareButton workflowId={wf.id} workflowName={meta.name} />}
          {wf.can_edit && state.nodes.some((n) => n.data.typeKey === "trigger.webhook") && (
            <button type="button" className="btn" aria-haspopup="dialog" onClick={() => setDialog("webhook")}>
              Webhook
            </button>
          )}
          <a className="btn" href={api.exportUrl(wf.id)} download title="Download the draft as a JSON file">
            Export
          </a>
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
          onAddNote={() => dispatch({ type: "addNote" })}
        />
        <div className="canvas" onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = "move"; }} onDrop={onDrop}>
          <EditorActionsContext.Provider value={actions}>
          <RunStepsContext.Provider value={runSteps}>
          <ReactFlow<FlowNode>
            nodes={flowNodes}
            edges={state.edges}
            nodeTypes={nodeTypes}
            onNodesChange={(changes) => dispatch({ type: "nodesChange", changes })}
            onEdgesChange={(changes) => dispatch({ type: "edgesChange", changes })}
            onConnect={onConnect}
            onConnectEnd={onConnectEnd}
            isValidConnection={isValidConnection}
            // Deletion is one undo step, handled by the editor's own key handler.
            deleteKeyCode={null}
            selectionKeyCode="Shift"
            multiSelectionKeyCode={MULTI_SELECT_KEYS}
            selectionMode={SelectionMode.Partial}
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
          </RunStepsContext.Provider>
          </EditorActionsContext.Provider>
          <div
            className={`toast ${toast ? `toast-${toast.kind}` : "toast-empty"}`}
            role="status"
            aria-live="polite"
            data-testid="editor-toast"
          >
            {toast && (
              <>
                <span key={toast.n}>{toast.text}</span>
                <button type="button" className="icon-btn" aria-label="Dismiss message" onClick={() => setToast(null)}>
                  ×
                </button>
              </>
            )}
          </div>
        </div>
        {selectedNode ? (
          <ExpressionEnvContext.Provider value={expressionEnv}>
          <NodePanel
            key={`${selectedNode.id}:${state.restored}`}
            node={selectedNode}
            readOnly={readOnly}
            onCommit={() => dispatch({ type: "checkpoint" })}
            onLabel={(label) => dispatch({ type: "updateLabel", id: selectedNode.id, label, at: Date.now() })}
            onConfig={(config) => dispatch({ type: "updateConfig", id: selectedNode.id, config, at: Date.now() })}
            onDelete={() => dispatch({ type: "deleteNodes", ids: [selectedNode.id] })}
            settingsSchema={settingsSchema}
            onSettings={(settings) =>
              dispatch({ type: "updateSettings", id: selectedNode.id, settings, at: Date.now() })
            }
            lastRun={run ? (runSteps[selectedNode.id] ?? null) : undefined}
          />
          </ExpressionEnvContext.Provider>
        ) : selected.length + selectedNotes > 1 ? (
          <SelectionPanel
            nodes={selected.length}
            notes={selectedNotes}
            readOnly={readOnly}
            issues={issues}
            onDelete={() => dispatch({ type: "deleteSelection" })}
            onSelect={showNode}
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
            onSelect={showNode}
          />
        )}
      </div>
      {dialog === "run" && (
        <RunDialog fields={wf.trigger_fields ?? []} onStart={startRun} onClose={() => setDialog(null)} />
      )}
      {dialog === "versions" && (
        <VersionsDialog
          workflow={wf}
          types={types}
          readOnly={readOnly}
          dirty={dirty}
          onRestored={(fresh) => {
            applyFresh(fresh);
            say(`Restored as the draft (revision ${fresh.revision})`);
          }}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === "shortcuts" && <ShortcutsDialog onClose={() => setDialog(null)} />}
      {dialog === "webhook" && <WebhookDialog workflowId={wf.id} onClose={() => setDialog(null)} />}
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

