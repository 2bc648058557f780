import type { LlmAttempt, Step } from "../api/types";
import { fmtDuration } from "../components/format";

/** A step as the run API sends it: `tries` lists every model call (see step_to_dict). */
export type StepWithTries = Partial<Step> & { tries?: LlmAttempt[] | null };

/** The model calls of a step: `tries`, else `meta.attempts` (older servers), else none. */
export function stepTries(step: StepWithTries | undefined): LlmAttempt[] {
  if (!step) return [];
  if (Array.isArray(step.tries)) return step.tries;
  const fromMeta = step.meta?.attempts;
  if (Array.isArray(fromMeta)) return fromMeta;
  const raw: unknown = step.attempts;
  return Array.isArray(raw) ? (raw as LlmAttempt[]) : [];
}

/** One line for a folded step that fell back: `broken ✗ → working ✓` (null for a single try). */
export function triesSummary(tries: LlmAttempt[]): string | null {
  if (tries.length < 2) return null;
  return tries.map((t) => `${t.model} ${t.outcome === "ok" ? "✓" : "✗"}`).join(" → ");
}

interface StepTriesProps {
  nodeId: string;
  tries: LlmAttempt[];
  /** Why the router picked the model (`step.reason`). */
  reason?: string | null;
}

/** Every model call of an LLM step, in order: which model, how it went, HTTP status, time. */
export function StepTries({ nodeId, tries, reason }: StepTriesProps) {
  if (tries.length === 0) return null;
  const answered = tries.findIndex((t) => t.outcome === "ok");
  return (
    <section className="step-tries" aria-label="Model tries">
      <h4>
        Model tries <span className="muted">({tries.length})</span>
      </h4>
      {reason ? (
        <p className="muted" data-testid={`step-routing-${nodeId}`}>
          Routing: {reason}
        </p>
      ) : null}
      <table className="table attempts" data-testid={`step-attempts-${nodeId}`}>
        <thead>
          <tr>
            <th>#</th>
            <th>Model</th>
            <th>Outcome</th>
            <th>HTTP status</th>
            <th>Duration</th>
          </tr>
        </thead>
        <tbody>
          {tries.map((t, i) => (
            <tr key={i} className={i === answered ? "try-answered" : undefined}>
              <td>{i + 1}</td>
              <td>{t.model}</td>
              <td className={t.outcome === "ok" ? "" : "error-inline"}>
                {t.outcome === "ok" ? "answered" : "failed"}
                {t.error_code ? ` (${t.error_code})` : ""}
              </td>
              <td>{t.http_status ?? "—"}</td>
              <td>{fmtDuration(t.duration_ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
