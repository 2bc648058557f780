import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { draftToBody, formatUsd, ModelCatalogPage, type ModelAdminRow } from "./ModelCatalogPage";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });

const DEMO: ModelAdminRow = {
  name: "demo",
  label: "Baton demo model",
  provider: "demo",
  litellm_model: "demo",
  source: "demo",
  connector: "",
  tier: 1,
  context_window: null,
  input_usd_per_1m: 0,
  output_usd_per_1m: 0,
  default: { tier: 1, context_window: null, input_usd_per_1m: 0, output_usd_per_1m: 0 },
  override: null,
  editable: false,
};

const MINI: ModelAdminRow = {
  name: "gpt-4o-mini",
  label: "gpt-4o-mini (OpenAI)",
  provider: "openai",
  litellm_model: "openai/gpt-4o-mini",
  source: "connector",
  connector: "OpenAI",
  tier: 2,
  context_window: 128000,
  input_usd_per_1m: 0.15,
  output_usd_per_1m: 0.6,
  default: { tier: 2, context_window: 128000, input_usd_per_1m: 0.15, output_usd_per_1m: 0.6 },
  override: null,
  editable: true,
};

function stubApi(onPut: (body: Record<string, unknown>) => Response) {
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    if (url === "/api/auth/csrf/") return json({ csrf_token: "t" });
    if (url === "/api/model-overrides/" && init?.method === "PUT") return onPut(JSON.parse(String(init.body)));
    if (url === "/api/model-overrides/") return json({ results: [DEMO, MINI] });
    return json({}, 404);
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

describe("draftToBody", () => {
  it("turns empty fields into null (keep the default) and checks ranges", () => {
    const ok = draftToBody("m", { tier: "3", context_window: "64,000", input_usd_per_1m: "$0.2", output_usd_per_1m: "" });
    expect(ok.body).toEqual({ model_name: "m", tier: 3, context_window: 64000, input_usd_per_1m: 0.2, output_usd_per_1m: null });
    const bad = draftToBody("m", { tier: "4", context_window: "1.5", input_usd_per_1m: "-1", output_usd_per_1m: "abc" });
    expect(bad.body).toBeNull();
    expect(bad.errors).toEqual({
      tier: "Tier: 1 to 3",
      context_window: "Context window: a whole number",
      input_usd_per_1m: "Input $ / 1M: 0 to 1,000,000",
      output_usd_per_1m: "Output $ / 1M: not a number",
    });
  });

  it("formats prices", () => {
    expect(formatUsd(0.15)).toBe("$0.15");
    expect(formatUsd(2.5)).toBe("$2.5");
    expect(formatUsd(null)).toBe("—");
  });
});

describe("ModelCatalogPage", () => {
  it("lists models with provider, tier, context window and prices; demo is not editable", async () => {
    stubApi(() => json({}, 500));
    render(
      <MemoryRouter>
        <ModelCatalogPage />
      </MemoryRouter>,
    );
    const row = await screen.findByTestId("model-row-gpt-4o-mini");
    expect(within(row).getByText("openai")).toBeTruthy();
    expect(within(row).getByText("128,000")).toBeTruthy();
    expect(within(row).getByText("$0.15")).toBeTruthy();
    expect(within(row).getByText("$0.6")).toBeTruthy();
    expect(within(screen.getByTestId("model-row-demo")).getByText("built in")).toBeTruthy();
    expect(within(screen.getByTestId("model-row-demo")).queryByRole("button", { name: /Edit/ })).toBeNull();
  });

  it("edits inline: refuses a bad value, then saves and shows the override next to the default", async () => {
    const puts: Record<string, unknown>[] = [];
    stubApi((body) => {
      puts.push(body);
      return json({
        results: [
          DEMO,
          {
            ...MINI,
            tier: 3,
            input_usd_per_1m: 0.2,
            override: {
              tier: 3,
              context_window: null,
              input_usd_per_1m: 0.2,
              output_usd_per_1m: null,
              updated_at: "2026-12-01T10:00:00Z",
              updated_by: "admin",
            },
          },
        ],
      });
    });
    render(
      <MemoryRouter>
        <ModelCatalogPage />
      </MemoryRouter>,
    );
    fireEvent.click(await screen.findByRole("button", { name: "Edit gpt-4o-mini" }));
    const tier = screen.getByLabelText("Tier of gpt-4o-mini");
    expect((screen.getByLabelText("Input $ / 1M of gpt-4o-mini") as HTMLInputElement).placeholder).toBe("default $0.15");
    fireEvent.change(tier, { target: { value: "7" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Tier: 1 to 3");
    expect(puts).toEqual([]);
    fireEvent.change(tier, { target: { value: "3" } });
    fireEvent.change(screen.getByLabelText("Input $ / 1M of gpt-4o-mini"), { target: { value: "0.2" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(screen.queryByRole("button", { name: "Save" })).toBeNull());
    expect(puts).toEqual([
      { model_name: "gpt-4o-mini", tier: 3, context_window: null, input_usd_per_1m: 0.2, output_usd_per_1m: null },
    ]);
    const row = screen.getByTestId("model-row-gpt-4o-mini");
    expect(within(row).getAllByText("override")).toHaveLength(2);
    expect(within(row).getByText("default $0.15")).toBeTruthy();
    expect(within(row).getByRole("button", { name: "Reset gpt-4o-mini to defaults" })).toBeTruthy();
  });
});
