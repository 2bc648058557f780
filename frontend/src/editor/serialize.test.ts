import { describe, expect, it } from "vitest";
import { DOC, NODE_TYPES } from "../test/fixtures";
import { toDocument, toFlow } from "./serialize";

describe("serialize", () => {
  it("round-trips a document through the flow model", () => {
    const { nodes, edges } = toFlow(DOC, NODE_TYPES);
    expect(toDocument(nodes, edges)).toEqual(DOC);
  });

  it("maps ports to handles and keeps labels and positions", () => {
    const { nodes, edges } = toFlow(DOC, NODE_TYPES);
    expect(nodes[0]).toMatchObject({ id: "trigger", type: "generic", position: { x: 0, y: 0 } });
    expect(nodes[0].data.label).toBe("Start");
    expect(nodes[1].data.label).toBeUndefined();
    expect(edges[2]).toMatchObject({ source: "if_1", sourceHandle: "true", target: "send", targetHandle: "in" });
  });

  it("derives ports from edges for unknown node types and keeps extra keys", () => {
    const doc = structuredClone(DOC);
    (doc.nodes[2] as unknown as Record<string, unknown>).notes = "keep me";
    const { nodes, edges } = toFlow(doc, NODE_TYPES.filter((t) => t.key !== "logic.if"));
    expect(nodes[2].data.fallbackOutputs).toEqual([{ name: "true", label: "true" }]);
    expect(toDocument(nodes, edges)).toEqual(doc);
  });
});

describe("sticky notes", () => {
  it("round-trip under the optional top-level notes key, never in nodes", () => {
    const doc = {
      ...structuredClone(DOC),
      notes: [{ id: "note_1", text: "Ask legal\nfirst", position: { x: 10, y: 300 }, color: "yellow" }],
    };
    const { nodes, edges, notes } = toFlow(doc, NODE_TYPES);
    expect(nodes).toHaveLength(4);
    expect(notes).toMatchObject([{ id: "note_1", type: "note", data: { text: "Ask legal\nfirst" } }]);
    expect(toDocument(nodes, edges, notes)).toEqual(doc);
    expect("notes" in toDocument(nodes, edges, [])).toBe(false);
  });
});
