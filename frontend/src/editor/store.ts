// Editor state: a plain reducer (unit-testable without React), with undo/redo of document changes.
import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from "@xyflow/react";
import type { DocEdge, DocNode, DocNote, Issue, NodeType, Port, StepStatus, WorkflowDocument } from "../api/types";
import type { ClipboardPayload } from "./clipboard";
import { defaultsFor } from "./config-form/schema";
import { DEFAULT_NODE_SIZE, layoutPositions } from "./layout";
import {
  compactSettings,
  displayName,
  nodeAriaLabel,
  indexNodeTypes,
  inputsOf,
  outputsOf,
  toDocument,
  toFlow,
  type BatonEdge,
  type BatonNode,
  type NodeTypeIndex,
  type NoteNode,
} from "./serialize";

/** Everything xyflow renders: workflow nodes and sticky notes. */
export type FlowNode = BatonNode | NoteNode;

/** The document part of the state, as kept on the undo/redo stacks. */
export interface DocSnapshot {
  nodes: BatonNode[];
  edges: BatonEdge[];
  notes: NoteNode[];
  version: number;
}

export interface EditorState {
  nodes: BatonNode[];
  edges: BatonEdge[];
  notes: NoteNode[];
  /** Identifies the document content: changes on every edit, restored by undo/redo. */
  version: number;
  savedVersion: number;
  /** Last version number handed out (versions are never reused, so `isDirty` stays exact). */
  seq: number;
  past: DocSnapshot[];
  future: DocSnapshot[];
  /** The last coalescable edit (typing in one field), merged into one undo step. */
  lastEdit: { key: string; at?: number } | null;
  /** The document before the drag in progress started. */
  dragOrigin: DocSnapshot | null;
  types: NodeTypeIndex;
  statuses: Record<string, StepStatus | undefined>;
  issuesByNode: Record<string, string[]>;
  issuesByEdge: Record<string, string[]>;
  /** Bumped by undo/redo, so forms holding local drafts can re-mount. */
  restored: number;
}

export const HISTORY_LIMIT = 100;
/** Typing in the same field within this many ms of the previous keystroke is one undo step. */
export const COALESCE_MS = 1000;
/** Offset of pasted elements from the copied ones. */
export const PASTE_OFFSET = { x: 40, y: 40 };

export const initialEditorState: EditorState = {
  nodes: [],
  edges: [],
  notes: [],
  version: 0,
  savedVersion: 0,
  seq: 0,
  past: [],
  future: [],
  lastEdit: null,
  dragOrigin: null,
  types: {},
  statuses: {},
  issuesByNode: {},
  issuesByEdge: {},
  restored: 0,
};

type Connect = { source: string; sourceHandle?: string | null; target: string; targetHandle?: string | null };

export type EditorAction =
  | { type: "load"; document: WorkflowDocument; nodeTypes: NodeType[] | NodeTypeIndex }
  | { type: "nodesChange"; changes: NodeChange<FlowNode>[] }
  | { type: "edgesChange"; changes: EdgeChange<BatonEdge>[] }
  /** Without a position: right of the single selected node (connected to it), else after the last node. */
  | { type: "addNode"; nodeType: NodeType; position?: { x: number; y: number } }
  | { type: "addNote"; position?: { x: number; y: number }; text?: string }
  | ({ type: "connect" } & Connect)
  | { type: "deleteNodes"; ids: string[] }
  | { type: "deleteEdges"; ids: string[] }
  | { type: "deleteSelection" }
  | { type: "paste"; payload: ClipboardPayload; offset?: { x: number; y: number } }
  | { type: "autoLayout" }
  | { type: "updateConfig"; id: string; config: Record<string, unknown>; at?: number }
  | { type: "updateSettings"; id: string; settings: Record<string, unknown>; at?: number }
  | { type: "updateLabel"; id: string; label: string; at?: number }
  | { type: "updateNote"; id: string; text: string; at?: number }
  /** Ends the current typing step (e.g. a field lost focus). */
  | { type: "checkpoint" }
  | { type: "undo" }
  | { type: "redo" }
  | { type: "select"; id: string | null }
  | { type: "selectAll" }
  | { type: "setStatuses"; statuses: Record<string, StepStatus | undefined> }
  | { type: "setIssues"; issues: Issue[] }
  | { type: "markSaved"; version: number };

export function isDirty(s: EditorState): boolean {
  return s.version !== s.savedVersion;
}

export const canUndo = (s: EditorState): boolean => s.past.length > 0;
export const canRedo = (s: EditorState): boolean => s.future.length > 0;

