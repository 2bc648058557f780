import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { diffWords, ExamplesButton, ExamplesDialog } from "./ExamplesDialog";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const example = {
  id: 7,
  approval_id: 3,
  run_id: 12,
  approval_node_id: "review",
  llm_node_id: "draft",
  draft: { reply: "Hello Carol, we will look into it.", subject: "Re: refund" },
  edited: { reply: "Hello Carol, we refunded the charge." },
  decision: "approved",
  comment: "Say what we did.",
  reviewer: "rey",
  decided_at: "2026-11-30T10:00:00Z",
};

describe("diffWords", () => {
  it("keeps common words and marks removed and added ones", () => {
    expect(diffWords("a b c", "a x c")).toEqual([
      { kind: "same", text: "a " },
      { kind: "removed", text: "b " },
      { kind: "added", text: "x " },
      { kind: "same", text: "c" },
    ]);
    expect(diffWords("same", "same")).toEqual([{ kind: "same", text: "same" }]);
    expect(diffWords("", "new text")).toEqual([{ kind: "added", text: "new text" }]);
    expect(diffWords("the end.", "the end.\n\nP.S. more")).toEqual([
      { kind: "same", text: "the end.\n\n" },
      { kind: "added", text: "P.S. more" },
    ]);
  });
});

describe("ExamplesDialog", () => {
  it("lists the node's examples with a diff of the edited fields", async () => {
    const fetchMock = vi.fn(async (url: string) => {
      if (url === "/api/workflows/5/nodes/draft/examples/?page=1")
        return new Response(JSON.stringify({ count: 1, next: null, previous: null, results: [example] }));
      return new Response("{}", { status: 404 });
    });
    vi.stubGlobal("fetch", fetchMock);
    render(<ExamplesDialog workflowId={5} nodeId="draft" onClose={() => {}} />);
    const item = await screen.findByTestId("example-7");
    expect(item.textContent).toContain("approved");
    expect(item.textContent).toContain("by rey");
    expect(item.textContent).toContain("Say what we did.");
    const diff = screen.getByTestId("example-diff");
    expect([...diff.querySelectorAll("del")].map((d) => d.textContent).join("|")).toBe("will look into it.");
    expect([...diff.querySelectorAll("ins")].map((d) => d.textContent).join("|")).toBe("refunded the charge.");
    expect(item.textContent).toContain("Re: refund"); // unedited field shown as is
  });

  it("shows an empty state", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(JSON.stringify({ count: 0, next: null, previous: null, results: [] }))),
    );
    render(<ExamplesDialog workflowId={5} nodeId="draft" onClose={() => {}} />);
    expect(await screen.findByText(/No reviewed drafts yet/)).toBeTruthy();
  });

  it("the editor button shows only for llm nodes of a saved workflow", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(JSON.stringify({ count: 1, next: null, previous: null, results: [example] }))),
    );
    render(
      <MemoryRouter initialEntries={["/workflows/5"]}>
        <Routes>
          <Route
            path="/workflows/:id"
            element={
              <>
                <ExamplesButton nodeId="send" typeKey="email.send" />
                <ExamplesButton nodeId="draft" typeKey="llm.prompt" />
              </>
            }
          />
        </Routes>
      </MemoryRouter>,
    );
    const buttons = screen.getAllByTestId("open-examples");
    expect(buttons).toHaveLength(1);
    fireEvent.click(buttons[0]);
    expect(await screen.findByTestId("example-7")).toBeTruthy();
  });
});
