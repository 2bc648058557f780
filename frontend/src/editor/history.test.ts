import { describe, expect, it } from "vitest";
import type { WorkflowDocument } from "../api/types";
import { DOC, NODE_TYPES } from "../test/fixtures";
import { parseClipboard, readClipboard, resetMemoryClipboard, writeClipboard } from "./clipboard";
import {
  canRedo,
  canUndo,
  connectionProblem,
  documentOf,
  editorReducer,
  initialEditorState,
  isDirty,
  remapPaste,
  selectionPayload,
  type EditorAction,
  type EditorState,
} from "./store";

const byKey = (k: string) => NODE_TYPES.find((t) => t.key === k)!;
const load = (document: WorkflowDocument = DOC): EditorState =>
  editorReducer(initialEditorState, { type: "load", document, nodeTypes: NODE_TYPES });
const run = (s: EditorState, actions: EditorAction[]) => actions.reduce(editorReducer, s);
const EMPTY: WorkflowDocument = { schema_version: 1, nodes: [], edges: [] };

describe("undo / redo", () => {
  it("undoing every edit restores the original document exactly, redo the final one", () => {
    const start = load();
    const original = documentOf(start);
    let s = start;
    const steps: EditorAction[][] = [
      [{ type: "addNode", nodeType: byKey("email.send") }],
      // A drag: many intermediate positions, one step.
      [
        { type: "nodesChange", changes: [{ type: "position", id: "draft", position: { x: 300, y: 50 }, dragging: true }] },
        { type: "nodesChange", changes: [{ type: "position", id: "draft", position: { x: 350, y: 90 }, dragging: true }] },
        { type: "nodesChange", changes: [{ type: "position", id: "draft", position: { x: 360, y: 95 }, dragging: false }] },
      ],
      [{ type: "connect", source: "if_1", sourceHandle: "false", target: "send_1", targetHandle: "in" }],
      [{ type: "deleteEdges", ids: ["e2"] }],
      // Typing into one field: one step.
      [
        { type: "updateConfig", id: "draft", config: { model: "demo", prompt: "H" }, at: 1000 },
        { type: "updateConfig", id: "draft", config: { model: "demo", prompt: "Hi" }, at: 1200 },
        { type: "updateConfig", id: "draft", config: { model: "demo", prompt: "Hi!" }, at: 1400 },
      ],
      [
        { type: "updateLabel", id: "send", label: "M", at: 1500 },
        { type: "updateLabel", id: "send", label: "Mail", at: 1600 },
      ],
      [{ type: "addNote", text: "todo" }],
      [{ type: "updateNote", id: "note_1", text: "todo: ask legal", at: 2000 }],
      [{ type: "select", id: "if_1" }, { type: "deleteSelection" }],
      [{ type: "autoLayout" }],
    ];
    const docs = [original];
    for (const group of steps) {
      s = run(s, group);
      docs.push(documentOf(s));
    }
    const final = documentOf(s);
    expect(final).not.toEqual(original);
    expect(final.notes).toEqual([expect.objectContaining({ id: "note_1", text: "todo: ask legal" })]);
    expect(s.past).toHaveLength(steps.length);

    for (let i = steps.length - 1; i >= 0; i--) {
      s = editorReducer(s, { type: "undo" });
      expect(documentOf(s)).toEqual(docs[i]);
    }
    expect(documentOf(s)).toEqual(original);
    expect(canUndo(s)).toBe(false);
    expect(isDirty(s)).toBe(false);
    expect(editorReducer(s, { type: "undo" })).toBe(s);

    for (let i = 1; i <= steps.length; i++) {
      s = editorReducer(s, { type: "redo" });
      expect(documentOf(s)).toEqual(docs[i]);
    }
    expect(documentOf(s)).toEqual(final);
    expect(canRedo(s)).toBe(false);
    expect(isDirty(s)).toBe(true);
  });

  it("a new edit clears the redo stack and dirtiness follows the saved version", () => {
    let s = load();
    s = editorReducer(s, { type: "updateLabel", id: "draft", label: "A" });
    s = editorReducer(s, { type: "markSaved", version: s.version });
    s = editorReducer(s, { type: "undo" });
    expect(isDirty(s)).toBe(true);
    s = editorReducer(s, { type: "redo" });
    expect(isDirty(s)).toBe(false);
    s = editorReducer(s, { type: "undo" });
    s = editorReducer(s, { type: "updateLabel", id: "if_1", label: "B" });
    expect(canRedo(s)).toBe(false);
    expect(isDirty(s)).toBe(true);
  });

  it("typing is split by a checkpoint (field blur), a pause, or another field", () => {
    let s = load();
    s = run(s, [
      { type: "updateLabel", id: "draft", label: "a", at: 0 },
      { type: "updateLabel", id: "draft", label: "ab", at: 100 },
      { type: "checkpoint" },
      { type: "updateLabel", id: "draft", label: "abc", at: 200 },
      { type: "updateLabel", id: "draft", label: "abcd", at: 5000 },
      { type: "updateLabel", id: "if_1", label: "x", at: 5100 },
    ]);
    expect(s.past).toHaveLength(4);
    s = editorReducer(s, { type: "undo" });
    expect(s.nodes.find((n) => n.id === "draft")?.data.label).toBe("abcd");
    s = run(s, [{ type: "undo" }, { type: "undo" }]);
    expect(s.nodes.find((n) => n.id === "draft")?.data.label).toBe("ab");
  });

  it("selection, statuses and issues are not undo steps and survive undo", () => {
    let s = load();
    s = editorReducer(s, { type: "updateLabel", id: "draft", label: "A" });
    s = run(s, [
      { type: "select", id: "send" },
      { type: "setStatuses", statuses: { draft: "running" } },
      { type: "setIssues", issues: [{ code: "X", message: "bad", node_id: "send" }] },
    ]);
    expect(s.past).toHaveLength(1);
    s = editorReducer(s, { type: "undo" });
    const send = s.nodes.find((n) => n.id === "send")!;
    expect(send.selected).toBe(true);
    expect(send.data.issueMessages).toEqual(["bad"]);
    expect(s.nodes.find((n) => n.id === "draft")?.data.status).toBe("running");
  });

  it("xyflow's node removal plus the follow-up edge removal is one step", () => {
    let s = load();
    s = editorReducer(s, { type: "nodesChange", changes: [{ type: "remove", id: "draft" }] });
    s = editorReducer(s, { type: "edgesChange", changes: [{ type: "remove", id: "e1" }, { type: "remove", id: "e2" }] });
    expect(s.past).toHaveLength(1);
    expect(documentOf(editorReducer(s, { type: "undo" }))).toEqual(DOC);
  });
});

