// Pure helpers for the usage chart (tested in chart.test.ts).
import type { UsageRow } from "../api/types";

export interface DayBar {
  day: string; // YYYY-MM-DD
  cost: number;
  runs: number;
  tokens: number;
}

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** One bar per day for the last `days` days up to `today` (UTC), zeros for days without rows. */
export function fillDays(rows: UsageRow[], days: number, today: Date = new Date()): DayBar[] {
  const byDay = new Map(rows.map((r) => [r.key, r]));
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const out: DayBar[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = isoDay(new Date(end - i * 86_400_000));
    const r = byDay.get(day);
    out.push({ day, cost: r?.cost_usd ?? 0, runs: r?.runs ?? 0, tokens: r ? r.tokens_in + r.tokens_out : 0 });
  }
  return out;
}

/** A round axis maximum ≥ `max` (1, 2, 2.5, 5 × 10^n); 1 for an empty chart. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const exp = Math.floor(Math.log10(max));
  const base = 10 ** exp;
  for (const m of [1, 2, 2.5, 5, 10]) if (m * base >= max - 1e-12) return m * base;
  return 10 * base;
}

export function fmtUsd(v: number): string {
  if (v === 0) return "$0";
  if (v < 0.01) return `$${v.toFixed(4)}`;
  return `$${v.toFixed(2)}`;
}

export function fmtInt(n: number): string {
  return n.toLocaleString("en-US");
}
