import { useEffect, useRef, useState } from "react";
import { api, ApiError, featureApi } from "../api/client";
import type { ApprovalDetail } from "../api/types";
import { Dialog } from "../components/Dialog";
import { ErrorBox, Loading } from "../components/States";

/** Approve or reject one item from the inbox list: the reviewer sees its fields first, and the
 * decision names the payload shown (the server refuses it if the item changed meanwhile). */
export function QuickDecisionDialog({
  approvalId,
  decision,
  onClose,
  onDone,
}: {
  approvalId: number;
  decision: "approve" | "reject";
  onClose: () => void;
  onDone: (a: ApprovalDetail) => void;
}) {
  const [item, setItem] = useState<ApprovalDetail | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submitRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    // Approve: focus the button once the fields are on screen (Enter confirms).
    if (item && decision === "approve") submitRef.current?.focus();
  }, [item, decision]);

  useEffect(() => {
    let live = true;
    api
      .approval(approvalId)
      .then((a) => live && setItem(a))
      .catch((e) => live && setLoadError(e));
    return () => {
      live = false;
    };
  }, [approvalId]);

  async function submit() {
    if (!item || busy) return;
    setBusy(true);
    setError(null);
    try {
      const done = await featureApi.decide(item.id, {
        decision,
        edited: {},
        comment: reason,
        payload_hash: item.payload_hash,
      });
      onDone(done);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }

  const verb = decision === "approve" ? "Approve" : "Reject";
  const closed = item && item.status !== "pending";
  return (
    <Dialog title={`${verb} this item?`} onClose={onClose}>
      <form
        className="dialog-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {loadError ? (
          <ErrorBox error={loadError} />
        ) : !item ? (
          <Loading />
        ) : (
          <>
            <p>
              <strong>{item.title}</strong>
              <span className="muted"> · {item.queue}</span>
            </p>
            <dl className="context quick-fields">
              {Object.entries(item.fields).map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd className="prewrap">{v.length > 600 ? `${v.slice(0, 600)}…` : v}</dd>
                </div>
              ))}
            </dl>
            {closed ? <p className="muted">This item is no longer pending ({item.status}).</p> : null}
            {decision === "reject" && !closed && (
              <div className="field">
                <label htmlFor="quick-reason">Reason</label>
                <textarea
                  id="quick-reason"
                  rows={3}
                  autoFocus
                  value={reason}
                  onChange={(e) => setReason(e.target.value)}
                />
              </div>
            )}
          </>
        )}
        {error ? (
          error instanceof ApiError && error.code === "FOUR_EYES" ? (
            <p className="error-inline" role="alert">
              You started this run; someone else must review it (four eyes).
            </p>
          ) : (
            <ErrorBox error={error} />
          )
        ) : null}
        <div className="actions">
          <button
            type="submit"
            className={decision === "approve" ? "btn primary" : "btn danger"}
            ref={submitRef}
            disabled={!item || busy || !!closed}
          >
            {verb}
          </button>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
