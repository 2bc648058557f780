import type { ApprovalRunContext } from "../api/types";
import { Diff } from "./ExamplesDialog";

export function fmtUsd(v: number | null | undefined): string {
  if (v == null) return "—";
  return v === 0 ? "$0" : v < 0.01 ? `$${v.toFixed(4)}` : `$${v.toFixed(2)}`;
}

function triggerText(v: unknown): string {
  if (v == null) return "—";
  return typeof v === "string" ? v : JSON.stringify(v, null, 2);
}

/** What produced the draft: the trigger input, earlier steps (model, cost), retrieved passages. */
export function ReviewContext({ context }: { context: ApprovalRunContext }) {
  const trigger = context.trigger;
  const entries = trigger && typeof trigger === "object" && !Array.isArray(trigger) ? Object.entries(trigger) : null;
  return (
    <section className="card" data-testid="run-context" aria-labelledby="run-context-title">
      <h2 id="run-context-title">How this draft was made</h2>
      <h3>Trigger input</h3>
      {entries ? (
        <dl className="context" data-testid="trigger-input">
          {entries.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd className="prewrap">{triggerText(v)}</dd>
            </div>
          ))}
        </dl>
      ) : (
        <pre className="prewrap" data-testid="trigger-input">{triggerText(trigger)}</pre>
      )}
      {context.steps.length > 0 && (
        <>
          <h3>Earlier steps</h3>
          <table className="table" aria-label="Earlier steps" data-testid="context-steps">
            <thead>
              <tr>
                <th>Step</th>
                <th>Status</th>
                <th>Output</th>
                <th>Model</th>
                <th>Cost</th>
              </tr>
            </thead>
            <tbody>
              {context.steps.map((s) => (
                <tr key={s.node_id}>
                  <td>
                    {s.label}
                    <div className="muted small">{s.type}</div>
                  </td>
                  <td>
                    <span className={`badge status-${s.status}`}>{s.status}</span>
                  </td>
                  <td className="prewrap context-summary">{s.summary || <span className="muted">—</span>}</td>
                  <td>{s.model ?? <span className="muted">—</span>}</td>
                  <td>{s.cost_usd != null ? fmtUsd(s.cost_usd) : <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {context.passages.length > 0 && (
        <>
          <h3>Retrieved passages</h3>
          <ol className="passages" data-testid="passages">
            {context.passages.map((p, i) => (
              <li key={i}>
                <div className="muted small">
                  {p.source}
                  {p.score != null ? ` · score ${p.score.toFixed(2)}` : ""}
                </div>
                <blockquote className="prewrap">{p.text}</blockquote>
              </li>
            ))}
          </ol>
        </>
      )}
      <p className="muted" data-testid="run-cost">
        Run cost so far: <strong>{fmtUsd(context.cost_usd)}</strong>
      </p>
    </section>
  );
}

/** A word diff of a draft field → its edited value; nothing when unchanged. */
export function EditDiff({
  name,
  before,
  after,
  label = "Edits (draft → edited):",
}: {
  name: string;
  before: string;
  after: string;
  label?: string;
}) {
  if (before === after) return null;
  return (
    <div className="edit-diff" data-testid={`field-diff-${name}`}>
      <small className="muted">{label}</small>
      <Diff before={before} after={after} testId={`field-diff-words-${name}`} />
    </div>
  );
}
