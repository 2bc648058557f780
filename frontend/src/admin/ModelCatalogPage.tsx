import { useState, type FormEvent } from "react";
import { gatewayApi } from "../api/client";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";
import { FormError, useAction } from "./common";

/** Tier, context window and prices of a model (prices in USD per 1M tokens; null = unknown / default). */
export interface ModelValues {
  tier: number | null;
  context_window: number | null;
  input_usd_per_1m: number | null;
  output_usd_per_1m: number | null;
}

export interface ModelAdminRow extends ModelValues {
  name: string;
  label: string;
  provider: string;
  litellm_model: string;
  source: "demo" | "connector" | "settings" | "override";
  connector: string;
  tier: number;
  default: ModelValues | null;
  override: (ModelValues & { updated_at: string; updated_by: string | null }) | null;
  editable: boolean;
}

export interface ModelOverrideBody extends ModelValues {
  model_name: string;
}

type Field = keyof ModelValues;
const FIELDS: Field[] = ["tier", "context_window", "input_usd_per_1m", "output_usd_per_1m"];
type Draft = Record<Field, string>;

const LIMITS: Record<Field, { min: number; max: number; integer: boolean; label: string }> = {
  tier: { min: 1, max: 3, integer: true, label: "Tier" },
  context_window: { min: 1, max: 100_000_000, integer: true, label: "Context window" },
  input_usd_per_1m: { min: 0, max: 1_000_000, integer: false, label: "Input $ / 1M" },
  output_usd_per_1m: { min: 0, max: 1_000_000, integer: false, label: "Output $ / 1M" },
};

export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return `$${Number(value.toFixed(4)).toString()}`;
}

export function formatTokens(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return value.toLocaleString("en-US");
}

function format(field: Field, value: number | null | undefined): string {
  if (field === "tier") return value === null || value === undefined ? "—" : String(value);
  if (field === "context_window") return formatTokens(value);
  return formatUsd(value);
}

export function draftFor(row: ModelAdminRow): Draft {
  const o = row.override;
  const out = {} as Draft;
  for (const f of FIELDS) out[f] = o && o[f] !== null ? String(o[f]) : "";
  return out;
}

/** The PUT body from the inline editor's text, or the problems per field (empty = keep the default). */
export function draftToBody(name: string, draft: Draft): { body: ModelOverrideBody | null; errors: Partial<Record<Field, string>> } {
  const errors: Partial<Record<Field, string>> = {};
  const values: ModelValues = { tier: null, context_window: null, input_usd_per_1m: null, output_usd_per_1m: null };
  for (const f of FIELDS) {
    const raw = draft[f].trim().replace(/^\$/, "").replace(/,/g, "");
    if (!raw) continue;
    const { min, max, integer, label } = LIMITS[f];
    const n = Number(raw);
    if (!Number.isFinite(n)) errors[f] = `${label}: not a number`;
    else if (integer && !Number.isInteger(n)) errors[f] = `${label}: a whole number`;
    else if (n < min || n > max) errors[f] = `${label}: ${min.toLocaleString("en-US")} to ${max.toLocaleString("en-US")}`;
    else values[f] = n;
  }
  if (Object.keys(errors).length) return { body: null, errors };
  return { body: { model_name: name, ...values }, errors };
}

function SourceCell({ row }: { row: ModelAdminRow }) {
  if (row.source === "connector") return <>connector <span className="muted">{row.connector}</span></>;
  if (row.source === "override") return <span className="badge status-failed">not in catalog</span>;
  return <>{row.source}</>;
}

function ValueCell({ row, field }: { row: ModelAdminRow; field: Field }) {
  const overridden = row.override !== null && row.override[field] !== null;
  const value = row[field];
  return (
    <td className="num">
      {overridden ? (
        <>
          <strong>{format(field, value)}</strong>{" "}
          <span className="badge badge-override" title="Set by an admin">
            override
          </span>
          {row.default ? <div className="muted small-print">default {format(field, row.default[field])}</div> : null}
        </>
      ) : (
        <span>{format(field, value)}</span>
      )}
    </td>
  );
}

