import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RunDetail } from "../api/types";
import { ExpressionEnvContext } from "./context";
import { parseSample, sampleInputs, TestNodeButton, TestNodeDialog, upstreamIds } from "./TestNodeDialog";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const RUN = {
  id: 5,
  inputs: { from: "carol@example.com" },
  steps: [
    { node_id: "trigger", output: { from: "carol@example.com" } },
    { node_id: "classify", output: { label: "refund" } },
    { node_id: "draft", output: { text: "old" } },
    { node_id: "later", output: { x: 1 } },
  ],
} as unknown as RunDetail;

const OK = {
  status: "succeeded",
  output: { text: "Hello Carol" },
  ports: ["out"],
  inputs: { prompt: "Write to carol@example.com" },
  error: null,
  request: null,
  meta: { cost_usd: 0 },
  duration_ms: 12,
};

function fakeServer(answer: unknown = OK) {
  const posts: unknown[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      if (url === "/api/auth/csrf/") return new Response(JSON.stringify({ csrf_token: "t" }));
      if (url === "/api/runs/5/") return new Response(JSON.stringify(RUN));
      if (url === "/api/workflows/7/nodes/draft/test/" && init?.method === "POST") {
        posts.push(JSON.parse(String(init.body)));
        await gate;
        return new Response(JSON.stringify(answer));
      }
      return new Response("{}", { status: 404 });
    }),
  );
  return { posts, release };
}

describe("pure helpers", () => {
  it("finds upstream node ids in the picker's paths", () => {
    const fields = [
      { path: "trigger.from", source: "trigger field", origin: "doc" as const },
      { path: "steps.classify.label", source: "Classify", origin: "run" as const },
      { path: 'steps."my node".text', source: "x", origin: "doc" as const },
      { path: "steps.classify.text", source: "Classify", origin: "doc" as const },
    ];
    expect(upstreamIds(fields)).toEqual(["classify", "my node"]);
  });
  it("takes the run's trigger input and the upstream outputs only", () => {
    expect(sampleInputs(RUN, "draft", ["trigger", "classify"])).toEqual({
      trigger: { from: "carol@example.com" },
      steps: { trigger: { from: "carol@example.com" }, classify: { label: "refund" } },
    });
    expect(sampleInputs(null, "draft", [])).toEqual({ trigger: {}, steps: {} });
  });
  it("explains a bad sample", () => {
    expect(parseSample("{")).toMatch(/^Not valid JSON/);
    expect(parseSample("[1]")).toBe("The sample must be a JSON object.");
    expect(parseSample('{"inputs": {}}')).toMatch(/Unknown keys: inputs/);
    expect(parseSample('{"steps": 3}')).toMatch(/"steps" must map/);
    expect(parseSample("")).toEqual({});
  });
});

describe("TestNodeDialog", () => {
  it("pre-fills from the last run, sends the sample with the current config, shows the output", async () => {
    const server = fakeServer();
    render(
      <TestNodeDialog
        workflowId={7}
        nodeId="draft"
        nodeLabel="Draft"
        config={{ prompt: "Write to {{ trigger.from }}" }}
        runId={5}
        upstream={["classify"]}
        onClose={() => {}}
      />,
    );
    const box = (await screen.findByLabelText("Sample input (JSON)")) as HTMLTextAreaElement;
    expect(JSON.parse(box.value)).toEqual({ trigger: { from: "carol@example.com" }, steps: { classify: { label: "refund" } } });
    fireEvent.keyDown(box, { key: "Enter", ctrlKey: true });
    const button = await screen.findByRole("button", { name: "Testing…" });
    expect((button as HTMLButtonElement).disabled).toBe(true);
    server.release();
    expect((await screen.findByTestId("test-node-output")).textContent).toContain("Hello Carol");
    expect(server.posts).toEqual([
      {
        inputs: { trigger: { from: "carol@example.com" }, steps: { classify: { label: "refund" } } },
        config: { prompt: "Write to {{ trigger.from }}" },
      },
    ]);
    expect(screen.getByRole("button", { name: "Run test" })).toBeTruthy();
  });

  it("says that side effects are blocked", async () => {
    const server = fakeServer({
      ...OK,
      status: "failed",
      output: null,
      ports: [],
      error: { code: "SIDE_EFFECT_BLOCKED", message: "Sending e-mail is blocked in a test." },
    });
    server.release();
    render(<TestNodeDialog workflowId={7} nodeId="draft" nodeLabel="Send" runId={null} upstream={[]} onClose={() => {}} />);
    const box = (await screen.findByLabelText("Sample input (JSON)")) as HTMLTextAreaElement;
    expect(JSON.parse(box.value)).toEqual({ trigger: {}, steps: {} });
    fireEvent.click(screen.getByRole("button", { name: "Run test" }));
    expect((await screen.findByTestId("side-effect-blocked")).textContent).toMatch(/Side effects are blocked/);
    expect(screen.getByText("SIDE_EFFECT_BLOCKED")).toBeTruthy();
    expect(screen.queryByTestId("test-node-output")).toBeNull();
  });

  it("refuses bad JSON without calling the server", async () => {
    const server = fakeServer();
    render(<TestNodeDialog workflowId={7} nodeId="draft" nodeLabel="Draft" runId={null} upstream={[]} onClose={() => {}} />);
    const box = await screen.findByLabelText("Sample input (JSON)");
    fireEvent.change(box, { target: { value: "{oops" } });
    fireEvent.click(screen.getByRole("button", { name: "Run test" }));
    expect((await screen.findByTestId("test-node-problem")).textContent).toMatch(/Not valid JSON/);
    expect(box.getAttribute("aria-invalid")).toBe("true");
    await waitFor(() => expect(server.posts).toEqual([]));
  });
});

describe("TestNodeButton", () => {
  it("opens the dialog inside the editor, and is absent outside it or read-only", async () => {
    fakeServer();
    const env = { workflowId: 7, nodeId: "draft", fields: [], runId: null };
    const { rerender } = render(<TestNodeButton nodeId="draft" label="Draft" />);
    expect(screen.queryByTestId("open-node-test")).toBeNull();
    rerender(
      <ExpressionEnvContext.Provider value={env}>
        <TestNodeButton nodeId="draft" label="Draft" hidden />
      </ExpressionEnvContext.Provider>,
    );
    expect(screen.queryByTestId("open-node-test")).toBeNull();
    rerender(
      <ExpressionEnvContext.Provider value={env}>
        <TestNodeButton nodeId="draft" label="Draft" />
      </ExpressionEnvContext.Provider>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Test node…" }));
    expect(await screen.findByRole("dialog", { name: "Test node Draft" })).toBeTruthy();
  });
});