/** The document to save (workflow nodes, edges and notes). */
export function documentOf(s: Pick<EditorState, "nodes" | "edges" | "notes">): WorkflowDocument {
  return toDocument(s.nodes, s.edges, s.notes);
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

function allIds(s: EditorState): string[] {
  return [...s.nodes.map((n) => n.id), ...s.notes.map((n) => n.id)];
}

function snapshot(s: EditorState): DocSnapshot {
  return { nodes: s.nodes, edges: s.edges, notes: s.notes, version: s.version };
}

interface ChangeOpts {
  /** Same key as the previous edit (and no checkpoint since): merged into one undo step. */
  key?: string;
  at?: number;
  /** The state to return to on undo, when it is not `s` (a finished drag). */
  origin?: DocSnapshot;
}

function changed(s: EditorState, patch: Partial<EditorState>, opts: ChangeOpts = {}): EditorState {
  const last = s.lastEdit;
  const merge =
    opts.key !== undefined &&
    last !== null &&
    last.key === opts.key &&
    s.past.length > 0 &&
    (opts.at === undefined || last.at === undefined || opts.at - last.at <= COALESCE_MS);
  const seq = s.seq + 1;
  return {
    ...s,
    ...patch,
    version: seq,
    seq,
    past: merge ? s.past : [...s.past, opts.origin ?? snapshot(s)].slice(-HISTORY_LIMIT),
    future: [],
    lastEdit: opts.key !== undefined ? { key: opts.key, at: opts.at } : null,
    dragOrigin: null,
  };
}

/** Re-applies view state (selection, run status, issues) to nodes coming back from history. */
function decorate(s: EditorState, snap: DocSnapshot): Pick<EditorState, "nodes" | "edges" | "notes"> {
  const selected = new Set([...s.nodes, ...s.notes, ...s.edges].filter((n) => n.selected).map((n) => n.id));
  const nodes = snap.nodes.map((n) => {
    const status = s.statuses[n.id];
    const msgs = s.issuesByNode[n.id];
    const sel = selected.has(n.id);
    if (n.data.status === status && n.data.issueMessages === msgs && !!n.selected === sel) return n;
    return { ...n, selected: sel, data: { ...n.data, status, hasIssue: !!msgs, issueMessages: msgs } };
  });
  const notes = snap.notes.map((n) => (!!n.selected === selected.has(n.id) ? n : { ...n, selected: selected.has(n.id) }));
  const edges = snap.edges.map((e) => {
    const sel = selected.has(e.id);
    const cls = s.issuesByEdge[e.id] ? "has-issue" : undefined;
    return !!e.selected === sel && e.className === cls ? e : { ...e, selected: sel, className: cls };
  });
  return { nodes, edges, notes };
}

function travel(s: EditorState, dir: "undo" | "redo"): EditorState {
  const from = dir === "undo" ? s.past : s.future;
  if (!from.length) return s;
  const target = from[from.length - 1];
  const rest = from.slice(0, -1);
  const here = snapshot(s);
  return {
    ...s,
    ...decorate(s, target),
    version: target.version,
    past: dir === "undo" ? rest : [...s.past, here],
    future: dir === "undo" ? [...s.future, here] : rest,
    lastEdit: null,
    dragOrigin: null,
    restored: s.restored + 1,
  };
}

function mapNode(s: EditorState, id: string, fn: (n: BatonNode) => BatonNode): BatonNode[] {
  return s.nodes.map((n) => (n.id === id ? fn(n) : n));
}

function removeElements(s: EditorState, ids: Set<string>, edgeIds: Set<string> = new Set()): EditorState {
  const hit =
    s.nodes.some((n) => ids.has(n.id)) || s.notes.some((n) => ids.has(n.id)) || s.edges.some((e) => edgeIds.has(e.id));
  if (!hit) return s;
  return changed(s, {
    nodes: s.nodes.filter((n) => !ids.has(n.id)),
    notes: s.notes.filter((n) => !ids.has(n.id)),
    edges: s.edges.filter((e) => !edgeIds.has(e.id) && !ids.has(e.source) && !ids.has(e.target)),
  });
}

function pickPort(ports: Port[], preferred: string): string | null {
  if (ports.some((p) => p.name === preferred)) return preferred;
  return ports.length === 1 ? ports[0].name : null;
}

/** Why `c` cannot become an edge, or null when it can. */
export function connectionProblem(s: Pick<EditorState, "nodes" | "edges">, c: Connect): string | null {
  if (c.source === c.target) return "A node cannot connect to itself";
  const src = s.nodes.find((n) => n.id === c.source);
  const tgt = s.nodes.find((n) => n.id === c.target);
  if (!src || !tgt) return "Only workflow nodes can be connected";
  const sourcePort = c.sourceHandle ?? "out";
  const targetPort = c.targetHandle ?? "in";
  if (!outputsOf(src.data).some((p) => p.name === sourcePort))
    return `${displayName(src.data, src.id)} has no output “${sourcePort}”`;
  if (tgt.data.nodeType?.is_trigger) return "A trigger has no input";
  const inputs = inputsOf(tgt.data);
  if (!inputs.length) return `${displayName(tgt.data, tgt.id)} has no input`;
  if (!inputs.some((p) => p.name === targetPort)) return `${displayName(tgt.data, tgt.id)} has no input “${targetPort}”`;
  const dup = s.edges.some(
    (e) =>
      e.source === c.source &&
      (e.sourceHandle ?? "out") === sourcePort &&
      e.target === c.target &&
      (e.targetHandle ?? "in") === targetPort,
  );
  if (dup) return "Already connected";
  // An edge target → … → source already exists: the new edge would close a cycle.
  const next = new Map<string, string[]>();
  for (const e of s.edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  const seen = new Set<string>([c.target]);
  const todo = [c.target];
  while (todo.length) {
    for (const n of next.get(todo.pop()!) ?? []) {
      if (n === c.source) return "This connection would create a loop";
      if (!seen.has(n)) {
        seen.add(n);
        todo.push(n);
      }
    }
  }
  return null;
}

function makeEdge(c: Connect): BatonEdge {
  const sourcePort = c.sourceHandle ?? "out";
  const targetPort = c.targetHandle ?? "in";
  return {
    id: edgeId(c.source, sourcePort, c.target, targetPort),
    source: c.source,
    sourceHandle: sourcePort,
    target: c.target,
    targetHandle: targetPort,
  };
}

function overlaps(s: EditorState, p: { x: number; y: number }): boolean {
  return [...s.nodes, ...s.notes].some(
    (n) => Math.abs(n.position.x - p.x) < DEFAULT_NODE_SIZE.width && Math.abs(n.position.y - p.y) < DEFAULT_NODE_SIZE.height + 10,
  );
}

function freeSpot(s: EditorState, p: { x: number; y: number }): { x: number; y: number } {
  const out = { ...p };
  for (let i = 0; i < 50 && overlaps(s, out); i++) out.y += 100;
  return out;
}

const deselectAll = <T extends { selected?: boolean }>(list: T[]): T[] =>
  list.map((n) => (n.selected ? { ...n, selected: false } : n));

/** The selected nodes and notes, with the edges between selected nodes, in clipboard format. */
export function selectionPayload(s: EditorState): ClipboardPayload | null {
  const nodes = s.nodes.filter((n) => n.selected);
  const notes = s.notes.filter((n) => n.selected);
  if (!nodes.length && !notes.length) return null;
  const ids = new Set(nodes.map((n) => n.id));
  const doc = toDocument(
    nodes,
    s.edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
    notes,
  );
  return { baton_clipboard: 1, ...doc };
}

/**
 * New unique ids for pasted nodes and notes (edges rewired, edges to nodes that are not pasted
 * dropped), positions moved by `offset`.
 */
export function remapPaste(
  payload: ClipboardPayload,
  taken: Iterable<string>,
  offset: { x: number; y: number } = PASTE_OFFSET,
  takenEdges: Iterable<string> = [],
): { nodes: DocNode[]; edges: DocEdge[]; notes: DocNote[]; idMap: Record<string, string> } {
  const used = new Set(taken);
  const ids = new Map<string, string>();
  const move = (p: { x: number; y: number } | undefined) => ({ x: (p?.x ?? 0) + offset.x, y: (p?.y ?? 0) + offset.y });
  const nodes = payload.nodes.flatMap((n): DocNode[] => {
    if (!n || typeof n.id !== "string" || typeof n.type !== "string" || ids.has(n.id)) return [];
    const id = newNodeId(n.type, used);
    used.add(id);
    ids.set(n.id, id);
    return [{ ...structuredClone(n), id, position: move(n.position), config: structuredClone(n.config ?? {}) }];
  });
  const notes = (payload.notes ?? []).flatMap((n): DocNote[] => {
    if (!n || typeof n.id !== "string") return [];
    const id = newNodeId("note", used);
    used.add(id);
    return [{ ...structuredClone(n), id, text: String(n.text ?? ""), position: move(n.position) }];
  });
  const usedEdges = new Set(takenEdges);
  const edges = payload.edges.flatMap((e): DocEdge[] => {
    if (!e || typeof e.source_port !== "string" || typeof e.target_port !== "string") return [];
    const source = ids.get(e.source);
    const target = ids.get(e.target);
    if (!source || !target) return [];
    const base = edgeId(source, e.source_port, target, e.target_port);
    let id = base;
    for (let k = 2; usedEdges.has(id); k++) id = `${base}_${k}`;
    usedEdges.add(id);
    return [{ id, source, source_port: e.source_port, target, target_port: e.target_port }];
  });
  return { nodes, edges, notes, idMap: Object.fromEntries(ids) };
}

// Changes that only touch editor view state, not the saved document.
const VIEW_ONLY_NODE_CHANGES = new Set(["select", "dimensions"]);

export function editorReducer(s: EditorState, a: EditorAction): EditorState {
  switch (a.type) {
    case "load": {
      const types = indexNodeTypes(a.nodeTypes);
      const { nodes, edges, notes } = toFlow(a.document, types);
      return { ...initialEditorState, nodes, edges, notes, types };
    }
    case "nodesChange": {
      const known = new Set(allIds(s));
      const changes = a.changes.filter((c) => c.type === "add" || known.has(c.id));
      if (!changes.length) return s;
      const removed = new Set(changes.flatMap((c) => (c.type === "remove" ? [c.id] : [])));
      const next = applyNodeChanges<FlowNode>(changes, [...s.nodes, ...s.notes]);
      const patch: Partial<EditorState> = {
        nodes: next.filter((n): n is BatonNode => n.type !== "note"),
        notes: next.filter((n): n is NoteNode => n.type === "note"),
        edges: removed.size ? s.edges.filter((e) => !removed.has(e.source) && !removed.has(e.target)) : s.edges,
      };
      // A drag emits many position changes; only a finished move or a removal edits the document.
      const dragging = changes.some((c) => c.type === "position" && c.dragging);
      const edits = changes.some((c) => !VIEW_ONLY_NODE_CHANGES.has(c.type) && !(c.type === "position" && c.dragging));
      if (edits) return changed(s, patch, { origin: s.dragOrigin ?? undefined });
      return { ...s, ...patch, dragOrigin: dragging ? (s.dragOrigin ?? snapshot(s)) : s.dragOrigin };
    }
    case "edgesChange": {
      const known = new Set(s.edges.map((e) => e.id));
      const changes = a.changes.filter((c) => c.type === "add" || known.has(c.id));
      if (!changes.length) return s;
      const next = applyEdgeChanges(changes, s.edges);
      const edits = changes.some((c) => c.type !== "select");
      return edits ? changed(s, { edges: next }) : { ...s, edges: next };
    }
    case "addNode": {
      const t = a.nodeType;
      const id = newNodeId(t.key, allIds(s));
      const selected = s.nodes.filter((n) => n.selected);
      const anchor = !a.position && selected.length === 1 ? selected[0] : undefined;
      const last = s.nodes[s.nodes.length - 1];
      let position = a.position;
      if (!position) {
        const ref = anchor ?? last;
        position = freeSpot(s, ref ? { x: ref.position.x + 260, y: ref.position.y } : { x: 0, y: 0 });
      }
      const node: BatonNode = {
        id,
        type: "generic",
        position,
        selected: true,
        ariaLabel: `${t.key} node: ${t.title}`,
        data: { typeKey: t.key, typeVersion: t.version, config: defaultsFor(t.config_schema), nodeType: t },
      };
      const edges = deselectAll(s.edges);
      if (anchor) {
        const out = pickPort(outputsOf(anchor.data), "out");
        const inp = t.is_trigger ? null : pickPort(t.inputs, "in");
        if (out && inp) edges.push(makeEdge({ source: anchor.id, sourceHandle: out, target: id, targetHandle: inp }));
      }
      return changed(s, { nodes: [...deselectAll(s.nodes), node], notes: deselectAll(s.notes), edges });
    }
    case "addNote": {
      const id = newNodeId("note", allIds(s));
      const last = s.nodes[s.nodes.length - 1];
      const position = a.position ?? freeSpot(s, last ? { x: last.position.x, y: last.position.y + 120 } : { x: 0, y: 0 });
      const note: NoteNode = { id, type: "note", position, selected: true, ariaLabel: "Note", data: { text: a.text ?? "" } };
      return changed(s, { nodes: deselectAll(s.nodes), edges: deselectAll(s.edges), notes: [...deselectAll(s.notes), note] });
    }
    case "connect": {
      if (connectionProblem(s, a)) return s;
      return changed(s, { edges: [...s.edges, makeEdge(a)] });
    }
    case "deleteNodes":
      return removeElements(s, new Set(a.ids));
    case "deleteEdges":
      return removeElements(s, new Set(), new Set(a.ids));
    case "deleteSelection":
      return removeElements(
        s,
        new Set([...s.nodes, ...s.notes].filter((n) => n.selected).map((n) => n.id)),
        new Set(s.edges.filter((e) => e.selected).map((e) => e.id)),
      );
    case "paste": {
      const p = remapPaste(a.payload, allIds(s), a.offset ?? PASTE_OFFSET, s.edges.map((e) => e.id));
      if (!p.nodes.length && !p.notes.length) return s;
      const flow = toFlow({ schema_version: 1, nodes: p.nodes, edges: p.edges, notes: p.notes }, s.types);
      const sel = <T extends { selected?: boolean }>(list: T[]) => list.map((n) => ({ ...n, selected: true }));
      return changed(s, {
        nodes: [...deselectAll(s.nodes), ...sel(flow.nodes)],
        edges: [...deselectAll(s.edges), ...flow.edges],
        notes: [...deselectAll(s.notes), ...sel(flow.notes)],
      });
    }
    case "autoLayout": {
      if (!s.nodes.length) return s;
      const pos = layoutPositions(
        s.nodes.map((n) => ({ id: n.id, width: n.measured?.width ?? n.width, height: n.measured?.height ?? n.height })),
        s.edges,
      );
      // Keep the graph roughly where it was: anchor the layout at the old top-left corner.
      const minX = Math.min(...s.nodes.map((n) => n.position.x));
      const minY = Math.min(...s.nodes.map((n) => n.position.y));
      const nodes = s.nodes.map((n) => {
        const p = { x: pos[n.id].x + Math.round(minX), y: pos[n.id].y + Math.round(minY) };
        return p.x === n.position.x && p.y === n.position.y ? n : { ...n, position: p };
      });
      if (nodes.every((n, i) => n === s.nodes[i])) return s;
      return changed(s, { nodes });
    }
    case "updateConfig":
      return changed(
        s,
        { nodes: mapNode(s, a.id, (n) => ({ ...n, data: { ...n.data, config: a.config } })) },
        { key: `config:${a.id}`, at: a.at },
      );
    case "updateSettings":
      return changed(
        s,
        { nodes: mapNode(s, a.id, (n) => ({ ...n, data: { ...n.data, settings: compactSettings(a.settings) } })) },
        { key: `settings:${a.id}`, at: a.at },
      );
    case "updateLabel":
      return changed(
        s,
        {
          nodes: mapNode(s, a.id, (n) => {
            const data = { ...n.data, label: a.label === "" ? undefined : a.label };
            return { ...n, data, ariaLabel: nodeAriaLabel(data, n.id) };
          }),
        },
        { key: `label:${a.id}`, at: a.at },
      );
    case "updateNote": {
      if (!s.notes.some((n) => n.id === a.id && n.data.text !== a.text)) return s;
      return changed(
        s,
        { notes: s.notes.map((n) => (n.id === a.id ? { ...n, data: { ...n.data, text: a.text } } : n)) },
        { key: `note:${a.id}`, at: a.at },
      );
    }
    case "checkpoint":
      return s.lastEdit ? { ...s, lastEdit: null } : s;
    case "undo":
    case "redo":
      return travel(s, a.type);
    case "select":
      return {
        ...s,
        nodes: s.nodes.map((n) => {
          const sel = n.id === a.id;
          return n.selected === sel ? n : { ...n, selected: sel };
        }),
        notes: deselectAll(s.notes),
        edges: deselectAll(s.edges),
      };
    case "selectAll": {
      const all = <T extends { selected?: boolean }>(list: T[]) => list.map((n) => (n.selected ? n : { ...n, selected: true }));
      return { ...s, nodes: all(s.nodes), notes: all(s.notes), edges: all(s.edges) };
    }
    case "setStatuses":
      return {
        ...s,
        statuses: a.statuses,
        nodes: s.nodes.map((n) =>
          n.data.status === a.statuses[n.id] ? n : { ...n, data: { ...n.data, status: a.statuses[n.id] } },
        ),
      };
    case "setIssues": {
      const byNode: Record<string, string[]> = {};
      const byEdge: Record<string, string[]> = {};
      for (const i of a.issues) {
        if (i.node_id) (byNode[i.node_id] ??= []).push(i.message);
        if (i.edge_id) (byEdge[i.edge_id] ??= []).push(i.message);
      }
      const next = { ...s, issuesByNode: byNode, issuesByEdge: byEdge };
      return { ...next, ...decorate(next, snapshot(s)) };
    }
    case "markSaved":
      return { ...s, savedVersion: a.version };
  }
}
