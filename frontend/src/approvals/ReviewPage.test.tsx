import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ApprovalDetail } from "../api/types";
import { AuthProvider } from "../auth/AuthContext";
import { FOUR_EYES_REASON, fourEyesBlocks, ReviewPage } from "./ReviewPage";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const approval = (extra: Record<string, unknown>) =>
  ({
    id: 4,
    run_id: 9,
    workflow: { id: 1, name: "Support" },
    node_id: "review",
    queue: "Support",
    title: "Reply to carol",
    status: "pending",
    claimed_by: null,
    created_at: "2026-11-30T10:00:00Z",
    decided_at: null,
    decided_by: null,
    approvals_required: 1,
    due_at: null,
    instructions: "",
    context: {},
    fields: { reply: "Hello" },
    payload_hash: "h",
    decision: null,
    comment: "",
    edited: null,
    approvals_count: 0,
    votes: [],
    allow_starter: false,
    started_by: "alice",
    ...extra,
  }) as unknown as ApprovalDetail;

function renderAs(username: string, item: ApprovalDetail) {
  const calls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      calls.push(`${init?.method ?? "GET"} ${url}`);
      if (url === "/api/auth/me/") return new Response(JSON.stringify({ id: 1, username, role: "builder" }));
      if (url === "/api/auth/csrf/") return new Response(JSON.stringify({ csrf_token: "t" }));
      if (url === "/api/approvals/4/claim/")
        return new Response(JSON.stringify({ ...item, claimed_by: username }));
      if (url === "/api/approvals/4/") return new Response(JSON.stringify(item));
      return new Response("{}", { status: 404 });
    }),
  );
  render(
    <MemoryRouter initialEntries={["/inbox/4"]}>
      <AuthProvider>
        <Routes>
          <Route path="/inbox/:id" element={<ReviewPage />} />
        </Routes>
      </AuthProvider>
    </MemoryRouter>,
  );
  return calls;
}

describe("four eyes in the review page", () => {
  it("knows who is blocked", () => {
    expect(fourEyesBlocks(approval({}), "alice")).toBe(true);
    expect(fourEyesBlocks(approval({}), "rey")).toBe(false);
    expect(fourEyesBlocks(approval({ allow_starter: true }), "alice")).toBe(false);
  });

  it("disables Claim for the run's starter, with the reason, and never claims", async () => {
    const calls = renderAs("alice", approval({}));
    const claim = (await screen.findByRole("button", { name: "Claim" })) as HTMLButtonElement;
    expect(claim.disabled).toBe(true);
    expect(screen.getByTestId("four-eyes-reason").textContent).toContain(FOUR_EYES_REASON);
    expect(screen.queryByRole("button", { name: "Approve" })).toBeNull();
    expect(calls.some((c) => c.includes("/claim/"))).toBe(false);
  });

  it("a FOUR_EYES answer to the claim (a workflow policy) disables the review too", async () => {
    const item = approval({ allow_starter: true });
    const calls: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        calls.push(`${init?.method ?? "GET"} ${url}`);
        if (url === "/api/auth/me/") return new Response(JSON.stringify({ id: 1, username: "alice", role: "builder" }));
        if (url === "/api/auth/csrf/") return new Response(JSON.stringify({ csrf_token: "t" }));
        if (url === "/api/approvals/4/claim/")
          return new Response(JSON.stringify({ error: { code: "FOUR_EYES", message: "no" } }), { status: 403 });
        if (url === "/api/approvals/4/") return new Response(JSON.stringify(item));
        return new Response("{}", { status: 404 });
      }),
    );
    render(
      <MemoryRouter initialEntries={["/inbox/4"]}>
        <AuthProvider>
          <Routes>
            <Route path="/inbox/:id" element={<ReviewPage />} />
          </Routes>
        </AuthProvider>
      </MemoryRouter>,
    );
    expect((await screen.findByTestId("four-eyes-reason")).textContent).toContain(FOUR_EYES_REASON);
    expect(((await screen.findByRole("button", { name: "Claim" })) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.queryByRole("button", { name: "Approve" })).toBeNull();
    expect(calls.filter((c) => c.includes("/claim/"))).toHaveLength(1);
  });

  it("claims for another reviewer", async () => {
    const calls = renderAs("rey", approval({}));
    await waitFor(() => expect(calls).toContain("POST /api/approvals/4/claim/"));
    expect(await screen.findByRole("button", { name: "Approve" })).toBeTruthy();
  });
});
