// The toolbar's publish-review badge: which version waits for a review, which one is live.
import type { ReviewedVersion } from "./apiTypes";

export interface ReviewStatus {
  /** The version sent for review that nobody decided yet, or null. */
  pending: number | null;
  /** The newest published version, or null when none is. */
  live: number | null;
}

export function reviewStatusOf(versions: ReviewedVersion[]): ReviewStatus {
  const pending = versions.find((v) => v.review?.status === "pending");
  const published = versions.filter((v) => v.published).map((v) => v.number);
  return { pending: pending ? pending.number : null, live: published.length ? Math.max(...published) : null };
}

/** How often the editor re-reads a pending review's status while the tab stays in view. */
export const REVIEW_POLL_MS = 20000;

/**
 * Calls `load` now, whenever the window regains focus or the tab becomes visible again, and
 * every `REVIEW_POLL_MS` while `polling()` says so. Returns the clean-up.
 */
export function watchReviewStatus(load: () => void, polling: () => boolean, win: Window = window): () => void {
  load();
  const onFocus = () => load();
  const onVisible = () => {
    if (win.document.visibilityState === "visible") load();
  };
  win.addEventListener("focus", onFocus);
  win.document.addEventListener("visibilitychange", onVisible);
  const timer = win.setInterval(() => {
    if (polling() && win.document.visibilityState === "visible") load();
  }, REVIEW_POLL_MS);
  return () => {
    win.removeEventListener("focus", onFocus);
    win.document.removeEventListener("visibilitychange", onVisible);
    win.clearInterval(timer);
  };
}

/** Pending version reviews the user may decide (not their own, edit access): the inbox badge adds them. */
export function decidableReviews(reviews: { status: string; can_decide: boolean }[]): number {
  return reviews.filter((r) => r.status === "pending" && r.can_decide).length;
}
