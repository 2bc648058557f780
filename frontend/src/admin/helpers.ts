// Pure helpers shared by the admin and account pages (tested in helpers.test.ts).
import { ApiError } from "../api/client";

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
