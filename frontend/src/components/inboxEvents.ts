// A tiny window-event bus so pages can refresh the top bar's pending badge at once
// instead of waiting for its next poll.
const EVENT = "baton:inbox-changed";

export interface InboxChange {
  /** The current number of pending approvals, when the sender already knows it. */
  pending?: number;
}

export function notifyInboxChanged(change: InboxChange = {}): void {
  window.dispatchEvent(new CustomEvent<InboxChange>(EVENT, { detail: change }));
}

export function onInboxChanged(fn: (change: InboxChange) => void): () => void {
  const listener = (e: Event) => fn((e as CustomEvent<InboxChange>).detail ?? {});
  window.addEventListener(EVENT, listener);
  return () => window.removeEventListener(EVENT, listener);
}
