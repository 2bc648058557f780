// Config widgets fed by the API (`ui.widget`): model-picker, model-list, json, connector-picker,
// workflow-picker.
import { useEffect, useState } from "react";
import { editorApi, featureApi } from "../../api/client";
import type { ConnectorRef, ModelInfo, ModelList, WorkflowSummary } from "../../api/types";

type Common = { id: string; disabled?: boolean; "aria-describedby"?: string; required: boolean };

/** One request per page load; a failure is forgotten so the next form retries. */
function cached<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | null = null;
  return () => {
    if (!p) {
      p = load().catch((e: unknown) => {
        p = null;
        throw e;
      });
    }
    return p;
  };
}

export const loadModels = cached<ModelList>(() => featureApi.models());
export const loadConnectors = cached<ConnectorRef[]>(() => featureApi.connectorChoices());
export const loadWorkflows = cached<WorkflowSummary[]>(() => editorApi.workflowChoices());

function useLoaded<T>(load: () => Promise<T>): { data: T | null; error: boolean } {
  const [state, setState] = useState<{ data: T | null; error: boolean }>({ data: null, error: false });
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setState({ data, error: false }),
      () => live && setState({ data: null, error: true }),
    );
    return () => {
      live = false;
    };
  }, [load]);
  return state;
}

function price(v: number | null): string {
  if (v == null) return "?";
  return v >= 1 ? `$${v.toFixed(2)}` : `$${v.toFixed(3).replace(/0+$/, "").replace(/\.$/, "")}`;
}

/** "GPT-4o mini · tier 1 · $0.15 / $0.6 per 1M" */
export function modelOptionLabel(m: ModelInfo): string {
  const parts = [m.label && m.label !== m.name ? `${m.label} (${m.name})` : m.name];
  if (m.tier != null) parts.push(`tier ${m.tier}`);
  if (m.source === "demo") parts.push("free, offline");
  else if (m.input_usd_per_1m != null || m.output_usd_per_1m != null)
    parts.push(`${price(m.input_usd_per_1m)} in / ${price(m.output_usd_per_1m)} out per 1M tokens`);
  return parts.join(" · ");
}

/** The short option text: "GPT-4o mini · tier 1"; the details go under the select. */
function modelShortLabel(m: ModelInfo): string {
  return m.tier != null ? `${m.label || m.name} · tier ${m.tier}` : m.label || m.name;
}

const AUTO_LABEL = "auto (cheapest that fits)";

export function ModelPicker({ common, value, onChange }: { common: Common; value: string; onChange: (v: string) => void }) {
  const { data, error } = useLoaded(loadModels);
  if (error) {
    // Without the list, a plain text box still lets the builder name a model.
    return <input {...common} value={value} placeholder="demo" onChange={(e) => onChange(e.target.value)} />;
  }
  const models = (data?.results ?? []).filter((m) => m.name !== "auto");
  const chosen = models.find((m) => m.name === value);
  const known = value === "" || value === "auto" || !!chosen;
  return (
    <>
      <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
        {value === "" && <option value="">—</option>}
        <option value="auto">{AUTO_LABEL}</option>
        {models.map((m) => (
          <option key={m.name} value={m.name} title={modelOptionLabel(m)}>
            {modelShortLabel(m)}
          </option>
        ))}
        {!known && <option value={value}>{data ? `${value} (not configured)` : value}</option>}
      </select>
      {chosen ? (
        <small className="help model-details" data-testid="model-details">
          {modelOptionLabel(chosen)}
        </small>
      ) : value === "auto" ? (
        <small className="help model-details">Picks the cheapest configured model at or above the minimum tier.</small>
      ) : null}
    </>
  );
}

/** An ordered list of model names (e.g. fallbacks): add from a select, move up/down, remove. */
export function ModelListInput({
  id,
  title,
  value,
  onChange,
  disabled,
  max,
}: {
  id: string;
  title: string;
  value: string[];
  onChange: (v: string[]) => void;
  disabled?: boolean;
  max?: number;
}) {
  const { data, error } = useLoaded(loadModels);
  const [adding, setAdding] = useState("");
  const byName = new Map((data?.results ?? []).map((m) => [m.name, m]));
  const choices = (data?.results ?? []).filter((m) => m.name !== "auto" && !value.includes(m.name));
  const full = max != null && value.length >= max;
  const move = (i: number, d: number) => {
    const next = [...value];
    const [x] = next.splice(i, 1);
    next.splice(i + d, 0, x);
    onChange(next);
  };
  return (
    <div className="model-list" id={id}>
      {value.length === 0 ? (
        <p className="muted small-note">None.</p>
      ) : (
        <ol className="model-list-items" aria-label={title}>
          {value.map((name, i) => (
            <li key={name}>
              <span className="model-list-name" title={byName.get(name) ? modelOptionLabel(byName.get(name)!) : name}>
                {byName.get(name)?.label || name}
                {data && !byName.has(name) ? <span className="error-inline"> (not configured)</span> : null}
              </span>
              <button
                type="button"
                className="icon-btn"
                aria-label={`Move ${name} up`}
                disabled={disabled || i === 0}
                onClick={() => move(i, -1)}
              >
                ↑
              </button>
              <button
                type="button"
                className="icon-btn"
                aria-label={`Move ${name} down`}
                disabled={disabled || i === value.length - 1}
                onClick={() => move(i, 1)}
              >
                ↓
              </button>
              <button
                type="button"
                className="icon-btn"
                aria-label={`Remove ${name}`}
                disabled={disabled}
                onClick={() => onChange(value.filter((_, j) => j !== i))}
              >
                ×
              </button>
            </li>
          ))}
        </ol>
      )}
      {!disabled && !full && (
        <div className="model-list-add">
          {error ? (
            <input
              aria-label={`Add to ${title}`}
              placeholder="model name"
              value={adding}
              onChange={(e) => setAdding(e.target.value)}
            />
          ) : (
            <select aria-label={`Add to ${title}`} value={adding} onChange={(e) => setAdding(e.target.value)}>
              <option value="">Choose a model…</option>
              {choices.map((m) => (
                <option key={m.name} value={m.name} title={modelOptionLabel(m)}>
                  {modelShortLabel(m)}
                </option>
              ))}
            </select>
          )}
          <button
            type="button"
            className="btn small"
            disabled={!adding.trim() || value.includes(adding.trim())}
            onClick={() => {
              onChange([...value, adding.trim()]);
              setAdding("");
            }}
          >
            Add
          </button>
        </div>
      )}
    </div>
  );
}

