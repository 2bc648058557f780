import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fmtDuration, fmtRate, StatsPage } from "./StatsPage";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const figures = (decided: number, approved: number, edit: number | null, median: number | null) => ({
  decided,
  approved,
  approval_rate: decided ? approved / decided : null,
  edit_rate: edit,
  median_seconds: median,
  p90_seconds: median == null ? null : median * 2,
});

function mockStats(empty: boolean) {
  const urls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      urls.push(url);
      if (empty) return new Response(JSON.stringify({ days: 30, queues: [], workflows: [] }));
      return new Response(
        JSON.stringify({
          days: 30,
          queues: [
            { queue: "Support", ...figures(4, 3, 1 / 3, 90) },
            { queue: "Billing", ...figures(2, 1, 0, 7200) },
          ],
          workflows: [{ workflow: { id: 1, name: "Reply to a customer" }, ...figures(6, 4, 0.25, 600) }],
        }),
      );
    }),
  );
  return urls;
}

describe("StatsPage", () => {
  it("formats rates and durations", () => {
    expect(fmtRate(0.756)).toBe("76%");
    expect(fmtRate(null)).toBe("—");
    expect(fmtDuration(42)).toBe("42 s");
    expect(fmtDuration(90)).toBe("1.5 min");
    expect(fmtDuration(7200)).toBe("2.0 h");
    expect(fmtDuration(3 * 86400)).toBe("3.0 d");
  });

  it("draws a small chart per figure, per queue and per workflow", async () => {
    mockStats(false);
    render(
      <MemoryRouter initialEntries={["/inbox/stats"]}>
        <StatsPage />
      </MemoryRouter>,
    );
    expect((await screen.findByTestId("stats-total")).textContent).toContain("6 decisions");
    const charts = screen.getAllByRole("img");
    expect(charts).toHaveLength(6); // 3 figures × (queues, workflows)
    expect(charts[0].getAttribute("aria-label")).toBe("Approval rate: Support 75%, Billing 50%");
    expect(charts[2].getAttribute("aria-label")).toBe("Median time to decision: Support 1.5 min, Billing 2.0 h");
    // The slowest queue fills the time bar; rates are scaled to 100%.
    const timeBars = charts[2].querySelectorAll("[data-testid='bar']");
    expect(Number(timeBars[1].getAttribute("width"))).toBeGreaterThan(Number(timeBars[0].getAttribute("width")));
    expect(charts[3].getAttribute("aria-label")).toBe("Approval rate: Reply to a customer 67%");
  });

  it("asks for another period and shows an empty state", async () => {
    const urls = mockStats(true);
    render(
      <MemoryRouter initialEntries={["/inbox/stats"]}>
        <StatsPage />
      </MemoryRouter>,
    );
    expect(await screen.findByText(/No decisions in the last 30 days/)).toBeTruthy();
    expect(urls.at(-1)).toBe("/api/approvals/stats/?days=30");
    fireEvent.click(screen.getByRole("button", { name: "7 days" }));
    await waitFor(() => expect(urls.at(-1)).toBe("/api/approvals/stats/?days=7"));
    expect(await screen.findByText(/No decisions in the last 7 days/)).toBeTruthy();
    expect(screen.queryAllByRole("img")).toHaveLength(0);
  });
});
