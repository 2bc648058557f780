/** Keyboard shortcuts of the review inbox list (pure helpers, see InboxPage). */

export type InboxAction = "next" | "prev" | "open" | "approve" | "reject" | "claim" | "release" | "help";

export const INBOX_SHORTCUTS: { keys: string[]; what: string }[] = [
  { keys: ["j", "↓"], what: "Next item" },
  { keys: ["k", "↑"], what: "Previous item" },
  { keys: ["Enter"], what: "Open the item" },
  { keys: ["a"], what: "Approve the item (after a look at its fields)" },
  { keys: ["r"], what: "Reject the item (asks for a reason)" },
  { keys: ["c"], what: "Claim the item (you review it)" },
  { keys: ["u"], what: "Release your claim on the item" },
  { keys: ["?"], what: "Show this help" },
  { keys: ["Esc"], what: "Close a dialog" },
];

const KEYS: Record<string, InboxAction> = {
  j: "next",
  ArrowDown: "next",
  k: "prev",
  ArrowUp: "prev",
  Enter: "open",
  a: "approve",
  r: "reject",
  c: "claim",
  u: "release",
  "?": "help",
};

/** True while the user types: in a field, an editable element, or anywhere inside an open dialog. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true'], dialog")) return true;
  return target instanceof HTMLElement && target.isContentEditable;
}

/** The inbox action of a key press, or null (modifier keys, typing, unknown keys). */
export function inboxKeyAction(e: {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  target: EventTarget | null;
}): InboxAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (isTypingTarget(e.target)) return null;
  if (typeof document !== "undefined" && document.querySelector("dialog[open]")) return null;
  return KEYS[e.key] ?? null;
}

/** The next selected row index, kept inside ``[0, count)``. */
export function moveSelection(current: number, action: "next" | "prev", count: number): number {
  if (count <= 0) return 0;
  const next = action === "next" ? current + 1 : current - 1;
  return Math.min(Math.max(next, 0), count - 1);
}
