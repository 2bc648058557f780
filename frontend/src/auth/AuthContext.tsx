import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { Navigate, useLocation, useNavigate } from "react-router-dom";
import { api, ApiError, setUnauthorizedHandler } from "../api/client";
import type { User } from "../api/types";
import { ErrorBox, Loading } from "../components/States";

interface AuthValue {
  user: User | null;
  checking: boolean;
  probeError: unknown;
  login: (username: string, password: string) => Promise<User>;
  logout: () => Promise<void>;
}

const AuthContext = createContext<AuthValue | null>(null);

export function useAuth(): AuthValue {
  const v = useContext(AuthContext);
  if (!v) throw new Error("useAuth outside AuthProvider");
  return v;
}

export function loginPath(wanted: string): string {
  return wanted && wanted !== "/" && !wanted.startsWith("/login")
    ? `/login?next=${encodeURIComponent(wanted)}`
    : "/login";
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [checking, setChecking] = useState(true);
  const [probeError, setProbeError] = useState<unknown>(null);
  const navigate = useNavigate();

  useEffect(() => {
    api
      .me()
      .then((u) => setUser(u))
      .catch((e) => {
        if (!(e instanceof ApiError && (e.status === 401 || e.status === 403))) setProbeError(e);
      })
      .finally(() => setChecking(false));
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setUser(null);
      const here = window.location.pathname + window.location.search;
      if (!here.startsWith("/login")) navigate(loginPath(here), { replace: true });
    });
    return () => setUnauthorizedHandler(null);
  }, [navigate]);

  const login = useCallback(async (username: string, password: string) => {
    const u = await api.login(username, password);
    setUser(u);
    setProbeError(null);
    return u;
  }, []);

  const logout = useCallback(async () => {
    try {
      await api.logout();
    } finally {
      setUser(null);
      navigate("/login", { replace: true });
    }
  }, [navigate]);

  const value = useMemo(
    () => ({ user, checking, probeError, login, logout }),
    [user, checking, probeError, login, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function RequireAuth({ children }: { children: ReactNode }) {
  const { user, checking, probeError } = useAuth();
  const location = useLocation();
  if (checking) return <Loading label="Checking your session…" />;
  if (probeError && !user)
    return (
      <main className="page">
        <ErrorBox error={probeError} onRetry={() => window.location.reload()} />
      </main>
    );
  if (!user) return <Navigate to={loginPath(location.pathname + location.search)} replace />;
  return <>{children}</>;
}
