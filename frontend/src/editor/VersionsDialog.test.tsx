import { describe, expect, it } from "vitest";
import type { VersionDiff, WorkflowDocument } from "../api/types";
import { diffDocument, orderRefs } from "./VersionsDialog";

const node = (id: string) => ({ id, type: "data.template", type_version: 1, config: {}, position: { x: 0, y: 0 }, label: id });

describe("orderRefs", () => {
  it("puts the older side first and the draft last", () => {
    expect(orderRefs(3, 1)).toEqual([1, 3]);
    expect(orderRefs("draft", 2)).toEqual([2, "draft"]);
    expect(orderRefs(2, "draft")).toEqual([2, "draft"]);
    expect(orderRefs("draft", "draft")).toBeNull();
  });
});

describe("diffDocument", () => {
  it("keeps removed nodes and edges and marks every changed node", () => {
    const before: WorkflowDocument = {
      schema_version: 1,
      nodes: [node("a"), node("b"), node("gone")],
      edges: [{ id: "e1", source: "a", source_port: "out", target: "gone", target_port: "in" }],
    };
    const after: WorkflowDocument = { schema_version: 1, nodes: [node("a"), node("b"), node("new")], edges: [] };
    const diff: VersionDiff = {
      nodes: {
        added: [{ id: "new", type: "data.template", label: "new" }],
        removed: [{ id: "gone", type: "data.template", label: "gone" }],
        changed: [{ id: "b", type: "data.template", label: "b", fields: [{ path: "config.template", before: "x", after: "y" }] }],
      },
      edges: { added: [], removed: [{ id: "e1", source: "a", source_port: "out", target: "gone", target_port: "in" }] },
    };
    const merged = diffDocument(before, after, diff);
    expect(merged.document.nodes.map((n) => n.id)).toEqual(["a", "b", "new", "gone"]);
    expect(merged.document.edges.map((e) => e.id)).toEqual(["removed:e1"]);
    expect(merged.marks).toEqual({ new: "added", gone: "removed", b: "changed" });
  });
});
