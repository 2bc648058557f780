import { describe, expect, it } from "vitest";
import { DOC, NODE_TYPES } from "../test/fixtures";
import { layoutPositions } from "./layout";
import { documentOf, editorReducer, initialEditorState } from "./store";

const W = 180;
const H = 60;

function overlapping(pos: Record<string, { x: number; y: number }>): string[][] {
  const ids = Object.keys(pos);
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i++)
    for (let j = i + 1; j < ids.length; j++) {
      const a = pos[ids[i]];
      const b = pos[ids[j]];
      if (a.x < b.x + W && b.x < a.x + W && a.y < b.y + H && b.y < a.y + H) out.push([ids[i], ids[j]]);
    }
  return out;
}

describe("auto layout", () => {
  it("ranks left to right without overlaps", () => {
    const nodes = ["t", "a", "b", "c", "d", "e", "lonely1", "lonely2"].map((id) => ({ id, width: W, height: H }));
    const edges = [
      { source: "t", target: "a" },
      { source: "a", target: "b" },
      { source: "a", target: "c" },
      { source: "a", target: "d" },
      { source: "b", target: "e" },
      { source: "c", target: "e" },
      { source: "d", target: "e" },
    ];
    const pos = layoutPositions(nodes, edges);
    expect(overlapping(pos)).toEqual([]);
    for (const e of edges) expect(pos[e.source].x + W).toBeLessThan(pos[e.target].x);
  });

  it("handles piled-up nodes, unknown sizes and cycles", () => {
    const nodes = Array.from({ length: 12 }, (_, i) => ({ id: `n${i}` }));
    const edges = [
      ...nodes.slice(1).map((n, i) => ({ source: nodes[i % 3].id, target: n.id })),
      { source: "n5", target: "n0" },
      { source: "n1", target: "missing" },
    ];
    expect(overlapping(layoutPositions(nodes, edges))).toEqual([]);
  });

  it("is an undoable editor step", () => {
    let s = editorReducer(initialEditorState, { type: "load", document: DOC, nodeTypes: NODE_TYPES });
    s = editorReducer(s, { type: "autoLayout" });
    const pos = Object.fromEntries(s.nodes.map((n) => [n.id, n.position]));
    expect(overlapping(pos)).toEqual([]);
    expect(pos.trigger.x).toBeLessThan(pos.draft.x);
    expect(pos.draft.x).toBeLessThan(pos.if_1.x);
    s = editorReducer(s, { type: "undo" });
    expect(documentOf(s)).toEqual(DOC);
  });
});
