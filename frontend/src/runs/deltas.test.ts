import { describe, expect, it } from "vitest";
import { mergeDelta, type LiveTexts } from "./deltas";

const delta = (node: string, text: string) => ({ type: "step.delta", node_id: node, data: { text } });
const status = (node: string, s: string, output?: unknown) => ({
  type: "step.status",
  node_id: node,
  data: { status: s, output },
});

describe("mergeDelta", () => {
  it("appends deltas per node", () => {
    let t: LiveTexts = {};
    t = mergeDelta(t, delta("draft", "Hello"));
    t = mergeDelta(t, delta("other", "x"));
    t = mergeDelta(t, delta("draft", " Carol"));
    expect(t).toEqual({ draft: "Hello Carol", other: "x" });
  });

  it("resets a node when its step runs again", () => {
    let t: LiveTexts = { draft: "half an ans", other: "kept" };
    t = mergeDelta(t, status("draft", "running"));
    expect(t).toEqual({ other: "kept" });
    t = mergeDelta(t, delta("draft", "New"));
    expect(t.draft).toBe("New");
  });

  it("replaces the text with output.text when the step ends", () => {
    let t: LiveTexts = { draft: "Hel" };
    t = mergeDelta(t, status("draft", "succeeded", { text: "Hello Carol" }));
    expect(t.draft).toBe("Hello Carol");
  });

  it("returns the same object when nothing changes", () => {
    const t: LiveTexts = { draft: "a" };
    expect(mergeDelta(t, status("draft", "succeeded", { data: 1 }))).toBe(t);
    expect(mergeDelta(t, status("classify", "running"))).toBe(t);
    expect(mergeDelta(t, { type: "run.status", node_id: null, data: { status: "running" } })).toBe(t);
    expect(mergeDelta(t, delta("draft", ""))).toBe(t);
    // A step that never streamed here keeps no live text.
    expect(mergeDelta(t, status("classify", "succeeded", { text: "refund" }))).toBe(t);
  });
});
