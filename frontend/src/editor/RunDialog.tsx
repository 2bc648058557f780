import { useState, type FormEvent } from "react";
import type { TriggerField } from "../api/types";
import { Dialog } from "../components/Dialog";
import { errorParts } from "../components/States";

interface Props {
  fields: TriggerField[];
  onStart: (inputs: Record<string, unknown>) => Promise<void>;
  onClose: () => void;
}

export function RunDialog({ fields, onStart, onClose }: Props) {
  const [values, setValues] = useState<Record<string, unknown>>(() =>
    Object.fromEntries(fields.map((f) => [f.name, f.type === "boolean" ? false : ""])),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const inputs: Record<string, unknown> = {};
    for (const f of fields) {
      const v = values[f.name];
      if (f.type === "number") {
        if (v !== "" && v != null) inputs[f.name] = Number(v);
      } else if (f.type === "boolean") inputs[f.name] = v === true;
      else if (v !== "" || f.required) inputs[f.name] = v;
    }
    setBusy(true);
    setError(null);
    try {
      await onStart(inputs);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <Dialog title="Run workflow" onClose={onClose}>
      <form onSubmit={submit} className="dialog-form">
        {fields.length === 0 && <p className="muted">This workflow takes no inputs.</p>}
        {fields.map((f) => {
          const id = `run-input-${f.name}`;
          const label = f.label || f.name;
          const v = values[f.name];
          const set = (x: unknown) => setValues((s) => ({ ...s, [f.name]: x }));
          if (f.type === "boolean")
            return (
              <div className="field field-check" key={f.name}>
                <input id={id} type="checkbox" checked={v === true} onChange={(e) => set(e.target.checked)} />
                <label htmlFor={id}>{label}</label>
              </div>
            );
          return (
            <div className="field" key={f.name}>
              <label htmlFor={id}>{label}</label>
              {f.type === "text" ? (
                <textarea id={id} rows={5} required={f.required} value={String(v ?? "")} onChange={(e) => set(e.target.value)} />
              ) : (
                <input
                  id={id}
                  type={f.type === "number" ? "number" : "text"}
                  step="any"
                  required={f.required}
                  value={String(v ?? "")}
                  onChange={(e) => set(e.target.value)}
                  onKeyDown={(e) => {
                    // Enter in a one-line field starts the run (also with several fields).
                    if (e.key === "Enter" && !e.nativeEvent.isComposing && !e.shiftKey) {
                      e.preventDefault();
                      e.currentTarget.form?.requestSubmit();
                    }
                  }}
                />
              )}
            </div>
          );
        })}
        {error ? (
          <div className="state state-error" role="alert">
            <strong>{errorParts(error).code}</strong> {errorParts(error).message}
          </div>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={busy}>
            Start run
          </button>
        </div>
      </form>
    </Dialog>
  );
}
