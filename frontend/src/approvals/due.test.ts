import { describe, expect, it } from "vitest";
import { approvalStatus, approvalStatusLabel, formatDue } from "./due";

const NOW = Date.parse("2026-11-24T10:00:00Z");

describe("formatDue", () => {
  it("is null without a deadline", () => {
    expect(formatDue(null, NOW)).toBeNull();
    expect(formatDue("not a date", NOW)).toBeNull();
  });
  it("counts down in minutes, hours and days", () => {
    expect(formatDue("2026-11-24T10:00:20Z", NOW)).toEqual({ text: "due in less than a minute", overdue: false });
    expect(formatDue("2026-11-24T10:45:00Z", NOW)).toEqual({ text: "due in 45 min", overdue: false });
    expect(formatDue("2026-11-24T12:00:00Z", NOW)).toEqual({ text: "due in 2 h", overdue: false });
    expect(formatDue("2026-11-27T10:00:00Z", NOW)).toEqual({ text: "due in 3 d", overdue: false });
  });
  it("marks past deadlines overdue", () => {
    expect(formatDue("2026-11-24T09:55:00Z", NOW)).toEqual({ text: "overdue by 5 min", overdue: true });
  });
});

describe("approval status", () => {
  it("labels the new statuses", () => {
    expect(approvalStatusLabel("changes_requested")).toBe("changes requested");
    expect(approvalStatusLabel("timed_out")).toBe("timed out");
    expect(approvalStatusLabel("approved")).toBe("approved");
  });
  it("maps a legacy decided + decision pair", () => {
    expect(approvalStatus({ status: "decided", decision: "approve" })).toBe("approved");
    expect(approvalStatus({ status: "changes_requested", decision: null })).toBe("changes_requested");
  });
});
