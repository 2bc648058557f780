import { useEffect, useMemo, useState } from "react";
import { api } from "../api/client";
import type { NodeType, VersionDiff, WorkflowDetail, WorkflowDocument, WorkflowVersion } from "../api/types";
import { Dialog } from "../components/Dialog";
import { fmtTime } from "../components/format";
import { ErrorBox, Loading } from "../components/States";
import { StaticFlow } from "./ReadOnlyCanvas";
import type { ReviewedVersion } from "./apiTypes";
import { toFlow } from "./serialize";

/** Why a version is not live: a draft test run, or its publish review. */
export function versionState(v: ReviewedVersion): string {
  const review = v.review?.status;
  if (review === "pending") return "waiting for review";
  if (review === "rejected") return "rejected in review";
  if (review === "superseded") return "review superseded";
  return "test run";
}

/** A side of the comparison: a version number or the current draft. */
export type Ref = number | "draft";

const FIT_VIEW = { padding: 0.15, maxZoom: 1 };

function show(value: unknown): string {
  if (value === undefined || value === null) return "—";
  return typeof value === "string" ? value : JSON.stringify(value, null, 1);
}

/** Older first: diffs read "from the older to the newer". */
export function orderRefs(a: Ref, b: Ref): [number, Ref] | null {
  if (a === "draft" && b === "draft") return null;
  if (a === "draft") return [b as number, "draft"];
  if (b === "draft") return [a, "draft"];
  return a < b ? [a, b] : [b, a];
}

/** The newer document with the removed nodes put back, each node tagged added/removed/changed. */
export function diffDocument(before: WorkflowDocument, after: WorkflowDocument, diff: VersionDiff): {
  document: WorkflowDocument;
  marks: Record<string, "added" | "removed" | "changed">;
} {
  const marks: Record<string, "added" | "removed" | "changed"> = {};
  for (const n of diff.nodes.added) marks[n.id] = "added";
  for (const n of diff.nodes.changed) marks[n.id] = "changed";
  for (const n of diff.nodes.removed) marks[n.id] = "removed";
  const removedIds = new Set(diff.nodes.removed.map((n) => n.id));
  const removedEdges = new Set(diff.edges.removed.map((e) => `${e.source}:${e.source_port}>${e.target}:${e.target_port}`));
  return {
    document: {
      ...after,
      nodes: [...after.nodes, ...before.nodes.filter((n) => removedIds.has(n.id))],
      edges: [
        ...after.edges,
        ...before.edges.filter((e) => removedEdges.has(`${e.source}:${e.source_port}>${e.target}:${e.target_port}`))
          .map((e) => ({ ...e, id: `removed:${e.id}` })),
      ],
      notes: [],
    },
    marks,
  };
}

function DiffCanvas({ document, marks, types }: { document: WorkflowDocument; marks: Record<string, string>; types: NodeType[] }) {
  const { nodes, edges } = useMemo(() => {
    const flow = toFlow(document, types);
    return {
      nodes: flow.nodes.map((n) => ({
        ...n,
        className: marks[n.id] ? `diff-${marks[n.id]}` : undefined,
        data: { ...n.data, readOnly: true },
      })),
      edges: flow.edges.map((e) => (String(e.id).startsWith("removed:") ? { ...e, className: "diff-removed-edge" } : e)),
    };
  }, [document, marks, types]);
  return <StaticFlow nodes={nodes} edges={edges} fitViewOptions={FIT_VIEW} />;
}

