import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { adminApi } from "../api/client";
import type { Connector, ConnectorKind } from "../api/types";
import { Dialog } from "../components/Dialog";
import { fmtTime } from "../components/format";
import { Pager } from "../components/Pager";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";
import { ConfirmDialog, EditDeleteActions, FormError, useAction } from "./common";
import { ConnectorTestCell } from "./ConnectorTest";
import {
  CONFIG_FIELDS,
  CONNECTOR_KINDS,
  SECRET_FIELDS,
  configForEdit,
  connectorBody,
  fieldVisible,
  type FieldSpec,
} from "./helpers";

function ConfigInput({
  spec,
  value,
  onChange,
}: {
  spec: FieldSpec;
  value: unknown;
  onChange: (v: unknown) => void;
}) {
  const id = `connector-config-${spec.name}`;
  if (spec.type === "checkbox")
    return (
      <div className="field field-check">
        <input id={id} type="checkbox" checked={Boolean(value)} onChange={(e) => onChange(e.target.checked)} />
        <label htmlFor={id}>{spec.label}</label>
      </div>
    );
  return (
    <div className="field">
      <label htmlFor={id}>{spec.label}</label>
      {spec.type === "select" ? (
        <select id={id} value={String(value ?? "")} onChange={(e) => onChange(e.target.value)}>
          {spec.options?.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      ) : spec.type === "lines" ? (
        <textarea
          id={id}
          rows={3}
          required={spec.required}
          value={Array.isArray(value) ? value.join("\n") : String(value ?? "")}
          onChange={(e) => onChange(e.target.value)}
        />
      ) : (
        <input
          id={id}
          type={spec.type === "number" ? "number" : "text"}
          required={spec.required}
          placeholder={spec.type === "text" ? spec.help : undefined}
          value={value == null ? "" : String(value)}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
      {spec.help && spec.type !== "text" ? <span className="help">{spec.help}</span> : null}
    </div>
  );
}

function ConnectorDialog({
  connector,
  onClose,
  onSaved,
}: {
  connector: Connector | null;
  onClose: () => void;
  onSaved: () => void;
}) {
  const editing = connector !== null;
  const [name, setName] = useState(connector?.name ?? "");
  const [kind, setKind] = useState<ConnectorKind>(connector?.kind ?? "http");
  const [config, setConfig] = useState<Record<string, unknown>>(() =>
    configForEdit(connector?.kind ?? "http", connector?.config),
  );
  const [secret, setSecret] = useState<Record<string, string>>({});
  const [hosts, setHosts] = useState((connector?.allowed_hosts ?? []).join(", "));
  const { busy, error, run } = useAction();
  const secretSet = Boolean(connector?.secret_set) && kind === connector?.kind;
  const title = editing ? `Edit connector ${connector.name}` : "New connector";

  function changeKind(k: ConnectorKind) {
    setKind(k);
    setConfig(configForEdit(k, k === connector?.kind ? connector.config : undefined));
    setSecret({});
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    const body = connectorBody({
      name,
      kind,
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

  const secretSpecs = SECRET_FIELDS[kind].filter((s) => fieldVisible(s, config));
  return (
    <Dialog title={title} onClose={onClose}>
      <form className="dialog-form" onSubmit={submit} aria-label={title} autoComplete="off">
        <div className="form-grid">
          <div className="field">
            <label htmlFor="connector-name">Name</label>
            <input id="connector-name" required value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="connector-kind">Kind</label>
            <select id="connector-kind" value={kind} onChange={(e) => changeKind(e.target.value as ConnectorKind)}>
              {CONNECTOR_KINDS.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </div>
        </div>
        <fieldset className="field-group">
          <legend>Settings</legend>
          {CONFIG_FIELDS[kind]
            .filter((s) => fieldVisible(s, config))
            .map((spec) => (
              <ConfigInput
                key={`${kind}-${spec.name}`}
                spec={spec}
                value={config[spec.name]}
                onChange={(v) => setConfig((c) => ({ ...c, [spec.name]: v }))}
              />
            ))}
        </fieldset>
        {secretSpecs.length > 0 && (
          <fieldset className="field-group">
            <legend>Secret (write-only)</legend>
            {secretSpecs.map((spec) => {
              const id = `connector-secret-${spec.name}`;
              const stored = secretSet && (connector?.secret_fields ?? []).includes(spec.name);
              return (
                <div className="field" key={`${kind}-${spec.name}`}>
                  <label htmlFor={id}>{spec.label}</label>
                  <input
                    id={id}
                    type="password"
                    autoComplete="new-password"
                    placeholder={stored ? "set — leave empty to keep" : spec.help ?? ""}
                    aria-describedby={`${id}-help`}
                    value={secret[spec.name] ?? ""}
                    onChange={(e) => setSecret((s) => ({ ...s, [spec.name]: e.target.value }))}
                  />
                  <span id={`${id}-help`} className="help">
                    {stored ? "set — leave empty to keep" : "Not set."} Stored secrets are never shown again.
                  </span>
                </div>
              );
            })}
            {secretSet ? (
              <p className="help">Typing any secret field replaces the whole stored secret.</p>
            ) : null}
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
            Comma separated host names it may reach; empty = the host its settings name.
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
    </Dialog>
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
