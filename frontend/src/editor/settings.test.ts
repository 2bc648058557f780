import { describe, expect, it } from "vitest";
import { DOC, NODE_TYPES } from "../test/fixtures";
import { editorReducer, initialEditorState, documentOf } from "./store";
import { compactSettings, outputsOf, toDocument, toFlow } from "./serialize";

describe("node settings", () => {
  it("round-trip through the flow model", () => {
    const doc = structuredClone(DOC);
    doc.nodes[1].settings = { retry: { max_attempts: 3, retry_on: ["LLM_ERROR"] }, on_error: "continue" };
    const { nodes, edges } = toFlow(doc, NODE_TYPES);
    expect(nodes[1].data.settings).toEqual(doc.nodes[1].settings);
    expect(nodes[1].data.extra).toBeUndefined();
    expect(toDocument(nodes, edges)).toEqual(doc);
  });

  it("are omitted when empty", () => {
    const doc = structuredClone(DOC);
    doc.nodes[1].settings = { retry: {}, timeout_seconds: null };
    const { nodes, edges } = toFlow(doc, NODE_TYPES);
    expect(nodes[1].data.settings).toBeUndefined();
    expect("settings" in toDocument(nodes, edges).nodes[1]).toBe(false);
    expect(compactSettings({})).toBeUndefined();
    expect(compactSettings({ timeout_seconds: 5, retry: { jitter: false } })).toEqual({
      timeout_seconds: 5,
      retry: { jitter: false },
    });
  });

  it("on_error=error_port adds an `error` output", () => {
    const { nodes } = toFlow(DOC, NODE_TYPES);
    const before = outputsOf(nodes[1].data).map((p) => p.name);
    expect(before).not.toContain("error");
    const data = { ...nodes[1].data, settings: { on_error: "error_port" } };
    expect(outputsOf(data).map((p) => p.name)).toEqual([...before, "error"]);
  });

  it("updateSettings is an undoable document change", () => {
    let s = editorReducer(initialEditorState, { type: "load", document: DOC, nodeTypes: NODE_TYPES });
    const id = DOC.nodes[1].id;
    s = editorReducer(s, { type: "updateSettings", id, settings: { on_error: "error_port" } });
    expect(documentOf(s).nodes[1].settings).toEqual({ on_error: "error_port" });
    s = editorReducer(s, { type: "checkpoint" });
    s = editorReducer(s, { type: "updateSettings", id, settings: {} });
    expect("settings" in documentOf(s).nodes[1]).toBe(false);
    s = editorReducer(s, { type: "undo" });
    expect(documentOf(s).nodes[1].settings).toEqual({ on_error: "error_port" });
  });
});
