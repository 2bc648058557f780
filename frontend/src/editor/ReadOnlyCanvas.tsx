import {
  Background,
  Controls,
  ReactFlow,
  ReactFlowProvider,
  useNodesInitialized,
  useReactFlow,
  type Edge,
  type FitViewOptions,
  type Node,
} from "@xyflow/react";
import { useEffect, useMemo } from "react";
import type { NodeType, StepStatus, WorkflowDocument } from "../api/types";
import { nodeTypes } from "./nodeTypes";
import { toFlow } from "./serialize";

const FIT_VIEW = { padding: 0.2, maxZoom: 1 };

/**
 * fitView runs once, when the nodes are first measured; node types arriving later (ports)
 * and the first status badges change node sizes, so fit again when those change.
 */
function RefitOnResize({ signature }: { signature: string }) {
  const { fitView } = useReactFlow();
  const ready = useNodesInitialized();
  useEffect(() => {
    if (!ready) return;
    // After the ResizeObserver has measured the new sizes.
    const t = window.setTimeout(() => void fitView(FIT_VIEW), 80);
    return () => window.clearTimeout(t);
  }, [ready, signature, fitView]);
  return null;
}

/** The run page's view of a document: same GenericNode, statuses on, nothing editable. */
export function ReadOnlyCanvas({
  document,
  types,
  statuses,
}: {
  document: WorkflowDocument;
  types: NodeType[];
  statuses: Record<string, StepStatus | undefined>;
}) {
  const { nodes, edges } = useMemo(() => {
    const flow = toFlow(document, types);
    return {
      nodes: [
        ...flow.notes,
        ...flow.nodes.map((n) => ({ ...n, data: { ...n.data, status: statuses[n.id], readOnly: true } })),
      ],
      edges: flow.edges,
    };
  }, [document, types, statuses]);
  const signature = `${nodes.length}:${types.length}:${Object.values(statuses).some(Boolean)}`;
  return <StaticFlow nodes={nodes} edges={edges} signature={signature} />;
}

/** A view-only canvas: no dragging, connecting, selecting or deleting. */
export function StaticFlow({
  nodes,
  edges,
  signature,
  fitViewOptions = FIT_VIEW,
}: {
  nodes: Node[];
  edges: Edge[];
  /** When given, the view refits whenever it changes (nodes measured, statuses appear). */
  signature?: string;
  fitViewOptions?: FitViewOptions;
}) {
  return (
    <ReactFlowProvider>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        deleteKeyCode={null}
        fitView
        fitViewOptions={fitViewOptions}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} fitViewOptions={fitViewOptions} />
        {signature !== undefined && <RefitOnResize signature={signature} />}
      </ReactFlow>
    </ReactFlowProvider>
  );
}
