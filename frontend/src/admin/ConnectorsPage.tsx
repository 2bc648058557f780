import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { adminApi } from "../api/client";
import type { Connector, ConnectorKind, ConnectorKindInfo } from "../api/types";
import { Dialog } from "../components/Dialog";
import { fmtTime } from "../components/format";
import { Pager } from "../components/Pager";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";
import { SchemaForm } from "../editor/config-form/SchemaForm";
import { ConfirmDialog, EditDeleteActions, FormError, useAction } from "./common";
import { configFromSchema, connectorFormBody, visibleSchema, visibleSecretFields } from "./ConnectorForm";
import { ConnectorTestCell } from "./ConnectorTest";

function ConnectorDialog({
  connector,
  onClose,
  onSaved,
}: {
  connector: Connector | null;
  onClose: () => void;
  onSaved: () => void;
}) {
  const title = connector ? `Edit connector ${connector.name}` : "New connector";
  const kinds = useApi(() => adminApi.connectorKinds(), []);
  return (
    <Dialog title={title} onClose={onClose}>
      {kinds.data ? (
        <ConnectorFormBody connector={connector} kinds={kinds.data} title={title} onClose={onClose} onSaved={onSaved} />
      ) : kinds.error ? (
        <ErrorBox error={kinds.error} onRetry={() => void kinds.reload()} />
      ) : (
        <Loading />
      )}
    </Dialog>
  );
}

function ConnectorFormBody({
  connector,
  kinds,
  title,
  onClose,
  onSaved,
}: {
  connector: Connector | null;
  kinds: ConnectorKindInfo[];
  title: string;
  onClose: () => void;
  onSaved: () => void;
}) {
  const editing = connector !== null;
  const infoOf = (k: ConnectorKind) => kinds.find((i) => i.kind === k) ?? kinds[0];
  const [name, setName] = useState(connector?.name ?? "");
  const [kind, setKind] = useState<ConnectorKind>(connector?.kind ?? "http");
  const info = infoOf(kind);
  const [config, setConfig] = useState<Record<string, unknown>>(() => configFromSchema(info, connector?.config));
  const [secret, setSecret] = useState<Record<string, string>>({});
  const [hosts, setHosts] = useState((connector?.allowed_hosts ?? []).join(", "));
  const { busy, error, run } = useAction();
  const secretSet = Boolean(connector?.secret_set) && kind === connector?.kind;

  function changeKind(k: ConnectorKind) {
    setKind(k);
    setConfig(configFromSchema(infoOf(k), k === connector?.kind ? connector.config : undefined));
    setSecret({});
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    const body = connectorFormBody({
      info,
      name,
      config,
      secret,
      allowedHosts: hosts,
      editing: editing && kind === connector.kind,
      stored: connector ?? undefined,
    });
    void run(async () => {
      if (editing) await adminApi.updateConnector(connector.id, body);
      else await adminApi.createConnector(body);
      onSaved();
      onClose();
    });
  }

  const secretFields = visibleSecretFields(info, config);
  return (
    <form className="dialog-form" onSubmit={submit} aria-label={title} autoComplete="off">
      <div className="form-grid">
        <div className="field">
          <label htmlFor="connector-name">Name</label>
          <input id="connector-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="connector-kind">Kind</label>
          <select id="connector-kind" value={kind} onChange={(e) => changeKind(e.target.value as ConnectorKind)}>
            {kinds.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.title}
              </option>
            ))}
          </select>
        </div>
      </div>
      <fieldset className="field-group" data-testid="connector-settings">
        <legend>Settings</legend>
        <SchemaForm
          key={kind}
          schema={visibleSchema(info, info.config_schema, config)}
          root={info.config_schema}
          value={config}
          onChange={setConfig}
        />
      </fieldset>
      {secretFields.length > 0 && (
        <fieldset className="field-group">
          <legend>Secret (write-only)</legend>
          {secretFields.map((f) => {
            const id = `connector-secret-${f.name}`;
            const stored = secretSet && (connector?.secret_fields ?? []).includes(f.name);
            return (
              <div className="field" key={`${kind}-${f.name}`}>
                <label htmlFor={id}>
                  {f.title}{" "}
                  {stored ? (
                    <span className="badge" data-testid={`secret-set-${f.name}`}>
                      set
                    </span>
                  ) : null}
                </label>
                <input
                  id={id}
                  type="password"
                  autoComplete="new-password"
                  placeholder={stored ? "set — leave empty to keep" : f.description ?? ""}
                  aria-describedby={`${id}-help`}
                  value={secret[f.name] ?? ""}
                  onChange={(e) => setSecret((s) => ({ ...s, [f.name]: e.target.value }))}
                />
                <span id={`${id}-help`} className="help">
                  {stored ? "set — leave empty to keep" : "Not set."} Stored secrets are never shown again.
                </span>
              </div>
            );
          })}
          {secretSet ? <p className="help">Typing any secret field replaces the whole stored secret.</p> : null}
        </fieldset>
      )}
      <div className="field">
        <label htmlFor="connector-hosts">Allowed hosts</label>
        <input
          id="connector-hosts"
          aria-describedby="connector-hosts-help"
          value={hosts}
          onChange={(e) => setHosts(e.target.value)}
        />
        <span id="connector-hosts-help" className="help">
          Comma separated host names it may reach (for OAuth2 also the token URL&apos;s host); empty = the hosts its
          settings name.
        </span>
      </div>
      {error ? <FormError error={error} /> : null}
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="btn primary" disabled={busy || !name.trim()}>
          {editing ? "Save" : "Create connector"}
        </button>
      </div>
    </form>
  );
}

