import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ApprovalDetail } from "../api/types";
import { AuthProvider } from "../auth/AuthContext";
import { InboxPage } from "./InboxPage";
import { apiQuery, countsFor, emptyMessage, filtersFromParams, paramsFromFilters } from "./inboxFilters";
import { inboxKeyAction } from "./inboxKeys";
import { ReviewPage } from "./ReviewPage";
import { changedValues, draftValues, formSchema, typedValue } from "./reviewFields";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const COUNTS = {
  pending: 5,
  due_soon: 2,
  mine: 1,
  queues: [
    { queue: "Billing", pending: 1, due_soon: 0, mine: 0 },
    { queue: "Support", pending: 4, due_soon: 2, mine: 1 },
  ],
};

describe("inbox filters in the URL", () => {
  it("round-trips, leaves defaults out and builds the API query", () => {
    const f = filtersFromParams(new URLSearchParams("queue=Support&due_soon=1&page=2"));
    expect(f).toEqual({ status: "pending", queue: "Support", dueSoon: true, mine: false, page: 2 });
    expect(paramsFromFilters(f)).toEqual({ queue: "Support", due_soon: "1", page: "2" });
    expect(apiQuery({ ...f, mine: true })).toEqual({ status: "pending", page: 2, queue: "Support", due_soon: 1, mine: 1 });
    expect(filtersFromParams(new URLSearchParams("status=bogus")).status).toBe("pending");
    expect(paramsFromFilters(filtersFromParams(new URLSearchParams("")))).toEqual({});
  });

  it("counts per queue and an empty state per filter", () => {
    expect(countsFor(COUNTS, "")?.pending).toBe(5);
    expect(countsFor(COUNTS, "Support")).toMatchObject({ pending: 4, due_soon: 2, mine: 1 });
    expect(countsFor(COUNTS, "Gone")).toEqual({ pending: 0, due_soon: 0, mine: 0 });
    const base = filtersFromParams(new URLSearchParams(""));
    expect(emptyMessage({ ...base, mine: true })).toMatch(/You hold no items/);
    expect(emptyMessage({ ...base, dueSoon: true, queue: "Billing" })).toBe(
      "Nothing due soon in Billing. No deadline within the next hours.",
    );
    expect(emptyMessage({ ...base, status: "decided" })).toMatch(/No decided items/);
  });

  it("c claims and u releases", () => {
    expect(inboxKeyAction({ key: "c", target: document.body })).toBe("claim");
    expect(inboxKeyAction({ key: "u", target: document.body })).toBe("release");
  });
});

describe("typed review fields", () => {
  const schema = {
    type: "object",
    properties: {
      reply: { type: "string" },
      urgent: { type: "boolean" },
      score: { type: "integer" },
      tone: { type: "string", enum: ["warm", "formal"] },
      code: { type: "string", maxLength: 20 },
    },
  };
  it("types the draft, keeps only real edits, draws long text as a text area", () => {
    const draft = { reply: "Hi", urgent: "false", score: "3", tone: "warm", code: "A1" };
    const values = draftValues(draft, schema);
    expect(values).toEqual({ reply: "Hi", urgent: false, score: 3, tone: "warm", code: "A1" });
    expect(typedValue("many", { type: "number" })).toBe("many");
    expect(changedValues({ ...values, score: 3, urgent: true, reply: "Hi there" }, draft)).toEqual({
      urgent: true,
      reply: "Hi there",
    });
    const form = formSchema(schema);
    expect(form.properties?.reply.ui?.widget).toBe("textarea");
    expect(form.properties?.code.ui).toBeUndefined();
    expect(form.properties?.tone.ui).toBeUndefined();
  });
});

function Where() {
  const loc = useLocation();
  return <p data-testid="where">{loc.search}</p>;
}

function renderInbox(entry: string, results: unknown[] = []) {
  const urls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      urls.push(url);
      if (url.startsWith("/api/approvals/?"))
        return new Response(JSON.stringify({ count: results.length, next: null, previous: null, results, counts: COUNTS }));
      return new Response(JSON.stringify({ count: 0, next: null, previous: null, results: [] }));
    }),
  );
  render(
    <MemoryRouter initialEntries={[entry]}>
      <Routes>
        <Route
          path="/inbox"
          element={
            <>
              <InboxPage />
              <Where />
            </>
          }
        />
      </Routes>
    </MemoryRouter>,
  );
  return urls;
}