function EditRow({ row, onDone }: { row: ModelAdminRow; onDone: (rows?: ModelAdminRow[]) => void }) {
  const [draft, setDraft] = useState<Draft>(() => draftFor(row));
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const { busy, error, run } = useAction();
  const formId = `override-${row.name}`;
  function submit(e: FormEvent) {
    e.preventDefault();
    const { body, errors: problems } = draftToBody(row.name, draft);
    setErrors(problems);
    if (!body) return;
    void run(async () => {
      const res = await gatewayApi.setModelOverride(body);
      onDone(res.results);
    });
  }
  const defaults = row.default;
  return (
    <tr className="row-selected" data-testid={`model-row-${row.name}`}>
      <td>
        <strong>{row.name}</strong>
        <div className="muted small-print">{row.litellm_model}</div>
        <form id={formId} onSubmit={submit} aria-label={`Override ${row.name}`} />
        {error ? <FormError error={error} /> : null}
        {Object.values(errors).length ? (
          <p className="state state-error form-error" role="alert">
            {Object.values(errors).join("; ")}
          </p>
        ) : null}
      </td>
      <td>{row.provider || "—"}</td>
      <td>
        <SourceCell row={row} />
      </td>
      {FIELDS.map((f) => (
        <td key={f} className="num">
          <input
            form={formId}
            className={`input-num${f === "tier" ? " input-tier" : ""}${errors[f] ? " invalid" : ""}`}
            aria-label={`${LIMITS[f].label} of ${row.name}`}
            aria-invalid={errors[f] ? true : undefined}
            inputMode={LIMITS[f].integer ? "numeric" : "decimal"}
            placeholder={defaults ? `default ${format(f, defaults[f])}` : "default"}
            value={draft[f]}
            onChange={(e) => setDraft({ ...draft, [f]: e.target.value })}
          />
        </td>
      ))}
      <td className="row-actions">
        <button type="submit" form={formId} className="btn small primary" disabled={busy}>
          Save
        </button>
        <button type="button" className="btn small" onClick={() => onDone()}>
          Cancel
        </button>
      </td>
    </tr>
  );
}

export function ModelCatalogPage() {
  const { data, error, loading, reload } = useApi(() => gatewayApi.modelOverrides(), []);
  const [rows, setRows] = useState<ModelAdminRow[] | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const reset = useAction();
  const shown = rows ?? data?.results ?? null;
  return (
    <main className="page">
      <div className="page-head">
        <h1>Model catalog</h1>
      </div>
      <p className="muted page-intro">
        Every model nodes may call. Prices and context windows come from the model connector, else from litellm's
        local cost map; an override here replaces them for routing (<code>auto</code>), budgets and recorded costs.
        Leave a field empty to keep its default.
      </p>
      {reset.error ? <FormError error={reset.error} /> : null}
      {loading && !shown ? (
        <Loading />
      ) : error && !shown ? (
        <ErrorBox error={error} onRetry={() => void reload()} />
      ) : !shown || shown.length === 0 ? (
        <Empty>No models.</Empty>
      ) : (
        <table className="table compact model-catalog">
          <thead>
            <tr>
              <th>Model</th>
              <th>Provider</th>
              <th>Source</th>
              <th className="num">Tier</th>
              <th className="num">Context window</th>
              <th className="num">Input $ / 1M tokens</th>
              <th className="num">Output $ / 1M tokens</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((row) =>
              editing === row.name ? (
                <EditRow
                  key={row.name}
                  row={row}
                  onDone={(next) => {
                    if (next) setRows(next);
                    setEditing(null);
                  }}
                />
              ) : (
                <tr key={row.name} data-testid={`model-row-${row.name}`}>
                  <td>
                    <strong>{row.name}</strong>
                    <div className="muted small-print">{row.litellm_model || "—"}</div>
                  </td>
                  <td>{row.provider || "—"}</td>
                  <td>
                    <SourceCell row={row} />
                  </td>
                  {FIELDS.map((f) => (
                    <ValueCell key={f} row={row} field={f} />
                  ))}
                  <td className="row-actions">
                    {row.editable ? (
                      <>
                        <button type="button" className="btn small" aria-label={`Edit ${row.name}`} onClick={() => setEditing(row.name)}>
                          Edit
                        </button>
                        {row.override ? (
                          <button
                            type="button"
                            className="btn small"
                            aria-label={`Reset ${row.name} to defaults`}
                            disabled={reset.busy}
                            onClick={() =>
                              void reset.run(async () => {
                                const res = await gatewayApi.setModelOverride({
                                  model_name: row.name,
                                  tier: null,
                                  context_window: null,
                                  input_usd_per_1m: null,
                                  output_usd_per_1m: null,
                                });
                                setRows(res.results);
                              })
                            }
                          >
                            Reset
                          </button>
                        ) : null}
                      </>
                    ) : (
                      <span className="muted">built in</span>
                    )}
                  </td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      )}
    </main>
  );
}
