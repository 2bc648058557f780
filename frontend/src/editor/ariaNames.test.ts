import { describe, expect, it } from "vitest";
import { nodeAriaLabel, portAriaLabel, toFlow } from "./serialize";

describe("accessible names on the canvas", () => {
  it("names a node by its type and label, and a port by side, name and node", () => {
    expect(nodeAriaLabel({ typeKey: "llm.prompt", typeVersion: 1, config: {}, label: "Draft reply" }, "draft")).toBe(
      "llm.prompt node: Draft reply",
    );
    // No label and an unknown type: the node id.
    expect(nodeAriaLabel({ typeKey: "x.unknown", typeVersion: 1, config: {} }, "n7")).toBe("x.unknown node: n7");
    expect(portAriaLabel("out", "out", "Draft reply")).toBe("Output port out of Draft reply");
    expect(portAriaLabel("in", "in", "Send")).toBe("Input port in of Send");
  });

  it("loaded nodes carry their name for React Flow's wrapper", () => {
    const { nodes } = toFlow(
      {
        schema_version: 1,
        nodes: [{ id: "t", type: "trigger.manual", type_version: 1, label: "Start", config: {}, position: { x: 0, y: 0 } }],
        edges: [],
      },
      [],
    );
    expect(nodes[0].ariaLabel).toBe("trigger.manual node: Start");
  });
});
