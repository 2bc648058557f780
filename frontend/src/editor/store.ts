// Editor state: a plain reducer (unit-testable without React).
import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from "@xyflow/react";
import type { Issue, NodeType, StepStatus, WorkflowDocument } from "../api/types";
import { defaultsFor } from "./config-form/schema";
import { displayName, toFlow, type BatonEdge, type BatonNode, type NodeTypeIndex } from "./serialize";

export interface EditorState {
  nodes: BatonNode[];
  edges: BatonEdge[];
  /** Bumped on every change to the document (not on selection or run status). */
  version: number;
  savedVersion: number;
}

export const initialEditorState: EditorState = { nodes: [], edges: [], version: 0, savedVersion: 0 };

export type EditorAction =
  | { type: "load"; document: WorkflowDocument; nodeTypes: NodeType[] | NodeTypeIndex }
  | { type: "nodesChange"; changes: NodeChange<BatonNode>[] }
  | { type: "edgesChange"; changes: EdgeChange<BatonEdge>[] }
  | { type: "addNode"; nodeType: NodeType; position?: { x: number; y: number } }
  | { type: "connect"; source: string; sourceHandle?: string | null; target: string; targetHandle?: string | null }
  | { type: "deleteNodes"; ids: string[] }
  | { type: "deleteEdges"; ids: string[] }
  | { type: "updateConfig"; id: string; config: Record<string, unknown> }
  | { type: "updateLabel"; id: string; label: string }
  | { type: "select"; id: string | null }
  | { type: "setStatuses"; statuses: Record<string, StepStatus | undefined> }
  | { type: "setIssues"; issues: Issue[] }
  | { type: "markSaved"; version: number };

export function isDirty(s: EditorState): boolean {
  return s.version !== s.savedVersion;
}

export function edgeId(source: string, sourcePort: string, target: string, targetPort: string): string {
  return `e_${source}_${sourcePort}_${target}_${targetPort}`;
}

/** `llm.prompt` → `prompt_1`, made a valid identifier and unique among `taken`. */
export function newNodeId(typeKey: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  let base = (typeKey.split(".").pop() ?? "node").replace(/[^A-Za-z0-9_]/g, "_");
  if (!base || /^[0-9]/.test(base)) base = `n_${base}`;
  for (let n = 1; ; n++) {
    const id = `${base}_${n}`;
    if (!used.has(id)) return id;
  }
}

function changed(s: EditorState, patch: Partial<EditorState>): EditorState {
  return { ...s, ...patch, version: s.version + 1 };
}

function mapNode(s: EditorState, id: string, fn: (n: BatonNode) => BatonNode): BatonNode[] {
  return s.nodes.map((n) => (n.id === id ? fn(n) : n));
}

function removeNodes(s: EditorState, ids: Set<string>): EditorState {
  if (!s.nodes.some((n) => ids.has(n.id))) return s;
  return changed(s, {
    nodes: s.nodes.filter((n) => !ids.has(n.id)),
    edges: s.edges.filter((e) => !ids.has(e.source) && !ids.has(e.target)),
  });
}

// Changes that only touch editor view state, not the saved document.
const VIEW_ONLY_NODE_CHANGES = new Set(["select", "dimensions"]);

export function editorReducer(s: EditorState, a: EditorAction): EditorState {
  switch (a.type) {
    case "load": {
      const { nodes, edges } = toFlow(a.document, a.nodeTypes);
      return { nodes, edges, version: 0, savedVersion: 0 };
    }
    case "nodesChange": {
      const removed = new Set(a.changes.flatMap((c) => (c.type === "remove" ? [c.id] : [])));
      const next = applyNodeChanges(a.changes, s.nodes);
      const edges = removed.size
        ? s.edges.filter((e) => !removed.has(e.source) && !removed.has(e.target))
        : s.edges;
      // A drag emits many position changes; only a finished move or a removal edits the document.
      const edits = a.changes.some(
        (c) =>
          !VIEW_ONLY_NODE_CHANGES.has(c.type) &&
          !(c.type === "position" && c.dragging),
      );
      return edits ? changed(s, { nodes: next, edges }) : { ...s, nodes: next, edges };
    }
    case "edgesChange": {
      const next = applyEdgeChanges(a.changes, s.edges);
      const edits = a.changes.some((c) => c.type !== "select");
      return edits ? changed(s, { edges: next }) : { ...s, edges: next };
    }
    case "addNode": {
      const t = a.nodeType;
      const id = newNodeId(t.key, s.nodes.map((n) => n.id));
      const last = s.nodes[s.nodes.length - 1];
      const position = a.position ?? (last ? { x: last.position.x + 260, y: last.position.y } : { x: 0, y: 0 });
      const node: BatonNode = {
        id,
        type: "generic",
        position,
        selected: true,
        ariaLabel: t.title,
        data: { typeKey: t.key, typeVersion: t.version, config: defaultsFor(t.config_schema), nodeType: t },
      };
      return changed(s, {
        nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node],
        edges: s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
      });
    }
    case "connect": {
      const sourcePort = a.sourceHandle ?? "out";
      const targetPort = a.targetHandle ?? "in";
      if (a.source === a.target) return s;
      if (!s.nodes.some((n) => n.id === a.source) || !s.nodes.some((n) => n.id === a.target)) return s;
      const dup = s.edges.some(
        (e) =>
          e.source === a.source &&
          (e.sourceHandle ?? "out") === sourcePort &&
          e.target === a.target &&
          (e.targetHandle ?? "in") === targetPort,
      );
      if (dup) return s;
      const edge: BatonEdge = {
        id: edgeId(a.source, sourcePort, a.target, targetPort),
        source: a.source,
        sourceHandle: sourcePort,
        target: a.target,
        targetHandle: targetPort,
      };
      return changed(s, { edges: [...s.edges, edge] });
    }
    case "deleteNodes":
      return removeNodes(s, new Set(a.ids));
    case "deleteEdges": {
      const ids = new Set(a.ids);
      if (!s.edges.some((e) => ids.has(e.id))) return s;
      return changed(s, { edges: s.edges.filter((e) => !ids.has(e.id)) });
    }
    case "updateConfig":
      return changed(s, { nodes: mapNode(s, a.id, (n) => ({ ...n, data: { ...n.data, config: a.config } })) });
    case "updateLabel":
      return changed(s, {
        nodes: mapNode(s, a.id, (n) => {
          const data = { ...n.data, label: a.label === "" ? undefined : a.label };
          return { ...n, data, ariaLabel: displayName(data, n.id) };
        }),
      });
    case "select":
      return {
        ...s,
        nodes: s.nodes.map((n) => {
          const sel = n.id === a.id;
          return n.selected === sel ? n : { ...n, selected: sel };
        }),
      };
    case "setStatuses":
      return {
        ...s,
        nodes: s.nodes.map((n) =>
          n.data.status === a.statuses[n.id] ? n : { ...n, data: { ...n.data, status: a.statuses[n.id] } },
        ),
      };
    case "setIssues": {
      const bad = new Set(a.issues.flatMap((i) => (i.node_id ? [i.node_id] : [])));
      return {
        ...s,
        nodes: s.nodes.map((n) =>
          !!n.data.hasIssue === bad.has(n.id) ? n : { ...n, data: { ...n.data, hasIssue: bad.has(n.id) } },
        ),
      };
    }
    case "markSaved":
      return { ...s, savedVersion: a.version };
  }
}
