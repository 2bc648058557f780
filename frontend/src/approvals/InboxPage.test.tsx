import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useParams } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { InboxPage } from "./InboxPage";
import { inboxKeyAction, isTypingTarget, moveSelection } from "./inboxKeys";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const summary = (id: number, title: string) => ({
  id,
  run_id: 10 + id,
  workflow: { id: 1, name: "Support" },
  node_id: "review",
  queue: "Support",
  title,
  status: "pending",
  claimed_by: null,
  created_at: "2026-11-30T10:00:00Z",
  decided_at: null,
  decided_by: null,
  approvals_required: 1,
  due_at: null,
});

const detail = (id: number, title: string) => ({
  ...summary(id, title),
  instructions: "",
  context: {},
  fields: { reply: `Draft ${id}` },
  payload_hash: `hash-${id}`,
  decision: null,
  comment: "",
  edited: null,
  approvals_count: 0,
  allow_starter: true,
  votes: [],
});

function ReviewStub() {
  const { id } = useParams();
  return <p>Review page {id}</p>;
}

function setup() {
  const posted: { url: string; body: unknown }[] = [];
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    if (url === "/api/auth/csrf/") return new Response(JSON.stringify({ csrf_token: "t" }));
    if (url.startsWith("/api/approvals/?"))
      return new Response(
        JSON.stringify({ count: 3, next: null, previous: null, results: [summary(1, "First"), summary(2, "Second"), summary(3, "Third")] }),
      );
    const m = /^\/api\/approvals\/(\d+)\/(decision\/)?$/.exec(url);
    if (m && init?.method === "POST") {
      posted.push({ url, body: JSON.parse(String(init.body)) });
      return new Response(JSON.stringify({ ...detail(Number(m[1]), "x"), status: "approved" }));
    }
    if (m) return new Response(JSON.stringify(detail(Number(m[1]), ["", "First", "Second", "Third"][Number(m[1])])));
    return new Response("{}", { status: 404 });
  });
  vi.stubGlobal("fetch", fetchMock);
  render(
    <MemoryRouter initialEntries={["/inbox"]}>
      <Routes>
        <Route path="/inbox" element={<InboxPage />} />
        <Route path="/inbox/:id" element={<ReviewStub />} />
      </Routes>
    </MemoryRouter>,
  );
  return { posted };
}

const selectedRow = () => document.querySelector("tr[aria-selected='true']")?.getAttribute("data-testid");
const press = (key: string, target: EventTarget = document.body) =>
  act(() => {
    target.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));
  });

describe("inbox keys", () => {
  it("maps keys to actions, but not while typing or with modifiers", () => {
    expect(inboxKeyAction({ key: "j", target: document.body })).toBe("next");
    expect(inboxKeyAction({ key: "ArrowUp", target: document.body })).toBe("prev");
    expect(inboxKeyAction({ key: "?", target: document.body })).toBe("help");
    expect(inboxKeyAction({ key: "a", ctrlKey: true, target: document.body })).toBeNull();
    const input = document.createElement("input");
    const area = document.createElement("textarea");
    expect(isTypingTarget(input)).toBe(true);
    expect(inboxKeyAction({ key: "j", target: area })).toBeNull();
    expect(moveSelection(0, "prev", 3)).toBe(0);
    expect(moveSelection(2, "next", 3)).toBe(2);
    expect(moveSelection(1, "next", 3)).toBe(2);
  });
});

describe("InboxPage keyboard", () => {
  it("moves with j/k and arrows, opens with Enter", async () => {
    setup();
    await screen.findByText("Third");
    expect(selectedRow()).toBe("approval-row-1");
    press("j");
    expect(selectedRow()).toBe("approval-row-2");
    press("ArrowDown");
    press("ArrowDown");
    expect(selectedRow()).toBe("approval-row-3");
    press("k");
    expect(selectedRow()).toBe("approval-row-2");
    press("ArrowUp");
    expect(selectedRow()).toBe("approval-row-1");
    press("j");
    press("Enter");
    expect(await screen.findByText("Review page 2")).toBeTruthy();
  });

  it("ignores keys typed in a field", async () => {
    setup();
    await screen.findByText("Third");
    const field = document.createElement("input");
    document.body.appendChild(field);
    press("j", field);
    press("a", field);
    expect(selectedRow()).toBe("approval-row-1");
    expect(screen.queryByRole("dialog")).toBeNull();
    field.remove();
  });

  it("? shows the shortcuts", async () => {
    setup();
    await screen.findByText("Third");
    press("?");
    const list = await screen.findByLabelText("Inbox shortcuts list");
    expect(list.textContent).toContain("Next item");
    expect(list.textContent).toContain("Reject the item");
  });

  it("a approves the selected item after showing its fields, with the payload hash seen", async () => {
    const { posted } = setup();
    await screen.findByText("Third");
    press("j");
    press("a");
    expect(await screen.findByText("Draft 2")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    await waitFor(() => expect(posted).toHaveLength(1));
    expect(posted[0].url).toBe("/api/approvals/2/decision/");
    expect(posted[0].body).toEqual({ decision: "approve", edited: {}, comment: "", payload_hash: "hash-2" });
  });

  it("r opens the reject dialog with a reason", async () => {
    const { posted } = setup();
    await screen.findByText("Third");
    press("r");
    const reason = (await screen.findByLabelText("Reason")) as HTMLTextAreaElement;
    // Typing "j" in the reason neither moves the selection nor closes anything.
    press("j", reason);
    expect(selectedRow()).toBe("approval-row-1");
    fireEvent.change(reason, { target: { value: "Wrong customer" } });
    fireEvent.click(screen.getByRole("button", { name: "Reject" }));
    await waitFor(() => expect(posted).toHaveLength(1));
    expect(posted[0].body).toMatchObject({ decision: "reject", comment: "Wrong customer", payload_hash: "hash-1" });
  });
});
