// Pure helpers shared by the admin and account pages (tested in helpers.test.ts).
import { ApiError } from "../api/client";
import type { ConnectorKind, ConnectorWrite } from "../api/types";

/** Splits a comma- or line-separated list; trims, drops empties and duplicates (order kept). */
export function splitList(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[,\n]/)) {
    const v = part.trim();
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}

/** One readable line for an error: its message plus any field messages in `details`. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    const extra = detailMessages(error.details);
    return `${error.message}${extra.length ? ` — ${extra.join("; ")}` : ""}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** `details` of a 400 as "field: message" lines (list of problems or a DRF field → messages map). */
export function detailMessages(details: unknown): string[] {
  if (Array.isArray(details)) {
    return details
      .map((d) => {
        if (d && typeof d === "object") {
          const o = d as { field?: unknown; message?: unknown };
          const msg = typeof o.message === "string" ? o.message : "";
          return typeof o.field === "string" && o.field ? `${o.field}: ${msg}` : msg;
        }
        return typeof d === "string" ? d : "";
      })
      .filter(Boolean);
  }
  if (details && typeof details === "object") {
    return Object.entries(details as Record<string, unknown>).map(([k, v]) =>
      `${k}: ${Array.isArray(v) ? v.map(String).join(" ") : String(v)}`,
    );
  }
  return [];
}

/** An ISO date-time `days` days after `now` (API token expiry). */
export function expiryFromDays(days: number, now: Date = new Date()): string {
  return new Date(now.getTime() + days * 86_400_000).toISOString();
}

export function validExpiryDays(raw: string): number | null {
  if (!/^\d+$/.test(raw.trim())) return null;
  const n = Number(raw);
  return n >= 1 && n <= 365 ? n : null;
}

// --- Connector forms: fields per kind (backend/connectors/schemas.py) ---

export interface FieldSpec {
  name: string;
  label: string;
  type: "text" | "number" | "checkbox" | "select" | "lines";
  options?: string[];
  help?: string;
  required?: boolean;
  /** Shown only when another config field has one of these values. */
  when?: { field: string; values: string[] };
}

export const CONNECTOR_KINDS: ConnectorKind[] = ["http", "smtp", "model", "slack"];

export const CONFIG_FIELDS: Record<ConnectorKind, FieldSpec[]> = {
  smtp: [
    { name: "host", label: "SMTP host", type: "text", required: true },
    { name: "port", label: "Port", type: "number" },
    { name: "username", label: "Username", type: "text" },
    { name: "use_tls", label: "Use TLS", type: "checkbox" },
    { name: "from_email", label: "From address", type: "text" },
  ],
  http: [
    { name: "base_url", label: "Base URL", type: "text", required: true, help: "https://api.example.com" },
    { name: "auth_type", label: "Authentication", type: "select", options: ["none", "bearer", "basic", "header"] },
    { name: "username", label: "Username", type: "text", when: { field: "auth_type", values: ["basic"] } },
    { name: "header_name", label: "Header name", type: "text", when: { field: "auth_type", values: ["header"] } },
  ],
  model: [
    {
      name: "provider",
      label: "Provider",
      type: "select",
      options: ["openai", "anthropic", "azure", "ollama", "openai_compatible"],
    },
    { name: "base_url", label: "Base URL", type: "text", help: "Required for azure, ollama and openai_compatible." },
    { name: "models", label: "Models", type: "lines", required: true, help: "One model name per line or comma separated." },
  ],
  slack: [{ name: "channel", label: "Channel", type: "text", help: "Optional, e.g. #alerts" }],
};

export const SECRET_FIELDS: Record<ConnectorKind, FieldSpec[]> = {
  smtp: [{ name: "password", label: "SMTP password", type: "text" }],
  http: [
    { name: "token", label: "Bearer token", type: "text", when: { field: "auth_type", values: ["bearer"] } },
    { name: "password", label: "Password", type: "text", when: { field: "auth_type", values: ["basic"] } },
    { name: "header_value", label: "Header value", type: "text", when: { field: "auth_type", values: ["header"] } },
  ],
  model: [{ name: "api_key", label: "API key", type: "text" }],
  slack: [{ name: "webhook_url", label: "Webhook URL", type: "text", help: "https://hooks.slack.com/…" }],
};

export const CONFIG_DEFAULTS: Record<ConnectorKind, Record<string, unknown>> = {
  smtp: { host: "", port: 587, username: "", use_tls: true, from_email: "" },
  http: { base_url: "", auth_type: "none", username: "", header_name: "" },
  model: { provider: "openai", base_url: "", models: [] },
  slack: { channel: "" },
};

export function fieldVisible(spec: FieldSpec, config: Record<string, unknown>): boolean {
  if (!spec.when) return true;
  return spec.when.values.includes(String(config[spec.when.field] ?? ""));
}

/** Editable config values: defaults of the kind overlaid with the stored config. */
export function configForEdit(kind: ConnectorKind, stored?: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...CONFIG_DEFAULTS[kind] };
  for (const [k, v] of Object.entries(stored ?? {})) {
    // A model entry may be an object: edit it by name (its extra routing facts stay as stored server-side only when unchanged).
    if (k === "models" && Array.isArray(v)) {
      out[k] = v.map((m) => (m && typeof m === "object" && "name" in m ? String((m as { name: unknown }).name) : String(m)));
    } else out[k] = v;
  }
  return out;
}

/**
 * The body to send. Hidden fields (e.g. the username when auth is not basic) are sent as their
 * default; secret inputs left empty are left out. On edit, `secret` is sent only when some secret
 * field was typed (it replaces the stored secret whole), so an untouched form keeps the secret.
 */
export function connectorBody(opts: {
  name: string;
  kind: ConnectorKind;
  config: Record<string, unknown>;
  secret: Record<string, string>;
  allowedHosts: string;
  editing: boolean;
  /** On edit: the stored config (model entries with routing facts survive an unchanged list) and hosts. */
  stored?: { config?: Record<string, unknown>; allowed_hosts?: string[] };
}): ConnectorWrite {
  const { kind, config } = opts;
  const cleanConfig: Record<string, unknown> = {};
  for (const spec of CONFIG_FIELDS[kind]) {
    const visible = fieldVisible(spec, config);
    let v = visible ? config[spec.name] : CONFIG_DEFAULTS[kind][spec.name];
    if (spec.type === "number") v = v === "" || v == null ? CONFIG_DEFAULTS[kind][spec.name] : Number(v);
    if (spec.type === "lines") {
      v = Array.isArray(v) ? v : splitList(String(v ?? ""));
      const before = opts.stored?.config?.[spec.name];
      if (Array.isArray(before) && sameList(configForEdit(kind, { [spec.name]: before })[spec.name], v)) v = before;
    }
    if (spec.type === "text" && typeof v === "string") v = v.trim();
    cleanConfig[spec.name] = v;
  }
  const secret: Record<string, string> = {};
  for (const spec of SECRET_FIELDS[kind]) {
    const v = opts.secret[spec.name] ?? "";
    if (v && fieldVisible(spec, config)) secret[spec.name] = v;
  }
  const body: ConnectorWrite = { name: opts.name.trim(), kind, config: cleanConfig };
  const hosts = splitList(opts.allowedHosts);
  // Unchanged hosts on edit are left out: hosts derived from a URL then follow a changed URL.
  if (!opts.editing || !sameList(hosts, opts.stored?.allowed_hosts ?? [])) body.allowed_hosts = hosts;
  if (!opts.editing || Object.keys(secret).length > 0) body.secret = secret;
  return body;
}

function sameList(a: unknown, b: unknown): boolean {
  return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]);
}
