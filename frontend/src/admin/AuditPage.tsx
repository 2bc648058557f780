import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { adminApi, auditExportUrl } from "../api/client";
import type { AuditEvent, AuditFilters } from "../api/types";
import { fmtTime } from "../components/format";
import { Pager } from "../components/Pager";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";

const FILTER_KEYS = ["action", "actor", "since", "until"] as const;

function target(e: AuditEvent): string {
  if (!e.target_type) return "—";
  return e.target_id ? `${e.target_type} #${e.target_id}` : e.target_type;
}

function dataSummary(data: unknown): string {
  if (!data || typeof data !== "object") return "";
  const s = JSON.stringify(data);
  return s === "{}" ? "" : s.length > 120 ? `${s.slice(0, 117)}…` : s;
}

export function AuditPage() {
  const [params, setParams] = useSearchParams();
  const page = Number(params.get("page") ?? "1") || 1;
  const filters: AuditFilters = {};
  for (const k of FILTER_KEYS) {
    const v = params.get(k);
    if (v) filters[k] = v;
  }
  const key = JSON.stringify(filters);
  const { data, error, loading, reload } = useApi(() => adminApi.audit({ page, ...filters }), [page, key]);
  const [draft, setDraft] = useState<AuditFilters>(filters);

  function apply(e: FormEvent) {
    e.preventDefault();
    const next: Record<string, string> = {};
    for (const k of FILTER_KEYS) {
      const v = (draft[k] ?? "").trim();
      if (v) next[k] = v;
    }
    setParams(next);
  }

  function clear() {
    setDraft({});
    setParams({});
  }

  const hasFilters = Object.keys(filters).length > 0;
  return (
    <main className="page page-wide">
      <div className="page-head">
        <h1>Audit log</h1>
        <a className="btn" href={auditExportUrl(filters)} download>
          Export CSV
        </a>
      </div>
      <form className="card filters" onSubmit={apply} aria-label="Audit filters">
        <div className="field">
          <label htmlFor="audit-action">Action</label>
          <input
            id="audit-action"
            placeholder="user.create or auth."
            value={draft.action ?? ""}
            onChange={(e) => setDraft({ ...draft, action: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="audit-actor">Actor</label>
          <input
            id="audit-actor"
            placeholder="username"
            value={draft.actor ?? ""}
            onChange={(e) => setDraft({ ...draft, actor: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="audit-since">Since</label>
          <input id="audit-since" type="date" value={draft.since ?? ""} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="audit-until">Until</label>
          <input id="audit-until" type="date" value={draft.until ?? ""} onChange={(e) => setDraft({ ...draft, until: e.target.value })} />
        </div>
        <div className="actions">
          <button type="submit" className="btn primary">
            Apply filters
          </button>
          {hasFilters && (
            <button type="button" className="btn" onClick={clear}>
              Clear
            </button>
          )}
        </div>
      </form>
      {loading && !data ? (
        <Loading />
      ) : error ? (
        <ErrorBox error={error} onRetry={() => void reload()} />
      ) : !data || data.results.length === 0 ? (
        <Empty>{hasFilters ? "No events match these filters." : "No audit events yet."}</Empty>
      ) : (
        <>
          <p className="muted" aria-live="polite">
            {data.count} event{data.count === 1 ? "" : "s"}
          </p>
          <table className="table" aria-label="Audit events">
            <thead>
              <tr>
                <th>Time</th>
                <th>Actor</th>
                <th>Action</th>
                <th>Target</th>
                <th>Details</th>
                <th>IP</th>
              </tr>
            </thead>
            <tbody>
              {data.results.map((e) => (
                <tr key={e.id} data-testid="audit-row">
                  <td className="nowrap">{fmtTime(e.created_at)}</td>
                  <td>{e.actor ?? <span className="muted">anonymous</span>}</td>
                  <td className="mono">{e.action}</td>
                  <td>{target(e)}</td>
                  <td className="mono small-text audit-data">{dataSummary(e.data)}</td>
                  <td className="mono small-text">{e.ip ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            page={page}
            hasPrev={!!data.previous}
            hasNext={!!data.next}
            onPage={(p) => setParams({ ...(filters as Record<string, string>), page: String(p) })}
          />
        </>
      )}
    </main>
  );
}