export function DiffView({ workflowId, from, to, types }: { workflowId: number; from: number; to: Ref; types: NodeType[] }) {
  const [state, setState] = useState<
    { diff: VersionDiff; before: WorkflowDocument; after: WorkflowDocument } | { error: unknown } | null
  >(null);
  useEffect(() => {
    let live = true;
    setState(null);
    Promise.all([
      api.versionDiff(workflowId, from, to),
      api.version(workflowId, from),
      to === "draft" ? api.workflow(workflowId) : api.version(workflowId, to),
    ])
      .then(([diff, before, after]) => live && setState({ diff, before: before.document, after: after.document }))
      .catch((error: unknown) => live && setState({ error }));
    return () => {
      live = false;
    };
  }, [workflowId, from, to]);
  if (!state) return <Loading label="Comparing…" />;
  if ("error" in state) return <ErrorBox error={state.error} />;
  const { diff } = state;
  const merged = diffDocument(state.before, state.after, diff);
  const nothing =
    !diff.nodes.added.length && !diff.nodes.removed.length && !diff.nodes.changed.length && !diff.edges.added.length && !diff.edges.removed.length;
  return (
    <div className="diff-view" data-testid="version-diff">
      <p className="muted">
        From v{from} to {to === "draft" ? "the current draft" : `v${to}`}.{" "}
        <span className="diff-key diff-key-added">added</span> <span className="diff-key diff-key-removed">removed</span>{" "}
        <span className="diff-key diff-key-changed">changed</span>
      </p>
      <div className="diff-canvas">
        <DiffCanvas document={merged.document} marks={merged.marks} types={types} />
      </div>
      {nothing ? (
        <p className="muted" role="status">No differences.</p>
      ) : (
        <ul className="diff-list">
          {diff.nodes.added.map((n) => (
            <li key={`a-${n.id}`} className="diff-item diff-added" data-testid={`diff-added-${n.id}`}>
              <strong>+ {n.label}</strong> <span className="muted">{n.type} added</span>
            </li>
          ))}
          {diff.nodes.removed.map((n) => (
            <li key={`r-${n.id}`} className="diff-item diff-removed" data-testid={`diff-removed-${n.id}`}>
              <strong>− {n.label}</strong> <span className="muted">{n.type} removed</span>
            </li>
          ))}
          {diff.nodes.changed.map((n) => (
            <li key={`c-${n.id}`} className="diff-item diff-changed" data-testid={`diff-changed-${n.id}`}>
              <strong>~ {n.label}</strong> <span className="muted">{n.type} changed</span>
              <table className="diff-fields">
                <thead>
                  <tr>
                    <th>Field</th>
                    <th>Before</th>
                    <th>After</th>
                  </tr>
                </thead>
                <tbody>
                  {n.fields.map((f) => (
                    <tr key={f.path} data-testid={`diff-field-${n.id}-${f.path}`}>
                      <td>
                        <code>{f.path}</code>
                      </td>
                      <td className="diff-before">
                        <pre>{show(f.before)}</pre>
                      </td>
                      <td className="diff-after">
                        <pre>{show(f.after)}</pre>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </li>
          ))}
          {diff.edges.added.map((e) => (
            <li key={`ea-${e.source}-${e.target}-${e.source_port}`} className="diff-item diff-added">
              + connection {e.source}.{e.source_port} → {e.target}
            </li>
          ))}
          {diff.edges.removed.map((e) => (
            <li key={`er-${e.source}-${e.target}-${e.source_port}`} className="diff-item diff-removed">
              − connection {e.source}.{e.source_port} → {e.target}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

interface Props {
  workflow: WorkflowDetail;
  types: NodeType[];
  readOnly: boolean;
  dirty: boolean;
  onRestored: (fresh: WorkflowDetail) => void;
  onClose: () => void;
}

/** History of a workflow: pick two entries to compare; restore one as the draft. */
export function VersionsDialog({ workflow, types, readOnly, dirty, onRestored, onClose }: Props) {
  const [versions, setVersions] = useState<WorkflowVersion[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [picked, setPicked] = useState<Ref[]>([]);
  const [confirm, setConfirm] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.versions(workflow.id).then((page) => {
      setVersions(page.results);
      // Preselect the newest version against the draft: the most asked question.
      if (page.results[0]) setPicked([page.results[0].number, "draft"]);
    }, setError);
  }, [workflow.id]);

  function toggle(ref: Ref) {
    setPicked((p) => (p.includes(ref) ? p.filter((r) => r !== ref) : [...p, ref].slice(-2)));
  }

  async function restore(n: number) {
    setBusy(true);
    setError(null);
    try {
      onRestored(await api.rollback(workflow.id, n, workflow.revision));
      setConfirm(null);
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const pair = picked.length === 2 ? orderRefs(picked[0], picked[1]) : null;
  return (
    <Dialog title="Versions" onClose={onClose} wide>
      <div className="dialog-form versions-dialog">
        {error ? <ErrorBox error={error} /> : null}
        {!versions ? (
          !error && <Loading label="Loading versions…" />
        ) : (
          <>
            <p className="muted">Tick two entries to compare them.</p>
            <table className="table versions-table">
              <thead>
                <tr>
                  <th aria-label="Compare" />
                  <th>Version</th>
                  <th>Note</th>
                  <th>Author</th>
                  <th>Time</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                <tr data-testid="version-row-draft">
                  <td>
                    <input
                      type="checkbox"
                      aria-label="Compare the current draft"
                      checked={picked.includes("draft")}
                      onChange={() => toggle("draft")}
                    />
                  </td>
                  <td>Draft</td>
                  <td className="muted">{dirty ? "current draft (unsaved changes are not included)" : "current draft"}</td>
                  <td>{workflow.updated_by ?? "—"}</td>
                  <td>{fmtTime(workflow.updated_at)}</td>
                  <td />
                </tr>
                {versions.map((v) => (
                  <tr key={v.number} data-testid={`version-row-${v.number}`}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Compare version ${v.number}`}
                        checked={picked.includes(v.number)}
                        onChange={() => toggle(v.number)}
                      />
                    </td>
                    <td>
                      v{v.number} {!v.published && <span className="muted">({versionState(v)})</span>}
                    </td>
                    <td>{v.note || <span className="muted">—</span>}</td>
                    <td>{v.created_by ?? "—"}</td>
                    <td>{fmtTime(v.created_at)}</td>
                    <td>
                      {!readOnly &&
                        (confirm === v.number ? (
                          <span className="confirm">
                            Replace the draft with v{v.number}?{" "}
                            <button type="button" className="btn small danger" disabled={busy} onClick={() => void restore(v.number)}>
                              Yes, restore
                            </button>{" "}
                            <button type="button" className="btn small" onClick={() => setConfirm(null)}>
                              Cancel
                            </button>
                          </span>
                        ) : (
                          <button type="button" className="btn small" onClick={() => setConfirm(v.number)}>
                            Restore as draft
                          </button>
                        ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {versions.length === 0 && <p className="muted">No versions yet: publish or run the workflow to make one.</p>}
            {pair && <DiffView workflowId={workflow.id} from={pair[0]} to={pair[1]} types={types} />}
          </>
        )}
      </div>
    </Dialog>
  );
}
