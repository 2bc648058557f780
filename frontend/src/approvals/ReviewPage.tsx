import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ApiError } from "../api/client";
import type { ApprovalDetail } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { fmtTime } from "../components/format";
import { Markdown } from "../components/Markdown";
import { notifyInboxChanged } from "../components/inboxEvents";
import { StatusBadge } from "../components/StatusBadge";
import { ErrorBox, Loading, errorParts } from "../components/States";
import { useApi } from "../components/useApi";

export function ReviewPage() {
  const { id = "" } = useParams();
  const res = useApi(() => api.approval(id), [id]);
  if (res.loading && !res.data) return <Loading label="Loading review…" />;
  if (res.error || !res.data)
    return (
      <main className="page">
        <ErrorBox error={res.error} onRetry={() => void res.reload()} />
      </main>
    );
  return <Review key={res.data.id} initial={res.data} />;
}

function contextText(v: unknown): string {
  if (v == null) return "—";
  return typeof v === "string" ? v : JSON.stringify(v, null, 2);
}

function Review({ initial }: { initial: ApprovalDetail }) {
  const { user } = useAuth();
  const navigate = useNavigate();
  const [approval, setApproval] = useState(initial);
  const [fields, setFields] = useState<Record<string, string>>(() => ({ ...initial.fields }));
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const claimTried = useRef(false);
  const leaveTimer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(leaveTimer.current), []);
  const pending = approval.status === "pending" && !outcome;

  useEffect(() => {
    if (claimTried.current || approval.status !== "pending" || approval.claimed_by) return;
    claimTried.current = true;
    api
      .claimApproval(approval.id)
      .then(setApproval)
      .catch((e) => {
        // Someone else got it first: show who, keep the page usable.
        if (e instanceof ApiError && e.status === 409) void api.approval(approval.id).then(setApproval).catch(() => {});
        else setError(e);
      });
  }, [approval]);

  const decide = useCallback(
    async (decision: "approve" | "reject") => {
      if (busy || !pending) return;
      setBusy(true);
      setError(null);
      const edited: Record<string, string> = {};
      for (const [k, v] of Object.entries(fields)) if (v !== initial.fields[k]) edited[k] = v;
      try {
        const done = await api.decideApproval(approval.id, {
          decision,
          edited,
          comment,
          payload_hash: approval.payload_hash,
        });
        setApproval(done);
        notifyInboxChanged();
        setOutcome(decision === "approve" ? "Approved" : "Rejected");
        leaveTimer.current = window.setTimeout(() => navigate("/inbox"), 1200);
      } catch (e) {
        setError(e);
        setBusy(false);
      }
    },
    [busy, pending, fields, initial.fields, approval.id, approval.payload_hash, comment, navigate],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
        e.preventDefault();
        void decide("approve");
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [decide]);

  const claimedByOther = approval.claimed_by && user && approval.claimed_by !== user.username;

  return (
    <main className="page review-page">
      <p>
        <Link to="/inbox">← Review inbox</Link>
      </p>
      <div className="page-head">
        <h1>{approval.title}</h1>
        <StatusBadge status={approval.decision ? `${approval.decision}d` : approval.status} />
      </div>
      <dl className="facts">
        <div><dt>Queue</dt><dd>{approval.queue}</dd></div>
        <div><dt>Workflow</dt><dd>{approval.workflow.name}</dd></div>
        <div><dt>Run</dt><dd><Link to={`/runs/${approval.run_id}`}>Run #{approval.run_id}</Link></dd></div>
        <div><dt>Created</dt><dd>{fmtTime(approval.created_at)}</dd></div>
        <div><dt>Claimed by</dt><dd data-testid="claimed-by">{approval.claimed_by ?? "—"}</dd></div>
        {approval.decided_by && <div><dt>Decided by</dt><dd>{approval.decided_by} · {fmtTime(approval.decided_at)}</dd></div>}
      </dl>
      {claimedByOther && pending && (
        <div className="banner banner-warn" role="status">
          Claimed by {approval.claimed_by}
        </div>
      )}
      {outcome && (
        <div className="banner banner-ok" role="status" data-testid="review-outcome">
          {outcome}. Returning to the inbox…
        </div>
      )}
      {error ? <ErrorBox error={error} /> : null}
      {approval.instructions && (
        <section className="card">
          <h2>Instructions</h2>
          {/* Markdown, never HTML: see Markdown.tsx for what is allowed. */}
          <Markdown>{approval.instructions}</Markdown>
        </section>
      )}
      {Object.keys(approval.context ?? {}).length > 0 && (
        <section className="card">
          <h2>Context</h2>
          <dl className="context">
            {Object.entries(approval.context).map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd className="prewrap">{contextText(v)}</dd>
              </div>
            ))}
          </dl>
        </section>
      )}
      <form
        className="card"
        onSubmit={(e) => {
          e.preventDefault();
          void decide("approve");
        }}
      >
        <h2>Your review</h2>
        {Object.keys(fields).map((name) => (
          <div className="field" key={name}>
            <label htmlFor={`review-field-${name}`}>{name}</label>
            <textarea
              id={`review-field-${name}`}
              rows={8}
              value={fields[name]}
              readOnly={!pending}
              onChange={(e) => setFields((f) => ({ ...f, [name]: e.target.value }))}
            />
          </div>
        ))}
        <div className="field">
          <label htmlFor="review-comment">Comment</label>
          <textarea
            id="review-comment"
            rows={3}
            value={pending ? comment : approval.comment}
            readOnly={!pending}
            onChange={(e) => setComment(e.target.value)}
          />
        </div>
        {pending ? (
          <div className="actions">
            <button type="submit" className="btn primary" disabled={busy}>
              Approve
            </button>
            <button type="button" className="btn danger" disabled={busy} onClick={() => void decide("reject")}>
              Reject
            </button>
            <span className="muted">Ctrl+Enter approves</span>
          </div>
        ) : (
          <p className="muted">
            This review is {approval.decision ? `${approval.decision}d` : approval.status}.
          </p>
        )}
        {error instanceof ApiError && error.status === 409 ? (
          <p className="error-inline">{errorParts(error).message}</p>
        ) : null}
      </form>
    </main>
  );
}
