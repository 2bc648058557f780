import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AuthProvider } from "../auth/AuthContext";
import { WorkflowsPage } from "./WorkflowsPage";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const ME = { id: 2, username: "bea", display_name: "Bea", role: "builder", is_admin: false };
const row = (id: number, name: string, owner: string) => ({
  id,
  name,
  description: "",
  revision: 1,
  published_version: null,
  updated_at: "2026-12-01T10:00:00Z",
  updated_by: owner,
  owner,
});

function serve(deleteStatus = 204) {
  let rows = [row(1, "Mine", "bea"), row(2, "Shared with me", "alice")];
  const calls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? "GET";
      calls.push(`${method} ${url}`);
      if (url === "/api/auth/me/") return new Response(JSON.stringify(ME));
      if (url.startsWith("/api/auth/csrf/")) return new Response(JSON.stringify({ csrf_token: "t" }));
      if (url.startsWith("/api/workflows/1/") && method === "DELETE") {
        if (deleteStatus !== 204)
          return new Response(
            JSON.stringify({ error: { code: "WORKFLOW_IN_USE", message: "Other workflows call it." } }),
            { status: deleteStatus },
          );
        rows = rows.filter((r) => r.id !== 1);
        return new Response(null, { status: 204 });
      }
      if (url.startsWith("/api/workflows/"))
        return new Response(JSON.stringify({ count: rows.length, next: null, previous: null, results: rows }));
      return new Response("{}", { status: 404 });
    }),
  );
  return calls;
}

function renderPage() {
  render(
    <MemoryRouter>
      <AuthProvider>
        <WorkflowsPage />
      </AuthProvider>
    </MemoryRouter>,
  );
}

describe("WorkflowsPage delete", () => {
  it("offers Delete only on the user's own workflows and deletes after confirming", async () => {
    const calls = serve();
    renderPage();
    const mine = await screen.findByTestId("workflow-row-1");
    await waitFor(() => expect(within(mine).getByRole("button", { name: "Delete workflow Mine" })).toBeTruthy());
    expect(within(screen.getByTestId("workflow-row-2")).queryByRole("button", { name: /Delete/ })).toBeNull();
    fireEvent.click(within(mine).getByRole("button", { name: "Delete workflow Mine" }));
    fireEvent.click(await screen.findByRole("button", { name: "Delete workflow" }));
    await waitFor(() => expect(screen.queryByTestId("workflow-row-1")).toBeNull());
    expect(calls).toContain("DELETE /api/workflows/1/");
  });

  it("shows why a workflow in use cannot be deleted", async () => {
    serve(409);
    renderPage();
    const mine = await screen.findByTestId("workflow-row-1");
    await waitFor(() => within(mine).getByRole("button", { name: "Delete workflow Mine" }));
    fireEvent.click(within(mine).getByRole("button", { name: "Delete workflow Mine" }));
    fireEvent.click(await screen.findByRole("button", { name: "Delete workflow" }));
    expect(await screen.findByText(/Other workflows call it/)).toBeTruthy();
    expect(screen.getByTestId("workflow-row-1")).toBeTruthy();
  });
});
