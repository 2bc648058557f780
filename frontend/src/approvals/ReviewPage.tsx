import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ApiError, reviewApi } from "../api/client";
import type { ApprovalDecision, ApprovalDetail } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { fmtTime } from "../components/format";
import { Markdown } from "../components/Markdown";
import { notifyInboxChanged } from "../components/inboxEvents";
import { ErrorBox, Loading, errorParts } from "../components/States";
import { inboxKeyAction } from "./inboxKeys";
import { useApi } from "../components/useApi";
import { SchemaForm } from "../editor/config-form/SchemaForm";
import { approvalStatus, approvalStatusLabel, formatDue } from "./due";
import { EditDiff, ReviewContext } from "./ReviewContext";
import { changedValues, draftValues, formSchema, valueText, type FieldValue } from "./reviewFields";

/** A status badge with a readable label ("changes requested"); the class keeps the raw status. */
export function ApprovalBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <span className={`badge status-${status}`} data-testid={testId}>
      {approvalStatusLabel(status)}
    </span>
  );
}

/** "due in 2 h" (red once overdue), re-rendered every 30 s. */
export function DueText({ dueAt, testId }: { dueAt: string | null | undefined; testId?: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!dueAt) return;
    const t = window.setInterval(() => setNow(Date.now()), 30000);
    return () => window.clearInterval(t);
  }, [dueAt]);
  const due = formatDue(dueAt, now);
  if (!due) return <span className="muted">—</span>;
  return (
    <span className={due.overdue ? "due overdue" : "due"} title={fmtTime(dueAt)} data-testid={testId}>
      {due.text}
    </span>
  );
}

const DECISION_LABELS: Record<string, string> = {
  approve: "approved",
  reject: "rejected",
  request_changes: "requested changes",
};

export const FOUR_EYES_REASON = "You started this run, so someone else must review it (four eyes).";

/** Four eyes: true when ``username`` started the item's run and the item forbids that. */
export function fourEyesBlocks(approval: ApprovalDetail, username: string | undefined): boolean {
  const startedBy = (approval as ApprovalDetail & { started_by?: string | null }).started_by;
  return approval.allow_starter === false && !!username && startedBy === username;
}

