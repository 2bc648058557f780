import { Link, useSearchParams } from "react-router-dom";
import { api } from "../api/client";
import { fmtTime } from "../components/format";
import { Pager } from "../components/Pager";
import { StatusBadge } from "../components/StatusBadge";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";

export function OutboxPage() {
  const [params, setParams] = useSearchParams();
  const page = Number(params.get("page") ?? "1") || 1;
  const { data, error, loading, reload } = useApi(() => api.outbox({ page }), [page]);
  return (
    <main className="page">
      <div className="page-head">
        <h1>Outbox</h1>
      </div>
      {loading && !data ? (
        <Loading />
      ) : error ? (
        <ErrorBox error={error} onRetry={() => void reload()} />
      ) : !data || data.results.length === 0 ? (
        <Empty>No e-mails sent yet.</Empty>
      ) : (
        <>
          <ul className="outbox">
            {data.results.map((m) => (
              <li key={m.id} className="card" data-testid={`outbox-${m.id}`}>
                <div className="outbox-head">
                  <strong>{m.subject || "(no subject)"}</strong>
                  <StatusBadge status={m.status} />
                </div>
                <div className="muted">
                  To {m.to} · via {m.transport} · {fmtTime(m.created_at)} ·{" "}
                  <Link to={`/runs/${m.run_id}`}>Run #{m.run_id}</Link>
                </div>
                <pre className="mail-body">{m.body}</pre>
              </li>
            ))}
          </ul>
          <Pager page={page} hasPrev={!!data.previous} hasNext={!!data.next} onPage={(p) => setParams({ page: String(p) })} />
        </>
      )}
    </main>
  );
}
