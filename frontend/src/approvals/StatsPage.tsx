import { Link, useSearchParams } from "react-router-dom";
import { inboxApi, type ApprovalFigures } from "../api/client";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";

export const PERIODS = [
  [7, "7 days"],
  [30, "30 days"],
  [90, "90 days"],
  [365, "1 year"],
] as const;

/** "42 s", "3.5 min", "2.1 h", "1.5 d" */
export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds == null) return "—";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

export function fmtRate(rate: number | null | undefined): string {
  return rate == null ? "—" : `${Math.round(rate * 100)}%`;
}

interface Bar {
  label: string;
  value: number | null;
  text: string;
}

const ROW = 22;
const LABEL_W = 120;
const BAR_W = 140;
const TEXT_W = 76;

/** A small horizontal bar chart in plain SVG; ``max`` is the full bar (1 for rates). */
export function BarChart({ title, bars, max, color }: { title: string; bars: Bar[]; max: number; color: string }) {
  const height = bars.length * ROW + 4;
  const width = LABEL_W + BAR_W + TEXT_W;
  return (
    <figure className="mini-chart">
      <figcaption>{title}</figcaption>
      <svg
        role="img"
        aria-label={`${title}: ${bars.map((b) => `${b.label} ${b.text}`).join(", ")}`}
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
      >
        {bars.map((b, i) => {
          const y = i * ROW + 2;
          const w = b.value == null || max <= 0 ? 0 : Math.max((b.value / max) * BAR_W, b.value > 0 ? 2 : 0);
          return (
            <g key={`${b.label}-${i}`}>
              <title>{`${b.label}: ${b.text}`}</title>
              <text x={LABEL_W - 6} y={y + 14} textAnchor="end" className="mini-chart-label">
                {b.label.length > 16 ? `${b.label.slice(0, 15)}…` : b.label}
              </text>
              <rect x={LABEL_W} y={y + 3} width={BAR_W} height={ROW - 8} rx={3} className="mini-chart-track" />
              <rect x={LABEL_W} y={y + 3} width={w} height={ROW - 8} rx={3} fill={color} data-testid="bar" />
              <text x={LABEL_W + BAR_W + 6} y={y + 14} className="mini-chart-value">
                {b.text}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

type Row = ApprovalFigures & { label: string };

/** Approval rate, edit rate and median time to decision of each row, side by side. */
export function FiguresCharts({ rows }: { rows: Row[] }) {
  const slowest = Math.max(0, ...rows.map((r) => r.median_seconds ?? 0));
  return (
    <div className="mini-charts">
      <BarChart
        title="Approval rate"
        max={1}
        color="#16a34a"
        bars={rows.map((r) => ({ label: r.label, value: r.approval_rate, text: fmtRate(r.approval_rate) }))}
      />
      <BarChart
        title="Edit rate (of approved)"
        max={1}
        color="#d97706"
        bars={rows.map((r) => ({ label: r.label, value: r.edit_rate, text: fmtRate(r.edit_rate) }))}
      />
      <BarChart
        title="Median time to decision"
        max={slowest}
        color="#4f46e5"
        bars={rows.map((r) => ({ label: r.label, value: r.median_seconds, text: fmtDuration(r.median_seconds) }))}
      />
    </div>
  );
}

function FiguresTable({ rows, what }: { rows: Row[]; what: string }) {
  return (
    <table className="table compact" aria-label={`${what} figures`}>
      <thead>
        <tr>
          <th>{what}</th>
          <th>Decided</th>
          <th>Approved</th>
          <th>Approval rate</th>
          <th>Edit rate</th>
          <th>Median</th>
          <th>p90</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.label}>
            <td>{r.label}</td>
            <td>{r.decided}</td>
            <td>{r.approved}</td>
            <td>{fmtRate(r.approval_rate)}</td>
            <td>{fmtRate(r.edit_rate)}</td>
            <td>{fmtDuration(r.median_seconds)}</td>
            <td>{fmtDuration(r.p90_seconds)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Review statistics per queue and per workflow over a chosen period. */
export function StatsPage() {
  const [params, setParams] = useSearchParams();
  const days = Number(params.get("days") ?? "30") || 30;
  const { data, error, loading, reload } = useApi(() => inboxApi.stats({ days }), [days]);
  const queues: Row[] = (data?.queues ?? []).map((q) => ({ ...q, label: q.queue }));
  const workflows: Row[] = (data?.workflows ?? []).map((w) => ({ ...w, label: w.workflow.name }));
  const decided = queues.reduce((n, q) => n + q.decided, 0);

  return (
    <main className="page stats-page">
      <p>
        <Link to="/inbox">← Review inbox</Link>
      </p>
      <div className="page-head">
        <h1>Review statistics</h1>
        <div className="tabs" role="group" aria-label="Period">
          {PERIODS.map(([value, label]) => (
            <button
              key={value}
              type="button"
              className={`tab ${days === value ? "active" : ""}`}
              aria-pressed={days === value}
              onClick={() => setParams(value === 30 ? {} : { days: String(value) })}
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
      ) : decided === 0 ? (
        <Empty>No decisions in the last {days} days of the queues you review.</Empty>
      ) : (
        <>
          <p className="muted" data-testid="stats-total">
            {decided} decision{decided === 1 ? "" : "s"} in the last {days} days. Edit rate = approved with
            edits / approved; time to decision = from the request to the decision.
          </p>
          <section className="card" aria-label="Per queue">
            <h2>Per queue</h2>
            <FiguresCharts rows={queues} />
            <FiguresTable rows={queues} what="Queue" />
          </section>
          <section className="card" aria-label="Per workflow">
            <h2>Per workflow</h2>
            <FiguresCharts rows={workflows} />
            <FiguresTable rows={workflows} what="Workflow" />
          </section>
        </>
      )}
    </main>
  );
}
