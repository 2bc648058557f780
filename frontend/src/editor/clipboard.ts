// Copy/paste of canvas selections as JSON in the document format, with a marker key.
import type { DocEdge, DocNode, DocNote } from "../api/types";

export interface ClipboardPayload {
  baton_clipboard: 1;
  schema_version: 1;
  nodes: DocNode[];
  edges: DocEdge[];
  notes?: DocNote[];
}

/** Used when the system clipboard is unavailable (no permission, insecure context, jsdom). */
let memory: string | null = null;

export function parseClipboard(text: string | null | undefined): ClipboardPayload | null {
  if (!text) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  if (o.baton_clipboard !== 1 || !Array.isArray(o.nodes) || !Array.isArray(o.edges)) return null;
  if (o.notes !== undefined && !Array.isArray(o.notes)) return null;
  return v as ClipboardPayload;
}

/** Writes to the copy event's clipboardData when given, else `navigator.clipboard`; always to memory too. */
export async function writeClipboard(text: string, data?: DataTransfer | null): Promise<void> {
  memory = text;
  if (data) {
    data.setData("text/plain", text);
    return;
  }
  try {
    await navigator.clipboard?.writeText(text);
  } catch {
    /* keep the in-memory copy */
  }
}

/** Reads a Baton payload from the paste event / system clipboard, falling back to memory. */
export async function readClipboard(data?: DataTransfer | null): Promise<ClipboardPayload | null> {
  let text: string | null = null;
  if (data) text = data.getData("text/plain");
  else {
    try {
      text = (await navigator.clipboard?.readText()) ?? null;
    } catch {
      text = null;
    }
  }
  return parseClipboard(text) ?? (text ? null : parseClipboard(memory));
}

export function resetMemoryClipboard(): void {
  memory = null;
}
