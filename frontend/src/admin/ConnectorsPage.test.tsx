import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
// The schemas as the API serves them (tests/backend/test_oauth2_connector.py keeps this file in sync).
import KINDS from "./ConnectorKinds.fixture.json";
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

function formMock(existing: unknown[] = []) {
  const writes: { url: string; method: string; body: Record<string, unknown> }[] = [];
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    if (url === "/api/auth/csrf/") return new Response(JSON.stringify({ csrf_token: "t" }));
    if (url === "/api/connectors/kinds/") return new Response(JSON.stringify(KINDS));
    if (init?.method === "POST" || init?.method === "PATCH") {
      writes.push({ url, method: init.method, body: JSON.parse(String(init.body)) });
      return new Response(JSON.stringify({ id: 9, name: "x", kind: "http" }), { status: 201 });
    }
    if (url.startsWith("/api/connectors/"))
      return new Response(JSON.stringify({ count: existing.length, next: null, previous: null, results: existing }));
    return new Response("{}", { status: 404 });
  });
  vi.stubGlobal("fetch", fetchMock);
  return writes;
}

function chooseOption(select: HTMLElement, text: string) {
  const option = [...select.querySelectorAll("option")].find((o) => o.textContent === text);
  expect(option).toBeDefined();
  fireEvent.change(select, { target: { value: (option as HTMLOptionElement).value } });
}

describe("ConnectorsPage form generated from the kinds schema", () => {
  it("shows the OAuth2 fields for oauth2_client_credentials and sends them", async () => {
    const writes = formMock();
    render(
      <MemoryRouter>
        <ConnectorsPage />
      </MemoryRouter>,
    );
    fireEvent.click(await screen.findByRole("button", { name: "New connector" }));
    const dialog = await screen.findByRole("form", { name: "New connector" });
    const kind = within(dialog).getByLabelText("Kind") as HTMLSelectElement;
    expect([...kind.options].map((o) => o.textContent)).toEqual(["SMTP", "HTTP API", "Model provider", "Slack webhook"]);
    expect(kind.value).toBe("http");
    // auth "none": no auth fields, no secret.
    expect(within(dialog).queryByLabelText("Token URL")).toBeNull();
    expect(within(dialog).queryByLabelText("Username")).toBeNull();
    expect(within(dialog).queryByText("Secret (write-only)")).toBeNull();

    chooseOption(within(dialog).getByLabelText("Authentication"), "oauth2_client_credentials");
    for (const label of ["Token URL", "Client ID", "Scope", "Audience", "Client authentication"])
      expect(within(dialog).getByLabelText(label)).toBeTruthy();
    expect(within(dialog).queryByLabelText("Header name")).toBeNull();
    const secretInput = within(dialog).getByLabelText("Client secret") as HTMLInputElement;
    expect(secretInput.type).toBe("password");
    expect(within(dialog).queryByLabelText("Bearer token")).toBeNull();

    fireEvent.change(within(dialog).getByLabelText("Name"), { target: { value: "crm" } });
    fireEvent.change(within(dialog).getByLabelText("Base URL"), { target: { value: "https://api.example.com " } });
    fireEvent.change(within(dialog).getByLabelText("Token URL"), { target: { value: "https://login.example.com/token" } });
    fireEvent.change(within(dialog).getByLabelText("Client ID"), { target: { value: "baton" } });
    fireEvent.change(within(dialog).getByLabelText("Scope"), { target: { value: "read" } });
    fireEvent.change(secretInput, { target: { value: "s3cret" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create connector" }));
    await waitFor(() => expect(writes).toHaveLength(1));
    expect(writes[0].url).toBe("/api/connectors/");
    expect(writes[0].body).toEqual({
      name: "crm",
      kind: "http",
      config: {
        base_url: "https://api.example.com",
        auth_type: "oauth2_client_credentials",
        username: "",
        header_name: "",
        token_url: "https://login.example.com/token",
        client_id: "baton",
        scope: "read",
        audience: "",
        client_auth: "basic",
      },
      secret: { client_secret: "s3cret" },
      allowed_hosts: [],
    });
  });

  it("edits without reading secrets back: a 'set' badge, and no secret sent unless typed", async () => {
    const stored = {
      id: 5,
      name: "crm",
      kind: "http",
      config: {
        base_url: "https://api.example.com",
        auth_type: "oauth2_client_credentials",
        token_url: "https://login.example.com/token",
        client_id: "baton",
        scope: "",
        audience: "",
        client_auth: "post",
        username: "",
        header_name: "",
      },
      allowed_hosts: ["api.example.com", "login.example.com"],
      secret_set: true,
      secret_fields: ["client_secret"],
      created_by: "admin",
      updated_at: "2026-11-24T10:00:00Z",
    };
    const writes = formMock([stored]);
    render(
      <MemoryRouter>
        <ConnectorsPage />
      </MemoryRouter>,
    );
    fireEvent.click(await screen.findByRole("button", { name: "Edit connector crm" }));
    const dialog = await screen.findByRole("form", { name: "Edit connector crm" });
    expect((await within(dialog).findByLabelText("Token URL") as HTMLInputElement).value).toBe(
      "https://login.example.com/token",
    );
    expect(within(dialog).getByTestId("secret-set-client_secret").textContent).toBe("set");
    expect((within(dialog).getByLabelText(/Client secret/) as HTMLInputElement).value).toBe("");
    fireEvent.change(within(dialog).getByLabelText("Client ID"), { target: { value: "baton-2" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(writes).toHaveLength(1));
    expect(writes[0]).toMatchObject({ url: "/api/connectors/5/", method: "PATCH" });
    expect(writes[0].body).not.toHaveProperty("secret");
    expect(writes[0].body).not.toHaveProperty("allowed_hosts");
    expect((writes[0].body.config as Record<string, unknown>).client_id).toBe("baton-2");
    expect((writes[0].body.config as Record<string, unknown>).client_auth).toBe("post");
  });

  it("generates every kind's form (smtp checkbox + password, model list)", async () => {
    formMock();
    render(
      <MemoryRouter>
        <ConnectorsPage />
      </MemoryRouter>,
    );
    fireEvent.click(await screen.findByRole("button", { name: "New connector" }));
    const dialog = await screen.findByRole("form", { name: "New connector" });
    fireEvent.change(await within(dialog).findByLabelText("Kind"), { target: { value: "smtp" } });
    expect((within(dialog).getByLabelText("Use TLS") as HTMLInputElement).checked).toBe(true);
    expect((within(dialog).getByLabelText("Port") as HTMLInputElement).value).toBe("587");
    expect((within(dialog).getByLabelText("SMTP password") as HTMLInputElement).type).toBe("password");
    fireEvent.change(within(dialog).getByLabelText("Kind"), { target: { value: "model" } });
    expect(within(dialog).getByLabelText("Models").tagName).toBe("TEXTAREA");
    expect((within(dialog).getByLabelText("API key") as HTMLInputElement).type).toBe("password");
  });
});
