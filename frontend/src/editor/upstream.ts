// What an expression in a node may refer to: the trigger's fields and the outputs of the nodes
// upstream of it (see docs/engine.md, "Expressions"). Pure functions, unit-tested.
import type { NodeType } from "../api/types";

export interface UpstreamNode {
  id: string;
  /** Node type key, e.g. `llm.prompt`. */
  type: string;
  label?: string;
  config: Record<string, unknown>;
}

export interface UpstreamEdge {
  source: string;
  target: string;
}

/** One entry of the picker: the JMESPath path and where it comes from. */
export interface FieldOption {
  path: string;
  /** Human text next to the path: the node's label, "trigger field", ... */
  source: string;
  /** "run": seen in the last run's data; "doc": from the configuration or the node type's docs. */
  origin: "run" | "doc";
  /** A short sample of the last run's value, when known. */
  sample?: string;
}

/** What the last run produced: its trigger input and each step's output by node id. */
export interface RunData {
  trigger?: unknown;
  outputs: Record<string, unknown>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A JMESPath identifier: bare when it can be, else a quoted identifier (`"my key"`). */
export function pathSegment(key: string): string {
  return IDENT.test(key) ? key : JSON.stringify(key);
}

/** Ids of every node with a path to `nodeId` (not `nodeId` itself), nearest first. */
export function ancestorsOf(nodeId: string, edges: UpstreamEdge[]): string[] {
  const incoming = new Map<string, string[]>();
  for (const e of edges) {
    const list = incoming.get(e.target) ?? [];
    list.push(e.source);
    incoming.set(e.target, list);
  }
  const seen = new Set<string>([nodeId]);
  const out: string[] = [];
  let frontier = [nodeId];
  while (frontier.length) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const src of [...(incoming.get(id) ?? [])].sort()) {
        if (seen.has(src)) continue;
        seen.add(src);
        out.push(src);
        next.push(src);
      }
    }
    frontier = next;
  }
  return out;
}

/** Keys named in a node type's description: "…; outputs {text, model} (and …)" → [text, model]. */
export function documentedOutputs(t: Pick<NodeType, "description"> | undefined): string[] {
  const m = /outputs\s*\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}/i.exec(t?.description ?? "");
  if (!m) return [];
  const keys: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of m[1]) {
    if (ch === "{") depth += 1;
    else if (ch === "}") depth -= 1;
    else if (ch === "," && depth === 0) {
      keys.push(current);
      current = "";
      continue;
    }
    if (depth === 0 && ch !== "}") current += ch;
  }
  keys.push(current);
  return keys
    .map((k) => k.split(":")[0].trim())
    .filter((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
}

/** The trigger's documented fields: `fields[].name` (manual, webhook) or `inputs` keys (schedule). */
export function triggerFieldNames(trigger: UpstreamNode | undefined): string[] {
  if (!trigger) return [];
  const names: string[] = [];
  const fields = trigger.config.fields;
  if (Array.isArray(fields)) {
    for (const f of fields) {
      const name = f && typeof f === "object" ? (f as { name?: unknown }).name : undefined;
      if (typeof name === "string" && name) names.push(name);
    }
  }
  const inputs = trigger.config.inputs;
  if (inputs && typeof inputs === "object" && !Array.isArray(inputs)) names.push(...Object.keys(inputs));
  return names;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/** A one-line sample of a value (strings quoted, long ones cut). */
export function sampleOf(v: unknown, max = 40): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? "null";
  } catch {
    s = String(v);
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** `prefix.key` for every key of an object, one more level for nested objects. */
function pathsOf(prefix: string, value: unknown, depth: number, out: [string, unknown][]): void {
  if (!isObject(value)) return;
  for (const key of Object.keys(value)) {
    const path = `${prefix}.${pathSegment(key)}`;
    out.push([path, value[key]]);
    if (depth > 1 && isObject(value[key])) pathsOf(path, value[key], depth - 1, out);
  }
}

export const MAX_OPTIONS = 200;

/**
 * Every path a node's expression may use, for the picker: `trigger.<field>` first, then
 * `steps.<ancestor>.<key>` per upstream node (nearest first). Keys come from the last run's data
 * when it has some for that node, else from the configuration / the node type's documentation.
 */
export function upstreamFields({
  nodeId,
  nodes,
  edges,
  types,
  run,
}: {
  nodeId: string;
  nodes: UpstreamNode[];
  edges: UpstreamEdge[];
  types: Record<string, Pick<NodeType, "description" | "is_trigger"> | undefined>;
  run?: RunData | null;
}): FieldOption[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const out: FieldOption[] = [];
  const seen = new Set<string>();
  const add = (o: FieldOption) => {
    if (seen.has(o.path) || out.length >= MAX_OPTIONS) return;
    seen.add(o.path);
    out.push(o);
  };

  const trigger = nodes.find((n) => types[n.type]?.is_trigger || n.type.startsWith("trigger."));
  if (isObject(run?.trigger)) {
    const found: [string, unknown][] = [];
    pathsOf("trigger", run!.trigger, 1, found);
    for (const [path, v] of found) add({ path, source: "trigger field", origin: "run", sample: sampleOf(v) });
  }
  for (const name of triggerFieldNames(trigger)) {
    add({ path: `trigger.${pathSegment(name)}`, source: "trigger field", origin: "doc" });
  }

  for (const id of ancestorsOf(nodeId, edges)) {
    const node = byId.get(id);
    if (!node || node.type.startsWith("trigger.")) continue;
    const source = node.label || id;
    const base = `steps.${pathSegment(id)}`;
    const output = run?.outputs[id];
    if (isObject(output)) {
      const found: [string, unknown][] = [];
      pathsOf(base, output, 2, found);
      for (const [path, v] of found) add({ path, source, origin: "run", sample: sampleOf(v) });
    } else {
      const keys = documentedOutputs(types[node.type]);
      if (keys.length === 0) add({ path: base, source, origin: "doc" });
      for (const key of keys) add({ path: `${base}.${pathSegment(key)}`, source, origin: "doc" });
    }
  }
  return out;
}

/** Only the options whose path or source contains every word of `query` (case-insensitive). */
export function filterFields(options: FieldOption[], query: string): FieldOption[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return options;
  return options.filter((o) => {
    const hay = `${o.path} ${o.source}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** The text with `insert` put in place of [start, end), and the caret position after it. */
export function insertAt(text: string, insert: string, start: number, end = start): { text: string; caret: number } {
  const a = Math.max(0, Math.min(start, text.length));
  const b = Math.max(a, Math.min(end, text.length));
  return { text: text.slice(0, a) + insert + text.slice(b), caret: a + insert.length };
}

/** True when `caret` sits inside an unclosed `{{ … ` placeholder of a template. */
export function insidePlaceholder(text: string, caret: number): boolean {
  const before = text.slice(0, caret);
  const open = before.lastIndexOf("{{");
  return open >= 0 && before.indexOf("}}", open) < 0;
}

/** What to insert for `path`: the bare path in expressions and inside `{{ }}`, else `{{ path }}`. */
export function insertionFor(kind: "expression" | "template", text: string, caret: number, path: string): string {
  if (kind === "expression" || insidePlaceholder(text, caret)) return path;
  return `{{ ${path} }}`;
}
