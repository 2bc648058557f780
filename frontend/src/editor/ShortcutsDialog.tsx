import { Dialog } from "../components/Dialog";

const isMac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
const MOD = isMac ? "⌘" : "Ctrl";

export const SHORTCUTS: { keys: string[]; what: string }[] = [
  { keys: [`${MOD}+S`], what: "Save" },
  { keys: [`${MOD}+Z`], what: "Undo" },
  { keys: [`${MOD}+Shift+Z`, `${MOD}+Y`], what: "Redo" },
  { keys: [`${MOD}+C`], what: "Copy the selection" },
  { keys: [`${MOD}+X`], what: "Cut the selection" },
  { keys: [`${MOD}+V`], what: "Paste (also into another workflow)" },
  { keys: [`${MOD}+A`], what: "Select everything" },
  { keys: ["Delete", "Backspace"], what: "Delete the selection" },
  { keys: ["Shift+drag"], what: "Select with a box" },
  { keys: [`${MOD}+click`], what: "Add to / remove from the selection" },
  { keys: ["Enter"], what: "On a palette item: add it after the selected node" },
  { keys: ["?"], what: "Show this help" },
  { keys: ["Esc"], what: "Close a dialog" },
];

/** A table of keyboard shortcuts: each row's keys (alternatives joined by "or") and what they do. */
export function ShortcutsTable({ shortcuts, label }: { shortcuts: { keys: string[]; what: string }[]; label: string }) {
  return (
    <table className="shortcuts" aria-label={label}>
      <tbody>
        {shortcuts.map((s) => (
          <tr key={s.what}>
            <td>
              {s.keys.map((k, i) => (
                <span key={k}>
                  {i > 0 && " or "}
                  <kbd>{k}</kbd>
                </span>
              ))}
            </td>
            <td>{s.what}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose}>
      <div className="dialog-form">
        <ShortcutsTable shortcuts={SHORTCUTS} label="Keyboard shortcuts list" />
      </div>
    </Dialog>
  );
}
