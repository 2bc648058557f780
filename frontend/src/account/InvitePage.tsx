import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { adminApi, ApiError } from "../api/client";
import type { User } from "../api/types";
import { errorText } from "../admin/helpers";

/** Public page: an invited user picks a password (does not sign in). */
export function InvitePage() {
  const { token = "" } = useParams();
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<User | null>(null);
  const mismatch = confirm.length > 0 && password !== confirm;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (password !== confirm) {
      setError("The two passwords differ.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      setDone(await adminApi.acceptInvitation(token, password));
    } catch (err) {
      if (err instanceof ApiError && err.code === "INVITATION_INVALID")
        setError("This invitation link is not valid any more (unknown, expired or already used). Ask your administrator for a new one.");
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  if (done)
    return (
      <main className="login-page">
        <div className="login-card" role="status">
          <h1>Baton</h1>
          <p>
            Your account is ready{done.username ? <>, <strong>{done.username}</strong></> : null} — sign in.
          </p>
          <Link to="/login" className="btn primary">
            Sign in
          </Link>
        </div>
      </main>
    );

  return (
    <main className="login-page">
      <form className="login-card" onSubmit={submit} aria-labelledby="invite-title">
        <h1 id="invite-title">Welcome to Baton</h1>
        <p className="muted">Choose a password to activate your account.</p>
        {error && (
          <div className="state state-error" role="alert">
            {error}
          </div>
        )}
        <div className="field">
          <label htmlFor="invite-new-password">Password</label>
          <input
            id="invite-new-password"
            type="password"
            autoComplete="new-password"
            autoFocus
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="invite-confirm-password">Confirm password</label>
          <input
            id="invite-confirm-password"
            type="password"
            autoComplete="new-password"
            required
            aria-invalid={mismatch}
            aria-describedby={mismatch ? "invite-mismatch" : undefined}
            value={confirm}
            onChange={(e) => setConfirm(e.target.value)}
          />
          {mismatch && (
            <span id="invite-mismatch" className="error-inline small-text">
              The passwords differ.
            </span>
          )}
        </div>
        <button type="submit" className="btn primary" disabled={busy || !password || mismatch}>
          {busy ? "Activating…" : "Activate account"}
        </button>
      </form>
    </main>
  );
}
