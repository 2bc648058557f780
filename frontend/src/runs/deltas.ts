// Live text of streaming LLM steps, merged from `step.delta` and `step.status` run events.

/** Live text per node id. */
export type LiveTexts = Record<string, string>;

export interface DeltaEventLike {
  type: string;
  node_id: string | null;
  data?: unknown;
}

function outputText(data: unknown): string | undefined {
  if (!data || typeof data !== "object") return undefined;
  const output = (data as { output?: unknown }).output;
  if (!output || typeof output !== "object") return undefined;
  const text = (output as { text?: unknown }).text;
  return typeof text === "string" ? text : undefined;
}

const ENDED = new Set(["succeeded", "failed", "skipped", "outcome_unknown", "waiting"]);

/**
 * Applies one run event to the live texts (pure; returns the same object when nothing changes):
 * - `step.delta` appends `data.text` to its node's text;
 * - `step.status` `running` (a new attempt) resets it;
 * - `step.status` that ends a streamed step replaces its text with `output.text` when there is one.
 */
export function mergeDelta(texts: LiveTexts, ev: DeltaEventLike): LiveTexts {
  const nodeId = ev.node_id;
  if (!nodeId) return texts;
  if (ev.type === "step.delta") {
    const chunk = (ev.data as { text?: unknown } | undefined)?.text;
    if (typeof chunk !== "string" || chunk === "") return texts;
    return { ...texts, [nodeId]: (texts[nodeId] ?? "") + chunk };
  }
  if (ev.type === "step.status") {
    const status = (ev.data as { status?: unknown } | undefined)?.status;
    if (status === "running" || status === "retrying") {
      if (!(nodeId in texts)) return texts;
      const { [nodeId]: _dropped, ...rest } = texts;
      return rest;
    }
    if (typeof status === "string" && ENDED.has(status)) {
      // Only a step that streamed here gets its final text (not every step with an output.text).
      const final = outputText(ev.data);
      if (!(nodeId in texts) || final === undefined || texts[nodeId] === final) return texts;
      return { ...texts, [nodeId]: final };
    }
  }
  return texts;
}
