import { describe, expect, it } from "vitest";
import { fillDays, fmtUsd, niceMax } from "./chart";

const row = (key: string, cost: number) => ({ key, label: key, runs: 2, steps: 3, tokens_in: 10, tokens_out: 5, cost_usd: cost });

describe("fillDays", () => {
  it("gives one bar per day ending today, zeros for missing days", () => {
    const bars = fillDays([row("2026-03-02", 1.5)], 3, new Date("2026-03-03T15:00:00Z"));
    expect(bars.map((b) => b.day)).toEqual(["2026-03-01", "2026-03-02", "2026-03-03"]);
    expect(bars.map((b) => b.cost)).toEqual([0, 1.5, 0]);
    expect(bars[1].tokens).toBe(15);
  });
  it("crosses month ends", () => {
    expect(fillDays([], 2, new Date("2026-03-01T00:30:00Z")).map((b) => b.day)).toEqual(["2026-02-28", "2026-03-01"]);
  });
});

describe("niceMax", () => {
  it("rounds up to 1, 2, 2.5, 5 × 10^n", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(0.013)).toBeCloseTo(0.02);
    expect(niceMax(2.2)).toBe(2.5);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(100)).toBe(100);
  });
});

describe("fmtUsd", () => {
  it("shows small amounts with 4 decimals", () => {
    expect(fmtUsd(0)).toBe("$0");
    expect(fmtUsd(0.0012)).toBe("$0.0012");
    expect(fmtUsd(3.456)).toBe("$3.46");
  });
});
