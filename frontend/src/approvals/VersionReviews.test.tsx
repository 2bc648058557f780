import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { VersionReview } from "../editor/apiTypes";
import { VersionReviews } from "./VersionReviews";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const review: VersionReview = {
  id: 5,
  workflow: { id: 9, name: "Support reply" },
  version: { number: 1, note: "first", published: false, created_at: "2026-12-01T10:00:00Z", created_by: "alice", review: { id: 5, status: "pending" } },
  base_number: null,
  status: "pending",
  requested_by: "alice",
  decided_by: null,
  comment: "",
  created_at: "2026-12-01T10:00:00Z",
  decided_at: null,
  can_decide: true,
};

function stub(decision: (body: Record<string, unknown>) => Response) {
  const page = (results: VersionReview[]) => JSON.stringify({ count: results.length, next: null, previous: null, results });
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      if (url.startsWith("/api/auth/csrf/")) return new Response(JSON.stringify({ csrf_token: "t" }), { status: 200 });
      if (url.startsWith("/api/version-reviews/5/decision/")) return decision(JSON.parse(String(init?.body)));
      if (url.startsWith("/api/version-reviews/")) return new Response(page([review]), { status: 200 });
      if (url.startsWith("/api/node-types/")) return new Response(JSON.stringify({ results: [] }), { status: 200 });
      return new Response("{}", { status: 404 });
    }),
  );
}

describe("VersionReviews", () => {
  it("approves a pending version with a comment", async () => {
    const bodies: Record<string, unknown>[] = [];
    stub((body) => {
      bodies.push(body);
      return new Response(JSON.stringify({ ...review, status: "approved", decided_by: "bob", comment: body.comment, can_decide: false }), { status: 200 });
    });
    render(<MemoryRouter><VersionReviews /></MemoryRouter>);
    await screen.findByText(/Support reply/);
    fireEvent.change(screen.getByLabelText("Comment"), { target: { value: "ok" } });
    fireEvent.click(screen.getByRole("button", { name: "Approve and publish v1" }));
    await waitFor(() => expect(screen.getByTestId("version-review-status-5").textContent).toBe("approved, live"));
    expect(bodies).toEqual([{ decision: "approve", comment: "ok" }]);
  });

  it("explains a four-eyes refusal", async () => {
    stub(() => new Response(JSON.stringify({ error: { code: "FOUR_EYES", message: "no" } }), { status: 403 }));
    render(<MemoryRouter><VersionReviews /></MemoryRouter>);
    fireEvent.click(await screen.findByRole("button", { name: "Reject" }));
    expect((await screen.findByRole("alert")).textContent).toContain("someone else must decide");
  });
});
