import { useEffect, type KeyboardEvent, type MouseEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api } from "../api/client";
import { fmtTime } from "../components/format";
import { notifyInboxChanged, onInboxChanged } from "../components/inboxEvents";
import { Pager } from "../components/Pager";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";
import { approvalStatus } from "./due";
import { ApprovalBadge, DueText } from "./ReviewPage";

const TABS = [
  ["pending", "Pending"],
  ["decided", "Decided"],
  ["all", "All"],
] as const;

export function InboxPage() {
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "pending";
  const page = Number(params.get("page") ?? "1") || 1;
  const navigate = useNavigate();
  const { data, error, loading, reload } = useApi(() => api.approvals({ status, page }), [status, page]);

  // Every fresh list refreshes the top bar's badge: the pending tab already knows the number.
  useEffect(() => {
    if (!data) return;
    // Only the pending tab knows the badge's number; other tabs leave it to the socket.
    if (status === "pending") notifyInboxChanged({ pending: data.count });
  }, [data, status]);

  function onRowClick(e: MouseEvent<HTMLTableRowElement>, href: string) {
    // The title link handles itself; a drag that selected text is not a click.
    if ((e.target as HTMLElement).closest("a, button, input, textarea, select")) return;
    if (window.getSelection()?.toString()) return;
    if (e.ctrlKey || e.metaKey) window.open(href, "_blank", "noopener");
    else navigate(href);
  }

  function onRowKey(e: KeyboardEvent<HTMLTableRowElement>, href: string) {
    if (e.target !== e.currentTarget) return;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      navigate(href);
    }
  }

  // The inbox socket (mounted by the layout) announces changes; a slow poll is the fallback.
  useEffect(() => {
    const off = onInboxChanged((change) => {
      if (change.pending === undefined) void reload(true);
    });
    const t = window.setInterval(() => void reload(true), 30000);
    return () => {
      off();
      window.clearInterval(t);
    };
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
                <th>Due</th>
                <th>Approvals</th>
                <th>Claimed by</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {data.results.map((a) => {
                const href = `/inbox/${a.id}`;
                return (
                <tr
                  key={a.id}
                  data-testid={`approval-row-${a.id}`}
                  className="row-link"
                  tabIndex={0}
                  onClick={(e) => onRowClick(e, href)}
                  onKeyDown={(e) => onRowKey(e, href)}
                >
                  <td>
                    <Link to={href}>{a.title}</Link>
                  </td>
                  <td>{a.workflow.name}</td>
                  <td>{a.queue}</td>
                  <td>{fmtTime(a.created_at)}</td>
                  <td>{a.status === "pending" ? <DueText dueAt={a.due_at} /> : <span className="muted">—</span>}</td>
                  <td>
                    {(a.approvals_required ?? 1) > 1 ? (
                      a.approvals_count != null ? (
                        `${a.approvals_count} of ${a.approvals_required}`
                      ) : (
                        `${a.approvals_required} needed`
                      )
                    ) : (
                      <span className="muted">1</span>
                    )}
                  </td>
                  <td>{a.claimed_by ?? <span className="muted">—</span>}</td>
                  <td>
                    <ApprovalBadge status={approvalStatus(a)} />
                  </td>
                </tr>
                );
              })}
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
