import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConnectorsPage } from "./ConnectorsPage";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const CONNECTORS = ["smtp", "http", "model", "slack"].map((kind, i) => ({
  id: i + 1,
  name: `${kind}-one`,
  kind,
  config: {},
  allowed_hosts: [],
  secret_set: true,
  secret_fields: ["password"],
  created_by: "admin",
  updated_at: "2026-11-24T10:00:00Z",
}));

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("ConnectorsPage test button", () => {
  it("shows progress, then ok + latency or the error code, for every kind", async () => {
    const pending = new Map<number, ReturnType<typeof deferred<Response>>>();
    const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === "/api/auth/csrf/") return new Response(JSON.stringify({ csrf_token: "t" }));
      const m = url.match(/^\/api\/connectors\/(\d+)\/test\/$/);
      if (m && init?.method === "POST") {
        const d = deferred<Response>();
        pending.set(Number(m[1]), d);
        return d.promise;
      }
      if (url.startsWith("/api/connectors/"))
        return new Response(JSON.stringify({ count: 4, next: null, previous: null, results: CONNECTORS }));
      return new Response("{}", { status: 404 });
    });
    vi.stubGlobal("fetch", fetchMock);
    render(
      <MemoryRouter>
        <ConnectorsPage />
      </MemoryRouter>,
    );
    for (const c of CONNECTORS) await screen.findByRole("button", { name: `Test connector ${c.name}` });

    // smtp: ok with latency; the progress state shows while the check runs.
    const smtpRow = screen.getByTestId("connector-row-smtp-one");
    fireEvent.click(within(smtpRow).getByRole("button", { name: "Test connector smtp-one" }));
    await waitFor(() => expect(within(smtpRow).getByRole("status").textContent).toContain("Testing smtp connection"));
    expect((within(smtpRow).getByRole("button", { name: "Test connector smtp-one" }) as HTMLButtonElement).disabled).toBe(
      true,
    );
    await waitFor(() => expect(pending.has(1)).toBe(true));
    pending.get(1)!.resolve(
      new Response(JSON.stringify({ ok: true, message: "Logged in.", duration_ms: 42, details: { host: "mail" } })),
    );
    await waitFor(() => expect(within(smtpRow).getByRole("status").textContent).toBe("✓ OK · 42 ms"));

    // http: a failed check (200 with ok=false) shows its code and message.
    const httpRow = screen.getByTestId("connector-row-http-one");
    fireEvent.click(within(httpRow).getByRole("button", { name: "Test connector http-one" }));
    await waitFor(() => expect(pending.has(2)).toBe(true));
    pending.get(2)!.resolve(
      new Response(
        JSON.stringify({
          ok: false,
          message: "HTTP_HOST_NOT_ALLOWED: 10.0.0.1 is a private address.",
          duration_ms: 3,
          details: { code: "HTTP_HOST_NOT_ALLOWED" },
        }),
      ),
    );
    await waitFor(() => expect(within(httpRow).getByRole("status").textContent).toContain("HTTP_HOST_NOT_ALLOWED"));
    expect(within(httpRow).getByRole("status").textContent).toContain("private address");

    // model: the API itself refuses (e.g. 403): the error code from the response is shown.
    const modelRow = screen.getByTestId("connector-row-model-one");
    fireEvent.click(within(modelRow).getByRole("button", { name: "Test connector model-one" }));
    await waitFor(() => expect(pending.has(3)).toBe(true));
    pending.get(3)!.resolve(
      new Response(JSON.stringify({ error: { code: "PERMISSION_DENIED", message: "Admins only." } }), { status: 403 }),
    );
    await waitFor(() => expect(within(modelRow).getByRole("status").textContent).toContain("PERMISSION_DENIED"));

    // slack: ok.
    const slackRow = screen.getByTestId("connector-row-slack-one");
    fireEvent.click(within(slackRow).getByRole("button", { name: "Test connector slack-one" }));
    await waitFor(() => expect(pending.has(4)).toBe(true));
    pending.get(4)!.resolve(new Response(JSON.stringify({ ok: true, message: "ok", duration_ms: 0, details: {} })));
    await waitFor(() => expect(within(slackRow).getByRole("status").textContent).toBe("✓ OK · 0 ms"));

    const posts = fetchMock.mock.calls.filter(([u, i]) => String(u).endsWith("/test/") && i?.method === "POST");
    expect(posts.map(([u]) => u)).toEqual([1, 2, 3, 4].map((id) => `/api/connectors/${id}/test/`));
  });
});
