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