function configSummary(c: Connector): string {
  const cfg = c.config ?? {};
  const v = cfg.base_url || cfg.host || cfg.provider || cfg.channel;
  return typeof v === "string" && v ? v : "";
}

export function ConnectorsPage() {
  const [params, setParams] = useSearchParams();
  const page = Number(params.get("page") ?? "1") || 1;
  const { data, error, loading, reload } = useApi(() => adminApi.connectors({ page }), [page]);
  const [editing, setEditing] = useState<Connector | "new" | null>(null);
  const [deleting, setDeleting] = useState<Connector | null>(null);
  return (
    <main className="page">
      <div className="page-head">
        <h1>Connectors</h1>
        <button type="button" className="btn primary" onClick={() => setEditing("new")}>
          New connector
        </button>
      </div>
      <p className="muted page-intro">
        Credentials for e-mail, HTTP APIs, model providers and Slack. Secret values are write-only: Baton never
        shows them again.
      </p>
      {loading && !data ? (
        <Loading />
      ) : error ? (
        <ErrorBox error={error} onRetry={() => void reload()} />
      ) : !data || data.results.length === 0 ? (
        <Empty>No connectors yet. Create one with “New connector”.</Empty>
      ) : (
        <>
          <table className="table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th>Target</th>
                <th>Allowed hosts</th>
                <th>Secret</th>
                <th>Updated</th>
                <th>Connection</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.results.map((c) => (
                <tr key={c.id} data-testid={`connector-row-${c.name}`}>
                  <td>
                    <strong>{c.name}</strong>
                  </td>
                  <td>
                    <span className="badge">{c.kind}</span>
                  </td>
                  <td className="mono small-text">{configSummary(c) || <span className="muted">—</span>}</td>
                  <td className="small-text">
                    {c.allowed_hosts?.length ? c.allowed_hosts.join(", ") : <span className="muted">—</span>}
                  </td>
                  <td>
                    {c.secret_set ? (
                      <span className="check-ok" title={`Set: ${(c.secret_fields ?? []).join(", ")}`}>
                        ✓ <span>secret set</span>
                      </span>
                    ) : (
                      <span className="muted">not set</span>
                    )}
                  </td>
                  <td className="small-text">
                    {fmtTime(c.updated_at)}
                    {c.created_by ? <div className="muted">by {c.created_by}</div> : null}
                  </td>
                  <ConnectorTestCell connector={c} />
                  <EditDeleteActions
                    what={`connector ${c.name}`}
                    onEdit={() => setEditing(c)}
                    onDelete={() => setDeleting(c)}
                  />
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} hasPrev={!!data.previous} hasNext={!!data.next} onPage={(p) => setParams({ page: String(p) })} />
        </>
      )}
      {editing && (
        <ConnectorDialog
          connector={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => void reload(true)}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete connector ${deleting.name}?`}
          confirmLabel="Delete connector"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await adminApi.deleteConnector(deleting.id);
            await reload(true);
          }}
        >
          Workflow nodes that name it will fail until you pick another connector. Its stored secret is erased.
        </ConfirmDialog>
      )}
    </main>
  );
}
