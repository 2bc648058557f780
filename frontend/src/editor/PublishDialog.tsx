import { useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import type { Issue } from "../api/types";
import { Dialog } from "../components/Dialog";
import { errorParts } from "../components/States";
import { IssueList } from "./ConfigPanel";

export function issuesFromError(err: unknown): Issue[] | null {
  if (!(err instanceof ApiError)) return null;
  const d = err.details as unknown;
  if (Array.isArray(d)) return d as Issue[];
  if (d && typeof d === "object" && Array.isArray((d as { issues?: unknown }).issues))
    return (d as { issues: Issue[] }).issues;
  return null;
}

/** The new version, and whether it waits for a review (publish-review policy) instead of going live. */
export interface PublishOutcome {
  number: number;
  pending: boolean;
}

interface Props {
  onPublish: (note: string) => Promise<PublishOutcome>;
  onIssues: (issues: Issue[]) => void;
  onClose: () => void;
}

export function PublishDialog({ onPublish, onIssues, onClose }: Props) {
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState<PublishOutcome | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [issues, setIssues] = useState<Issue[] | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setIssues(null);
    try {
      setVersion(await onPublish(note));
    } catch (err) {
      const found = issuesFromError(err);
      if (found) {
        setIssues(found);
        onIssues(found);
      }
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title="Publish workflow" onClose={onClose}>
      {version !== null ? (
        <div className="dialog-form">
          {version.pending ? (
            <p className="check-ok" role="status" data-testid="publish-review-pending">
              Sent for review: version {version.number} goes live when another builder approves it in the review
              inbox. Until then the current version stays live.
            </p>
          ) : (
            <p className="check-ok" role="status" data-testid="published-version">
              Published version {version.number}
            </p>
          )}
          <div className="dialog-actions">
            <button type="button" className="btn primary" onClick={onClose} autoFocus>
              Done
            </button>
          </div>
        </div>
      ) : (
        <form onSubmit={submit} className="dialog-form">
          <div className="field">
            <label htmlFor="publish-note">Release note (optional)</label>
            <textarea id="publish-note" rows={3} value={note} onChange={(e) => setNote(e.target.value)} autoFocus />
          </div>
          {error ? (
            <div className="state state-error" role="alert">
              <strong>{errorParts(error).code}</strong> {errorParts(error).message}
              {issues && <IssueList issues={issues} />}
            </div>
          ) : null}
          <div className="dialog-actions">
            <button type="button" className="btn" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="btn primary" disabled={busy}>
              Publish version
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
