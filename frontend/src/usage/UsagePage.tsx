import { useState } from "react";
import { adminApi } from "../api/client";
import type { UsageReport, UsageRow } from "../api/types";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";
import { fillDays, fmtInt, fmtUsd, niceMax, type DayBar } from "./chart";

const PERIODS = [7, 30, 90];

function CostChart({ bars }: { bars: DayBar[] }) {
  const W = 900;
  const H = 220;
  const pad = { l: 56, r: 8, t: 10, b: 28 };
  const max = niceMax(Math.max(...bars.map((b) => b.cost), 0));
  const iw = W - pad.l - pad.r;
  const ih = H - pad.t - pad.b;
  const slot = iw / Math.max(bars.length, 1);
  const bw = Math.max(2, slot * 0.7);
  const ticks = [0, 0.5, 1].map((f) => f * max);
  const total = bars.reduce((s, b) => s + b.cost, 0);
  const labelEvery = Math.ceil(bars.length / 10);
  return (
    <figure className="usage-chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby="usage-chart-title"
        className="usage-svg"
      >
        <title id="usage-chart-title">{`Cost by day for the last ${bars.length} days, ${fmtUsd(total)} in total`}</title>
        {ticks.map((t) => {
          const y = pad.t + ih - (t / max) * ih;
          return (
            <g key={t}>
              <line x1={pad.l} x2={W - pad.r} y1={y} y2={y} className="chart-grid" />
              <text x={pad.l - 6} y={y + 4} textAnchor="end" className="chart-label">
                {fmtUsd(t)}
              </text>
            </g>
          );
        })}
        {bars.map((b, i) => {
          const h = (b.cost / max) * ih;
          const x = pad.l + i * slot + (slot - bw) / 2;
          return (
            <g key={b.day}>
              <rect x={x} y={pad.t + ih - h} width={bw} height={Math.max(h, b.cost > 0 ? 1 : 0)} className="chart-bar">
                <title>{`${b.day}: ${fmtUsd(b.cost)}, ${b.runs} runs, ${fmtInt(b.tokens)} tokens`}</title>
              </rect>
              {i % labelEvery === 0 || i === bars.length - 1 ? (
                <text x={x + bw / 2} y={H - 8} textAnchor="middle" className="chart-label">
                  {b.day.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption className="muted small-text">Cost (USD) per day; hover a bar for its figures.</figcaption>
    </figure>
  );
}

function UsageTable({
  title,
  keyLabel,
  report,
  note,
  emptyKey = "",
}: {
  title: string;
  keyLabel: string;
  report: UsageReport | undefined;
  /** A line under the title (e.g. whose rows are shown). */
  note?: string;
  /** Shown for a row without a key (a user table: runs started by a webhook or a schedule). */
  emptyKey?: string;
}) {
  const rows: UsageRow[] = report?.rows ?? [];
  return (
    <section className="card usage-section" aria-labelledby={`usage-${keyLabel}`}>
      <h2 id={`usage-${keyLabel}`}>{title}</h2>
      {note ? <p className="muted small-text">{note}</p> : null}
      {rows.length === 0 ? (
        <p className="muted">No LLM usage in this period.</p>
      ) : (
        <table className="table compact">
          <thead>
            <tr>
              <th>{keyLabel}</th>
              <th className="num">Runs</th>
              <th className="num">Tokens in</th>
              <th className="num">Tokens out</th>
              <th className="num">Cost</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key ?? ""}>
                <td>{r.label || r.key || emptyKey}</td>
                <td className="num">{fmtInt(r.runs)}</td>
                <td className="num">{fmtInt(r.tokens_in)}</td>
                <td className="num">{fmtInt(r.tokens_out)}</td>
                <td className="num">{fmtUsd(r.cost_usd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function UsagePage() {
  const [days, setDays] = useState(30);
  const { data, error, loading, reload } = useApi(
    () =>
      Promise.all([
        adminApi.usage({ group_by: "day", days }),
        adminApi.usage({ group_by: "workflow", days }),
        adminApi.usage({ group_by: "model", days }),
        adminApi.usage({ group_by: "user", days }),
      ]),
    [days],
  );
  const [byDay, byWorkflow, byModel, byUser] = data ?? [];
  const totals = byDay?.totals;
  return (
    <main className="page">
      <div className="page-head">
        <h1>Usage</h1>
        <div className="field inline">
          <label htmlFor="usage-days" className="inline-label">
            Period
          </label>
          <select id="usage-days" value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {PERIODS.map((p) => (
              <option key={p} value={p}>
                Last {p} days
              </option>
            ))}
          </select>
        </div>
      </div>
      <p className="muted page-intro">LLM steps of the runs you can see.</p>
      {loading && !data ? (
        <Loading />
      ) : error ? (
        <ErrorBox error={error} onRetry={() => void reload()} />
      ) : !byDay || !totals ? (
        <Empty>No usage data.</Empty>
      ) : (
        <>
          <dl className="stat-cards" aria-label="Totals">
            <div className="stat-card">
              <dt>Runs</dt>
              <dd data-testid="usage-runs">{fmtInt(totals.runs)}</dd>
            </div>
            <div className="stat-card">
              <dt>LLM steps</dt>
              <dd>{fmtInt(totals.steps)}</dd>
            </div>
            <div className="stat-card">
              <dt>Tokens</dt>
              <dd>
                {fmtInt(totals.tokens_in + totals.tokens_out)}
                <span className="muted stat-sub">
                  {fmtInt(totals.tokens_in)} in · {fmtInt(totals.tokens_out)} out
                </span>
              </dd>
            </div>
            <div className="stat-card">
              <dt>Cost</dt>
              <dd data-testid="usage-cost">{fmtUsd(totals.cost_usd)}</dd>
            </div>
          </dl>
          <section className="card" aria-labelledby="usage-by-day">
            <h2 id="usage-by-day">Cost by day</h2>
            {totals.steps === 0 ? (
              <p className="muted">No LLM usage in the last {days} days.</p>
            ) : (
              <CostChart bars={fillDays(byDay.rows, days)} />
            )}
          </section>
          <div className="usage-grid">
            <UsageTable title="By workflow" keyLabel="Workflow" report={byWorkflow} />
            <UsageTable title="By model" keyLabel="Model" report={byModel} />
            <UsageTable
              title="By user"
              keyLabel="User"
              report={byUser}
              note="Who started the runs. Admins see every user; others see the runs they may see."
              emptyKey="(no user: webhook or schedule)"
            />
          </div>
        </>
      )}
    </main>
  );
}
