// The data the expression picker and preview use: the editor's own run when there is one, else the
// workflow's latest run (fetched once when the editor opens).
import { useEffect, useMemo, useState } from "react";
import { api } from "../api/client";
import type { Step } from "../api/types";
import type { BatonEdge, BatonNode, NodeTypeIndex } from "./serialize";
import { upstreamFields, type FieldOption, type RunData } from "./upstream";

export interface LastRun {
  runId: number;
  data: RunData;
}

/** Outputs of the steps that later nodes may use (succeeded, or failed into an error port). */
export function runDataOf(trigger: unknown, steps: Record<string, Partial<Step>>): RunData {
  const outputs: Record<string, unknown> = {};
  for (const [nodeId, st] of Object.entries(steps)) {
    if (st.output !== undefined && st.output !== null) outputs[nodeId] = st.output;
  }
  return { trigger, outputs };
}

/** The workflow's latest run with its step outputs, or null when it never ran (or on error). */
export function useLatestRun(workflowId: number): LastRun | null {
  const [last, setLast] = useState<LastRun | null>(null);
  useEffect(() => {
    let live = true;
    api
      .runs({ workflow: workflowId })
      .then((page) => (page.results[0] ? api.run(page.results[0].id) : null))
      .then(
        (run) => {
          if (!live || !run) return;
          const steps: Record<string, Step> = {};
          for (const st of run.steps) steps[st.node_id] = st;
          setLast({ runId: run.id, data: runDataOf(run.inputs, steps) });
        },
        () => {},
      );
    return () => {
      live = false;
    };
  }, [workflowId]);
  return last;
}

/** The picker's entries for `nodeId` (recomputed when the graph or the run changes). */
export function useUpstreamFields(
  nodeId: string | null,
  nodes: BatonNode[],
  edges: BatonEdge[],
  types: NodeTypeIndex,
  run: RunData | null,
): FieldOption[] {
  return useMemo(() => {
    if (!nodeId) return [];
    return upstreamFields({
      nodeId,
      nodes: nodes.map((n) => ({ id: n.id, type: n.data.typeKey, label: n.data.label, config: n.data.config ?? {} })),
      edges: edges.map((e) => ({ source: e.source, target: e.target })),
      types,
      run,
    });
  }, [nodeId, nodes, edges, types, run]);
}
