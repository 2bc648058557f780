import type { NodeType, WorkflowDocument } from "../api/types";

export const promptSchema = {
  title: "PromptConfig",
  type: "object",
  properties: {
    model: { title: "Model", type: "string", default: "demo", ui: { widget: "model-picker" } },
    prompt: { title: "Prompt", type: "string", minLength: 1, description: "What to ask", ui: { widget: "textarea" } },
    temperature: { anyOf: [{ type: "number" }, { type: "null" }], default: null, title: "Temperature" },
    json_output: { title: "Json output", type: "boolean", default: false },
    mode: { title: "Mode", enum: ["fast", "careful"], type: "string", default: "fast" },
    stop: { title: "Stop", type: "array", items: { type: "string" }, default: [], ui: { widget: "string-list" } },
  },
  required: ["prompt"],
};

export const triggerSchema = {
  $defs: {
    TriggerField: {
      title: "TriggerField",
      type: "object",
      properties: {
        name: { title: "Name", type: "string" },
        label: { title: "Label", type: "string", default: "" },
        type: { title: "Type", enum: ["string", "text", "number", "boolean"], type: "string", default: "string" },
        required: { title: "Required", type: "boolean", default: true },
      },
      required: ["name"],
    },
  },
  type: "object",
  properties: {
    fields: { title: "Fields", type: "array", items: { $ref: "#/$defs/TriggerField" }, default: [], ui: { widget: "fields" } },
  },
};

function nt(key: string, title: string, category: string, inputs: string[], outputs: string[], schema: object = {}): NodeType {
  return {
    key,
    version: 1,
    title,
    category,
    icon: "box",
    description: "",
    is_trigger: key.startsWith("trigger."),
    side_effect: false,
    inputs: inputs.map((name) => ({ name, label: name })),
    outputs: outputs.map((name) => ({ name, label: name })),
    config_schema: { type: "object", properties: {}, ...schema },
  };
}

export const NODE_TYPES: NodeType[] = [
  nt("trigger.manual", "Manual trigger", "Triggers", [], ["out"], triggerSchema),
  nt("llm.prompt", "LLM prompt", "AI", ["in"], ["out"], promptSchema),
  nt("logic.if", "If", "Logic", ["in"], ["true", "false"]),
  nt("email.send", "Send e-mail", "Actions", ["in"], ["out"]),
];

export const DOC: WorkflowDocument = {
  schema_version: 1,
  nodes: [
    { id: "trigger", type: "trigger.manual", type_version: 1, config: { fields: [{ name: "from", label: "From", type: "string", required: true }] }, position: { x: 0, y: 0 }, label: "Start" },
    { id: "draft", type: "llm.prompt", type_version: 1, config: { model: "demo", prompt: "Reply to {{from}}" }, position: { x: 260, y: 10 } },
    { id: "if_1", type: "logic.if", type_version: 1, config: {}, position: { x: 520, y: -40 }, label: "Needs review?" },
    { id: "send", type: "email.send", type_version: 2, config: { to: ["a@b.c"], headers: { "X-A": "1" } }, position: { x: 780, y: 0 } },
  ],
  edges: [
    { id: "e1", source: "trigger", source_port: "out", target: "draft", target_port: "in" },
    { id: "e2", source: "draft", source_port: "out", target: "if_1", target_port: "in" },
    { id: "e_if_1_true_send_in", source: "if_1", source_port: "true", target: "send", target_port: "in" },
  ],
};
