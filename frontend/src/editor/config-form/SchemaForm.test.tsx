import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { promptSchema, triggerSchema } from "../../test/fixtures";
import { SchemaForm } from "./SchemaForm";

afterEach(cleanup);

describe("SchemaForm", () => {
  it("renders fields from an llm.prompt-like schema and reports changes", () => {
    const onChange = vi.fn();
    render(<SchemaForm schema={promptSchema} value={{ model: "demo", prompt: "Hello" }} onChange={onChange} />);
    const prompt = screen.getByLabelText("Prompt");
    expect(prompt.tagName).toBe("TEXTAREA");
    expect((prompt as HTMLTextAreaElement).value).toBe("Hello");
    // model-picker: a select (fed by /api/models/; before it answers, "auto" and the current value).
    const model = screen.getByLabelText("Model") as HTMLSelectElement;
    expect(model.tagName).toBe("SELECT");
    expect(model.value).toBe("demo");
    const options = [...model.querySelectorAll("option")].map((o) => (o as HTMLOptionElement).value);
    expect(options).toEqual(expect.arrayContaining(["demo", "auto"]));
    expect(screen.getByLabelText("Temperature")).toHaveProperty("type", "number");
    expect(screen.getByLabelText("Json output")).toHaveProperty("type", "checkbox");
    expect(screen.getByLabelText("Mode").tagName).toBe("SELECT");

    fireEvent.change(prompt, { target: { value: "Hi there" } });
    expect(onChange).toHaveBeenLastCalledWith({ model: "demo", prompt: "Hi there" });
    fireEvent.change(screen.getByLabelText("Temperature"), { target: { value: "0.5" } });
    expect(onChange).toHaveBeenLastCalledWith({ model: "demo", prompt: "Hello", temperature: 0.5 });
    fireEvent.change(screen.getByLabelText("Stop"), { target: { value: "a\n\nb" } });
    expect(onChange).toHaveBeenLastCalledWith({ model: "demo", prompt: "Hello", stop: ["a", "b"] });
  });

  it("edits an array of $ref objects (trigger fields)", () => {
    const onChange = vi.fn();
    render(
      <SchemaForm
        schema={triggerSchema}
        value={{ fields: [{ name: "from", label: "From", type: "string", required: true }] }}
        onChange={onChange}
      />,
    );
    expect((screen.getByLabelText("Name") as HTMLInputElement).value).toBe("from");
    fireEvent.click(screen.getByRole("button", { name: "Add field" }));
    expect(onChange).toHaveBeenLastCalledWith({
      fields: [
        { name: "from", label: "From", type: "string", required: true },
        { label: "", type: "string", required: true },
      ],
    });
  });

  it("edits key-value objects", () => {
    const onChange = vi.fn();
    const schema = {
      type: "object",
      properties: { headers: { title: "Headers", type: "object", additionalProperties: { type: "string" }, ui: { widget: "key-value" } } },
    };
    render(<SchemaForm schema={schema} value={{ headers: { A: "1" } }} onChange={onChange} />);
    fireEvent.change(screen.getByLabelText("Headers value 1"), { target: { value: "2" } });
    expect(onChange).toHaveBeenLastCalledWith({ headers: { A: "2" } });
  });
});
