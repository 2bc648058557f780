// A compact JSON-Schema form driven by pydantic schemas and their `ui.widget` hints.
import { useEffect, useId, useState, type ReactNode } from "react";
import type { JsonSchema } from "../../api/types";
import { defaultsFor, humanize, normalize } from "./schema";
import { ExpressionField } from "./ExpressionField";
import { ConnectorPicker, JsonField, ModelListInput, ModelPicker, WorkflowPicker } from "./widgets";


interface FormProps {
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  /** The schema holding `$defs`; defaults to `schema`. */
  root?: JsonSchema;
  disabled?: boolean;
}

export function SchemaForm({ schema, value, onChange, root, disabled }: FormProps) {
  const r = root ?? schema;
  const { schema: s } = normalize(schema, r);
  const props = Object.entries(s.properties ?? {});
  if (!props.length) return <p className="muted">This node has no settings.</p>;
  const required = new Set(s.required ?? []);
  return (
    <div className="schema-form">
      {props.map(([key, prop]) => (
        <Field
          key={key}
          name={key}
          schema={prop}
          root={r}
          required={required.has(key)}
          value={value[key]}
          disabled={disabled}
          onChange={(v) => {
            const next = { ...value };
            if (v === undefined) delete next[key];
            else next[key] = v;
            onChange(next);
          }}
        />
      ))}
    </div>
  );
}

interface FieldProps {
  name: string;
  schema: JsonSchema;
  root: JsonSchema;
  required: boolean;
  value: unknown;
  onChange: (v: unknown) => void;
  disabled?: boolean;
}

function Field({ name, schema, root, required, value, onChange, disabled }: FieldProps) {
  const id = useId();
  const { schema: s, nullable } = normalize(schema, root);
  const title = s.title ?? humanize(name);
  const widget = s.ui?.widget;
  const current = value === undefined ? s.default : value;
  const descId = s.description ? `${id}-desc` : undefined;
  const help = s.description ? (
    <small id={descId} className="help">
      {s.description}
    </small>
  ) : null;
  const common = { id, disabled, "aria-describedby": descId, required };
  const wrap = (control: ReactNode, cls = "field") => (
    <div className={cls}>
      <label htmlFor={id}>{title}</label>
      {control}
      {help}
    </div>
  );
  const itemSchema = s.items ? normalize(s.items, root).schema : undefined;
  const asText = (v: unknown) => (typeof v === "string" ? v : v == null ? "" : String(v));
  const setText = (v: string) => onChange(v === "" ? (nullable ? null : undefined) : v);

  if (widget === "model-picker") {
    return wrap(<ModelPicker common={common} value={asText(current)} onChange={setText} />);
  }
  if (widget === "connector-picker") {
    const kind = typeof s.ui?.kind === "string" ? s.ui.kind : undefined;
    return wrap(<ConnectorPicker common={common} value={asText(current)} onChange={setText} kind={kind} />);
  }
  if (widget === "model-list") {
    return (
      <fieldset className="field-group">
        <legend>{title}</legend>
        {help}
        <ModelListInput
          id={id}
          title={title}
          value={Array.isArray(current) ? current.map(String) : []}
          max={typeof s.maxItems === "number" ? s.maxItems : undefined}
          disabled={disabled}
          onChange={onChange}
        />
      </fieldset>
    );
  }
  if (widget === "json") {
    return wrap(<JsonField common={common} value={current} emptyValue={nullable ? null : undefined} onChange={onChange} />);
  }

  if (widget === "const-or-number" && Array.isArray(s.ui?.consts) && s.number && typeof s.number === "object") {
    return wrap(
      <ConstOrNumber
        common={common}
        title={title}
        consts={s.ui.consts}
        number={s.number as JsonSchema}
        value={current}
        emptyValue={nullable ? null : undefined}
        onChange={onChange}
      />,
    );
  }

  if (s.enum) {
    const options = s.enum;
    const idx = options.findIndex((o) => o === current);
    return wrap(
      <select
        {...common}
        value={idx < 0 ? "" : String(idx)}
        onChange={(e) => onChange(e.target.value === "" ? (nullable ? null : undefined) : options[Number(e.target.value)])}
      >
        {(idx < 0 || nullable || !required) && <option value="">—</option>}
        {options.map((o, i) => (
          <option key={i} value={String(i)}>
            {String(o)}
          </option>
        ))}
      </select>,
    );
  }

  if (s.type === "boolean") {
    return (
      <div className="field field-check">
        <input
          {...common}
          required={false}
          type="checkbox"
          checked={current === true}
          onChange={(e) => onChange(e.target.checked)}
        />
        <label htmlFor={id}>{title}</label>
        {help}
      </div>
    );
  }

  if (s.type === "integer" || s.type === "number") {
    return wrap(
      <input
        {...common}
        type="number"
        step={s.type === "integer" ? 1 : "any"}
        min={s.minimum}
        max={s.maximum}
        value={typeof current === "number" ? current : ""}
        onChange={(e) => {
          const raw = e.target.value;
          if (raw === "") return onChange(nullable ? null : undefined);
          const n = s.type === "integer" ? parseInt(raw, 10) : parseFloat(raw);
          if (!Number.isNaN(n)) onChange(n);
        }}
      />,
    );
  }

  if (s.type === "string" || (!s.type && widget && ["textarea", "expression"].includes(widget))) {
    const str = typeof current === "string" ? current : current == null ? "" : String(current);
    const set = (v: string) => onChange(v === "" && nullable ? null : v);
    // JMESPath (`widget: expression`) and `{{ }}` templates (`template: true`): picker + preview.
    if (widget === "expression" || s.ui?.template === true) {
      return (
        <ExpressionField
          common={common}
          kind={widget === "expression" ? "expression" : "template"}
          field={name}
          value={str}
          onChange={set}
          multiline={widget === "expression" || widget === "textarea"}
          rows={widget === "expression" ? 3 : 6}
          minLength={s.minLength}
          maxLength={s.maxLength}
          label={title}
          help={help}
        />
      );
    }
    if (widget === "workflow-picker" || widget === "workflow") {
      return wrap(<WorkflowPicker common={common} value={str} onChange={set} />);
    }
    if (widget === "textarea" || widget === "expression") {
      return wrap(
        <textarea
          {...common}
          className={widget === "expression" ? "mono" : undefined}
          rows={widget === "expression" ? 3 : 6}
          minLength={s.minLength}
          maxLength={s.maxLength}
          value={str}
          onChange={(e) => set(e.target.value)}
        />,
      );
    }
    return wrap(
      <input
        {...common}
        type={s.format === "email" ? "email" : s.format === "uri" ? "url" : "text"}
        minLength={s.minLength}
        maxLength={s.maxLength}
        value={str}
        onChange={(e) => set(e.target.value)}
      />,
    );
  }

  if (s.type === "array" && (widget === "fields" || (itemSchema && itemSchema.type === "object") || itemSchema?.properties)) {
    return (
      <ObjectList
        id={id}
        title={title}
        help={help}
        itemSchema={itemSchema ?? {}}
        root={root}
        value={Array.isArray(current) ? (current as Record<string, unknown>[]) : []}
        onChange={onChange}
        disabled={disabled}
      />
    );
  }

  if (s.type === "array" && (widget === "string-list" || !itemSchema || itemSchema.type === "string")) {
    return wrap(
      <StringList
        common={common}
        value={Array.isArray(current) ? current.map(String) : []}
        onChange={onChange}
      />,
    );
  }

  if (s.type === "object" && s.properties && widget !== "key-value") {
    return (
      <fieldset className="field-group">
        <legend>{title}</legend>
        {help}
        <SchemaForm
          schema={s}
          root={root}
          disabled={disabled}
          value={current && typeof current === "object" ? (current as Record<string, unknown>) : {}}
          onChange={onChange}
        />
      </fieldset>
    );
  }

  if (s.type === "object" || widget === "key-value") {
    return (
      <KeyValue
        id={id}
        title={title}
        help={help}
        disabled={disabled}
        value={current && typeof current === "object" ? (current as Record<string, unknown>) : {}}
        onChange={onChange}
      />
    );
  }

  return wrap(<JsonInput common={common} value={current} onChange={onChange} />);
}

