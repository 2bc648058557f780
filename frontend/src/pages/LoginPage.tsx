import { useEffect, useState, type FormEvent } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router-dom";
import { ApiError, governanceApi, type AuthConfig } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { errorParts } from "../components/States";

function safeNext(next: string | null): string {
  // Only same-site paths: never redirect to another origin.
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

/** Why the provider sign-in was refused (``/login?sso_error=CODE``, set by the OIDC callback). */
export const SSO_ERRORS: Record<string, string> = {
  SSO_NO_ROLE: "Your account is not in any group that has access to Baton. Ask an administrator.",
  SSO_INACTIVE: "Your Baton account is deactivated. Ask an administrator.",
  SSO_PROVIDER_ERROR: "The single sign-on provider could not be reached. Try again later.",
  SSO_FAILED: "Single sign-on failed. Try again.",
};

export function ssoStartUrl(loginUrl: string, next: string): string {
  return next === "/" ? loginUrl : `${loginUrl}?${new URLSearchParams({ next })}`;
}

export function LoginPage() {
  const { login, user, checking } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const next = safeNext(params.get("next"));
  const ssoError = params.get("sso_error");
  const [config, setConfig] = useState<AuthConfig | null>(null);

  useEffect(() => {
    let live = true;
    governanceApi
      .authConfig()
      .then((c) => live && setConfig(c))
      .catch(() => live && setConfig(null));
    return () => {
      live = false;
    };
  }, []);
  const sso = config?.sso.enabled ? config.sso : null;

  if (!checking && user) return <Navigate to={next} replace />;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username, password);
      navigate(next, { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.code === "INVALID_CREDENTIALS") setError("Wrong username or password");
      else {
        const { code, message } = errorParts(err);
        setError(`${code}: ${message}`);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login-page">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Baton</h1>
        <p className="muted">Sign in to continue</p>
        {error && (
          <div className="state state-error" role="alert">
            {error}
          </div>
        )}
        {!error && ssoError && (
          <div className="state state-error" role="alert">
            {SSO_ERRORS[ssoError] ?? SSO_ERRORS.SSO_FAILED}
          </div>
        )}
        {sso && (
          <>
            <a className="btn primary sso-button" href={ssoStartUrl(sso.login_url, next)}>
              {sso.label || "Sign in with SSO"}
            </a>
            <p className="muted login-or" aria-hidden="true">
              or with a Baton password
            </p>
          </>
        )}
        <div className="field">
          <label htmlFor="login-username">Username</label>
          <input
            id="login-username"
            autoComplete="username"
            autoFocus
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="login-password">Password</label>
          <input
            id="login-password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <button type="submit" className={sso ? "btn" : "btn primary"} disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
