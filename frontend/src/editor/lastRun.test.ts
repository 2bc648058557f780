import { describe, expect, it } from "vitest";
import { runDataOf } from "./lastRun";

describe("runDataOf", () => {
  it("keeps the outputs that later nodes can use, and the trigger input", () => {
    const data = runDataOf(
      { subject: "Hi" },
      { a: { status: "succeeded", output: { text: "x" } }, b: { status: "running" }, c: { status: "failed", output: null } },
    );
    expect(data).toEqual({ trigger: { subject: "Hi" }, outputs: { a: { text: "x" } } });
  });
});