/** Parses JSON text: the value, or the parser's message. Empty text is "no value". */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : "Not valid JSON" };
  }
}

/** A JSON textarea checked on blur; the value changes only when the text parses. */
export function JsonField({
  common,
  value,
  onChange,
  emptyValue,
}: {
  common: Common;
  value: unknown;
  onChange: (v: unknown) => void;
  /** What an empty box means (null for nullable fields, else undefined). */
  emptyValue: null | undefined;
}) {
  const show = (v: unknown) => (v === undefined || v === null ? "" : JSON.stringify(v, null, 2));
  const [text, setText] = useState(() => show(value));
  const [error, setError] = useState<string | null>(null);
  const errId = `${common.id}-json-error`;
  const key = JSON.stringify(value ?? null);
  useEffect(() => {
    // Follow outside changes (undo, another node) unless the box holds the same value.
    const parsed = parseJsonText(text);
    if (!parsed.ok || JSON.stringify(parsed.value ?? null) !== key) {
      setText(show(value));
      setError(null);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const check = () => {
    const parsed = parseJsonText(text);
    if (!parsed.ok) return setError(parsed.error);
    setError(null);
    onChange(parsed.value === undefined ? emptyValue : parsed.value);
  };
  return (
    <>
      <textarea
        {...common}
        className="mono"
        rows={6}
        spellCheck={false}
        aria-invalid={error ? true : undefined}
        aria-describedby={[common["aria-describedby"], error ? errId : ""].filter(Boolean).join(" ") || undefined}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (error && parseJsonText(e.target.value).ok) setError(null);
        }}
        onBlur={check}
      />
      {error && (
        <small id={errId} className="error-inline" role="alert">
          Not valid JSON: {error}
        </small>
      )}
    </>
  );
}

export function ConnectorPicker({
  common,
  value,
  onChange,
  kind,
}: {
  common: Common;
  value: string;
  onChange: (v: string) => void;
  kind?: string;
}) {
  const { data, error } = useLoaded(loadConnectors);
  if (error) return <input {...common} value={value} placeholder="connector name" onChange={(e) => onChange(e.target.value)} />;
  const list = (data ?? []).filter((c) => !kind || c.kind === kind);
  const known = value === "" || list.some((c) => c.name === value);
  return (
    <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{list.length || !data ? "— none —" : `— none (no ${kind ?? ""} connector yet) —`}</option>
      {list.map((c) => (
        <option key={c.id} value={c.name}>
          {kind ? c.name : `${c.name} (${c.kind})`}
        </option>
      ))}
      {!known && <option value={value}>{data ? `${value} (not found)` : value}</option>}
    </select>
  );
}

/** A published workflow, by id (`ui.widget: workflow-picker`; the config holds the id as a string). */
export function WorkflowPicker({ common, value, onChange }: { common: Common; value: string; onChange: (v: string) => void }) {
  const { data, error } = useLoaded(loadWorkflows);
  if (error) return <input {...common} value={value} placeholder="workflow id" onChange={(e) => onChange(e.target.value)} />;
  const published = (data ?? []).filter((w) => w.published_version != null);
  const chosen = (data ?? []).find((w) => String(w.id) === value);
  const known = value === "" || published.some((w) => String(w.id) === value);
  return (
    <>
      <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{published.length || !data ? "— choose a workflow —" : "— no published workflow yet —"}</option>
        {published.map((w) => (
          <option key={w.id} value={String(w.id)}>
            {w.name} (#{w.id}, v{w.published_version})
          </option>
        ))}
        {!known && (
          <option value={value}>
            {!data ? value : chosen ? `${chosen.name} (#${chosen.id}, not published)` : `#${value} (not found)`}
          </option>
        )}
      </select>
      {chosen && chosen.published_version == null && (
        <small className="error-inline">This workflow has no published version: publish it first.</small>
      )}
    </>
  );
}
