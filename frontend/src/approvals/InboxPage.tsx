import { useEffect } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api } from "../api/client";
import { fmtTime } from "../components/format";
import { Pager } from "../components/Pager";
import { StatusBadge } from "../components/StatusBadge";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";

const TABS = [
  ["pending", "Pending"],
  ["decided", "Decided"],
  ["all", "All"],
] as const;

export function InboxPage() {
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "pending";
  const page = Number(params.get("page") ?? "1") || 1;
  const { data, error, loading, reload } = useApi(() => api.approvals({ status, page }), [status, page]);

  // Poll until the inbox websocket exists.
  useEffect(() => {
    const t = window.setInterval(() => void reload(true), 5000);
    return () => window.clearInterval(t);
  }, [reload]);

  return (
    <main className="page">
      <div className="page-head">
        <h1>Review inbox</h1>
        <div className="tabs" role="group" aria-label="Filter approvals">
          {TABS.map(([value, label]) => (
            <button
              key={value}
              type="button"
              className={`tab ${status === value ? "active" : ""}`}
              aria-pressed={status === value}
              onClick={() => setParams(value === "pending" ? {} : { status: value })}
            >
              {label}
            </button>
          ))}
        </div>
      </div>
      {loading && !data ? (
        <Loading />
      ) : error ? (
        <ErrorBox error={error} onRetry={() => void reload()} />
      ) : !data || data.results.length === 0 ? (
        <Empty>Nothing to review</Empty>
      ) : (
        <>
          <table className="table">
            <thead>
              <tr>
                <th>Title</th>
                <th>Workflow</th>
                <th>Queue</th>
                <th>Created</th>
                <th>Claimed by</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {data.results.map((a) => (
                <tr key={a.id} data-testid={`approval-row-${a.id}`}>
                  <td>
                    <Link to={`/inbox/${a.id}`}>{a.title}</Link>
                  </td>
                  <td>{a.workflow.name}</td>
                  <td>{a.queue}</td>
                  <td>{fmtTime(a.created_at)}</td>
                  <td>{a.claimed_by ?? <span className="muted">—</span>}</td>
                  <td>
                    <StatusBadge status={a.decision ? `${a.decision}d` : a.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            page={page}
            hasPrev={!!data.previous}
            hasNext={!!data.next}
            onPage={(p) => setParams({ ...(status !== "pending" ? { status } : {}), page: String(p) })}
          />
        </>
      )}
    </main>
  );
}
