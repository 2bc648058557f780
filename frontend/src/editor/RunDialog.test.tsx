import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RunDialog } from "./RunDialog";

afterEach(cleanup);

const fields = [
  { name: "topic", label: "Topic", type: "string" as const, required: true },
  { name: "count", label: "Count", type: "number" as const, required: false },
];

describe("RunDialog", () => {
  it("focuses the first field, and Enter in a one-line field starts the run", async () => {
    const onStart = vi.fn().mockResolvedValue(undefined);
    render(<RunDialog fields={fields} onStart={onStart} onClose={() => {}} />);
    const topic = screen.getByLabelText("Topic");
    expect(document.activeElement).toBe(topic);
    fireEvent.change(topic, { target: { value: "Otters" } });
    fireEvent.change(screen.getByLabelText("Count"), { target: { value: "3" } });
    fireEvent.keyDown(screen.getByLabelText("Count"), { key: "Enter" });
    await waitFor(() => expect(onStart).toHaveBeenCalledWith({ topic: "Otters", count: 3 }));
  });

  it("closes on Escape", () => {
    const onClose = vi.fn();
    render(<RunDialog fields={fields} onStart={vi.fn()} onClose={onClose} />);
    fireEvent.keyDown(screen.getByLabelText("Topic"), { key: "Escape" });
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});
