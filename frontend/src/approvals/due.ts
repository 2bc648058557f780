// Relative deadline text for approvals ("due in 2 h", "overdue by 5 min").

export interface DueInfo {
  text: string;
  overdue: boolean;
}

function span(ms: number): string {
  const min = Math.round(ms / 60000);
  if (min < 1) return "less than a minute";
  if (min < 60) return `${min} min`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h`;
  return `${Math.round(h / 24)} d`;
}

/** `null` when there is no (valid) deadline. */
export function formatDue(dueAt: string | null | undefined, now: number = Date.now()): DueInfo | null {
  if (!dueAt) return null;
  const t = new Date(dueAt).getTime();
  if (Number.isNaN(t)) return null;
  const diff = t - now;
  if (diff >= 0) return { text: `due in ${span(diff)}`, overdue: false };
  return { text: `overdue by ${span(-diff)}`, overdue: true };
}

const LABELS: Record<string, string> = {
  pending: "pending",
  approved: "approved",
  rejected: "rejected",
  changes_requested: "changes requested",
  timed_out: "timed out",
  cancelled: "cancelled",
};

/** The status to show: the real status, or the legacy `decided` + decision pair. */
export function approvalStatus(a: { status: string; decision?: string | null }): string {
  if (a.status === "decided" && a.decision) {
    return a.decision === "approve" ? "approved" : a.decision === "reject" ? "rejected" : "changes_requested";
  }
  return a.status;
}

export function approvalStatusLabel(status: string): string {
  return LABELS[status] ?? status.replace(/_/g, " ");
}
