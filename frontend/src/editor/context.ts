import type { Step } from "../api/types";
import type { FieldOption } from "./upstream";
import { createContext } from "react";

/** Callbacks that node components (sticky notes) use to edit the document. */
export interface EditorActions {
  readOnly: boolean;
  updateNote: (id: string, text: string) => void;
  checkpoint: () => void;
}

export const EditorActionsContext = createContext<EditorActions>({
  readOnly: true,
  updateNote: () => {},
  checkpoint: () => {},
});

/** The last editor run's steps by node id (live patches merged with the final run detail). */
export const RunStepsContext = createContext<Record<string, Partial<Step>>>({});

/** What the expression / template fields of the selected node need (see config-form/ExpressionField). */
export interface ExpressionEnv {
  workflowId: number;
  nodeId: string;
  /** The picker's entries: trigger fields and upstream outputs. */
  fields: FieldOption[];
  /** The run the preview evaluates against (null: the workflow never ran). */
  runId: number | null;
}

/** Null outside the editor's node panel: fields then render without picker and preview. */
export const ExpressionEnvContext = createContext<ExpressionEnv | null>(null);
