// A JMESPath expression or `{{ }}` template field with a picker of upstream fields and a live
// preview against the last run's data (POST /api/workflows/{id}/expressions/preview/).
import { useContext, useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { editorApi } from "../../api/client";
import { fmtJson } from "../../components/format";
import type { PreviewResult } from "../apiTypes";
import { ExpressionEnvContext, type ExpressionEnv } from "../context";
import { filterFields, insertAt, insertionFor, type FieldOption } from "../upstream";

export const PREVIEW_DELAY_MS = 400;

type Common = { id: string; disabled?: boolean; "aria-describedby"?: string; required: boolean };

export interface ExpressionFieldProps {
  common: Common;
  kind: "expression" | "template";
  /** Config field name (named in error messages). */
  field: string;
  value: string;
  onChange: (v: string) => void;
  multiline: boolean;
  rows?: number;
  minLength?: number;
  maxLength?: number;
  label: ReactNode;
  help: ReactNode;
}

/** Renders the plain control when there is no editor context (e.g. outside the node panel). */
export function ExpressionField(props: ExpressionFieldProps) {
  const env = useContext(ExpressionEnvContext);
  return <ExpressionFieldIn {...props} env={env} />;
}

function ExpressionFieldIn({
  common,
  kind,
  field,
  value,
  onChange,
  multiline,
  rows,
  minLength,
  maxLength,
  label,
  help,
  env,
}: ExpressionFieldProps & { env: ExpressionEnv | null }) {
  const ref = useRef<HTMLTextAreaElement & HTMLInputElement>(null);
  const caret = useRef<{ start: number; end: number }>({ start: value.length, end: value.length });
  const [open, setOpen] = useState(false);
  const remember = () => {
    const el = ref.current;
    if (el && el.selectionStart != null) caret.current = { start: el.selectionStart, end: el.selectionEnd ?? el.selectionStart };
  };
  const insert = (path: string) => {
    const { start, end } = caret.current;
    const piece = insertionFor(kind, value, start, path);
    const next = insertAt(value, piece, start, end);
    onChange(next.text);
    caret.current = { start: next.caret, end: next.caret };
    setOpen(false);
    window.setTimeout(() => {
      const el = ref.current;
      if (!el) return;
      el.focus();
      el.setSelectionRange(next.caret, next.caret);
    }, 0);
  };
  const controlProps = {
    ...common,
    ref,
    className: kind === "expression" || multiline ? "mono" : undefined,
    minLength,
    maxLength,
    value,
    spellCheck: false,
    "data-expression-kind": kind,
    onChange: (e: { target: { value: string } }) => onChange(e.target.value),
    onSelect: remember,
    onKeyUp: remember,
    onClick: remember,
    onBlur: remember,
  };
  return (
    <div className="field expression-field">
      <div className="expression-label-row">
        <label htmlFor={common.id}>{label}</label>
        {env && !common.disabled && (
          <button
            type="button"
            className="btn small"
            aria-haspopup="listbox"
            aria-expanded={open}
            onClick={() => {
              remember();
              setOpen((o) => !o);
            }}
          >
            Insert field
          </button>
        )}
      </div>
      {multiline ? <textarea rows={rows ?? 4} {...controlProps} /> : <input type="text" {...controlProps} />}
      {open && env && (
        <FieldPicker
          options={env.fields}
          onPick={insert}
          onClose={() => {
            setOpen(false);
            ref.current?.focus();
          }}
        />
      )}
      {help}
      {env && <Preview env={env} kind={kind} field={field} text={value} />}
    </div>
  );
}

/** A filter box (combobox) over a listbox of paths: arrows move, Enter inserts, Escape closes. */
export function FieldPicker({
  options,
  onPick,
  onClose,
}: {
  options: FieldOption[];
  onPick: (path: string) => void;
  onClose: () => void;
}) {
  const base = useId();
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const shown = filterFields(options, query);
  const listId = `${base}-list`;
  const optionId = (i: number) => `${base}-opt-${i}`;
  useEffect(() => {
    document.getElementById(optionId(active))?.scrollIntoView?.({ block: "nearest" });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [active]);
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setActive((a) => Math.min(a + 1, shown.length - 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (e.key === "Home") {
      e.preventDefault();
      setActive(0);
    } else if (e.key === "End") {
      e.preventDefault();
      setActive(Math.max(shown.length - 1, 0));
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (shown[active]) onPick(shown[active].path);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    }
  };
  return (
    <div className="field-picker" data-testid="field-picker">
      <input
        autoFocus
        role="combobox"
        aria-label="Filter fields"
        aria-controls={listId}
        aria-expanded="true"
        aria-autocomplete="list"
        aria-activedescendant={shown[active] ? optionId(active) : undefined}
        placeholder="Filter fields…"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={onKey}
      />
      {shown.length === 0 ? (
        <p className="muted small-note">
          {options.length === 0 ? "No upstream fields: connect this node after a trigger or another node." : "No match."}
        </p>
      ) : (
        <ul role="listbox" id={listId} aria-label="Upstream fields" className="field-picker-list">
          {shown.map((o, i) => (
            <li
              key={o.path}
              id={optionId(i)}
              role="option"
              aria-selected={i === active}
              className={i === active ? "active" : undefined}
              onMouseDown={(e) => e.preventDefault()}
              onMouseEnter={() => setActive(i)}
              onClick={() => onPick(o.path)}
            >
              <code>{o.path}</code>
              <span className="field-picker-source">
                {o.source}
                {o.origin === "run" ? " · last run" : ""}
                {o.sample !== undefined ? <span className="field-picker-sample"> = {o.sample}</span> : null}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

type PreviewState =
  | { kind: "idle" }
  | { kind: "loading" }
  | { kind: "done"; result: PreviewResult; text: string }
  | { kind: "failed"; message: string };

/** The debounced preview under the field; an error shows where it is with a caret. */
function Preview({ env, kind, field, text }: { env: ExpressionEnv; kind: "expression" | "template"; field: string; text: string }) {
  const [state, setState] = useState<PreviewState>({ kind: "idle" });
  const skip = text.trim() === "" || (kind === "template" && !text.includes("{{"));
  useEffect(() => {
    if (skip) {
      setState({ kind: "idle" });
      return;
    }
    let live = true;
    const t = window.setTimeout(() => {
      setState({ kind: "loading" });
      editorApi
        .previewExpression(env.workflowId, {
          [kind]: text,
          node_id: env.nodeId,
          field,
          run_id: env.runId ?? undefined,
        })
        .then(
          (result) => live && setState({ kind: "done", result, text }),
          (e: unknown) => live && setState({ kind: "failed", message: e instanceof Error ? e.message : "Preview failed" }),
        );
    }, PREVIEW_DELAY_MS);
    return () => {
      live = false;
      window.clearTimeout(t);
    };
  }, [env.workflowId, env.nodeId, env.runId, kind, field, text, skip]);
  if (skip) return null;
  return (
    <div className="expression-preview" data-testid="expression-preview" aria-live="polite">
      {state.kind === "loading" || state.kind === "idle" ? (
        <span className="muted">Previewing…</span>
      ) : state.kind === "failed" ? (
        <span className="error-inline">{state.message}</span>
      ) : state.result.ok ? (
        <>
          <span className="muted">
            {state.result.run_id != null ? `Preview with run #${state.result.run_id}:` : "Preview (no run yet, empty data):"}
          </span>
          <pre className="json" data-testid="preview-value">
            {kind === "template" && typeof state.result.value === "string" ? state.result.value : fmtJson(state.result.value)}
          </pre>
        </>
      ) : (
        <ErrorAt text={state.text} error={state.result.error!} />
      )}
    </div>
  );
}

function ErrorAt({ text, error }: { text: string; error: { code: string; message: string; position: number } }) {
  // The line holding the position, with a caret under the character.
  const pos = Math.max(0, Math.min(error.position, text.length));
  const lineStart = text.lastIndexOf("\n", pos - 1) + 1;
  const lineEnd = text.indexOf("\n", pos);
  const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
  const column = pos - lineStart;
  return (
    <div className="preview-error" role="alert" data-testid="preview-error">
      <span className="error-inline">
        <code>{error.code}</code> {error.message}
      </span>
      <pre className="json preview-caret" aria-hidden="true">
        {line}
        {"\n"}
        {" ".repeat(column)}^
      </pre>
    </div>
  );
}