describe("InboxPage filters", () => {
  it("shows counts, toggles chips into the URL and asks the API with them", async () => {
    const urls = renderInbox("/inbox");
    expect((await screen.findByTestId("count-pending")).textContent).toContain("5");
    const due = screen.getByTestId("chip-due-soon");
    expect(due?.textContent).toContain("Due soon2");
    expect(screen.getByTestId("chip-mine")?.textContent).toContain("Assigned to me1");
    expect(screen.getByTestId("inbox-empty")?.textContent).toContain("Nothing to review.");

    fireEvent.click(due);
    await waitFor(() => expect(screen.getByTestId("where")?.textContent).toContain("?due_soon=1"));
    expect(due.getAttribute("aria-pressed")).toBe("true");
    await waitFor(() => expect(urls.some((u) => u.includes("due_soon=1"))).toBe(true));
    expect((await screen.findByTestId("inbox-empty")).textContent).toContain("Nothing due soon.");

    fireEvent.change(screen.getByTestId("queue-filter"), { target: { value: "Support" } });
    await waitFor(() => expect(screen.getByTestId("where")?.textContent).toContain("?queue=Support&due_soon=1"));
    await waitFor(() => expect(urls.some((u) => u.includes("queue=Support") && u.includes("due_soon=1"))).toBe(true));
    expect(screen.getByTestId("count-pending")?.textContent).toContain("4");
  });

  it("reads the filters from the URL and shows who holds a claim", async () => {
    const row = {
      id: 7,
      run_id: 3,
      workflow: { id: 1, name: "Support" },
      node_id: "review",
      queue: "Support",
      title: "Held item",
      status: "pending",
      claimed_by: "rey",
      created_at: "2026-11-30T10:00:00Z",
      decided_at: null,
      decided_by: null,
      approvals_required: 1,
      due_at: null,
    };
    const urls = renderInbox("/inbox?mine=1&queue=Support", [row]);
    expect(await screen.findByText("Held item")).toBeTruthy();
    expect(screen.getByTestId("claimed-7")?.textContent).toContain("rey");
    expect(screen.getByTestId("chip-mine").getAttribute("aria-pressed")).toBe("true");
    expect(urls.find((u) => u.startsWith("/api/approvals/?"))).toMatch(/mine=1/);
  });
});

const detail = (extra: Record<string, unknown>) =>
  ({
    id: 4,
    run_id: 9,
    workflow: { id: 1, name: "Support" },
    node_id: "review",
    queue: "Support",
    title: "Reply to carol",
    status: "pending",
    claimed_by: "rey",
    created_at: "2026-11-30T10:00:00Z",
    decided_at: null,
    decided_by: null,
    approvals_required: 1,
    due_at: null,
    instructions: "",
    context: {},
    fields: { reply: "Hello carol, we refund you." },
    payload_hash: "h",
    decision: null,
    comment: "",
    edited: null,
    approvals_count: 0,
    votes: [],
    allow_starter: true,
    started_by: "alice",
    fields_schema: null,
    run_context: {
      trigger: { subject: "Refund for order 1234" },
      steps: [
        { node_id: "draft", label: "Draft reply", type: "llm.prompt", status: "succeeded", summary: '{"text":"Hello"}', model: "demo", cost_usd: 0.0123 },
      ],
      passages: [{ source: "faq.md", text: "Refunds take 5 days.", score: 0.91 }],
      cost_usd: 0.0123,
    },
    ...extra,
  }) as unknown as ApprovalDetail;

