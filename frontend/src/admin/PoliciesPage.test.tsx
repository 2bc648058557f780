import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { formToBody, overrideSummary, PoliciesPage, policyToForm } from "./PoliciesPage";
import type { PolicyValues } from "./policyTypes";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const EMPTY: PolicyValues = {
  run_max_usd: null,
  run_max_tokens: null,
  workflow_day_max_usd: null,
  workflow_day_max_tokens: null,
  user_month_max_usd: null,
  user_month_max_tokens: null,
  on_budget: "stop",
  allowed_models: null,
  allowed_connectors: null,
  four_eyes: false,
  external_send_requires_approval: false,
  redact_pii: false,
  publish_review: false,
  retention_days: null,
};

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });

function stubApi(onPut: (url: string, body: unknown) => Response) {
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    if (url === "/api/auth/csrf/") return json({ csrf_token: "t" });
    if (url === "/api/policies/global/" && init?.method === "PUT") return onPut(url, JSON.parse(String(init.body)));
    if (url === "/api/policies/global/")
      return json({ ...EMPTY, updated_at: null, updated_by: null, default_retention_days: 0 });
    if (url.startsWith("/api/policies/workflows/"))
      return json({
        count: 1,
        next: null,
        previous: null,
        results: [
          {
            ...EMPTY,
            on_budget: "",
            redact_pii: true,
            run_max_usd: 0.5,
            workflow: { id: 7, name: "Refunds" },
            updated_at: "2026-12-01T10:00:00Z",
            updated_by: "admin",
          },
        ],
      });
    if (url === "/api/models/") return json({ default_model: "demo", results: [{ name: "demo" }, { name: "gpt-4o" }] });
    if (url.startsWith("/api/connectors/")) return json({ count: 1, next: null, previous: null, results: [{ id: 1, name: "crm", kind: "http" }] });
    return json({}, 404);
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

describe("policy form helpers", () => {
  it("round-trips a policy; empty inputs mean no cap and unrestricted lists are null", () => {
    const stored: PolicyValues = { ...EMPTY, run_max_usd: 2.5, allowed_models: ["demo"], four_eyes: true, retention_days: 30 };
    const form = policyToForm(stored);
    expect(form.caps.run_max_usd).toBe("2.5");
    expect(form.caps.run_max_tokens).toBe("");
    expect(formToBody(form)).toEqual(stored);
    expect(formToBody({ ...form, restrictModels: false }).allowed_models).toBeNull();
    expect(policyToForm(null, true).on_budget).toBe("");
  });

  it("summarises what an override tightens", () => {
    expect(overrideSummary({ ...EMPTY, on_budget: "", run_max_usd: 1, redact_pii: true, allowed_connectors: [] })).toBe(
      "per run ≤ $1 · connectors: none · redact personal data",
    );
    expect(overrideSummary({ ...EMPTY, on_budget: "" })).toBe("nothing beyond the global policy");
  });
});

describe("PoliciesPage", () => {
  it("saves the global policy and shows the workflow overrides", async () => {
    const puts: unknown[] = [];
    stubApi((_url, body) => {
      puts.push(body);
      return json({ ...(body as object), updated_at: "2026-12-01T11:00:00Z", updated_by: "admin", default_retention_days: 0 });
    });
    render(
      <MemoryRouter>
        <PoliciesPage />
      </MemoryRouter>,
    );
    const form = await screen.findByRole("form", { name: "Global policy" });
    expect(within(screen.getByTestId("policy-row-7")).getByText(/per run ≤ \$0.5 · redact personal data/)).toBeTruthy();

    fireEvent.change(within(form).getByLabelText("Per run: max USD"), { target: { value: "3" } });
    fireEvent.click(within(form).getByLabelText("Four eyes"));
    fireEvent.click(within(form).getByLabelText("Only allow the ones ticked below", { selector: "#global-model-restrict" }));
    fireEvent.click(await within(form).findByLabelText("gpt-4o"));
    fireEvent.click(within(form).getByRole("button", { name: "Save global policy" }));

    await waitFor(() => expect(puts).toHaveLength(1));
    expect(puts[0]).toMatchObject({ run_max_usd: 3, four_eyes: true, allowed_models: ["gpt-4o"], allowed_connectors: null });
    await screen.findByText("Saved.");
  });

  it("shows the API's error code and details when the save is refused", async () => {
    stubApi(() =>
      json(
        {
          error: {
            code: "UNKNOWN_MODEL",
            message: "The policy names models or connectors that do not exist.",
            details: [{ field: "allowed_models", code: "UNKNOWN_MODEL", message: "No model named 'x'." }],
          },
        },
        400,
      ),
    );
    render(
      <MemoryRouter>
        <PoliciesPage />
      </MemoryRouter>,
    );
    const form = await screen.findByRole("form", { name: "Global policy" });
    fireEvent.click(within(form).getByRole("button", { name: "Save global policy" }));
    const alert = await within(form).findByRole("alert");
    expect(alert.textContent).toContain("No model named 'x'.");
  });
});
