import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { UsagePage } from "./UsagePage";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const figures = { runs: 3, steps: 4, tokens_in: 120, tokens_out: 80, cost_usd: 0.25 };

function fakeUsage(userRows: { key: string | null; label: string; runs: number; cost_usd: number }[]) {
  const asked: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      const q = new URL(url, "http://x").searchParams;
      const groupBy = q.get("group_by") ?? "";
      asked.push(groupBy);
      const rows =
        groupBy === "user"
          ? userRows.map((r) => ({ ...figures, ...r }))
          : groupBy === "model"
            ? [{ ...figures, key: "demo", label: "demo" }]
            : [];
      return new Response(JSON.stringify({ group_by: groupBy, days: Number(q.get("days")), rows, totals: figures }));
    }),
  );
  return asked;
}

describe("UsagePage", () => {
  it("shows a per-user table from group_by=user, with automatic runs labelled", async () => {
    const asked = fakeUsage([
      { key: "2", label: "alice", runs: 5, cost_usd: 1.5 },
      { key: "3", label: "bob", runs: 1, cost_usd: 0.01 },
      { key: null, label: "", runs: 2, cost_usd: 0 },
    ]);
    render(<UsagePage />);
    const section = await screen.findByRole("region", { name: "By user" });
    expect(asked).toContain("user");
    const rows = within(section).getAllByRole("row").slice(1);
    expect(rows.map((r) => within(r).getAllByRole("cell").map((c) => c.textContent))).toEqual([
      ["alice", "5", "120", "80", "$1.50"],
      ["bob", "1", "120", "80", "$0.01"],
      ["(no user: webhook or schedule)", "2", "120", "80", "$0"],
    ]);
    expect(within(section).getByText(/Admins see every user/)).toBeTruthy();
  });

  it("says so when nobody used an LLM", async () => {
    fakeUsage([]);
    render(<UsagePage />);
    const section = await screen.findByRole("region", { name: "By user" });
    expect(within(section).getByText("No LLM usage in this period.")).toBeTruthy();
  });
});
