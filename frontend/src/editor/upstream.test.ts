import { describe, expect, it } from "vitest";
import {
  ancestorsOf,
  documentedOutputs,
  filterFields,
  insertAt,
  insertionFor,
  pathSegment,
  upstreamFields,
  type UpstreamNode,
} from "./upstream";

const nodes: UpstreamNode[] = [
  {
    id: "trigger",
    type: "trigger.manual",
    config: { fields: [{ name: "subject" }, { name: "body" }, { name: "e-mail" }] },
  },
  { id: "classify", type: "llm.classify", label: "Classify", config: {} },
  { id: "draft", type: "llm.prompt", config: {} },
  { id: "side", type: "data.template", config: {} },
  { id: "send", type: "email.send", config: {} },
];
const edges = [
  { source: "trigger", target: "classify" },
  { source: "classify", target: "draft" },
  { source: "draft", target: "send" },
  { source: "trigger", target: "side" },
];
const types = {
  "trigger.manual": { description: "Start by hand.", is_trigger: true },
  "llm.classify": { description: "Let a model pick one category; outputs {label, text}.", is_trigger: false },
  "llm.prompt": { description: "Ask a language model; outputs {text, model} (and data with an output schema).", is_trigger: false },
  "data.template": { description: "Render a template; outputs {text}.", is_trigger: false },
  "email.send": { description: "Send an e-mail.", is_trigger: false },
};

describe("ancestorsOf", () => {
  it("walks the incoming edges, nearest first, without the node itself or unrelated branches", () => {
    expect(ancestorsOf("send", edges)).toEqual(["draft", "classify", "trigger"]);
    expect(ancestorsOf("trigger", edges)).toEqual([]);
  });

  it("terminates on cycles", () => {
    expect(ancestorsOf("a", [{ source: "b", target: "a" }, { source: "a", target: "b" }])).toEqual(["b"]);
  });
});

describe("documentedOutputs", () => {
  it("reads the keys from the node type's description", () => {
    expect(documentedOutputs(types["llm.prompt"])).toEqual(["text", "model"]);
    expect(documentedOutputs({ description: "Join; outputs {inputs: {node_id: output}} of the branches" })).toEqual(["inputs"]);
    expect(documentedOutputs(types["email.send"])).toEqual([]);
    expect(documentedOutputs(undefined)).toEqual([]);
  });
});

describe("upstreamFields", () => {
  it("lists trigger fields and the documented outputs of every ancestor when there is no run", () => {
    const paths = upstreamFields({ nodeId: "send", nodes, edges, types }).map((o) => o.path);
    expect(paths).toEqual([
      "trigger.subject",
      "trigger.body",
      'trigger."e-mail"',
      "steps.draft.text",
      "steps.draft.model",
      "steps.classify.label",
      "steps.classify.text",
    ]);
  });

  it("prefers the last run's actual output keys, with samples, one level deep", () => {
    const options = upstreamFields({
      nodeId: "send",
      nodes,
      edges,
      types,
      run: {
        trigger: { subject: "Refund", body: "Hi" },
        outputs: { draft: { text: "Dear customer", usage: { tokens: 12 } } },
      },
    });
    const byPath = Object.fromEntries(options.map((o) => [o.path, o]));
    expect(byPath["trigger.subject"]).toMatchObject({ origin: "run", sample: '"Refund"' });
    expect(byPath["steps.draft.text"]).toMatchObject({ origin: "run", source: "draft", sample: '"Dear customer"' });
    expect(byPath["steps.draft.usage.tokens"]).toMatchObject({ origin: "run", sample: "12" });
    expect(byPath["steps.draft.model"]).toBeUndefined();
    // No run data for classify: its documented shape, labelled with the node's label.
    expect(byPath["steps.classify.label"]).toMatchObject({ origin: "doc", source: "Classify" });
    // The trigger's configured field that the run did not carry is still offered.
    expect(byPath['trigger."e-mail"']).toMatchObject({ origin: "doc" });
  });

  it("offers nothing from a branch that does not lead to the node", () => {
    const paths = upstreamFields({ nodeId: "draft", nodes, edges, types }).map((o) => o.path);
    expect(paths.some((p) => p.startsWith("steps.side"))).toBe(false);
    expect(paths.some((p) => p.startsWith("steps.draft"))).toBe(false);
  });
});

describe("picker helpers", () => {
  it("quotes keys that are not bare JMESPath identifiers", () => {
    expect(pathSegment("text")).toBe("text");
    expect(pathSegment("my key")).toBe('"my key"');
    expect(pathSegment('a"b')).toBe('"a\\"b"');
  });

  it("filters by every word", () => {
    const options = upstreamFields({ nodeId: "send", nodes, edges, types });
    expect(filterFields(options, "classify lab").map((o) => o.path)).toEqual(["steps.classify.label"]);
    expect(filterFields(options, "")).toHaveLength(options.length);
  });

  it("inserts at the caret, wrapping in {{ }} only outside a placeholder", () => {
    expect(insertionFor("template", "Hi ", 3, "trigger.name")).toBe("{{ trigger.name }}");
    expect(insertionFor("template", "Hi {{ ", 6, "trigger.name")).toBe("trigger.name");
    expect(insertionFor("template", "{{ a }} x", 9, "b")).toBe("{{ b }}");
    expect(insertionFor("expression", "", 0, "steps.a.b")).toBe("steps.a.b");
    expect(insertAt("Hello world", "big ", 6)).toEqual({ text: "Hello big world", caret: 10 });
    expect(insertAt("abc", "X", 1, 2)).toEqual({ text: "aXc", caret: 2 });
  });
});
