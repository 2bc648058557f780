import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { JsonSchema } from "../../api/types";
import { constOrNumber, normalize } from "./schema";
import { SchemaForm } from "./SchemaForm";

afterEach(cleanup);

// flow.subworkflow / logic.loop's `version`, as pydantic writes it.
const schema: JsonSchema = {
  type: "object",
  properties: {
    version: {
      anyOf: [{ const: "latest", type: "string" }, { minimum: 1, type: "integer" }],
      default: "latest",
      description: "'latest' or a version number.",
      title: "Version",
    },
  },
};

describe("constOrNumber", () => {
  it("recognises constants plus one number, and nothing else", () => {
    expect(constOrNumber([{ const: "latest" }, { type: "integer", minimum: 1 }])).toEqual({
      consts: ["latest"],
      number: { type: "integer", minimum: 1 },
    });
    expect(constOrNumber([{ type: "string" }, { type: "integer" }])).toBeNull();
    expect(constOrNumber([{ const: "a" }, { type: "integer" }, { type: "number" }])).toBeNull();
    expect(constOrNumber([{ const: "a" }, { const: "b" }])).toBeNull();
  });

  it("normalises into the const-or-number widget, also when nullable", () => {
    const { schema: s } = normalize(schema.properties!.version, schema);
    expect(s.ui).toMatchObject({ widget: "const-or-number", consts: ["latest"] });
    expect(s.number).toEqual({ minimum: 1, type: "integer" });
    const nullable = normalize({ anyOf: [{ const: "auto" }, { type: "number" }, { type: "null" }] }, {});
    expect(nullable.nullable).toBe(true);
    expect(nullable.schema.ui?.widget).toBe("const-or-number");
  });
});

describe("SchemaForm: a constant or a pinned number", () => {
  it("shows 'latest' in a select; pinning shows a number field and emits integers", () => {
    const onChange = vi.fn();
    const { rerender } = render(<SchemaForm schema={schema} value={{}} onChange={onChange} />);
    const select = screen.getByLabelText("Version") as HTMLSelectElement;
    expect(select.tagName).toBe("SELECT");
    expect(select.value).toBe("latest");
    expect(screen.queryByLabelText("Pinned version")).toBeNull();

    fireEvent.change(select, { target: { value: "pinned" } });
    expect(onChange).toHaveBeenLastCalledWith({ version: 1 });
    rerender(<SchemaForm schema={schema} value={{ version: 1 }} onChange={onChange} />);
    expect((screen.getByLabelText("Version") as HTMLSelectElement).value).toBe("pinned");
    const pinned = screen.getByLabelText("Pinned version") as HTMLInputElement;
    expect(pinned.type).toBe("number");
    fireEvent.change(pinned, { target: { value: "4" } });
    expect(onChange).toHaveBeenLastCalledWith({ version: 4 });

    rerender(<SchemaForm schema={schema} value={{ version: 4 }} onChange={onChange} />);
    fireEvent.change(screen.getByLabelText("Version"), { target: { value: "latest" } });
    expect(onChange).toHaveBeenLastCalledWith({ version: "latest" });
  });
});
