// Connector forms generated from the per-kind JSON Schemas of `GET /api/connectors/kinds/`
// (backend/connectors/schemas.py). `ui.when` on a property hides it unless a config field matches.
import type { ConnectorKindInfo, ConnectorWrite, JsonSchema } from "../api/types";
import { defaultsFor } from "../editor/config-form/schema";
import { splitList } from "./helpers";

interface When {
  field: string;
  values: string[];
}

function whenOf(prop: JsonSchema): When | null {
  const w = prop.ui?.when as When | undefined;
  return w && typeof w.field === "string" && Array.isArray(w.values) ? w : null;
}

/** The value a config field has for visibility checks: the typed one, else its schema default. */
function effective(info: ConnectorKindInfo, config: Record<string, unknown>, field: string): string {
  const v = config[field] ?? info.config_schema.properties?.[field]?.default;
  return v == null ? "" : String(v);
}

export function propertyVisible(info: ConnectorKindInfo, prop: JsonSchema, config: Record<string, unknown>): boolean {
  const w = whenOf(prop);
  return !w || w.values.includes(effective(info, config, w.field));
}

/** `schema` with only the properties visible for `config` (what SchemaForm renders). */
export function visibleSchema(
  info: ConnectorKindInfo,
  schema: JsonSchema,
  config: Record<string, unknown>,
): JsonSchema {
  const props = Object.entries(schema.properties ?? {}).filter(([, p]) => propertyVisible(info, p, config));
  const names = new Set(props.map(([k]) => k));
  return { ...schema, properties: Object.fromEntries(props), required: (schema.required ?? []).filter((r) => names.has(r)) };
}

/** The secret fields to show (password inputs; never prefilled). */
export function visibleSecretFields(
  info: ConnectorKindInfo,
  config: Record<string, unknown>,
): { name: string; title: string; description?: string }[] {
  return Object.entries(info.secret_schema.properties ?? {})
    .filter(([, p]) => propertyVisible(info, p, config))
    .map(([name, p]) => ({ name, title: p.title ?? name, description: p.description }));
}

/** Model entries with routing facts are edited by name (string-list); the stored objects survive
 * an unchanged list (see `connectorFormBody`). */
function namesOf(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((m) => (m && typeof m === "object" && "name" in m ? String((m as { name: unknown }).name) : String(m)));
}

/** Editable config: the schema's defaults overlaid with the stored config. */
export function configFromSchema(info: ConnectorKindInfo, stored?: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = defaultsFor(info.config_schema);
  for (const [k, v] of Object.entries(stored ?? {})) out[k] = Array.isArray(v) ? namesOf(v) : v;
  return out;
}

function sameList(a: unknown, b: unknown): boolean {
  return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The body to send. Hidden config fields go back to their default (so switching auth clears the
 * other kind's settings); strings are trimmed; secret inputs left empty are left out, and on edit
 * `secret` is sent only when some field was typed (it replaces the stored secret whole).
 */
export function connectorFormBody(opts: {
  info: ConnectorKindInfo;
  name: string;
  config: Record<string, unknown>;
  secret: Record<string, string>;
  allowedHosts: string;
  editing: boolean;
  stored?: { config?: Record<string, unknown>; allowed_hosts?: string[] };
}): ConnectorWrite {
  const { info, config } = opts;
  const defaults = defaultsFor(info.config_schema);
  const clean: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(info.config_schema.properties ?? {})) {
    let v = propertyVisible(info, prop, config) ? config[name] : defaults[name];
    if (typeof v === "string") v = v.trim();
    if (Array.isArray(v)) {
      const before = opts.stored?.config?.[name];
      if (Array.isArray(before) && sameList(namesOf(before), v)) v = before;
    }
    if (v !== undefined) clean[name] = v;
  }
  const secret: Record<string, string> = {};
  for (const f of visibleSecretFields(info, config)) {
    const v = opts.secret[f.name] ?? "";
    if (v) secret[f.name] = v;
  }
  const body: ConnectorWrite = { name: opts.name.trim(), kind: info.kind, config: clean };
  const hosts = splitList(opts.allowedHosts);
  // Unchanged hosts on edit are left out: hosts derived from a URL then follow a changed URL.
  if (!opts.editing || !sameList(hosts, opts.stored?.allowed_hosts ?? [])) body.allowed_hosts = hosts;
  if (!opts.editing || Object.keys(secret).length > 0) body.secret = secret;
  return body;
}
