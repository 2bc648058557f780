import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { editorApi, featureApi, policyApi } from "../api/client";
import { Dialog } from "../components/Dialog";
import { fmtTime } from "../components/format";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";
import { ConfirmDialog, EditDeleteActions, FormError, useAction } from "./common";
import type { OnBudget, PolicyOverride, PolicyValues } from "./policyTypes";

// --- form state <-> API body -----------------------------------------------------------------------

const CAPS = [
  ["run", "Per run"],
  ["workflow_day", "Per workflow per day"],
  ["user_month", "Per user per month"],
] as const;

type CapKey = `${(typeof CAPS)[number][0]}_max_${"usd" | "tokens"}`;

const RULES: { name: "four_eyes" | "external_send_requires_approval" | "redact_pii" | "publish_review"; label: string; help: string }[] = [
  { name: "four_eyes", label: "Four eyes", help: "Whoever started a run may never decide its approvals." },
  {
    name: "external_send_requires_approval",
    label: "Every external send needs approval",
    help: "A workflow that sends e-mail or calls an API (non-GET) before a human approval cannot be published.",
  },
  {
    name: "redact_pii",
    label: "Redact personal data",
    help: "E-mail addresses, phone and card numbers are removed from prompts sent to providers and from stored step data.",
  },
  { name: "publish_review", label: "Publish review", help: "Another builder must approve a version before it goes live." },
];

/** Everything the form edits, as text where the user types (empty = no limit). */
export interface PolicyForm {
  caps: Record<CapKey, string>;
  on_budget: OnBudget | "";
  restrictModels: boolean;
  models: string[];
  restrictConnectors: boolean;
  connectors: string[];
  rules: Record<(typeof RULES)[number]["name"], boolean>;
  retention_days: string;
}

function capKeys(): CapKey[] {
  return CAPS.flatMap(([k]) => [`${k}_max_usd`, `${k}_max_tokens`] as CapKey[]);
}

export function policyToForm(p: PolicyValues | null | undefined, workflow = false): PolicyForm {
  const caps = Object.fromEntries(capKeys().map((k) => [k, p?.[k] == null ? "" : String(p[k])])) as Record<CapKey, string>;
  return {
    caps,
    on_budget: p?.on_budget ?? (workflow ? "" : "stop"),
    restrictModels: p?.allowed_models != null,
    models: p?.allowed_models ?? [],
    restrictConnectors: p?.allowed_connectors != null,
    connectors: p?.allowed_connectors ?? [],
    rules: {
      four_eyes: Boolean(p?.four_eyes),
      external_send_requires_approval: Boolean(p?.external_send_requires_approval),
      redact_pii: Boolean(p?.redact_pii),
      publish_review: Boolean(p?.publish_review),
    },
    retention_days: p?.retention_days == null ? "" : String(p.retention_days),
  };
}

function num(text: string): number | null {
  const t = text.trim();
  return t === "" ? null : Number(t);
}

export function formToBody(f: PolicyForm): PolicyValues {
  const caps = Object.fromEntries(capKeys().map((k) => [k, num(f.caps[k])])) as Record<CapKey, number | null>;
  return {
    ...caps,
    on_budget: f.on_budget,
    allowed_models: f.restrictModels ? [...f.models].sort() : null,
    allowed_connectors: f.restrictConnectors ? [...f.connectors].sort() : null,
    ...f.rules,
    retention_days: num(f.retention_days),
  };
}

/** A few words on what an override sets, for the table. */
export function overrideSummary(p: PolicyValues): string {
  const parts: string[] = [];
  for (const [k, label] of CAPS) {
    const usd = p[`${k}_max_usd`];
    const tokens = p[`${k}_max_tokens`];
    if (usd != null) parts.push(`${label.toLowerCase()} ≤ $${usd}`);
    if (tokens != null) parts.push(`${label.toLowerCase()} ≤ ${tokens} tokens`);
  }
  if (p.on_budget) parts.push(`on budget: ${p.on_budget}`);
  if (p.allowed_models) parts.push(`models: ${p.allowed_models.join(", ") || "none"}`);
  if (p.allowed_connectors) parts.push(`connectors: ${p.allowed_connectors.join(", ") || "none"}`);
  for (const r of RULES) if (p[r.name]) parts.push(r.label.toLowerCase());
  if (p.retention_days != null) parts.push(`keep runs ${p.retention_days} days`);
  return parts.join(" · ") || "nothing beyond the global policy";
}

