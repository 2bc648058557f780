import { Background, Controls, MiniMap, ReactFlow, ReactFlowProvider } from "@xyflow/react";
import { useMemo } from "react";
import type { NodeType, StepStatus, WorkflowDocument } from "../api/types";
import { nodeTypes } from "./nodeTypes";
import { toFlow } from "./serialize";

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
      nodes: flow.nodes.map((n) => ({ ...n, data: { ...n.data, status: statuses[n.id], readOnly: true } })),
      edges: flow.edges,
    };
  }, [document, types, statuses]);
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
        fitViewOptions={{ maxZoom: 1.2 }}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <MiniMap ariaLabel="Mini map" />
        <Controls showInteractive={false} />
      </ReactFlow>
    </ReactFlowProvider>
  );
}
