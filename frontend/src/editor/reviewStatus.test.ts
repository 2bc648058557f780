import { afterEach, describe, expect, it, vi } from "vitest";
import type { ReviewedVersion } from "./apiTypes";
import { decidableReviews, REVIEW_POLL_MS, reviewStatusOf, watchReviewStatus } from "./reviewStatus";

const version = (number: number, published: boolean, review: ReviewedVersion["review"] = null): ReviewedVersion =>
  ({ number, published, review, note: "", created_at: "", created_by: "bea" }) as unknown as ReviewedVersion;

describe("reviewStatusOf", () => {
  it("finds the version waiting for review and the live one", () => {
    expect(
      reviewStatusOf([version(3, false, { id: 9, status: "pending" }), version(2, true), version(1, true)]),
    ).toEqual({ pending: 3, live: 2 });
  });

  it("after an approval the reviewed version is live and nothing is pending", () => {
    expect(reviewStatusOf([version(3, true, { id: 9, status: "approved" }), version(2, true)])).toEqual({
      pending: null,
      live: 3,
    });
  });

  it("a rejected version leaves the previous one live; no versions, nothing", () => {
    expect(reviewStatusOf([version(3, false, { id: 9, status: "rejected" }), version(2, true)])).toEqual({
      pending: null,
      live: 2,
    });
    expect(reviewStatusOf([])).toEqual({ pending: null, live: null });
  });
});

describe("decidableReviews", () => {
  it("counts pending reviews the user may decide, not their own nor decided ones", () => {
    expect(
      decidableReviews([
        { status: "pending", can_decide: true },
        { status: "pending", can_decide: false },
        { status: "approved", can_decide: true },
        { status: "pending", can_decide: true },
      ]),
    ).toBe(2);
  });
});

describe("watchReviewStatus", () => {
  afterEach(() => vi.useRealTimers());

  it("loads now, on focus, and on a timer only while something is pending", () => {
    vi.useFakeTimers();
    const load = vi.fn();
    let pending = false;
    const stop = watchReviewStatus(load, () => pending);
    expect(load).toHaveBeenCalledTimes(1);
    window.dispatchEvent(new Event("focus"));
    expect(load).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(REVIEW_POLL_MS * 2);
    expect(load).toHaveBeenCalledTimes(2);
    pending = true;
    vi.advanceTimersByTime(REVIEW_POLL_MS);
    expect(load).toHaveBeenCalledTimes(3);
    stop();
    window.dispatchEvent(new Event("focus"));
    vi.advanceTimersByTime(REVIEW_POLL_MS * 2);
    expect(load).toHaveBeenCalledTimes(3);
  });
});
