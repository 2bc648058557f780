import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { adminApi } from "../api/client";
import type { ApiToken, ApiTokenCreated } from "../api/types";
import { ConfirmDialog, CopyOnce, FormError, useAction } from "../admin/common";
import { expiryFromDays, validExpiryDays } from "../admin/helpers";
import { fmtTime } from "../components/format";
import { Pager } from "../components/Pager";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";

function tokenStatus(t: ApiToken): { label: string; cls: string } {
  if (t.revoked_at) return { label: "revoked", cls: "status-cancelled" };
  if (!t.active) return { label: "expired", cls: "status-failed" };
  return { label: "active", cls: "status-succeeded" };
}

function NewTokenForm({ onCreated }: { onCreated: (t: ApiTokenCreated) => void }) {
  const [name, setName] = useState("");
  const [days, setDays] = useState("90");
  const { busy, error, run } = useAction();
  const validDays = validExpiryDays(days);
  function submit(e: FormEvent) {
    e.preventDefault();
    if (validDays === null) return;
    void run(async () => {
      const t = await adminApi.createToken(name.trim(), expiryFromDays(validDays));
      setName("");
      onCreated(t);
    });
  }
  return (
    <form className="card" onSubmit={submit} aria-label="Create API token">
      <h2>Create a token</h2>
      <div className="inline-form">
        <div className="field">
          <label htmlFor="token-name">Token name</label>
          <input id="token-name" required placeholder="e.g. CI pipeline" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field field-narrow">
          <label htmlFor="token-days">Expires in (days)</label>
          <input
            id="token-days"
            type="number"
            min={1}
            max={365}
            required
            aria-invalid={validDays === null}
            aria-describedby="token-days-help"
            value={days}
            onChange={(e) => setDays(e.target.value)}
          />
        </div>
        <button type="submit" className="btn primary" disabled={busy || !name.trim() || validDays === null}>
          Create token
        </button>
      </div>
      <p id="token-days-help" className={validDays === null ? "error-inline small-text" : "help"}>
        1 to 365 days. Use it as <code>Authorization: Bearer bat_…</code>
      </p>
      {error ? <FormError error={error} /> : null}
    </form>
  );
}

export function TokensPage() {
  const [params, setParams] = useSearchParams();
  const page = Number(params.get("page") ?? "1") || 1;
  const { data, error, loading, reload } = useApi(() => adminApi.tokens({ page }), [page]);
  const [created, setCreated] = useState<ApiTokenCreated | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  return (
    <main className="page">
      <div className="page-head">
        <h1>API tokens</h1>
      </div>
      <p className="muted page-intro">
        Personal tokens act as you for scripts and integrations, with your permissions.
      </p>
      {created && (
        <CopyOnce label={`New token ${created.name}`} value={created.token}>
          <p className="copy-warning" role="alert">
            Copy it now: this is the only time Baton shows it. Store it like a password.
          </p>
          <button type="button" className="btn small" onClick={() => setCreated(null)}>
            I have copied it
          </button>
        </CopyOnce>
      )}
      <NewTokenForm
        onCreated={(t) => {
          setCreated(t);
          void reload(true);
        }}
      />
      {loading && !data ? (
        <Loading />
      ) : error ? (
        <ErrorBox error={error} onRetry={() => void reload()} />
      ) : !data || data.results.length === 0 ? (
        <Empty>You have no API tokens.</Empty>
      ) : (
        <>
          <table className="table" aria-label="Your API tokens">
            <thead>
              <tr>
                <th>Name</th>
                <th>Prefix</th>
                <th>Created</th>
                <th>Expires</th>
                <th>Last used</th>
                <th>Status</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.results.map((t) => {
                const st = tokenStatus(t);
                return (
                  <tr key={t.id} data-testid={`token-row-${t.name}`}>
                    <td>{t.name}</td>
                    <td className="mono">{t.prefix}…</td>
                    <td>{fmtTime(t.created_at)}</td>
                    <td>{fmtTime(t.expires_at)}</td>
                    <td>{t.last_used_at ? fmtTime(t.last_used_at) : <span className="muted">never</span>}</td>
                    <td>
                      <span className={`badge ${st.cls}`}>{st.label}</span>
                    </td>
                    <td className="row-actions">
                      {t.active ? (
                        <button
                          type="button"
                          className="btn small danger"
                          aria-label={`Revoke token ${t.name}`}
                          onClick={() => setRevoking(t)}
                        >
                          Revoke
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
      {revoking && (
        <ConfirmDialog
          title={`Revoke token ${revoking.name}?`}
          confirmLabel="Revoke token"
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            await adminApi.revokeToken(revoking.id);
            if (created?.id === revoking.id) setCreated(null);
            await reload(true);
          }}
        >
          Scripts using <span className="mono">{revoking.prefix}…</span> stop working at once. This cannot be undone.
        </ConfirmDialog>
      )}
    </main>
  );
}
