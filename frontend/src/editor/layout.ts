// Auto layout: left-to-right ranks computed by dagre (pure, unit-tested).
import { Graph, layout } from "@dagrejs/dagre";

export interface LayoutBox {
  id: string;
  width?: number;
  height?: number;
}

export const DEFAULT_NODE_SIZE = { width: 180, height: 60 };

/** Top-left positions for `nodes` so that edges run left to right and no two boxes overlap. */
export function layoutPositions(
  nodes: LayoutBox[],
  edges: { source: string; target: string }[],
  opts: { nodesep?: number; ranksep?: number } = {},
): Record<string, { x: number; y: number }> {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: opts.nodesep ?? 40, ranksep: opts.ranksep ?? 80, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set<string>();
  for (const n of nodes) {
    ids.add(n.id);
    g.setNode(n.id, { width: n.width || DEFAULT_NODE_SIZE.width, height: n.height || DEFAULT_NODE_SIZE.height });
  }
  edges.forEach((e, i) => {
    if (ids.has(e.source) && ids.has(e.target) && e.source !== e.target) g.setEdge(e.source, e.target, {}, `e${i}`);
  });
  layout(g);
  const out: Record<string, { x: number; y: number }> = {};
  for (const n of nodes) {
    const p = g.node(n.id) as { x: number; y: number; width: number; height: number };
    // dagre gives centres; xyflow positions are top-left corners.
    out[n.id] = { x: Math.round(p.x - p.width / 2), y: Math.round(p.y - p.height / 2) };
  }
  return out;
}
