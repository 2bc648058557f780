import type { WorkflowDocument } from "../api/types";

/** Node ids in workflow order: topological (Kahn), ties kept in document order. */
export function workflowOrder(doc: WorkflowDocument): string[] {
  const ids = doc.nodes.map((n) => n.id);
  const indeg = new Map(ids.map((id) => [id, 0]));
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const e of doc.edges) {
    if (!indeg.has(e.source) || !indeg.has(e.target)) continue;
    indeg.set(e.target, (indeg.get(e.target) ?? 0) + 1);
    out.get(e.source)!.push(e.target);
  }
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < ids.length) {
    const next = ids.find((id) => !done.has(id) && indeg.get(id) === 0) ?? ids.find((id) => !done.has(id))!;
    done.add(next);
    order.push(next);
    for (const t of out.get(next) ?? []) indeg.set(t, (indeg.get(t) ?? 0) - 1);
  }
  return order;
}
