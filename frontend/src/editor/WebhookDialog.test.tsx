import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebhookDialog } from "./WebhookDialog";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const hook = (token: string) => ({
  url: `http://x/api/hooks/${token}/`,
  path: `/api/hooks/${token}/`,
  token,
  enabled: true,
  created_at: "2026-11-24T10:00:00Z",
  rotated_at: null,
});

describe("WebhookDialog", () => {
  it("shows the full URL and rotates it after a confirmation", async () => {
    const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === "/api/auth/csrf/") return new Response(JSON.stringify({ csrf_token: "t" }));
      if (url === "/api/workflows/3/webhook/rotate/" && init?.method === "POST") return new Response(JSON.stringify(hook("new")));
      if (url === "/api/workflows/3/webhook/") return new Response(JSON.stringify(hook("old")));
      return new Response("{}", { status: 404 });
    });
    vi.stubGlobal("fetch", fetchMock);
    render(<WebhookDialog workflowId={3} onClose={() => {}} />);
    const input = (await screen.findByLabelText("Webhook URL")) as HTMLInputElement;
    expect(input.value).toBe(`${window.location.origin}/api/hooks/old/`);
    fireEvent.click(screen.getByRole("button", { name: "Rotate URL" }));
    fireEvent.click(screen.getByRole("button", { name: "Yes, rotate" }));
    await waitFor(() => expect(input.value).toBe(`${window.location.origin}/api/hooks/new/`));
  });
});
