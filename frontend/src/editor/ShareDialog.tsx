import { useEffect, useState, type FormEvent } from "react";
import { adminApi, governanceApi, type SharePermission, type WorkflowShare } from "../api/client";
import { Dialog } from "../components/Dialog";
import { ErrorBox, Loading } from "../components/States";

const PERMISSIONS: { value: SharePermission; label: string }[] = [
  { value: "view", label: "Can view" },
  { value: "run", label: "Can run" },
  { value: "edit", label: "Can edit" },
];

function targetLabel(s: WorkflowShare): string {
  return s.user ? s.user : `Queue: ${s.queue ?? "?"}`;
}

/** Who else may see, run or edit this workflow: users one by one, or every member of a queue. */
export function ShareDialog({
  workflowId,
  workflowName,
  onClose,
}: {
  workflowId: number;
  workflowName: string;
  onClose: () => void;
}) {
  const [shares, setShares] = useState<WorkflowShare[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [kind, setKind] = useState<"user" | "queue">("user");
  const [target, setTarget] = useState("");
  const [permission, setPermission] = useState<SharePermission>("view");
  const [queues, setQueues] = useState<string[]>([]);
  const [notice, setNotice] = useState("");

  useEffect(() => {
    let live = true;
    governanceApi.shares(workflowId).then(
      (r) => live && setShares(r.results),
      (e: unknown) => live && setLoadError(e),
    );
    adminApi.queues().then(
      (list) => live && setQueues(list.map((q) => q.name)),
      () => undefined, // only a suggestion list
    );
    return () => {
      live = false;
    };
  }, [workflowId]);

  async function act(fn: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  function upsert(share: WorkflowShare) {
    setShares((list) => {
      const rest = (list ?? []).filter((s) => s.id !== share.id);
      return [...rest, share].sort((a, b) => a.id - b.id);
    });
  }

  function add(e: FormEvent) {
    e.preventDefault();
    const name = target.trim();
    if (!name) return;
    void act(async () => {
      const body = kind === "user" ? { username: name, permission } : { queue: name, permission };
      const share = await governanceApi.share(workflowId, body);
      upsert(share);
      setTarget("");
      setNotice(`Shared with ${targetLabel(share)} (${permission}).`);
    });
  }

  function change(share: WorkflowShare, next: SharePermission) {
    void act(async () => {
      const body = share.user ? { username: share.user, permission: next } : { queue: share.queue ?? "", permission: next };
      upsert(await governanceApi.share(workflowId, body));
      setNotice(`${targetLabel(share)} now ${next}.`);
    });
  }

  function remove(share: WorkflowShare) {
    void act(async () => {
      await governanceApi.unshare(workflowId, share.id);
      setShares((list) => (list ?? []).filter((s) => s.id !== share.id));
      setNotice(`Removed ${targetLabel(share)}.`);
    });
  }

  return (
    <Dialog title={`Share ${workflowName}`} onClose={onClose}>
      <form className="dialog-form share-add" onSubmit={add} aria-label="Add a share">
        <fieldset className="field-group share-kind">
          <legend>Share with</legend>
          <label>
            <input type="radio" name="share-kind" checked={kind === "user"} onChange={() => setKind("user")} /> A user
          </label>
          <label>
            <input type="radio" name="share-kind" checked={kind === "queue"} onChange={() => setKind("queue")} /> A
            queue (all its members)
          </label>
        </fieldset>
        <div className="form-grid">
          <div className="field">
            <label htmlFor="share-target">{kind === "user" ? "Username" : "Queue"}</label>
            <input
              id="share-target"
              autoComplete="off"
              list={kind === "queue" ? "share-queues" : undefined}
              value={target}
              onChange={(e) => setTarget(e.target.value)}
            />
            <datalist id="share-queues">
              {queues.map((q) => (
                <option key={q} value={q} />
              ))}
            </datalist>
          </div>
          <div className="field">
            <label htmlFor="share-permission">Permission</label>
            <select
              id="share-permission"
              value={permission}
              onChange={(e) => setPermission(e.target.value as SharePermission)}
            >
              {PERMISSIONS.map((p) => (
                <option key={p.value} value={p.value}>
                  {p.label}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="dialog-actions">
          <button type="submit" className="btn primary" disabled={busy || !target.trim()}>
            Share
          </button>
        </div>
      </form>
      <div className="share-body">
        {error ? <ErrorBox error={error} /> : null}
        <p className="visually-hidden" role="status" aria-live="polite">
          {notice}
        </p>
        <h3 className="share-list-title">People and queues with access</h3>
        {loadError ? (
          <ErrorBox error={loadError} />
        ) : shares === null ? (
          <Loading label="Loading shares…" />
        ) : shares.length === 0 ? (
          <p className="muted">Not shared yet: only its owner and admins can see it.</p>
        ) : (
          <table className="table share-list">
            <thead>
              <tr>
                <th>Who</th>
                <th>Permission</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shares.map((s) => (
                <tr key={s.id} data-testid={`share-${s.user ?? `queue-${s.queue}`}`}>
                  <td>{s.user ? <strong>{s.user}</strong> : <span>Queue: {s.queue}</span>}</td>
                  <td>
                    <select
                      aria-label={`Permission for ${targetLabel(s)}`}
                      value={s.permission}
                      disabled={busy}
                      onChange={(e) => change(s, e.target.value as SharePermission)}
                    >
                      {PERMISSIONS.map((p) => (
                        <option key={p.value} value={p.value}>
                          {p.label}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <button
                      type="button"
                      className="btn small danger"
                      disabled={busy}
                      aria-label={`Remove ${targetLabel(s)}`}
                      onClick={() => remove(s)}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </Dialog>
  );
}

/** The editor toolbar's "Share" button; owns its dialog so the toolbar needs one line. */
export function ShareButton({ workflowId, workflowName }: { workflowId: number; workflowName: string }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="btn" aria-haspopup="dialog" onClick={() => setOpen(true)}>
        Share
      </button>
      {open && <ShareDialog workflowId={workflowId} workflowName={workflowName} onClose={() => setOpen(false)} />}
    </>
  );
}