type Common = { id: string; disabled?: boolean; "aria-describedby"?: string; required: boolean };

const PINNED = "pinned";

/** A choice of constants or a number (`"latest"` or a version number): a select, and a number field
 * when "Pinned <title>" is chosen. Choosing it starts from the number's minimum (or 1). */
function ConstOrNumber({
  common,
  title,
  consts,
  number,
  value,
  emptyValue,
  onChange,
}: {
  common: Common;
  title: string;
  consts: unknown[];
  number: JsonSchema;
  value: unknown;
  emptyValue: null | undefined;
  onChange: (v: unknown) => void;
}) {
  const key = (c: unknown) => (typeof c === "string" ? c : JSON.stringify(c));
  const idx = consts.findIndex((c) => c === value);
  const pinned = idx < 0 && typeof value === "number";
  const integer = number.type === "integer";
  return (
    <div className="const-or-number">
      <select
        {...common}
        value={pinned ? PINNED : idx < 0 ? "" : key(consts[idx])}
        onChange={(e) => {
          const v = e.target.value;
          if (v === PINNED) onChange(typeof number.minimum === "number" ? number.minimum : 1);
          else if (v === "") onChange(emptyValue);
          else onChange(consts.find((c) => key(c) === v));
        }}
      >
        {idx < 0 && !pinned && <option value="">—</option>}
        {consts.map((c) => (
          <option key={key(c)} value={key(c)}>
            {String(c)}
          </option>
        ))}
        <option value={PINNED}>Pinned {title.toLowerCase()}</option>
      </select>
      {pinned && (
        <input
          type="number"
          aria-label={`Pinned ${title.toLowerCase()}`}
          disabled={common.disabled}
          step={integer ? 1 : "any"}
          min={number.minimum}
          max={number.maximum}
          value={value as number}
          onChange={(e) => {
            const n = integer ? parseInt(e.target.value, 10) : parseFloat(e.target.value);
            if (!Number.isNaN(n)) onChange(n);
          }}
        />
      )}
    </div>
  );
}