function decisionMessage(e: unknown): string | null {
  if (!(e instanceof ApiError)) return null;
  if (e.code === "FOUR_EYES") return FOUR_EYES_REASON;
  if (e.code === "ALREADY_VOTED") return "You have already voted on this item; another reviewer must add the next approval.";
  if (e.status === 409) return errorParts(e).message;
  return null;
}

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
  const schema = initial.fields_schema?.properties ? initial.fields_schema : null;
  const [fields, setFields] = useState<Record<string, FieldValue>>(() => draftValues(initial.fields, schema));
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [commentError, setCommentError] = useState<string | null>(null);
  const commentRef = useRef<HTMLTextAreaElement>(null);
  const claimTried = useRef(false);
  const leaveTimer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(leaveTimer.current), []);
  const status = approvalStatus(approval);
  const required = approval.approvals_required ?? 1;
  const votes = approval.votes ?? [];
  const approvals = approval.approvals_count ?? votes.filter((v) => v.decision === "approve").length;
  const myVote = user ? votes.find((v) => v.user === user.username) : undefined;
  // The node's option is known up front; a workflow policy's four eyes shows in the claim's answer.
  const [claimRefused, setClaimRefused] = useState(false);
  const blocked = claimRefused || fourEyesBlocks(approval, user?.username);
  const pending = approval.status === "pending" && !outcome && !myVote && !blocked;

  const [releasing, setReleasing] = useState(false);
  const release = useCallback(() => {
    claimTried.current = true; // released on purpose: do not claim it again on our own
    setReleasing(true);
    api
      .releaseApproval(approval.id)
      .then((a) => {
        setApproval(a);
        notifyInboxChanged();
      })
      .catch(setError)
      .finally(() => setReleasing(false));
  }, [approval.id]);

  const claim = useCallback(() => {
    api
      .claimApproval(approval.id)
      .then((a) => {
        setApproval(a);
        notifyInboxChanged();
      })
      .catch((e) => {
        // Someone else got it first: show who, keep the page usable.
        if (e instanceof ApiError && e.status === 409) void api.approval(approval.id).then(setApproval).catch(() => {});
        else if (e instanceof ApiError && e.code === "FOUR_EYES") setClaimRefused(true);
        else setError(e);
      });
  }, [approval.id]);

  useEffect(() => {
    if (claimTried.current || approval.status !== "pending" || approval.claimed_by || blocked) return;
    claimTried.current = true;
    claim();
  }, [approval, blocked, claim]);

  const decide = useCallback(
    async (decision: ApprovalDecision) => {
      if (busy || !pending) return;
      if (decision === "request_changes" && !comment.trim()) {
        setCommentError("Say what should change: a comment is required to request changes.");
        commentRef.current?.focus();
        return;
      }
      setCommentError(null);
      setBusy(true);
      setError(null);
      const edited = changedValues(fields, initial.fields);
      try {
        const done = await reviewApi.decide(approval.id, {
          decision,
          edited,
          comment,
          payload_hash: approval.payload_hash,
        });
        setApproval(done);
        notifyInboxChanged();
        const n = done.approvals_count ?? 0;
        const m = done.approvals_required ?? 1;
        setOutcome(
          decision === "approve"
            ? done.status === "pending"
              ? `Approved: ${n} of ${m} approvals so far, waiting for other reviewers`
              : "Approved"
            : decision === "reject"
              ? "Rejected"
              : "Changes requested",
        );
        leaveTimer.current = window.setTimeout(() => navigate("/inbox"), 1200);
      } catch (e) {
        setError(e);
        setBusy(false);
      }
    },
    [busy, pending, fields, initial.fields, approval.id, approval.payload_hash, comment, navigate],
  );

  const mine = !!user && approval.claimed_by === user.username;
  const keyState = useRef({ mine, claimable: false });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
        e.preventDefault();
        void decide("approve");
        return;
      }
      // c claims, u releases (as in the inbox list), unless the reviewer types or a dialog is open.
      const action = inboxKeyAction(e);
      if (action === "claim" && keyState.current.claimable) {
        e.preventDefault();
        claim();
      } else if (action === "release" && keyState.current.mine) {
        e.preventDefault();
        release();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [decide, claim, release]);

  const claimedByOther = approval.claimed_by && user && approval.claimed_by !== user.username;
  const claimable = approval.status === "pending" && !approval.claimed_by && !blocked && !outcome && !myVote;
  keyState.current = { mine: mine && approval.status === "pending" && !outcome, claimable };
  const decidedEdits = (approval.edited ?? {}) as Record<string, unknown>;

  return (
    <main className="page review-page">
      <p>
        <Link to="/inbox">← Review inbox</Link>
      </p>
      <div className="page-head">
        <h1>{approval.title}</h1>
        <div className="page-head-actions">
          {approval.escalated_at && (
            <span className="badge badge-escalated" title={`Escalated ${fmtTime(approval.escalated_at)}`} data-testid="escalated">
              Escalated
            </span>
          )}
          <ApprovalBadge status={status} testId="approval-status" />
        </div>
      </div>
      <dl className="facts">
        <div><dt>Queue</dt><dd>{approval.queue}</dd></div>
        <div><dt>Workflow</dt><dd>{approval.workflow.name}</dd></div>
        <div><dt>Run</dt><dd><Link to={`/runs/${approval.run_id}`}>Run #{approval.run_id}</Link></dd></div>
        <div><dt>Created</dt><dd>{fmtTime(approval.created_at)}</dd></div>
        <div>
          <dt>Claimed by</dt>
          <dd>
            <span data-testid="claimed-by">{approval.claimed_by ?? "—"}</span>
            {mine && approval.status === "pending" && !outcome && (
              <button
                type="button"
                className="btn small claim-action"
                disabled={releasing}
                onClick={release}
                title="Give the item back to the queue (u)"
                data-testid="release"
              >
                Release
              </button>
            )}
            {claimable && (
              <button
                type="button"
                className="btn small claim-action"
                onClick={claim}
                title="Take the item for review (c)"
                data-testid="claim"
              >
                Claim
              </button>
            )}
          </dd>
        </div>
        {approval.due_at && (
          <div>
            <dt>Due</dt>
            <dd>
              {approval.status === "pending" ? <DueText dueAt={approval.due_at} testId="approval-due" /> : fmtTime(approval.due_at)}
              {approval.on_due === "escalate" && approval.escalate_to && !approval.escalated_at ? (
                <span className="muted"> · then escalates to {approval.escalate_to}</span>
              ) : null}
            </dd>
          </div>
        )}
        {required > 1 && (
          <div>
            <dt>Approvals</dt>
            <dd data-testid="approvals-progress">
              {approvals} of {required} approvals
            </dd>
          </div>
        )}
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
      {approval.allow_starter === false && approval.status === "pending" && !blocked && (
        <p className="muted">Four eyes: the person who started this run may not decide it.</p>
      )}
      {/* Others claim on opening; the run's starter sees why they cannot (four eyes). */}
      {approval.status === "pending" && blocked && (
        <div className="banner banner-warn" data-testid="claim-bar">
          <button type="button" className="btn" disabled title={FOUR_EYES_REASON} aria-describedby="four-eyes-reason">
            Claim
          </button>{" "}
          <span id="four-eyes-reason" data-testid="four-eyes-reason">
            {FOUR_EYES_REASON}
          </span>
        </div>
      )}
      {error && !decisionMessage(error) ? <ErrorBox error={error} /> : null}
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
          <dl className="context" data-testid="review-context">
            {Object.entries(approval.context).map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd className="prewrap">{contextText(v)}</dd>
              </div>
            ))}
          </dl>
        </section>
      )}
      {approval.run_context && <ReviewContext context={approval.run_context} />}
      {(required > 1 || votes.length > 0) && (
        <section className="card">
          <h2>Votes</h2>
          {votes.length === 0 ? (
            <p className="muted">No votes yet.</p>
          ) : (
            <ul className="votes" data-testid="votes">
              {votes.map((v, i) => (
                <li key={i}>
                  <strong>{v.user}</strong>{" "}
                  <span className={`vote vote-${v.decision}`}>{DECISION_LABELS[v.decision] ?? v.decision}</span>
                  {v.edited && Object.keys(v.edited).length > 0 ? <span className="muted"> · with edits</span> : null}
                  <span className="muted"> · {fmtTime(v.created_at)}</span>
                  {v.comment ? <div className="vote-comment prewrap">{v.comment}</div> : null}
                </li>
              ))}
            </ul>
          )}
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
        {schema ? (
          <div data-testid="fields-form">
            <SchemaForm
              schema={formSchema(schema)}
              value={fields}
              disabled={!pending}
              onChange={(v) =>
                setFields((f) => {
                  const next: Record<string, FieldValue> = { ...f };
                  for (const [k, val] of Object.entries(v)) {
                    if (typeof val === "string" || typeof val === "number" || typeof val === "boolean") next[k] = val;
                    else if (val == null && typeof initial.fields[k] === "string") next[k] = "";
                  }
                  return next;
                })
              }
            />
            {pending &&
              Object.keys(schema.properties ?? {}).map((name) => (
                <EditDiff
                  key={name}
                  name={name}
                  before={initial.fields[name] ?? ""}
                  after={valueText(fields[name])}
                  label={`${schema.properties?.[name]?.title ?? name}: draft → edited`}
                />
              ))}
          </div>
        ) : null}
        {Object.keys(fields)
          .filter((name) => !schema?.properties?.[name])
          .map((name) => (
            <div className="field" key={name}>
              <label htmlFor={`review-field-${name}`}>{name}</label>
              <textarea
                id={`review-field-${name}`}
                rows={8}
                value={valueText(fields[name])}
                readOnly={!pending}
                onChange={(e) => setFields((f) => ({ ...f, [name]: e.target.value }))}
              />
              {pending && <EditDiff name={name} before={initial.fields[name] ?? ""} after={valueText(fields[name])} />}
            </div>
          ))}
        {!pending && Object.keys(decidedEdits).length > 0 && (
          <div className="decided-edits" data-testid="decided-edits">
            <h3>Edits made by the reviewers</h3>
            {Object.entries(decidedEdits).map(([name, v]) => (
              <div key={name}>
                <strong>{name}</strong>
                <EditDiff name={name} before={approval.fields[name] ?? ""} after={valueText(v)} label="Draft → approved:" />
              </div>
            ))}
          </div>
        )}
        <div className="field">
          <label htmlFor="review-comment">Comment</label>
          <textarea
            id="review-comment"
            ref={commentRef}
            rows={3}
            value={pending ? comment : approval.comment}
            readOnly={!pending}
            aria-invalid={commentError ? true : undefined}
            aria-describedby={commentError ? "review-comment-error" : undefined}
            onChange={(e) => {
              setComment(e.target.value);
              if (commentError && e.target.value.trim()) setCommentError(null);
            }}
          />
          {commentError && (
            <small id="review-comment-error" className="error-inline" role="alert">
              {commentError}
            </small>
          )}
        </div>
        {pending ? (
          <div className="actions">
            <button type="submit" className="btn primary" disabled={busy}>
              Approve
            </button>
            <button type="button" className="btn" disabled={busy} onClick={() => void decide("request_changes")}>
              Request changes
            </button>
            <button type="button" className="btn danger" disabled={busy} onClick={() => void decide("reject")}>
              Reject
            </button>
            <span className="muted">Ctrl+Enter approves</span>
          </div>
        ) : (
          <p className="muted">
            {blocked && approval.status === "pending" && !outcome
              ? FOUR_EYES_REASON
              : myVote && approval.status === "pending" && !outcome
              ? `You ${DECISION_LABELS[myVote.decision] ?? myVote.decision} this item; waiting for other reviewers (${approvals} of ${required}).`
              : `This review is ${approvalStatusLabel(status)}.`}
          </p>
        )}
        {decisionMessage(error) ? (
          <p className="error-inline" role="alert" data-testid="decision-error">
            {decisionMessage(error)}
          </p>
        ) : null}
      </form>
    </main>
  );
}
