import { Link, useSearchParams } from "react-router-dom";
import { api } from "../api/client";
import { fmtDuration, fmtTime } from "../components/format";
import { Pager } from "../components/Pager";
import { StatusBadge } from "../components/StatusBadge";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";

const STATUSES = ["", "queued", "running", "waiting", "succeeded", "failed", "cancelled"];

export function RunsPage() {
  const [params, setParams] = useSearchParams();
  const page = Number(params.get("page") ?? "1") || 1;
  const status = params.get("status") ?? "";
  const workflow = params.get("workflow") ?? "";
  const { data, error, loading, reload } = useApi(
    () => api.runs({ page, status: status || undefined, workflow: workflow || undefined }),
    [page, status, workflow],
  );
  const setParam = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    if (k !== "page") next.delete("page");
    setParams(next);
  };
  return (
    <main className="page">
      <div className="page-head">
        <h1>Runs</h1>
        <div className="field inline">
          <label htmlFor="runs-status">Status</label>
          <select id="runs-status" value={status} onChange={(e) => setParam("status", e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || "all"}
              </option>
            ))}
          </select>
        </div>
      </div>
      {loading && !data ? (
        <Loading />
      ) : error ? (
        <ErrorBox error={error} onRetry={() => void reload()} />
      ) : !data || data.results.length === 0 ? (
        <Empty>No runs yet.</Empty>
      ) : (
        <>
          <table className="table">
            <thead>
              <tr>
                <th>Run</th>
                <th>Status</th>
                <th>Workflow</th>
                <th>Started by</th>
                <th>Created</th>
                <th>Duration</th>
              </tr>
            </thead>
            <tbody>
              {data.results.map((r) => (
                <tr key={r.id} data-testid={`run-row-${r.id}`}>
                  <td>
                    <Link to={`/runs/${r.id}`}>#{r.id}</Link>
                  </td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>
                    <Link to={`/workflows/${r.workflow.id}`}>{r.workflow.name}</Link>
                    <span className="muted"> {r.version != null ? `v${r.version}` : ""}</span>
                  </td>
                  <td>{r.started_by ?? "—"}</td>
                  <td>{fmtTime(r.created_at)}</td>
                  <td>{fmtDuration(r.duration_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} hasPrev={!!data.previous} hasNext={!!data.next} onPage={(p) => setParam("page", String(p))} />
        </>
      )}
    </main>
  );
}
