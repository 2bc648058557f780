/** Editable fields of a review item: a JSON Schema form (``fields_schema``) or plain text areas. */
import type { JsonSchema } from "../api/types";

export type FieldValue = string | number | boolean;

/** The schema as SchemaForm should draw it: long text (no enum, no short maxLength) in a text area. */
export function formSchema(schema: JsonSchema): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const text = (prop.type ?? "string") === "string" && !prop.enum;
    const short = typeof prop.maxLength === "number" && prop.maxLength <= 120;
    properties[name] = text && !short ? { ...prop, type: "string", ui: { widget: "textarea" } } : prop;
  }
  return { ...schema, type: "object", properties };
}

/** A draft's text as the typed value its schema property asks for (unparsable text stays text). */
export function typedValue(text: string, prop: JsonSchema | undefined): FieldValue {
  const type = prop?.type;
  if (type === "boolean") {
    if (/^(true|yes|1)$/i.test(text.trim())) return true;
    if (/^(false|no|0|)$/i.test(text.trim())) return false;
    return text;
  }
  if (type === "number" || type === "integer") {
    const n = Number(text.trim());
    return text.trim() !== "" && Number.isFinite(n) ? n : text;
  }
  return text;
}

/** The form's starting values: every draft field, typed where the schema says so. */
export function draftValues(fields: Record<string, string>, schema: JsonSchema | null | undefined): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const [name, text] of Object.entries(fields)) out[name] = typedValue(text, schema?.properties?.[name]);
  return out;
}

/** A value as the draft would spell it: ``true``, ``3``, text. */
export function valueText(v: unknown): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : String(v);
}

/** Only the fields the reviewer changed (compared as the draft spells them). */
export function changedValues(values: Record<string, unknown>, draft: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(values)) {
    if (v === undefined || !(name in draft)) continue;
    if (valueText(v) !== draft[name]) out[name] = v;
  }
  return out;
}
