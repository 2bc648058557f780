// A sticky note: free text on the canvas, stored under the document's `notes`.
import type { NodeProps } from "@xyflow/react";
import { memo, useContext } from "react";
import { EditorActionsContext } from "../context";
import type { NoteNode as NoteNodeType } from "../serialize";

function NoteNodeImpl({ id, data, selected }: NodeProps<NoteNodeType>) {
  const { readOnly, updateNote, checkpoint } = useContext(EditorActionsContext);
  return (
    <div className={`note-node${selected ? " selected" : ""}`} data-testid={`note-${id}`}>
      <div className="note-grip" aria-hidden="true">
        Note
      </div>
      <textarea
        className="nodrag nowheel note-text"
        aria-label="Note text"
        placeholder="Write a note…"
        value={data.text}
        readOnly={readOnly}
        rows={4}
        onChange={(e) => updateNote(id, e.target.value)}
        onBlur={checkpoint}
      />
    </div>
  );
}

export const NoteNode = memo(NoteNodeImpl);
