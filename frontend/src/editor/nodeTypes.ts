import type { NodeTypes } from "@xyflow/react";
import { GenericNode } from "./nodes/GenericNode";

// Static at module scope: xyflow re-mounts every node when this object changes.
export const nodeTypes: NodeTypes = { generic: GenericNode };