// --- the form --------------------------------------------------------------------------------------

function NameChoices({
  legend,
  help,
  restrict,
  chosen,
  options,
  idPrefix,
  onChange,
}: {
  legend: string;
  help: string;
  restrict: boolean;
  chosen: string[];
  options: string[] | undefined;
  idPrefix: string;
  onChange: (restrict: boolean, chosen: string[]) => void;
}) {
  const all = [...new Set([...(options ?? []), ...chosen])].sort();
  return (
    <fieldset className="field-group">
      <legend>{legend}</legend>
      <div className="field field-check">
        <input
          id={`${idPrefix}-restrict`}
          type="checkbox"
          checked={restrict}
          onChange={(e) => onChange(e.target.checked, chosen)}
        />
        <label htmlFor={`${idPrefix}-restrict`}>Only allow the ones ticked below</label>
      </div>
      <p className="help">{help}</p>
      {restrict ? (
        options === undefined ? (
          <Loading />
        ) : all.length === 0 ? (
          <p className="muted">None exist yet: nothing will be allowed.</p>
        ) : (
          <div className="policy-choices">
            {all.map((name) => (
              <div className="field field-check" key={name}>
                <input
                  id={`${idPrefix}-${name}`}
                  type="checkbox"
                  checked={chosen.includes(name)}
                  onChange={(e) =>
                    onChange(true, e.target.checked ? [...chosen, name] : chosen.filter((c) => c !== name))
                  }
                />
                <label htmlFor={`${idPrefix}-${name}`} className="mono">
                  {name}
                </label>
              </div>
            ))}
          </div>
        )
      ) : (
        <p className="muted">Every one is allowed.</p>
      )}
    </fieldset>
  );
}