function renderReview(item: ApprovalDetail) {
  const calls: { method: string; url: string; body?: unknown }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ method: init?.method ?? "GET", url, body: init?.body ? JSON.parse(String(init.body)) : undefined });
      if (url === "/api/auth/me/") return new Response(JSON.stringify({ id: 1, username: "rey", role: "reviewer" }));
      if (url === "/api/auth/csrf/") return new Response(JSON.stringify({ csrf_token: "t" }));
      if (url === "/api/approvals/4/release/") return new Response(JSON.stringify({ ...item, claimed_by: null }));
      if (url === "/api/approvals/4/claim/") return new Response(JSON.stringify({ ...item, claimed_by: "rey" }));
      if (url === "/api/approvals/4/decision/") return new Response(JSON.stringify({ ...item, status: "approved" }));
      if (url === "/api/approvals/4/") return new Response(JSON.stringify(item));
      return new Response("{}", { status: 404 });
    }),
  );
  render(
    <MemoryRouter initialEntries={["/inbox/4"]}>
      <AuthProvider>
        <Routes>
          <Route path="/inbox/:id" element={<ReviewPage />} />
        </Routes>
      </AuthProvider>
    </MemoryRouter>,
  );
  return calls;
}

describe("ReviewPage context, diff, schema form, release", () => {
  it("shows what produced the draft and a word diff of the edits", async () => {
    renderReview(detail({}));
    const ctx = await screen.findByTestId("run-context");
    expect(within(ctx).getByTestId("trigger-input")?.textContent).toContain("Refund for order 1234");
    expect(within(ctx).getByTestId("context-steps")?.textContent).toContain("Draft reply");
    expect(within(ctx).getByTestId("context-steps")?.textContent).toContain("demo");
    expect(within(ctx).getByTestId("passages")?.textContent).toContain("faq.md");
    expect(within(ctx).getByTestId("run-cost")?.textContent).toContain("$0.01");

    expect(screen.queryByTestId("field-diff-reply")).toBeNull();
    fireEvent.change(screen.getByLabelText("reply"), { target: { value: "Hello carol, we gladly refund you." } });
    const diff = await screen.findByTestId("field-diff-reply");
    expect(diff.querySelector("ins")?.textContent).toContain("gladly");
    expect(diff.querySelector("del")).toBeNull();
  });

  it("releases the claim with the button and with u", async () => {
    const calls = renderReview(detail({}));
    fireEvent.click(await screen.findByTestId("release"));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.url === "/api/approvals/4/release/")).toBe(true));
    expect(await screen.findByTestId("claim")).toBeTruthy();
    expect(screen.getByTestId("claimed-by")?.textContent).toContain("—");
    fireEvent.keyDown(window, { key: "c" });
    await waitFor(() => expect(calls.filter((c) => c.url === "/api/approvals/4/claim/")).toHaveLength(1));
    expect(await screen.findByTestId("release")).toBeTruthy();
    fireEvent.keyDown(window, { key: "u" });
    await waitFor(() => expect(calls.filter((c) => c.url === "/api/approvals/4/release/")).toHaveLength(2));
  });

  it("draws a fields_schema as a form pre-filled with the draft and sends typed edits", async () => {
    const calls = renderReview(
      detail({
        fields: { reply: "Hello", urgent: "false", tone: "warm" },
        fields_schema: {
          type: "object",
          properties: {
            reply: { type: "string", title: "Reply" },
            urgent: { type: "boolean", title: "Urgent" },
            tone: { type: "string", title: "Tone", enum: ["warm", "formal"] },
          },
        },
      }),
    );
    const form = await screen.findByTestId("fields-form");
    const urgent = within(form).getByLabelText("Urgent") as HTMLInputElement;
    expect(urgent.checked).toBe(false);
    expect((within(form).getByLabelText("Reply") as HTMLTextAreaElement).value).toBe("Hello");
    fireEvent.click(urgent);
    fireEvent.change(within(form).getByLabelText("Tone"), { target: { value: "1" } });
    expect((await screen.findByTestId("field-diff-urgent")).textContent).toContain("true");
    fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    await waitFor(() => expect(calls.some((c) => c.url === "/api/approvals/4/decision/")).toBe(true));
    const sent = calls.find((c) => c.url === "/api/approvals/4/decision/")?.body as { edited: unknown };
    expect(sent.edited).toEqual({ urgent: true, tone: "formal" });
  });

  it("shows the reviewers' edits as a diff once decided", async () => {
    renderReview(
      detail({ status: "approved", decided_by: "rey", decision: "approve", edited: { reply: "Hello carol, we refund you today." } }),
    );
    const box = await screen.findByTestId("decided-edits");
    expect(within(box).getByTestId("field-diff-reply").querySelector("ins")?.textContent).toContain("today.");
  });
});
