import type { NodeTypes } from "@xyflow/react";
import { GenericNode } from "./nodes/GenericNode";
import { NoteNode } from "./nodes/NoteNode";

// Static at module scope: xyflow re-mounts every node when this object changes.
export const nodeTypes: NodeTypes = { generic: GenericNode, note: NoteNode };
