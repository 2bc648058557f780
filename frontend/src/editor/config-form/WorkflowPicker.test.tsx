import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { JsonSchema } from "../../api/types";
import { SchemaForm } from "./SchemaForm";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const schema: JsonSchema = {
  type: "object",
  properties: { workflow: { type: "string", title: "Workflow", ui: { widget: "workflow-picker" } } },
  required: ["workflow"],
};

describe("WorkflowPicker", () => {
  it("offers the published workflows only, by id", async () => {
    const w = (id: number, name: string, published_version: number | null) => ({
      id, name, description: "", revision: 1, published_version, updated_at: "", updated_by: null,
    });
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) =>
        url.startsWith("/api/workflows/")
          ? new Response(
              JSON.stringify({ count: 3, next: null, previous: null, results: [w(1, "Billing", 2), w(2, "Draft only", null), w(3, "Triage", 1)] }),
              { status: 200 },
            )
          : new Response("{}", { status: 404 }),
      ),
    );
    const onChange = vi.fn();
    render(<SchemaForm schema={schema} value={{ workflow: "2" }} onChange={onChange} />);
    const select = (await screen.findByLabelText("Workflow")) as HTMLSelectElement;
    await waitFor(() => expect(select.options.length).toBe(4));
    expect([...select.options].map((o) => o.textContent)).toEqual([
      "— choose a workflow —",
      "Billing (#1, v2)",
      "Triage (#3, v1)",
      "Draft only (#2, not published)",
    ]);
    expect(screen.getByText(/no published version/)).toBeTruthy();
    fireEvent.change(select, { target: { value: "3" } });
    expect(onChange).toHaveBeenCalledWith({ workflow: "3" });
  });
});
