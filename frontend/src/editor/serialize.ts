// Converts between the saved workflow document (docs/api.md) and xyflow's nodes/edges.
import type { Edge, Node } from "@xyflow/react";
import type { DocEdge, DocNode, DocNote, NodeSettings, NodeType, Port, StepStatus, WorkflowDocument } from "../api/types";

export interface BatonNodeData extends Record<string, unknown> {
  typeKey: string;
  typeVersion: number;
  label?: string;
  config: Record<string, unknown>;
  /** Reliability settings (retry, timeout, on_error); omitted from the document when empty. */
  settings?: NodeSettings;
  /** The node type from the registry, when known (ports, title, category). */
  nodeType?: NodeType;
  /** Ports used when the node type is unknown (derived from the edges). */
  fallbackInputs?: Port[];
  fallbackOutputs?: Port[];
  /** Unknown keys of the document node, kept so saving does not drop them. */
  extra?: Record<string, unknown>;
  status?: StepStatus;
  hasIssue?: boolean;
  /** Validation messages about this node (shown as a tooltip). */
  issueMessages?: string[];
  readOnly?: boolean;
}

export interface NoteData extends Record<string, unknown> {
  text: string;
  /** Unknown keys of the document note, kept so saving does not drop them. */
  extra?: Record<string, unknown>;
}

/** A sticky note: an xyflow node that is stored under the document's `notes`, not `nodes`. */
export type NoteNode = Node<NoteData, "note">;

export type BatonNode = Node<BatonNodeData, "generic">;
export type BatonEdge = Edge;

export type NodeTypeIndex = Record<string, NodeType>;

export function indexNodeTypes(types: NodeType[] | NodeTypeIndex): NodeTypeIndex {
  if (!Array.isArray(types)) return types;
  const out: NodeTypeIndex = {};
  for (const t of types) out[t.key] = t;
  return out;
}

const KNOWN_NODE_KEYS = new Set(["id", "type", "type_version", "config", "position", "label", "settings"]);

/** The extra output every node gets when `settings.on_error` is `error_port`. */
export const ERROR_PORT: Port = { name: "error", label: "error" };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/** Settings without unset (undefined / null) values and empty objects; undefined when nothing is left. */
export function compactSettings(settings: unknown): NodeSettings | undefined {
  if (!isPlainObject(settings)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) {
    if (v === undefined || v === null) continue;
    if (isPlainObject(v)) {
      const inner = compactSettings(v);
      if (inner) out[k] = inner;
    } else out[k] = structuredClone(v);
  }
  return Object.keys(out).length ? (out as NodeSettings) : undefined;
}

export function displayName(data: BatonNodeData, id: string): string {
  return data.label || data.nodeType?.title || id;
}

/** The node's accessible name on the canvas, e.g. "llm.prompt node: Draft reply". */
export function nodeAriaLabel(data: BatonNodeData, id: string): string {
  return `${data.typeKey} node: ${displayName(data, id)}`;
}

/** A port's accessible name, e.g. "Output port out of Draft reply". */
export function portAriaLabel(side: "in" | "out", port: string, nodeName: string): string {
  return `${side === "in" ? "Input" : "Output"} port ${port} of ${nodeName}`;
}

function uniquePorts(names: string[]): Port[] {
  return [...new Set(names)].map((name) => ({ name, label: name }));
}

const KNOWN_NOTE_KEYS = new Set(["id", "text", "position"]);

export function notesToFlow(notes: DocNote[] | undefined): NoteNode[] {
  return (notes ?? []).map((n) => {
    const data: NoteData = { text: typeof n.text === "string" ? n.text : "" };
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(n)) if (!KNOWN_NOTE_KEYS.has(k)) extra[k] = v;
    if (Object.keys(extra).length) data.extra = extra;
    return {
      id: n.id,
      type: "note",
      position: { x: n.position?.x ?? 0, y: n.position?.y ?? 0 },
      data,
      ariaLabel: "Note",
    };
  });
}

export function notesToDocument(notes: NoteNode[]): DocNote[] {
  return notes.map((n) => ({
    ...(structuredClone(n.data.extra) ?? {}),
    id: n.id,
    text: n.data.text,
    position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
  }));
}

export function toFlow(
  document: WorkflowDocument,
  nodeTypes: NodeType[] | NodeTypeIndex,
): { nodes: BatonNode[]; edges: BatonEdge[]; notes: NoteNode[] } {
  const index = indexNodeTypes(nodeTypes);
  const nodes: BatonNode[] = document.nodes.map((n: DocNode) => {
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(n)) if (!KNOWN_NODE_KEYS.has(k)) extra[k] = v;
    const nodeType = index[n.type];
    const data: BatonNodeData = {
      typeKey: n.type,
      typeVersion: n.type_version,
      config: structuredClone(n.config ?? {}),
    };
    if (n.label !== undefined) data.label = n.label;
    const settings = compactSettings(n.settings);
    if (settings) data.settings = settings;
    if (nodeType) data.nodeType = nodeType;
    else {
      data.fallbackInputs = uniquePorts(
        document.edges.filter((e) => e.target === n.id).map((e) => e.target_port),
      );
      data.fallbackOutputs = uniquePorts(
        document.edges.filter((e) => e.source === n.id).map((e) => e.source_port),
      );
    }
    if (Object.keys(extra).length) data.extra = extra;
    return {
      id: n.id,
      type: "generic",
      position: { x: n.position?.x ?? 0, y: n.position?.y ?? 0 },
      data,
      ariaLabel: nodeAriaLabel(data, n.id),
    };
  });
  const edges: BatonEdge[] = document.edges.map((e: DocEdge) => ({
    id: e.id,
    source: e.source,
    sourceHandle: e.source_port,
    target: e.target,
    targetHandle: e.target_port,
  }));
  return { nodes, edges, notes: notesToFlow(document.notes) };
}

/** The saved document; `notes` is written only when there are notes. */
export function toDocument(nodes: BatonNode[], edges: BatonEdge[], notes: NoteNode[] = []): WorkflowDocument {
  const doc: WorkflowDocument = {
    schema_version: 1,
    nodes: nodes.map((n) => {
      const d = n.data;
      const out: DocNode = {
        ...(d.extra ?? {}),
        id: n.id,
        type: d.typeKey,
        type_version: d.typeVersion,
        config: structuredClone(d.config),
        position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
      };
      if (d.label !== undefined && d.label !== "") out.label = d.label;
      const settings = compactSettings(d.settings);
      if (settings) out.settings = settings;
      return out;
    }),
    edges: edges.map((e) => ({
      id: e.id,
      source: e.source,
      source_port: e.sourceHandle ?? "out",
      target: e.target,
      target_port: e.targetHandle ?? "in",
    })),
  };
  if (notes.length) doc.notes = notesToDocument(notes);
  return doc;
}

export function inputsOf(data: BatonNodeData): Port[] {
  return data.nodeType?.inputs ?? data.fallbackInputs ?? [];
}

export function outputsOf(data: BatonNodeData): Port[] {
  const ports = data.nodeType?.outputs ?? data.fallbackOutputs ?? [];
  if (data.settings?.on_error !== "error_port" || ports.some((p) => p.name === ERROR_PORT.name)) return ports;
  return [...ports, ERROR_PORT];
}
