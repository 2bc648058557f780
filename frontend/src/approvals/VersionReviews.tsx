// Publish reviews in the review inbox: a version another builder published waits here, with the
// visual diff against the live version, until someone approves (it goes live) or rejects it.
import { useState } from "react";
import { Link } from "react-router-dom";
import { api, ApiError, editorApi } from "../api/client";
import type { NodeType } from "../api/types";
import { fmtTime } from "../components/format";
import { notifyInboxChanged } from "../components/inboxEvents";
import { errorParts, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";
import type { VersionReview } from "../editor/apiTypes";
import { DiffView } from "../editor/VersionsDialog";

const STATUS_TEXT: Record<VersionReview["status"], string> = {
  pending: "waiting",
  approved: "approved, live",
  rejected: "rejected",
  superseded: "superseded by a newer version",
};

export function decisionError(err: unknown): string {
  if (err instanceof ApiError && err.code === "FOUR_EYES") return "You published this version; someone else must decide.";
  if (err instanceof ApiError && err.code === "REVIEW_DECIDED") return "Someone decided this review already.";
  const { code, message } = errorParts(err);
  return `${code}: ${message}`;
}

/** The "Version reviews" section of the inbox; renders nothing for users who have none. */
export function VersionReviews() {
  const [tab, setTab] = useState<"pending" | "decided">("pending");
  const list = useApi(() => editorApi.versionReviews({ status: tab }), [tab]);
  const any = useApi(() => editorApi.versionReviews({ status: "all" }), []);
  const types = useApi(() => api.nodeTypes(), []);
  if (!any.data || any.data.count === 0) return null;
  return (
    <section className="version-reviews" aria-labelledby="version-reviews-title" data-testid="version-reviews">
      <div className="page-head">
        <h2 id="version-reviews-title">Version reviews</h2>
        <div className="tabs" role="group" aria-label="Filter version reviews">
          {(["pending", "decided"] as const).map((value) => (
            <button
              key={value}
              type="button"
              className={`tab ${tab === value ? "active" : ""}`}
              aria-pressed={tab === value}
              onClick={() => setTab(value)}
            >
              {value === "pending" ? "Waiting" : "Decided"}
            </button>
          ))}
        </div>
      </div>
      {list.loading && !list.data ? (
        <Loading />
      ) : list.error ? (
        <ErrorBox error={list.error} onRetry={() => void list.reload()} />
      ) : !list.data || list.data.results.length === 0 ? (
        <p className="muted">{tab === "pending" ? "No version waits for a review." : "No decided version review."}</p>
      ) : (
        list.data.results.map((r) => (
          <ReviewCard
            key={r.id}
            review={r}
            types={types.data?.results ?? []}
            // The decided card stays in place with its new status until the list is reloaded.
            onDecided={() => void any.reload(true)}
          />
        ))
      )}
    </section>
  );
}

function ReviewCard({ review, types, onDecided }: { review: VersionReview; types: NodeType[]; onDecided: () => void }) {
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<VersionReview | null>(null);
  const [showDiff, setShowDiff] = useState(review.status === "pending");
  const current = done ?? review;
  const number = current.version.number;

  async function decide(decision: "approve" | "reject") {
    setBusy(true);
    setError(null);
    try {
      setDone(await editorApi.decideVersionReview(review.id, decision, comment));
      onDecided();
      notifyInboxChanged(); // the top bar's badge counts pending version reviews too
    } catch (err) {
      setError(decisionError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <article className="version-review" data-testid={`version-review-${review.id}`} aria-label={`Review of ${review.workflow.name} v${number}`}>
      <h3>
        <Link to={`/workflows/${review.workflow.id}`}>{review.workflow.name}</Link> — version {number}
      </h3>
      <p>
        Published by <strong>{current.requested_by ?? "—"}</strong> {fmtTime(current.created_at)}
        {current.version.note ? (
          <>
            {" "}
            · note: <em>{current.version.note}</em>
          </>
        ) : null}
        {" · "}
        <span className={`badge status-${current.status === "pending" ? "waiting" : current.status === "approved" ? "succeeded" : "failed"}`} data-testid={`version-review-status-${review.id}`}>
          {STATUS_TEXT[current.status]}
        </span>
        {current.decided_by && (
          <span className="muted">
            {" "}
            by {current.decided_by} {current.decided_at ? fmtTime(current.decided_at) : ""}
            {current.comment ? `: “${current.comment}”` : ""}
          </span>
        )}
      </p>
      {current.base_number == null ? (
        <p className="muted">The first version of this workflow: there is no live version to compare with.</p>
      ) : showDiff ? (
        <>
          <button type="button" className="link-btn" onClick={() => setShowDiff(false)}>
            Hide changes
          </button>
          <DiffView workflowId={review.workflow.id} from={current.base_number} to={number} types={types} />
        </>
      ) : (
        <button type="button" className="link-btn" onClick={() => setShowDiff(true)}>
          Show changes since v{current.base_number}
        </button>
      )}
      {current.status === "pending" &&
        (current.can_decide ? (
          <div className="version-review-actions">
            <div className="field">
              <label htmlFor={`version-review-comment-${review.id}`}>Comment</label>
              <textarea
                id={`version-review-comment-${review.id}`}
                rows={2}
                value={comment}
                onChange={(e) => setComment(e.target.value)}
              />
            </div>
            <button type="button" className="btn primary" disabled={busy} onClick={() => void decide("approve")}>
              Approve and publish v{number}
            </button>
            <button type="button" className="btn danger" disabled={busy} onClick={() => void decide("reject")}>
              Reject
            </button>
          </div>
        ) : (
          <p className="muted">
            Another builder must decide: the author of a version may not approve it, and deciding needs edit
            access to the workflow.
          </p>
        ))}
      {error && (
        <p className="state state-error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}