export function PolicyFormFields({
  form,
  onChange,
  workflow,
  idPrefix,
  defaultRetention,
}: {
  form: PolicyForm;
  onChange: (f: PolicyForm) => void;
  workflow: boolean;
  idPrefix: string;
  defaultRetention?: number;
}) {
  const models = useApi(() => featureApi.models().then((m) => m.results.map((r) => r.name)), []);
  const connectors = useApi(() => featureApi.connectorChoices().then((cs) => cs.map((c) => c.name)), []);
  const set = (patch: Partial<PolicyForm>) => onChange({ ...form, ...patch });
  return (
    <>
      <fieldset className="field-group">
        <legend>Budgets</legend>
        <p className="help">Empty = no cap. A run that would go over follows “When a budget is reached”.</p>
        <table className="table policy-budgets">
          <thead>
            <tr>
              <th>Scope</th>
              <th>Max USD</th>
              <th>Max tokens</th>
            </tr>
          </thead>
          <tbody>
            {CAPS.map(([k, label]) => (
              <tr key={k}>
                <th scope="row">{label}</th>
                {(["usd", "tokens"] as const).map((unit) => {
                  const key = `${k}_max_${unit}` as CapKey;
                  return (
                    <td key={unit}>
                      <input
                        id={`${idPrefix}-${key}`}
                        aria-label={`${label}: max ${unit === "usd" ? "USD" : "tokens"}`}
                        type="number"
                        min={0}
                        step={unit === "usd" ? "0.01" : "1"}
                        placeholder="no cap"
                        value={form.caps[key]}
                        onChange={(e) => set({ caps: { ...form.caps, [key]: e.target.value } })}
                      />
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
        <div className="field">
          <label htmlFor={`${idPrefix}-on-budget`}>When a budget is reached</label>
          <select
            id={`${idPrefix}-on-budget`}
            value={form.on_budget}
            onChange={(e) => set({ on_budget: e.target.value as OnBudget | "" })}
          >
            {workflow ? <option value="">Same as the global policy</option> : null}
            <option value="stop">Stop the step (BUDGET_EXCEEDED)</option>
            <option value="downgrade">Downgrade to a cheaper model</option>
            <option value="approve">Ask a person to approve</option>
          </select>
        </div>
      </fieldset>
      <NameChoices
        legend="Allowed models"
        help="LLM nodes may only call these; “auto” picks among them."
        restrict={form.restrictModels}
        chosen={form.models}
        options={models.data}
        idPrefix={`${idPrefix}-model`}
        onChange={(restrictModels, chosen) => set({ restrictModels, models: chosen })}
      />
      <NameChoices
        legend="Allowed connectors"
        help="HTTP requests and e-mails may only go through these connectors."
        restrict={form.restrictConnectors}
        chosen={form.connectors}
        options={connectors.data}
        idPrefix={`${idPrefix}-connector`}
        onChange={(restrictConnectors, chosen) => set({ restrictConnectors, connectors: chosen })}
      />
      <fieldset className="field-group">
        <legend>Rules</legend>
        {RULES.map((r) => (
          <div className="field field-check" key={r.name}>
            <input
              id={`${idPrefix}-${r.name}`}
              type="checkbox"
              checked={form.rules[r.name]}
              aria-describedby={`${idPrefix}-${r.name}-help`}
              onChange={(e) => set({ rules: { ...form.rules, [r.name]: e.target.checked } })}
            />
            <label htmlFor={`${idPrefix}-${r.name}`}>{r.label}</label>
            <span id={`${idPrefix}-${r.name}-help`} className="help">
              {r.help}
            </span>
          </div>
        ))}
      </fieldset>
      <div className="field">
        <label htmlFor={`${idPrefix}-retention`}>Keep finished runs (days)</label>
        <input
          id={`${idPrefix}-retention`}
          type="number"
          min={1}
          placeholder={
            workflow ? "as the global policy" : defaultRetention ? `default: ${defaultRetention}` : "default: forever"
          }
          value={form.retention_days}
          onChange={(e) => set({ retention_days: e.target.value })}
        />
        <span className="help">Older runs, with their steps and events, are deleted once a day.</span>
      </div>
    </>
  );
}

// --- global policy ---------------------------------------------------------------------------------

export function GlobalPolicyForm() {
  const { data, error, loading, reload } = useApi(() => policyApi.global(), []);
  if (loading && !data) return <Loading />;
  if (error || !data) return <ErrorBox error={error} onRetry={() => void reload()} />;
  // Not keyed on the data: a reload after saving keeps the form (and its "Saved.") as it is.
  return (
    <GlobalPolicyEditor
      initial={data}
      defaultRetention={data.default_retention_days}
      onSaved={() => void reload()}
    />
  );
}

function GlobalPolicyEditor({
  initial,
  defaultRetention,
  onSaved,
}: {
  initial: PolicyValues & { updated_at: string | null; updated_by: string | null };
  defaultRetention: number;
  onSaved: () => void;
}) {
  const [form, setForm] = useState(() => policyToForm(initial));
  const [saved, setSaved] = useState(false);
  const { busy, error, run } = useAction();
  function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    void run(async () => {
      await policyApi.setGlobal(formToBody(form));
      setSaved(true);
      onSaved();
    });
  }
  return (
    <form className="policy-form" aria-label="Global policy" onSubmit={submit}>
      <PolicyFormFields
        form={form}
        onChange={(f) => {
          setForm(f);
          setSaved(false);
        }}
        workflow={false}
        idPrefix="global"
        defaultRetention={defaultRetention}
      />
      {error ? <FormError error={error} /> : null}
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={busy}>
          {busy ? "Saving…" : "Save global policy"}
        </button>
        <span className="muted" aria-live="polite">
          {saved
            ? "Saved."
            : initial.updated_at
              ? `Last changed ${fmtTime(initial.updated_at)}${initial.updated_by ? ` by ${initial.updated_by}` : ""}`
              : "Not set yet: nothing is limited."}
        </span>
      </div>
    </form>
  );
}

// --- workflow policies -----------------------------------------------------------------------------

function WorkflowPolicyDialog({
  override,
  onClose,
  onSaved,
}: {
  override: PolicyOverride | null;
  onClose: () => void;
  onSaved: () => void;
}) {
  const [workflowId, setWorkflowId] = useState<string>(override ? String(override.workflow.id) : "");
  const [form, setForm] = useState(() => policyToForm(override, true));
  const workflows = useApi(() => (override ? Promise.resolve([]) : editorApi.workflowChoices()), []);
  const { busy, error, run } = useAction();
  const title = override ? `Policy of ${override.workflow.name}` : "New workflow policy";
  function submit(e: FormEvent) {
    e.preventDefault();
    void run(async () => {
      await policyApi.setWorkflow(workflowId, formToBody(form));
      onSaved();
      onClose();
    });
  }
  return (
    <Dialog title={title} onClose={onClose}>
      <form className="dialog-form" aria-label={title} onSubmit={submit}>
        <p className="help">A workflow policy can only tighten the global one: lower caps, fewer models, more rules.</p>
        {override ? null : (
          <div className="field">
            <label htmlFor="policy-workflow">Workflow</label>
            {workflows.loading ? (
              <Loading />
            ) : workflows.error ? (
              <ErrorBox error={workflows.error} onRetry={() => void workflows.reload()} />
            ) : (
              <select id="policy-workflow" required value={workflowId} onChange={(e) => setWorkflowId(e.target.value)}>
                <option value="">Choose a workflow…</option>
                {(workflows.data ?? []).map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name}
                  </option>
                ))}
              </select>
            )}
          </div>
        )}
        <PolicyFormFields form={form} onChange={setForm} workflow idPrefix="wf" />
        {error ? <FormError error={error} /> : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={busy || !workflowId}>
            {busy ? "Saving…" : "Save workflow policy"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function WorkflowPolicies() {
  const { data, error, loading, reload } = useApi(() => policyApi.overrides(), []);
  const [editing, setEditing] = useState<PolicyOverride | "new" | null>(null);
  const [deleting, setDeleting] = useState<PolicyOverride | null>(null);
  return (
    <section aria-labelledby="wf-policies-title" className="policy-section">
      <div className="page-head">
        <h2 id="wf-policies-title">Workflow policies</h2>
        <button type="button" className="btn" onClick={() => setEditing("new")}>
          Add workflow policy
        </button>
      </div>
      {loading && !data ? (
        <Loading />
      ) : error ? (
        <ErrorBox error={error} onRetry={() => void reload()} />
      ) : !data || data.results.length === 0 ? (
        <Empty>No workflow has a policy of its own: every run follows the global policy.</Empty>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Workflow</th>
              <th>Tightens</th>
              <th>Updated</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.results.map((o) => (
              <tr key={o.workflow.id} data-testid={`policy-row-${o.workflow.id}`}>
                <td>
                  <Link to={`/workflows/${o.workflow.id}`}>{o.workflow.name}</Link>
                </td>
                <td className="small-text">{overrideSummary(o)}</td>
                <td className="small-text">
                  {fmtTime(o.updated_at)}
                  {o.updated_by ? <div className="muted">by {o.updated_by}</div> : null}
                </td>
                <EditDeleteActions
                  what={`policy of ${o.workflow.name}`}
                  onEdit={() => setEditing(o)}
                  onDelete={() => setDeleting(o)}
                />
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing && (
        <WorkflowPolicyDialog
          override={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => void reload()}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Remove the policy of ${deleting.workflow.name}?`}
          confirmLabel="Remove policy"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await policyApi.deleteWorkflow(deleting.workflow.id);
            await reload();
          }}
        >
          Its runs will follow the global policy alone.
        </ConfirmDialog>
      )}
    </section>
  );
}

export function PoliciesPage() {
  return (
    <main className="page">
      <div className="page-head">
        <h1>Policies</h1>
      </div>
      <p className="muted page-intro">
        Budgets, allowed models and connectors, and review rules for every run. A workflow policy can only make
        its workflow stricter: lower caps win, allowed lists are intersected, rules add up.
      </p>
      <section aria-labelledby="global-policy-title" className="policy-section">
        <h2 id="global-policy-title">Global policy</h2>
        <GlobalPolicyForm />
      </section>
      <WorkflowPolicies />
    </main>
  );
}
