import { useMemo, useState } from "react";
import type { NodeType } from "../api/types";
import { categoryColor } from "./nodes/GenericNode";

export const DRAG_MIME = "application/baton-node-type";
/** Drag payload of the "Note" entry (a sticky note, not a node type). */
export const NOTE_MIME = "application/baton-note";

interface PaletteProps {
  types: NodeType[];
  /** Click / Enter: add after the selected node (and connect it). */
  onAdd: (t: NodeType) => void;
  onAddNote?: () => void;
  disabled?: boolean;
}

export function Palette({ types, onAdd, onAddNote, disabled }: PaletteProps) {
  const [q, setQ] = useState("");
  const groups = useMemo(() => {
    const needle = q.trim().toLowerCase();
    const hits = types.filter(
      (t) =>
        !needle ||
        t.title.toLowerCase().includes(needle) ||
        t.key.toLowerCase().includes(needle) ||
        t.category.toLowerCase().includes(needle) ||
        (t.description ?? "").toLowerCase().includes(needle),
    );
    const by = new Map<string, NodeType[]>();
    for (const t of hits) by.set(t.category || "Other", [...(by.get(t.category || "Other") ?? []), t]);
    return [...by.entries()];
  }, [types, q]);

  return (
    <aside className="palette" aria-label="Node palette">
      <input
        type="search"
        className="palette-search"
        aria-label="Search node types"
        placeholder="Search nodes…"
        value={q}
        onChange={(e) => setQ(e.target.value)}
      />
      {groups.length === 0 && <p className="muted small-pad">No node types match.</p>}
      {groups.map(([category, items]) => (
        <section key={category} className="palette-group">
          <h3 style={{ color: categoryColor(category) }}>{category}</h3>
          {items.map((t) => (
            <button
              key={t.key}
              type="button"
              className="palette-item"
              data-testid={`palette-item-${t.key}`}
              draggable={!disabled}
              disabled={disabled}
              title={t.description || t.title}
              aria-label={`Add ${t.title}`}
              style={{ borderLeftColor: categoryColor(t.category) }}
              onDragStart={(e) => {
                e.dataTransfer.setData(DRAG_MIME, t.key);
                e.dataTransfer.effectAllowed = "move";
              }}
              onClick={() => onAdd(t)}
            >
              <span className="palette-title">{t.title}</span>
              <span className="palette-key">{t.key}</span>
            </button>
          ))}
        </section>
      ))}
      {onAddNote && (
        <section className="palette-group">
          <h3>Canvas</h3>
          <button
            type="button"
            className="palette-item palette-note"
            data-testid="palette-note"
            draggable={!disabled}
            disabled={disabled}
            title="A sticky note for comments; it does not run."
            aria-label="Add sticky note"
            onDragStart={(e) => {
              e.dataTransfer.setData(NOTE_MIME, "note");
              e.dataTransfer.effectAllowed = "move";
            }}
            onClick={onAddNote}
          >
            <span className="palette-title">Note</span>
            <span className="palette-key">sticky note</span>
          </button>
        </section>
      )}
    </aside>
  );
}
