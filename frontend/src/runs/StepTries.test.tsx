import { cleanup, render, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { LlmAttempt } from "../api/types";
import { StepTries, stepTries, triesSummary } from "./StepTries";

afterEach(cleanup);

const FALLBACK: LlmAttempt[] = [
  { model: "broken", outcome: "error", error_code: "LLM_ERROR", http_status: 500, duration_ms: 42 },
  { model: "working", outcome: "ok", http_status: 200, duration_ms: 1250 },
];

describe("StepTries (run page step detail)", () => {
  it("shows one row per try: model, outcome, HTTP status, duration, and the routing reason", () => {
    const { getByTestId } = render(<StepTries nodeId="draft" tries={FALLBACK} reason="fallback after broken failed" />);
    const table = getByTestId("step-attempts-draft");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent))).toEqual([
      ["1", "broken", "failed (LLM_ERROR)", "500", "42 ms"],
      ["2", "working", "answered", "200", "1.3 s"],
    ]);
    expect(rows[0].querySelector("td.error-inline")).not.toBeNull();
    expect(rows[1].className).toBe("try-answered");
    expect(getByTestId("step-routing-draft").textContent).toBe("Routing: fallback after broken failed");
  });

  it("renders nothing for a step that called no model", () => {
    const { container } = render(<StepTries nodeId="t" tries={[]} reason="x" />);
    expect(container.innerHTML).toBe("");
  });

  it("reads tries from the API, older meta.attempts, and summarises a fallback", () => {
    expect(stepTries({ tries: FALLBACK })).toBe(FALLBACK);
    expect(stepTries({ meta: { attempts: FALLBACK } })).toBe(FALLBACK);
    expect(stepTries({ attempts: 2 })).toEqual([]);
    expect(stepTries(undefined)).toEqual([]);
    expect(triesSummary(FALLBACK)).toBe("broken ✗ → working ✓");
    expect(triesSummary(FALLBACK.slice(1))).toBeNull();
  });
});
