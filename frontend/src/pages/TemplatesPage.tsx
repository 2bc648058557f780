import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { Empty, ErrorBox, Loading, errorParts } from "../components/States";
import { useApi } from "../components/useApi";

/** Starter workflows: each card makes a new workflow of yours from a template. */
export function TemplatesPage() {
  const navigate = useNavigate();
  const { data, error, loading, reload } = useApi(() => api.templates(), []);
  const [busy, setBusy] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const canBuild = useCanBuild();

  async function use(key: string) {
    setBusy(key);
    setFailure(null);
    try {
      const wf = await api.useTemplate(key);
      navigate(`/workflows/${wf.id}`);
    } catch (err) {
      setFailure(err);
      setBusy(null);
    }
  }

  return (
    <main className="page">
      <div className="page-head">
        <h1>Templates</h1>
        <Link to="/">Back to workflows</Link>
      </div>
      {failure ? (
        <p className="error-inline" role="alert">{`${errorParts(failure).code}: ${errorParts(failure).message}`}</p>
      ) : null}
      {loading && !data ? (
        <Loading />
      ) : error ? (
        <ErrorBox error={error} onRetry={() => void reload()} />
      ) : !data || data.results.length === 0 ? (
        <Empty>No templates are installed.</Empty>
      ) : (
        <div className="template-grid">
          {data.results.map((t) => (
            <section key={t.key} className="card template-card" aria-label={t.name} data-testid={`template-${t.key}`}>
              <h2>{t.name}</h2>
              <div className="template-meta muted">
                <span>{t.category}</span>
                <span>·</span>
                <span>
                  {t.node_count} step{t.node_count === 1 ? "" : "s"}
                </span>
              </div>
              <p>{t.description}</p>
              {canBuild && (
                <button
                  type="button"
                  className="btn primary"
                  disabled={busy !== null}
                  aria-label={`Use template ${t.name}`}
                  onClick={() => void use(t.key)}
                >
                  {busy === t.key ? "Creating…" : "Use template"}
                </button>
              )}
            </section>
          ))}
        </div>
      )}
    </main>
  );
}

function useCanBuild(): boolean {
  const { user } = useAuth();
  return !!user && (user.role === "admin" || user.role === "builder");
}