describe("multi-select, copy and paste", () => {
  const selectIds = (s: EditorState, ids: string[]) =>
    editorReducer(s, {
      type: "nodesChange",
      changes: s.nodes.map((n) => ({ type: "select" as const, id: n.id, selected: ids.includes(n.id) })),
    });

  it("deletes the selection (nodes, their edges and selected edges) in one step", () => {
    let s = selectIds(load(), ["draft", "if_1"]);
    expect(s.past).toHaveLength(0);
    s = editorReducer(s, { type: "deleteSelection" });
    expect(s.nodes.map((n) => n.id)).toEqual(["trigger", "send"]);
    expect(s.edges).toEqual([]);
    expect(s.past).toHaveLength(1);
  });

  it("copies the selection with internal edges only, in document format with a marker", () => {
    const s = selectIds(load(), ["draft", "if_1"]);
    const p = selectionPayload(s)!;
    expect(p.baton_clipboard).toBe(1);
    expect(p.schema_version).toBe(1);
    expect(p.nodes.map((n) => n.id)).toEqual(["draft", "if_1"]);
    expect(p.edges.map((e) => e.id)).toEqual(["e2"]);
    expect(parseClipboard(JSON.stringify(p))).toEqual(p);
    expect(selectionPayload(load())).toBeNull();
  });

  it("remaps ids, rewires internal edges, drops dangling ones and offsets positions", () => {
    const payload = {
      baton_clipboard: 1 as const,
      schema_version: 1 as const,
      nodes: [DOC.nodes[1], DOC.nodes[2]],
      edges: DOC.edges, // e1 and e_if_1_true_send_in point outside the copied nodes
      notes: [{ id: "note_1", text: "hi", position: { x: 5, y: 5 } }],
    };
    const r = remapPaste(payload, ["draft", "if_1", "prompt_1", "note_1"]);
    expect(r.idMap).toEqual({ draft: "prompt_2", if_1: "if_2" });
    expect(r.nodes.map((n) => [n.id, n.position])).toEqual([
      ["prompt_2", { x: 300, y: 50 }],
      ["if_2", { x: 560, y: 0 }],
    ]);
    expect(r.nodes[0].config).toEqual(DOC.nodes[1].config);
    expect(r.nodes[0].config).not.toBe(DOC.nodes[1].config);
    expect(r.edges).toEqual([
      { id: "e_prompt_2_out_if_2_in", source: "prompt_2", source_port: "out", target: "if_2", target_port: "in" },
    ]);
    expect(r.notes).toEqual([{ id: "note_2", text: "hi", position: { x: 45, y: 45 } }]);
  });

  it("pastes into the same and into another workflow with fresh ids, selected, undoable", () => {
    const src = selectIds(load(), ["draft", "if_1"]);
    const payload = JSON.parse(JSON.stringify(selectionPayload(src)));
    let s = editorReducer(src, { type: "paste", payload });
    expect(s.nodes.map((n) => n.id)).toEqual(["trigger", "draft", "if_1", "send", "prompt_1", "if_2"]);
    expect(s.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(["prompt_1", "if_2"]);
    expect(s.edges.at(-1)).toMatchObject({ source: "prompt_1", target: "if_2" });
    expect(s.nodes[4].data.nodeType?.key).toBe("llm.prompt");
    const ids = [...s.nodes.map((n) => n.id)];
    expect(new Set(ids).size).toBe(ids.length);
    s = editorReducer(s, { type: "undo" });
    expect(documentOf(s)).toEqual(DOC);

    let other = load(EMPTY);
    other = editorReducer(other, { type: "paste", payload });
    const doc = documentOf(other);
    expect(doc.nodes.map((n) => [n.id, n.position])).toEqual([
      ["prompt_1", { x: 300, y: 50 }],
      ["if_1", { x: 560, y: 0 }],
    ]);
    expect(doc.edges).toEqual([
      { id: "e_prompt_1_out_if_1_in", source: "prompt_1", source_port: "out", target: "if_1", target_port: "in" },
    ]);
  });

  it("uses the system clipboard when there is one, else memory", async () => {
    resetMemoryClipboard();
    const payload = { baton_clipboard: 1, schema_version: 1, nodes: [], edges: [] };
    await writeClipboard(JSON.stringify(payload)); // jsdom: no navigator.clipboard
    expect(await readClipboard()).toEqual(payload);
    const dt = { data: "", setData(_t: string, v: string) { this.data = v; }, getData() { return this.data; } };
    await writeClipboard(JSON.stringify({ ...payload, nodes: [DOC.nodes[0]] }), dt as unknown as DataTransfer);
    expect((await readClipboard(dt as unknown as DataTransfer))?.nodes).toHaveLength(1);
    dt.data = "plain text";
    expect(await readClipboard(dt as unknown as DataTransfer)).toBeNull();
    expect(parseClipboard('{"schema_version":1,"nodes":[],"edges":[]}')).toBeNull();
  });
});

describe("palette add and connection rules", () => {
  it("adds a node right of the selected one and connects out → in", () => {
    let s = editorReducer(load(), { type: "select", id: "send" });
    s = editorReducer(s, { type: "addNode", nodeType: byKey("llm.prompt") });
    const added = s.nodes.at(-1)!;
    expect(added.position).toEqual({ x: 1040, y: 0 });
    expect(s.edges.at(-1)).toMatchObject({ source: "send", sourceHandle: "out", target: "prompt_1", targetHandle: "in" });
    expect(s.past).toHaveLength(1);
    // The selected node's spot is taken: the next one goes below, still connected.
    s = editorReducer(s, { type: "select", id: "send" });
    s = editorReducer(s, { type: "addNode", nodeType: byKey("email.send") });
    expect(s.nodes.at(-1)!.position).toEqual({ x: 1040, y: 100 });
    expect(s.edges.at(-1)).toMatchObject({ source: "send", target: "send_1" });
  });

  it("does not connect when the ports do not exist", () => {
    // If has outputs true/false (no "out"); a trigger has no input.
    let s = editorReducer(load(), { type: "select", id: "if_1" });
    s = editorReducer(s, { type: "addNode", nodeType: byKey("llm.prompt") });
    expect(s.edges).toHaveLength(DOC.edges.length);
    s = editorReducer(s, { type: "select", id: "draft" });
    s = editorReducer(s, { type: "addNode", nodeType: byKey("trigger.manual") });
    expect(s.edges).toHaveLength(DOC.edges.length);
    // Nothing selected: after the last node.
    s = editorReducer(load(), { type: "addNode", nodeType: byKey("email.send") });
    expect(s.nodes.at(-1)!.position).toEqual({ x: 1040, y: 0 });
  });

  it("explains refused connections", () => {
    const s = load();
    const c = (source: string, sourceHandle: string, target: string, targetHandle: string) =>
      connectionProblem(s, { source, sourceHandle, target, targetHandle });
    expect(c("draft", "out", "trigger", "in")).toBe("A trigger has no input");
    expect(c("draft", "out", "draft", "in")).toBe("A node cannot connect to itself");
    expect(c("trigger", "out", "draft", "in")).toBe("Already connected");
    expect(c("send", "out", "draft", "in")).toBe("This connection would create a loop");
    expect(c("draft", "nope", "send", "in")).toMatch(/has no output/);
    expect(c("if_1", "false", "send", "in")).toBeNull();
    expect(editorReducer(s, { type: "connect", source: "send", sourceHandle: "out", target: "draft", targetHandle: "in" })).toBe(s);
  });
});
