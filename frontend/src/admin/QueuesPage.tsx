import { useState, type FormEvent } from "react";
import { adminApi, ApiError } from "../api/client";
import type { QueueInfo } from "../api/types";
import { QueueNotifyButton } from "../approvals/QueueNotifyDialog";
import { Dialog } from "../components/Dialog";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";
import { ConfirmDialog, EditDeleteActions, FormError, useAction } from "./common";
import { splitList } from "./helpers";

function QueueDialog({ queue, onClose, onSaved }: { queue: QueueInfo | null; onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState(queue?.name ?? "");
  const [description, setDescription] = useState(queue?.description ?? "");
  const [members, setMembers] = useState((queue?.members ?? []).join("\n"));
  const { busy, error, run } = useAction();
  const title = queue ? `Edit queue ${queue.name}` : "New queue";
  function submit(e: FormEvent) {
    e.preventDefault();
    const body = { name: name.trim(), description: description.trim(), members: splitList(members) };
    void run(async () => {
      if (queue) await adminApi.updateQueue(queue.id, body);
      else await adminApi.createQueue(body);
      onSaved();
      onClose();
    });
  }
  return (
    <Dialog title={title} onClose={onClose}>
      <form className="dialog-form" onSubmit={submit} aria-label={title}>
        <div className="field">
          <label htmlFor="queue-name">Name</label>
          <input id="queue-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="queue-description">Description</label>
          <input id="queue-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="queue-members">Members</label>
          <textarea
            id="queue-members"
            rows={5}
            aria-describedby="queue-members-help"
            value={members}
            onChange={(e) => setMembers(e.target.value)}
          />
          <span id="queue-members-help" className="help">
            Usernames, one per line or comma separated. Replaces the member list.
          </span>
        </div>
        {error ? <FormError error={error} /> : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={busy || !name.trim()}>
            {queue ? "Save" : "Create queue"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function QueuesPage() {
  const { data, error, loading, reload } = useApi(() => adminApi.queues(), []);
  const [editing, setEditing] = useState<QueueInfo | "new" | null>(null);
  const [deleting, setDeleting] = useState<QueueInfo | null>(null);
  return (
    <main className="page">
      <div className="page-head">
        <h1>Queues</h1>
        <button type="button" className="btn primary" onClick={() => setEditing("new")}>
          New queue
        </button>
      </div>
      {loading && !data ? (
        <Loading />
      ) : error ? (
        <ErrorBox error={error} onRetry={() => void reload()} />
      ) : !data || data.length === 0 ? (
        <Empty>No review queues yet. Create one with “New queue”.</Empty>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Description</th>
              <th>Members</th>
              <th>Pending</th>
              <th>Notifications</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.map((q) => (
              <tr key={q.id} data-testid={`queue-row-${q.name}`}>
                <td>
                  <strong>{q.name}</strong>
                </td>
                <td className="muted">{q.description || "—"}</td>
                <td>{q.members.length ? q.members.join(", ") : <span className="muted">no members</span>}</td>
                <td>{q.pending ? <span className="badge status-pending">{q.pending}</span> : <span className="muted">0</span>}</td>
                <td>
                  <QueueNotifyButton queue={q} onSaved={() => void reload(true)} />
                </td>
                <EditDeleteActions what={`queue ${q.name}`} onEdit={() => setEditing(q)} onDelete={() => setDeleting(q)} />
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing && (
        <QueueDialog
          queue={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => void reload(true)}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete queue ${deleting.name}?`}
          confirmLabel="Delete queue"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            try {
              await adminApi.deleteQueue(deleting.id);
            } catch (e) {
              if (e instanceof ApiError && e.code === "QUEUE_IN_USE") {
                const d = (e.details ?? {}) as { pending?: number; total?: number };
                throw new Error(`Cannot delete ${deleting.name}: ${e.message} (${d.pending ?? 0} pending, ${d.total ?? 0} in total)`);
              }
              throw e;
            }
            await reload(true);
          }}
        >
          Its members keep their accounts. A queue that review items use cannot be deleted.
        </ConfirmDialog>
      )}
    </main>
  );
}
