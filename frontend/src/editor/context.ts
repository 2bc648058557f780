import type { Step } from "../api/types";
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
