import { useCallback, useState, type ReactNode } from "react";
import { useAuth } from "../auth/AuthContext";
import { Dialog } from "../components/Dialog";
import { Empty } from "../components/States";
import { errorText } from "./helpers";

/** A value shown once (invite link, API token) with a Copy button. */
export function CopyOnce({ label, value, children }: { label: string; value: string; children?: ReactNode }) {
  const [copied, setCopied] = useState<"" | "ok" | "fail">("");
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("ok");
    } catch {
      setCopied("fail");
    }
  }
  const id = `copy-${label.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <div className="copy-once banner banner-ok" role="region" aria-label={label}>
      <label htmlFor={id} className="copy-once-label">
        {label}
      </label>
      <div className="copy-once-row">
        <input id={id} readOnly value={value} className="mono" onFocus={(e) => e.currentTarget.select()} />
        <button type="button" className="btn small" onClick={() => void copy()}>
          Copy
        </button>
        <span aria-live="polite" className="muted">
          {copied === "ok" ? "Copied" : copied === "fail" ? "Copy failed: select the text and copy it" : ""}
        </span>
      </div>
      {children}
    </div>
  );
}

/** A confirm dialog for destructive actions; shows the error of a failed attempt. */
/** Busy and error state around one async action (a form submit, a confirm); errors stay for <FormError>. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}

/** The Edit / Delete buttons of an admin table row, named after the thing they act on. */
export function EditDeleteActions({ what, onEdit, onDelete }: { what: string; onEdit: () => void; onDelete: () => void }) {
  return (
    <td className="row-actions">
      <button type="button" className="btn small" aria-label={`Edit ${what}`} onClick={onEdit}>
        Edit
      </button>
      <button type="button" className="btn small danger" aria-label={`Delete ${what}`} onClick={onDelete}>
        Delete
      </button>
    </td>
  );
}

export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  onConfirm,
  onClose,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const { busy, error, run } = useAction();
  const go = () =>
    run(async () => {
      await onConfirm();
      onClose();
    });
  return (
    <Dialog title={title} onClose={onClose}>
      <div className="dialog-form">
        <div>{children}</div>
        {error ? <FormError error={error} /> : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn danger" autoFocus disabled={busy} onClick={() => void go()}>
            {confirmLabel}
          </button>
        </div>
      </div>
    </Dialog>
  );
}

export function FormError({ error }: { error: unknown }) {
  return (
    <p className="state state-error form-error" role="alert">
      {errorText(error)}
    </p>
  );
}

/** Admin pages: a plain message for non-admins (the API would answer 403 anyway). */
export function RequireAdmin({ children }: { children: ReactNode }) {
  const { user } = useAuth();
  if (!user?.is_admin)
    return (
      <main className="page">
        <Empty>This page is for administrators.</Empty>
      </main>
    );
  return <>{children}</>;
}
