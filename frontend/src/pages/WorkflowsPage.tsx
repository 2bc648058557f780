import { useRef, useState, type ChangeEvent, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api } from "../api/client";
import type { WorkflowDocument, WorkflowSummary } from "../api/types";
import { ConfirmDialog } from "../admin/common";
import { useAuth } from "../auth/AuthContext";
import { fmtTime } from "../components/format";
import { Pager } from "../components/Pager";
import { Empty, ErrorBox, Loading, errorParts } from "../components/States";
import { useApi } from "../components/useApi";

export function starterDocument(): WorkflowDocument {
  return {
    schema_version: 1,
    nodes: [
      { id: "trigger", type: "trigger.manual", type_version: 1, config: {}, position: { x: 0, y: 0 }, label: "Start" },
    ],
    edges: [],
  };
}

function NewWorkflowForm({ onCancel }: { onCancel: () => void }) {
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const wf = await api.createWorkflow({ name: name.trim(), document: starterDocument() });
      navigate(`/workflows/${wf.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return (
    <form className="inline-form card" onSubmit={submit} aria-label="New workflow">
      <div className="field">
        <label htmlFor="new-workflow-name">Workflow name</label>
        <input
          id="new-workflow-name"
          autoFocus
          required
          value={name}
          onChange={(e) => setName(e.target.value)}
          onKeyDown={(e) => e.key === "Escape" && onCancel()}
        />
      </div>
      <button type="submit" className="btn primary" disabled={busy || !name.trim()}>
        Create
      </button>
      <button type="button" className="btn" onClick={onCancel}>
        Cancel
      </button>
      {error ? <span className="error-inline" role="alert">{`${errorParts(error).code}: ${errorParts(error).message}`}</span> : null}
    </form>
  );
}

export function WorkflowsPage() {
  const [params, setParams] = useSearchParams();
  const page = Number(params.get("page") ?? "1") || 1;
  const { data, error, loading, reload } = useApi(() => api.workflows({ page }), [page]);
  const { user } = useAuth();
  const [deleting, setDeleting] = useState<WorkflowSummary | null>(null);
  const mayDelete = (w: WorkflowSummary) => Boolean(user && (user.is_admin || w.owner === user.username));
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();
  const fileInput = useRef<HTMLInputElement>(null);
  const [importError, setImportError] = useState<string | null>(null);

  async function importFile(e: ChangeEvent<HTMLInputElement>) {
    const file = e.target.files?.[0];
    e.target.value = "";
    if (!file) return;
    setImportError(null);
    let parsed: unknown;
    try {
      parsed = JSON.parse(await file.text());
    } catch {
      setImportError(`${file.name} is not a JSON file.`);
      return;
    }
    try {
      const wf = await api.importWorkflow({ document: parsed });
      navigate(`/workflows/${wf.id}`);
    } catch (err) {
      setImportError(`${errorParts(err).code}: ${errorParts(err).message}`);
    }
  }

  return (
    <main className="page">
      <div className="page-head">
        <h1>Workflows</h1>
        <div className="page-head-actions">
          <Link to="/templates" className="btn">
            Templates
          </Link>
          <button type="button" className="btn" onClick={() => fileInput.current?.click()}>
            Import
          </button>
          <input
            ref={fileInput}
            type="file"
            accept="application/json,.json"
            className="visually-hidden"
            aria-label="Import a workflow file"
            data-testid="import-file"
            tabIndex={-1}
            onChange={(e) => void importFile(e)}
          />
          {!creating && (
            <button type="button" className="btn primary" onClick={() => setCreating(true)}>
              New workflow
            </button>
          )}
        </div>
      </div>
      {importError ? (
        <p className="error-inline" role="alert">
          {importError}
        </p>
      ) : null}
      {creating && <NewWorkflowForm onCancel={() => setCreating(false)} />}
      {loading && !data ? (
        <Loading />
      ) : error ? (
        <ErrorBox error={error} onRetry={() => void reload()} />
      ) : !data || data.results.length === 0 ? (
        <Empty>No workflows yet. Create one with “New workflow”.</Empty>
      ) : (
        <>
          <table className="table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Description</th>
                <th>Published</th>
                <th>Updated</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.results.map((w) => (
                <tr key={w.id} data-testid={`workflow-row-${w.id}`}>
                  <td>
                    <Link to={`/workflows/${w.id}`}>{w.name}</Link>
                  </td>
                  <td className="muted">{w.description || "—"}</td>
                  <td>{w.published_version != null ? `v${w.published_version}` : <span className="muted">draft only</span>}</td>
                  <td>
                    {fmtTime(w.updated_at)}
                    {w.updated_by ? <span className="muted"> by {w.updated_by}</span> : null}
                  </td>
                  <td>
                    {mayDelete(w) ? (
                      <button
                        type="button"
                        className="btn small danger"
                        aria-label={`Delete workflow ${w.name}`}
                        onClick={() => setDeleting(w)}
                      >
                        Delete
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {deleting && (
            <ConfirmDialog
              title={`Delete “${deleting.name}”?`}
              confirmLabel="Delete workflow"
              onConfirm={async () => {
                await api.deleteWorkflow(deleting.id);
                await reload(true);
              }}
              onClose={() => setDeleting(null)}
            >
              <p>
                Its versions, runs and their history are deleted too. This cannot be undone. A workflow that other
                workflows call, or that has runs waiting on it, cannot be deleted.
              </p>
            </ConfirmDialog>
          )}
          <Pager
            page={page}
            hasPrev={!!data.previous}
            hasNext={!!data.next}
            onPage={(p) => setParams({ page: String(p) })}
          />
        </>
      )}
    </main>
  );
}
