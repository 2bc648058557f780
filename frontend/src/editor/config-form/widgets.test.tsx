import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { JsonSchema } from "../../api/types";
import { SchemaForm } from "./SchemaForm";
import { parseJsonText } from "./widgets";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const schema: JsonSchema = {
  type: "object",
  properties: {
    model: { type: "string", title: "Model", default: "demo", ui: { widget: "model-picker" } },
    fallbacks: { type: "array", title: "Fallback models", items: { type: "string" }, ui: { widget: "model-list" } },
    output_schema: {
      anyOf: [{ type: "object" }, { type: "null" }],
      title: "Output JSON Schema",
      default: null,
      ui: { widget: "json" },
    },
    connector: {
      anyOf: [{ type: "string" }, { type: "null" }],
      title: "Connector",
      default: null,
      ui: { widget: "connector-picker", kind: "http" },
    },
  },
};

function stubApi() {
  const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      if (url.startsWith("/api/models/"))
        return json({
          default_model: "demo",
          results: [
            { name: "demo", label: "Demo", provider: "demo", litellm_model: "demo", tier: 1, context_window: null, input_usd_per_1m: 0, output_usd_per_1m: 0, source: "demo", connector: null },
            { name: "big", label: "Big model", provider: "openai", litellm_model: "gpt", tier: 3, context_window: 1000, input_usd_per_1m: 2.5, output_usd_per_1m: 10, source: "settings", connector: null },
          ],
        });
      if (url.startsWith("/api/connectors/"))
        return json({ count: 2, next: null, previous: null, results: [{ id: 1, name: "crm", kind: "http" }, { id: 2, name: "mail", kind: "smtp" }] });
      return new Response("{}", { status: 404 });
    }),
  );
}

describe("config widgets", () => {
  it("fills the model, fallback and connector selects from the API", async () => {
    stubApi();
    const onChange = vi.fn();
    render(<SchemaForm schema={schema} value={{ model: "demo", fallbacks: [] }} onChange={onChange} />);
    await waitFor(() => expect(screen.getAllByRole("option", { name: "Big model · tier 3" }).length).toBeGreaterThan(0));
    fireEvent.change(screen.getByLabelText("Model"), { target: { value: "big" } });
    expect(onChange).toHaveBeenLastCalledWith({ model: "big", fallbacks: [] });

    fireEvent.change(screen.getByLabelText("Add to Fallback models"), { target: { value: "big" } });
    fireEvent.click(screen.getByRole("button", { name: "Add" }));
    expect(onChange).toHaveBeenLastCalledWith({ model: "demo", fallbacks: ["big"] });

    const connector = screen.getByLabelText("Connector") as HTMLSelectElement;
    await waitFor(() => expect([...connector.options].map((o) => o.value)).toEqual(["", "crm"]));
  });

  it("checks JSON on blur and shows the parse error", () => {
    stubApi();
    const onChange = vi.fn();
    render(<SchemaForm schema={schema} value={{}} onChange={onChange} />);
    const box = screen.getByLabelText("Output JSON Schema");
    fireEvent.change(box, { target: { value: "{bad" } });
    fireEvent.blur(box);
    expect(screen.getByRole("alert").textContent).toMatch(/Not valid JSON/);
    expect(onChange).not.toHaveBeenCalled();
    fireEvent.change(box, { target: { value: '{"type": "object"}' } });
    fireEvent.blur(box);
    expect(onChange).toHaveBeenLastCalledWith({ output_schema: { type: "object" } });
    fireEvent.change(box, { target: { value: "" } });
    fireEvent.blur(box);
    expect(onChange).toHaveBeenLastCalledWith({ output_schema: null });
  });

  it("parses JSON text", () => {
    expect(parseJsonText("  ")).toEqual({ ok: true, value: undefined });
    expect(parseJsonText("[1]")).toEqual({ ok: true, value: [1] });
    expect(parseJsonText("{").ok).toBe(false);
  });
});
