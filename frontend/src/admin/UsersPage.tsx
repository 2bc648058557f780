import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { adminApi } from "../api/client";
import type { AdminUser, Role, UserCreated } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { Dialog } from "../components/Dialog";
import { fmtTime } from "../components/format";
import { Pager } from "../components/Pager";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";
import { ConfirmDialog, CopyOnce, FormError, useAction } from "./common";
import { splitList } from "./helpers";

const ROLES: Role[] = ["admin", "builder", "reviewer", "viewer"];

function RoleSelect({ id, value, onChange }: { id: string; value: Role; onChange: (r: Role) => void }) {
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value as Role)}>
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  );
}

function InviteForm({ onDone, onCancel }: { onDone: (u: UserCreated) => void; onCancel: () => void }) {
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("builder");
  const [queues, setQueues] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, run } = useAction();

  function submit(e: FormEvent) {
    e.preventDefault();
    void run(async () => {
      const u = await adminApi.createUser({
        username: username.trim(),
        email: email.trim(),
        display_name: name.trim(),
        role,
        queues: splitList(queues),
        ...(password ? { password } : {}),
      });
      onDone(u);
    });
  }

  return (
    <form className="card admin-form" onSubmit={submit} aria-label="Invite user">
      <h2>Invite user</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="invite-username">Username</label>
          <input id="invite-username" required autoFocus value={username} onChange={(e) => setUsername(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="invite-email">Email</label>
          <input id="invite-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="invite-name">Display name</label>
          <input id="invite-name" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="invite-role">Role</label>
          <RoleSelect id="invite-role" value={role} onChange={setRole} />
        </div>
        <div className="field">
          <label htmlFor="invite-queues">Queues</label>
          <input id="invite-queues" placeholder="Support, Billing" value={queues} onChange={(e) => setQueues(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="invite-password">Password (optional)</label>
          <input
            id="invite-password"
            type="password"
            autoComplete="new-password"
            aria-describedby="invite-password-help"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <span id="invite-password-help" className="help">
            Empty: the user gets an invite link to choose one (valid 7 days).
          </span>
        </div>
      </div>
      {error ? <FormError error={error} /> : null}
      <div className="actions">
        <button type="submit" className="btn primary" disabled={busy || !username.trim()}>
          {password ? "Create user" : "Create invite"}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function EditUserDialog({ user, onClose, onSaved }: { user: AdminUser; onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState(user.display_name);
  const [email, setEmail] = useState(user.email);
  const [role, setRole] = useState<Role>(user.role);
  const [queues, setQueues] = useState(user.queues.join(", "));
  const { busy, error, run } = useAction();
  function submit(e: FormEvent) {
    e.preventDefault();
    void run(async () => {
      await adminApi.updateUser(user.id, {
        display_name: name.trim(),
        email: email.trim(),
        role,
        queues: splitList(queues),
      });
      onSaved();
      onClose();
    });
  }
  return (
    <Dialog title={`Edit ${user.username}`} onClose={onClose}>
      <form className="dialog-form" onSubmit={submit} aria-label={`Edit ${user.username}`}>
        <div className="field">
          <label htmlFor="edit-user-name">Display name</label>
          <input id="edit-user-name" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="edit-user-email">Email</label>
          <input id="edit-user-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="edit-user-role">Role</label>
          <RoleSelect id="edit-user-role" value={role} onChange={setRole} />
        </div>
        <div className="field">
          <label htmlFor="edit-user-queues">Queues</label>
          <textarea id="edit-user-queues" rows={2} value={queues} onChange={(e) => setQueues(e.target.value)} />
          <span className="help">Comma or line separated queue names; replaces the memberships.</span>
        </div>
        {error ? <FormError error={error} /> : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={busy}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function statusOf(u: AdminUser): { label: string; cls: string } {
  if (u.is_active) return { label: "active", cls: "status-succeeded" };
  if (u.invitation_pending) return { label: "invited", cls: "status-pending" };
  return { label: "deactivated", cls: "status-cancelled" };
}

export function UsersPage() {
  const { user: me } = useAuth();
  const [params, setParams] = useSearchParams();
  const page = Number(params.get("page") ?? "1") || 1;
  const { data, error, loading, reload } = useApi(() => adminApi.users({ page }), [page]);
  const [inviting, setInviting] = useState(false);
  const [created, setCreated] = useState<UserCreated | null>(null);
  const [editing, setEditing] = useState<AdminUser | null>(null);
  const [toggling, setToggling] = useState<AdminUser | null>(null);

  return (
    <main className="page">
      <div className="page-head">
        <h1>Users</h1>
        {!inviting && (
          <button
            type="button"
            className="btn primary"
            onClick={() => {
              setCreated(null);
              setInviting(true);
            }}
          >
            Invite user
          </button>
        )}
      </div>
      {created ? (
        created.invite_url ? (
          <CopyOnce label={`Invite link for ${created.username}`} value={window.location.origin + created.invite_url}>
            <p className="help">Shown once: send it to {created.username}. It is valid for 7 days.</p>
          </CopyOnce>
        ) : (
          <p className="banner banner-ok" role="status">
            User {created.username} was created and can sign in.
          </p>
        )
      ) : null}
      {inviting && (
        <InviteForm
          onCancel={() => setInviting(false)}
          onDone={(u) => {
            setInviting(false);
            setCreated(u);
            void reload(true);
          }}
        />
      )}
      {loading && !data ? (
        <Loading />
      ) : error ? (
        <ErrorBox error={error} onRetry={() => void reload()} />
      ) : !data || data.results.length === 0 ? (
        <Empty>No users yet.</Empty>
      ) : (
        <>
          <table className="table">
            <thead>
              <tr>
                <th>Username</th>
                <th>Name</th>
                <th>Role</th>
                <th>Status</th>
                <th>Queues</th>
                <th>Last sign-in</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.results.map((u) => {
                const st = statusOf(u);
                return (
                  <tr key={u.id} data-testid={`user-row-${u.username}`}>
                    <td className="mono">{u.username}</td>
                    <td>
                      {u.display_name || <span className="muted">—</span>}
                      {u.email ? <div className="muted small-text">{u.email}</div> : null}
                    </td>
                    <td>{u.role}</td>
                    <td>
                      <span className={`badge ${st.cls}`}>{st.label}</span>
                    </td>
                    <td>{u.queues.length ? u.queues.join(", ") : <span className="muted">—</span>}</td>
                    <td>{fmtTime(u.last_login)}</td>
                    <td className="row-actions">
                      <button
                        type="button"
                        className="btn small"
                        aria-label={`Edit ${u.username}`}
                        onClick={() => setEditing(u)}
                      >
                        Edit
                      </button>
                      {u.id !== me?.id && (u.is_active || !u.invitation_pending) ? (
                        <button
                          type="button"
                          className={u.is_active ? "btn small danger" : "btn small"}
                          aria-label={`${u.is_active ? "Deactivate" : "Reactivate"} ${u.username}`}
                          onClick={() => setToggling(u)}
                        >
                          {u.is_active ? "Deactivate" : "Reactivate"}
                        </button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <Pager page={page} hasPrev={!!data.previous} hasNext={!!data.next} onPage={(p) => setParams({ page: String(p) })} />
        </>
      )}
      {editing && <EditUserDialog user={editing} onClose={() => setEditing(null)} onSaved={() => void reload(true)} />}
      {toggling && (
        <ConfirmDialog
          title={`${toggling.is_active ? "Deactivate" : "Reactivate"} ${toggling.username}?`}
          confirmLabel={toggling.is_active ? "Deactivate" : "Reactivate"}
          onClose={() => setToggling(null)}
          onConfirm={async () => {
            await adminApi.updateUser(toggling.id, { is_active: !toggling.is_active });
            await reload(true);
          }}
        >
          {toggling.is_active
            ? `${toggling.username} will no longer be able to sign in; their sessions and API tokens stop working.`
            : `${toggling.username} will be able to sign in again.`}
        </ConfirmDialog>
      )}
    </main>
  );
}
