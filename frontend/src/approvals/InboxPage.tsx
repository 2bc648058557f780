import { useEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api, reviewApi } from "../api/client";
import { fmtTime } from "../components/format";
import { notifyInboxChanged, onInboxChanged } from "../components/inboxEvents";
import { Pager } from "../components/Pager";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";
import { Dialog } from "../components/Dialog";
import { approvalStatus } from "./due";
import { apiQuery, countsFor, emptyMessage, filtersFromParams, paramsFromFilters, type InboxFilters } from "./inboxFilters";
import { INBOX_SHORTCUTS, inboxKeyAction, moveSelection } from "./inboxKeys";
import { QuickDecisionDialog } from "./QuickDecisionDialog";
import { ApprovalBadge, DueText } from "./ReviewPage";
import { VersionReviews } from "./VersionReviews";
import { ShortcutsTable } from "../editor/ShortcutsDialog";

const TABS = [
  ["pending", "Pending"],
  ["decided", "Decided"],
  ["all", "All"],
] as const;

export function InboxPage() {
  const [params, setParams] = useSearchParams();
  const filters = filtersFromParams(params);
  const { status, page, queue, dueSoon, mine } = filters;
  const setFilters = (change: Partial<InboxFilters>) =>
    setParams(paramsFromFilters({ ...filters, page: 1, ...change }));
  const navigate = useNavigate();
  const { data, error, loading, reload } = useApi(
    () => reviewApi.list(apiQuery(filters)),
    [status, page, queue, dueSoon, mine],
  );
  const counts = countsFor(data?.counts, queue);
  const [claimError, setClaimError] = useState<string | null>(null);
  const [selected, setSelected] = useState(0);
  const [quick, setQuick] = useState<{ id: number; decision: "approve" | "reject" } | null>(null);
  const [help, setHelp] = useState(false);
  const tableRef = useRef<HTMLTableElement>(null);
  const rows = data?.results ?? [];

  // Keep the selection on the list; j/k, arrows, Enter, a, r and ? work unless the user types.
  useEffect(() => {
    setSelected((i) => Math.min(i, Math.max(rows.length - 1, 0)));
  }, [rows.length]);

  const keyState = useRef({ rows, selected });
  keyState.current = { rows, selected };
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.defaultPrevented) return;
      const action = inboxKeyAction(e);
      if (!action) return;
      const { rows: list, selected: index } = keyState.current;
      if (action === "help") {
        e.preventDefault();
        setHelp(true);
        return;
      }
      const item = list[index];
      if (!item) return;
      if (action === "next" || action === "prev") {
        e.preventDefault();
        const next = moveSelection(index, action, list.length);
        setSelected(next);
        tableRef.current?.querySelector<HTMLElement>(`[data-row-index="${next}"]`)?.focus();
      } else if (action === "open") {
        // A focused link or button handles Enter itself.
        if (e.target instanceof Element && e.target.closest("a, button")) return;
        e.preventDefault();
        navigate(`/inbox/${item.id}`);
      } else if (action === "claim" || action === "release") {
        if (item.status !== "pending") return;
        e.preventDefault();
        setClaimError(null);
        (action === "claim" ? api.claimApproval(item.id) : api.releaseApproval(item.id))
          .then(() => {
            notifyInboxChanged();
            void reloadRef.current(true);
          })
          .catch((err: unknown) => setClaimError(err instanceof Error ? err.message : String(err)));
      } else if (item.status === "pending") {
        e.preventDefault();
        setQuick({ id: item.id, decision: action === "approve" ? "approve" : "reject" });
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [navigate]);
  const reloadRef = useRef(reload);
  reloadRef.current = reload;

  // Every fresh list refreshes the top bar's badge: the pending tab already knows the number.
  useEffect(() => {
    if (!data) return;
    // `counts.pending` is the badge's number whatever the filters; old servers: the pending tab.
    if (data.counts) notifyInboxChanged({ pending: data.counts.pending });
    else if (status === "pending" && !queue && !dueSoon && !mine) notifyInboxChanged({ pending: data.count });
  }, [data, status, queue, dueSoon, mine]);

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
        <div className="page-head-actions">
        <Link to="/inbox/stats" className="btn small">
          Statistics
        </Link>
        <button type="button" className="btn small" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts">
          ?
        </button>
        <div className="tabs" role="group" aria-label="Filter approvals">
          {TABS.map(([value, label]) => (
            <button
              key={value}
              type="button"
              className={`tab ${status === value ? "active" : ""}`}
              aria-pressed={status === value}
              onClick={() => setFilters({ status: value })}
            >
              {label}
              {value === "pending" && counts ? <span className="count" data-testid="count-pending">{counts.pending}</span> : null}
            </button>
          ))}
        </div>
        </div>
      </div>
      <div className="inbox-filters" role="group" aria-label="More filters">
        <label className="inline-field">
          Queue{" "}
          <select
            value={queue}
            aria-label="Queue"
            data-testid="queue-filter"
            onChange={(e) => setFilters({ queue: e.target.value })}
          >
            <option value="">All queues</option>
            {(data?.counts?.queues ?? []).map((q) => (
              <option key={q.queue} value={q.queue}>
                {q.queue} ({q.pending})
              </option>
            ))}
            {queue && !(data?.counts?.queues ?? []).some((q) => q.queue === queue) ? <option value={queue}>{queue}</option> : null}
          </select>
        </label>
        <button
          type="button"
          className={`chip ${dueSoon ? "active" : ""}`}
          aria-pressed={dueSoon}
          data-testid="chip-due-soon"
          onClick={() => setFilters({ dueSoon: !dueSoon })}
        >
          Due soon{counts ? <span className="count">{counts.due_soon}</span> : null}
        </button>
        <button
          type="button"
          className={`chip ${mine ? "active" : ""}`}
          aria-pressed={mine}
          data-testid="chip-mine"
          onClick={() => setFilters({ mine: !mine })}
        >
          Assigned to me{counts ? <span className="count">{counts.mine}</span> : null}
        </button>
        {(queue || dueSoon || mine) && (
          <button
            type="button"
            className="link-btn"
            onClick={() => setParams(paramsFromFilters({ ...filters, queue: "", dueSoon: false, mine: false, page: 1 }))}
          >
            Clear filters
          </button>
        )}
      </div>
      {claimError && (
        <p className="error-inline" role="alert" data-testid="claim-error">
          {claimError}
        </p>
      )}
      {loading && !data ? (
        <Loading />
      ) : error ? (
        <ErrorBox error={error} onRetry={() => void reload()} />
      ) : !data || data.results.length === 0 ? (
        <Empty>
          <span data-testid="inbox-empty">{emptyMessage(filters)}</span>
        </Empty>
      ) : (
        <>
          <table className="table" ref={tableRef} aria-label="Review items">
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
              {data.results.map((a, index) => {
                const href = `/inbox/${a.id}`;
                return (
                <tr
                  key={a.id}
                  data-testid={`approval-row-${a.id}`}
                  data-row-index={index}
                  className={index === selected ? "row-link row-selected" : "row-link"}
                  aria-selected={index === selected}
                  tabIndex={0}
                  onFocus={() => setSelected(index)}
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
                  <td data-testid={`claimed-${a.id}`}>
                    {a.claimed_by ? (
                      <span className="claim-holder" title={`${a.claimed_by} is reviewing this item`}>
                        {a.claimed_by}
                      </span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
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
            onPage={(p) => setParams(paramsFromFilters({ ...filters, page: p }))}
          />
        </>
      )}
      {quick && (
        <QuickDecisionDialog
          approvalId={quick.id}
          decision={quick.decision}
          onClose={() => setQuick(null)}
          onDone={() => {
            setQuick(null);
            notifyInboxChanged();
            void reload(true);
          }}
        />
      )}
      {help && (
        <Dialog title="Inbox shortcuts" onClose={() => setHelp(false)}>
          <div className="dialog-form">
            <ShortcutsTable shortcuts={INBOX_SHORTCUTS} label="Inbox shortcuts list" />
            <p className="muted">Not while you type in a field.</p>
          </div>
        </Dialog>
      )}
      <VersionReviews />
    </main>
  );
}
