import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { JsonSchema } from "../../api/types";
import { ExpressionEnvContext, type ExpressionEnv } from "../context";
import { SchemaForm } from "./SchemaForm";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const schema: JsonSchema = {
  type: "object",
  properties: {
    prompt: { type: "string", title: "Prompt", ui: { widget: "textarea", template: true } },
    condition: { type: "string", title: "Condition", ui: { widget: "expression" } },
  },
};

const env: ExpressionEnv = {
  workflowId: 7,
  nodeId: "draft",
  runId: 42,
  fields: [
    { path: "trigger.subject", source: "trigger field", origin: "run", sample: '"Refund"' },
    { path: "steps.classify.label", source: "Classify", origin: "run", sample: '"refund"' },
  ],
};

function Harness({ initial, onValue }: { initial: Record<string, unknown>; onValue: (v: Record<string, unknown>) => void }) {
  const [value, setValue] = useState(initial);
  return (
    <ExpressionEnvContext.Provider value={env}>
      <SchemaForm
        schema={schema}
        value={value}
        onChange={(v) => {
          setValue(v);
          onValue(v);
        }}
      />
    </ExpressionEnvContext.Provider>
  );
}

function stubPreview(answer: (body: Record<string, unknown>) => unknown) {
  const calls: Record<string, unknown>[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      if (url.startsWith("/api/auth/csrf/")) return new Response(JSON.stringify({ csrf_token: "t" }), { status: 200 });
      if (url === "/api/workflows/7/expressions/preview/") {
        const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
        calls.push(body);
        return new Response(JSON.stringify(answer(body)), { status: 200 });
      }
      return new Response("{}", { status: 404 });
    }),
  );
  return calls;
}

describe("ExpressionField", () => {
  it("the picker is a keyboard listbox that inserts the path at the caret", async () => {
    stubPreview(() => ({ ok: true, value: "x", run_id: 42 }));
    const onValue = vi.fn();
    render(<Harness initial={{ prompt: "Reply to ", condition: "" }} onValue={onValue} />);
    const prompt = screen.getByLabelText("Prompt") as HTMLTextAreaElement;
    prompt.setSelectionRange(9, 9);
    fireEvent.select(prompt);
    fireEvent.click(screen.getAllByRole("button", { name: "Insert field" })[0]);
    const filter = screen.getByRole("combobox", { name: "Filter fields" });
    const options = screen.getAllByRole("option");
    expect(options.map((o) => o.textContent)).toEqual([
      expect.stringContaining("trigger.subject"),
      expect.stringContaining("steps.classify.label"),
    ]);
    expect(options[0].getAttribute("aria-selected")).toBe("true");
    fireEvent.keyDown(filter, { key: "ArrowDown" });
    expect(filter.getAttribute("aria-activedescendant")).toBe(options[1].id);
    fireEvent.keyDown(filter, { key: "Enter" });
    expect(onValue).toHaveBeenLastCalledWith({ prompt: "Reply to {{ steps.classify.label }}", condition: "" });
    expect(screen.queryByRole("listbox")).toBeNull();
  });

  it("filters, and Escape closes without inserting", () => {
    stubPreview(() => ({ ok: true, value: null, run_id: 42 }));
    const onValue = vi.fn();
    render(<Harness initial={{ prompt: "", condition: "" }} onValue={onValue} />);
    fireEvent.click(screen.getAllByRole("button", { name: "Insert field" })[1]);
    const filter = screen.getByRole("combobox", { name: "Filter fields" });
    fireEvent.change(filter, { target: { value: "subj" } });
    expect(screen.getAllByRole("option")).toHaveLength(1);
    fireEvent.keyDown(filter, { key: "Escape" });
    expect(screen.queryByRole("listbox")).toBeNull();
    expect(onValue).not.toHaveBeenCalled();
  });

  it("previews the template against the run, debounced", async () => {
    const calls = stubPreview(() => ({ ok: true, value: "Re: Refund", run_id: 42 }));
    render(<Harness initial={{ prompt: "Re: {{ trigger.subject }}", condition: "" }} onValue={() => {}} />);
    await waitFor(() => expect(screen.getByTestId("preview-value").textContent).toBe("Re: Refund"));
    expect(calls).toEqual([{ template: "Re: {{ trigger.subject }}", node_id: "draft", field: "prompt", run_id: 42 }]);
    expect(screen.getByText("Preview with run #42:")).toBeTruthy();
  });

  it("shows an expression error with its position", async () => {
    stubPreview(() => ({
      ok: false,
      error: { code: "EXPRESSION_INVALID", message: "invalid expression at position 6: bad token", position: 6 },
      run_id: 42,
    }));
    render(<Harness initial={{ prompt: "", condition: "steps.[" }} onValue={() => {}} />);
    const error = await screen.findByTestId("preview-error");
    expect(error.textContent).toContain("EXPRESSION_INVALID");
    expect(error.textContent).toContain("position 6");
    expect(error.querySelector(".preview-caret")?.textContent).toBe("steps.[\n      ^");
  });

  it("renders a plain field without the editor context", () => {
    render(<SchemaForm schema={schema} value={{ prompt: "a" }} onChange={() => {}} />);
    expect(screen.queryByRole("button", { name: "Insert field" })).toBeNull();
    expect(screen.queryByTestId("expression-preview")).toBeNull();
  });
});
