import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AUTOSAVE_DELAY_MS, canAutosave, Debouncer, readAutosavePref, writeAutosavePref } from "./autosave";

describe("Debouncer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("fires once after the calls pause for the delay", () => {
    const run = vi.fn();
    const d = new Debouncer(AUTOSAVE_DELAY_MS, run);
    d.schedule();
    vi.advanceTimersByTime(2000);
    d.schedule(); // another edit restarts the wait
    vi.advanceTimersByTime(2999);
    expect(run).not.toHaveBeenCalled();
    expect(d.pending).toBe(true);
    vi.advanceTimersByTime(1);
    expect(run).toHaveBeenCalledTimes(1);
    expect(d.pending).toBe(false);
    vi.advanceTimersByTime(10_000);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it("cancel drops the pending call", () => {
    const run = vi.fn();
    const d = new Debouncer(3000, run);
    d.schedule();
    d.cancel();
    vi.advanceTimersByTime(5000);
    expect(run).not.toHaveBeenCalled();
  });

  it("waits again when the callback asks to retry (save in flight)", () => {
    let busy = true;
    const run = vi.fn(() => (busy ? ("retry" as const) : undefined));
    const d = new Debouncer(3000, run);
    d.schedule();
    vi.advanceTimersByTime(3000);
    expect(run).toHaveBeenCalledTimes(1);
    busy = false;
    vi.advanceTimersByTime(3000);
    expect(run).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(9000);
    expect(run).toHaveBeenCalledTimes(2);
  });
});

describe("canAutosave", () => {
  const ok = { enabled: true, readOnly: false, dirty: true, saving: false, stale: false };
  it("needs unsaved changes, the toggle on, no save in flight and no conflict", () => {
    expect(canAutosave(ok)).toBe(true);
    expect(canAutosave({ ...ok, enabled: false })).toBe(false);
    expect(canAutosave({ ...ok, readOnly: true })).toBe(false);
    expect(canAutosave({ ...ok, dirty: false })).toBe(false);
    expect(canAutosave({ ...ok, saving: true })).toBe(false);
    expect(canAutosave({ ...ok, stale: true })).toBe(false);
  });
});

describe("autosave preference", () => {
  it("defaults to on and remembers off", () => {
    const data: Record<string, string> = {};
    const storage = { getItem: (k: string) => data[k] ?? null, setItem: (k: string, v: string) => void (data[k] = v) };
    expect(readAutosavePref(storage)).toBe(true);
    writeAutosavePref(false, storage);
    expect(readAutosavePref(storage)).toBe(false);
    writeAutosavePref(true, storage);
    expect(readAutosavePref(storage)).toBe(true);
  });
});
