/** The review inbox's filters, kept in the URL query string (pure helpers, see InboxPage). */
import type { InboxQuery } from "../api/client";
import type { ApprovalCountFigures, ApprovalCounts } from "../api/types";

export type InboxStatus = "pending" | "decided" | "all";

export interface InboxFilters {
  status: InboxStatus;
  queue: string;
  dueSoon: boolean;
  mine: boolean;
  page: number;
}

const STATUSES: InboxStatus[] = ["pending", "decided", "all"];

export function filtersFromParams(params: URLSearchParams): InboxFilters {
  const status = params.get("status") as InboxStatus | null;
  return {
    status: status && STATUSES.includes(status) ? status : "pending",
    queue: params.get("queue") ?? "",
    dueSoon: params.get("due_soon") === "1",
    mine: params.get("mine") === "1",
    page: Math.max(Number(params.get("page") ?? "1") || 1, 1),
  };
}

/** The query string of ``filters``: defaults are left out, so a plain inbox is just ``/inbox``. */
export function paramsFromFilters(f: InboxFilters): Record<string, string> {
  const out: Record<string, string> = {};
  if (f.status !== "pending") out.status = f.status;
  if (f.queue) out.queue = f.queue;
  if (f.dueSoon) out.due_soon = "1";
  if (f.mine) out.mine = "1";
  if (f.page > 1) out.page = String(f.page);
  return out;
}

export function apiQuery(f: InboxFilters): InboxQuery {
  return {
    status: f.status,
    page: f.page,
    ...(f.queue ? { queue: f.queue } : {}),
    ...(f.dueSoon ? { due_soon: 1 as const } : {}),
    ...(f.mine ? { mine: 1 as const } : {}),
  };
}

/** Counts of the chosen queue (or all visible queues). */
export function countsFor(counts: ApprovalCounts | undefined, queue: string): ApprovalCountFigures | null {
  if (!counts) return null;
  if (!queue) return counts;
  return counts.queues.find((q) => q.queue === queue) ?? { pending: 0, due_soon: 0, mine: 0 };
}

/** What an empty list says, per filter. */
export function emptyMessage(f: InboxFilters): string {
  const where = f.queue ? ` in ${f.queue}` : "";
  if (f.mine && f.dueSoon) return `Nothing you hold is due soon${where}.`;
  if (f.mine) return `You hold no items${where}. Open one to claim it.`;
  if (f.dueSoon) return `Nothing due soon${where}. No deadline within the next hours.`;
  if (f.status === "decided") return `No decided items${where} yet.`;
  if (f.status === "all") return `No review items${where}.`;
  return `Nothing to review${where}.`;
}
