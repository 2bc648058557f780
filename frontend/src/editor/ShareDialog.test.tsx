import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ShareButton, ShareDialog } from "./ShareDialog";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

type Share = { id: number; user: string | null; queue: string | null; permission: string; created_at: string };

function fakeServer(initial: Share[]) {
  const shares = [...initial];
  let nextId = 100;
  const calls: { method: string; url: string; body?: unknown }[] = [];
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, url, body });
    if (url === "/api/auth/csrf/") return new Response(JSON.stringify({ csrf_token: "t" }));
    if (url === "/api/queues/") return new Response(JSON.stringify([{ id: 1, name: "Support" }]));
    if (url === "/api/workflows/7/shares/" && method === "GET") return new Response(JSON.stringify({ results: shares }));
    if (url === "/api/workflows/7/shares/" && method === "POST") {
      if (body.username === "nobody")
        return new Response(JSON.stringify({ error: { code: "SHARE_TARGET_NOT_FOUND", message: "No user nobody." } }), {
          status: 400,
        });
      const existing = shares.find((s) => (body.username ? s.user === body.username : s.queue === body.queue));
      if (existing) {
        existing.permission = body.permission;
        return new Response(JSON.stringify(existing));
      }
      const share = { id: nextId++, user: body.username ?? null, queue: body.queue ?? null, permission: body.permission, created_at: "" };
      shares.push(share);
      return new Response(JSON.stringify(share), { status: 201 });
    }
    const del = url.match(/^\/api\/workflows\/7\/shares\/(\d+)\/$/);
    if (del && method === "DELETE") {
      shares.splice(shares.findIndex((s) => s.id === Number(del[1])), 1);
      return new Response(null, { status: 204 });
    }
    return new Response("{}", { status: 404 });
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, shares };
}

describe("ShareDialog", () => {
  it("lists shares, adds a user and a queue, changes and removes one", async () => {
    const server = fakeServer([{ id: 1, user: "bob", queue: null, permission: "view", created_at: "" }]);
    render(<ShareDialog workflowId={7} workflowName="Support reply" onClose={() => {}} />);
    const bobPerm = (await screen.findByLabelText("Permission for bob")) as HTMLSelectElement;
    expect(bobPerm.value).toBe("view");

    // Add a user with "run".
    fireEvent.change(screen.getByLabelText("Username"), { target: { value: "carol" } });
    fireEvent.change(screen.getByLabelText("Permission"), { target: { value: "run" } });
    fireEvent.click(screen.getByRole("button", { name: "Share" }));
    const carolPerm = (await screen.findByLabelText("Permission for carol")) as HTMLSelectElement;
    expect(carolPerm.value).toBe("run");
    expect(server.calls.find((c) => c.method === "POST")?.body).toEqual({ username: "carol", permission: "run" });
    expect((screen.getByLabelText("Username") as HTMLInputElement).value).toBe("");

    // Add a queue with "edit".
    fireEvent.click(screen.getByLabelText(/A queue/));
    fireEvent.change(screen.getByLabelText("Queue"), { target: { value: "Support" } });
    fireEvent.change(screen.getByLabelText("Permission"), { target: { value: "edit" } });
    fireEvent.click(screen.getByRole("button", { name: "Share" }));
    expect(((await screen.findByLabelText("Permission for Queue: Support")) as HTMLSelectElement).value).toBe("edit");

    // Change bob to edit.
    fireEvent.change(bobPerm, { target: { value: "edit" } });
    await waitFor(() => expect(server.shares.find((s) => s.user === "bob")?.permission).toBe("edit"));
    await waitFor(() => expect((screen.getByLabelText("Permission for bob") as HTMLSelectElement).value).toBe("edit"));

    // Remove carol.
    fireEvent.click(screen.getByRole("button", { name: "Remove carol" }));
    await waitFor(() => expect(screen.queryByLabelText("Permission for carol")).toBeNull());
    expect(server.shares.map((s) => s.user ?? s.queue)).toEqual(["bob", "Support"]);
    expect(screen.getByRole("status").textContent).toBe("Removed carol.");
  });

  it("shows the API's error code for an unknown user", async () => {
    fakeServer([]);
    render(<ShareDialog workflowId={7} workflowName="W" onClose={() => {}} />);
    await screen.findByText(/Not shared yet/);
    fireEvent.change(screen.getByLabelText("Username"), { target: { value: "nobody" } });
    fireEvent.submit(screen.getByRole("form", { name: "Add a share" }));
    expect((await screen.findByRole("alert")).textContent).toContain("SHARE_TARGET_NOT_FOUND");
  });

  it("opens from the toolbar button and closes with Escape, giving focus back", async () => {
    fakeServer([]);
    render(<ShareButton workflowId={7} workflowName="W" />);
    const button = screen.getByRole("button", { name: "Share" });
    button.focus();
    fireEvent.click(button);
    const dialog = await screen.findByRole("dialog", { name: "Share W" });
    await screen.findByText(/Not shared yet/);
    expect(dialog.contains(document.activeElement)).toBe(true);
    fireEvent.keyDown(dialog, { key: "Escape" });
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(document.activeElement).toBe(button);
  });
});
