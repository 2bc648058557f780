import { describe, expect, it } from "vitest";
import { DOC, NODE_TYPES } from "../test/fixtures";
import { toDocument } from "./serialize";
import { editorReducer, initialEditorState, isDirty, newNodeId, type EditorState } from "./store";

const byKey = (k: string) => NODE_TYPES.find((t) => t.key === k)!;
const loaded = (): EditorState => editorReducer(initialEditorState, { type: "load", document: DOC, nodeTypes: NODE_TYPES });

describe("editor store", () => {
  it("loads clean", () => {
    const s = loaded();
    expect(s.nodes).toHaveLength(4);
    expect(isDirty(s)).toBe(false);
  });

  it("adds nodes with unique identifier ids and schema defaults", () => {
    let s = loaded();
    s = editorReducer(s, { type: "addNode", nodeType: byKey("llm.prompt") });
    s = editorReducer(s, { type: "addNode", nodeType: byKey("llm.prompt") });
    s = editorReducer(s, { type: "addNode", nodeType: byKey("logic.if") });
    const ids = s.nodes.map((n) => n.id);
    expect(ids.slice(4)).toEqual(["prompt_1", "prompt_2", "if_2"]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(s.nodes[4].data.config).toEqual({ model: "demo", temperature: null, json_output: false, mode: "fast", stop: [] });
    expect(s.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(["if_2"]);
    expect(isDirty(s)).toBe(true);
  });

  it("makes odd type keys into identifiers", () => {
    expect(newNodeId("http.request-v2", [])).toBe("request_v2_1");
    expect(newNodeId("x.3d", [])).toBe("n_3d_1");
  });

  it("connects with a predictable id and refuses duplicates and self-loops", () => {
    let s = loaded();
    s = editorReducer(s, { type: "connect", source: "if_1", sourceHandle: "false", target: "send", targetHandle: "in" });
    expect(s.edges.at(-1)).toMatchObject({ id: "e_if_1_false_send_in", sourceHandle: "false" });
    const count = s.edges.length;
    const again = editorReducer(s, { type: "connect", source: "if_1", sourceHandle: "false", target: "send", targetHandle: "in" });
    expect(again).toBe(s);
    const loop = editorReducer(s, { type: "connect", source: "send", sourceHandle: "out", target: "send", targetHandle: "in" });
    expect(loop.edges).toHaveLength(count);
  });

  it("deleting a node removes its edges", () => {
    let s = loaded();
    s = editorReducer(s, { type: "deleteNodes", ids: ["draft"] });
    expect(s.nodes.map((n) => n.id)).toEqual(["trigger", "if_1", "send"]);
    expect(s.edges.map((e) => e.id)).toEqual(["e_if_1_true_send_in"]);
    s = editorReducer(s, { type: "nodesChange", changes: [{ type: "remove", id: "send" }] });
    expect(s.edges).toEqual([]);
  });

  it("updates config and label, and marks saved", () => {
    let s = loaded();
    s = editorReducer(s, { type: "updateConfig", id: "draft", config: { model: "auto", prompt: "Hi" } });
    s = editorReducer(s, { type: "updateLabel", id: "draft", label: "Draft reply" });
    const doc = toDocument(s.nodes, s.edges);
    expect(doc.nodes[1]).toMatchObject({ config: { model: "auto", prompt: "Hi" }, label: "Draft reply" });
    expect(isDirty(s)).toBe(true);
    s = editorReducer(s, { type: "markSaved", version: s.version });
    expect(isDirty(s)).toBe(false);
  });

  it("selection, statuses and issues do not dirty the document", () => {
    let s = loaded();
    s = editorReducer(s, { type: "select", id: "draft" });
    s = editorReducer(s, { type: "setStatuses", statuses: { draft: "running" } });
    s = editorReducer(s, { type: "setIssues", issues: [{ code: "X", message: "bad", node_id: "send" }] });
    expect(isDirty(s)).toBe(false);
    expect(s.nodes.find((n) => n.id === "draft")?.data.status).toBe("running");
    expect(s.nodes.find((n) => n.id === "send")?.data.hasIssue).toBe(true);
    expect(toDocument(s.nodes, s.edges)).toEqual(DOC);
  });
});