/** One entry per line; keeps its own text so blank lines can be typed. */
function StringList({ common, value, onChange }: { common: Common; value: string[]; onChange: (v: unknown) => void }) {
  const [text, setText] = useState(value.join("\n"));
  const parse = (t: string) => t.split("\n").map((l) => l.trim()).filter(Boolean);
  useEffect(() => {
    if (parse(text).join("\n") !== value.join("\n")) setText(value.join("\n"));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value.join("\n")]);
  return (
    <>
      <textarea
        {...common}
        rows={Math.max(3, value.length + 1)}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          onChange(parse(e.target.value));
        }}
      />
      <small className="help">One entry per line.</small>
    </>
  );
}

function JsonInput({ common, value, onChange }: { common: Common; value: unknown; onChange: (v: unknown) => void }) {
  const [text, setText] = useState(value === undefined ? "" : JSON.stringify(value, null, 2));
  const [bad, setBad] = useState(false);
  return (
    <textarea
      {...common}
      className="mono"
      aria-invalid={bad}
      rows={4}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        if (e.target.value.trim() === "") {
          setBad(false);
          return onChange(undefined);
        }
        try {
          onChange(JSON.parse(e.target.value));
          setBad(false);
        } catch {
          setBad(true);
        }
      }}
    />
  );
}

interface KeyValueProps {
  id: string;
  title: string;
  help: ReactNode;
  value: Record<string, unknown>;
  onChange: (v: unknown) => void;
  disabled?: boolean;
}

/** Rows of name + value; rows with an empty name are kept locally until named. */
function KeyValue({ id, title, help, value, onChange, disabled }: KeyValueProps) {
  const toRows = (v: Record<string, unknown>) => Object.entries(v).map(([k, x]) => [k, x == null ? "" : String(x)]);
  const [rows, setRows] = useState<string[][]>(() => toRows(value));
  const emit = (next: string[][]) => {
    setRows(next);
    const obj: Record<string, string> = {};
    for (const [k, v] of next) if (k.trim()) obj[k.trim()] = v;
    onChange(obj);
  };
  const key = JSON.stringify(value);
  useEffect(() => {
    const mine: Record<string, string> = {};
    for (const [k, v] of rows) if (k.trim()) mine[k.trim()] = v;
    if (JSON.stringify(mine) !== key) setRows(toRows(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return (
    <fieldset className="field-group" id={id}>
      <legend>{title}</legend>
      {help}
      {rows.map(([k, v], i) => (
        <div className="kv-row" key={i}>
          <input
            aria-label={`${title} name ${i + 1}`}
            placeholder="name"
            value={k}
            disabled={disabled}
            onChange={(e) => emit(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))}
          />
          <input
            aria-label={`${title} value ${i + 1}`}
            placeholder="value"
            value={v}
            disabled={disabled}
            onChange={(e) => emit(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))}
          />
          <button
            type="button"
            className="icon-btn"
            aria-label={`Remove ${title} row ${i + 1}`}
            disabled={disabled}
            onClick={() => emit(rows.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </div>
      ))}
      <button type="button" className="btn small" disabled={disabled} onClick={() => setRows([...rows, ["", ""]])}>
        Add {title.toLowerCase()} entry
      </button>
    </fieldset>
  );
}

interface ObjectListProps {
  id: string;
  title: string;
  help: ReactNode;
  itemSchema: JsonSchema;
  root: JsonSchema;
  value: Record<string, unknown>[];
  onChange: (v: unknown) => void;
  disabled?: boolean;
}

/** An array of objects (e.g. the manual trigger's `fields`): one sub-form per item. */
function ObjectList({ id, title, help, itemSchema, root, value, onChange, disabled }: ObjectListProps) {
  // "Fields" → "Field": reads better than pydantic's model name ("TriggerField").
  const itemTitle = /s$/i.test(title) && title.length > 2 ? title.slice(0, -1) : "Item";
  return (
    <fieldset className="field-group" id={id}>
      <legend>{title}</legend>
      {help}
      {value.map((item, i) => (
        <div className="object-item" key={i}>
          <div className="object-item-head">
            <span>
              {itemTitle} {i + 1}
            </span>
            <button
              type="button"
              className="icon-btn"
              aria-label={`Remove ${itemTitle} ${i + 1}`}
              disabled={disabled}
              onClick={() => onChange(value.filter((_, j) => j !== i))}
            >
              ×
            </button>
          </div>
          <SchemaForm
            schema={itemSchema}
            root={root}
            disabled={disabled}
            value={item ?? {}}
            onChange={(v) => onChange(value.map((x, j) => (j === i ? v : x)))}
          />
        </div>
      ))}
      <button
        type="button"
        className="btn small"
        disabled={disabled}
        onClick={() => onChange([...value, defaultsFor(itemSchema, root)])}
      >
        Add {itemTitle.toLowerCase()}
      </button>
    </fieldset>
  );
}
