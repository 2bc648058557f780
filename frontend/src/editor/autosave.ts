// Autosave of the draft: a debounced save after the user pauses editing.

export const AUTOSAVE_DELAY_MS = 3000;
export const AUTOSAVE_STORAGE_KEY = "baton.editor.autosave";

export interface AutosaveConditions {
  enabled: boolean;
  readOnly: boolean;
  dirty: boolean;
  /** A save is in flight. */
  saving: boolean;
  /** The stale-revision conflict banner is shown. */
  stale: boolean;
}

/** Whether an autosave may run right now. */
export function canAutosave(c: AutosaveConditions): boolean {
  return c.enabled && !c.readOnly && c.dirty && !c.saving && !c.stale;
}

/**
 * A trailing-edge debounce: every `schedule()` restarts the wait; `run` fires once the
 * calls stop for `delayMs`. `run` may return "retry" (e.g. a save is still in flight) to
 * wait another full delay.
 */
export class Debouncer {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly delayMs: number,
    private readonly run: () => void | "retry",
  ) {}

  get pending(): boolean {
    return this.timer !== undefined;
  }

  schedule(): void {
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.run() === "retry") this.schedule();
    }, this.delayMs);
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** The toolbar toggle, remembered per browser (default on). */
export function readAutosavePref(storage: Pick<Storage, "getItem"> | undefined = safeStorage()): boolean {
  try {
    return storage?.getItem(AUTOSAVE_STORAGE_KEY) !== "off";
  } catch {
    return true;
  }
}

export function writeAutosavePref(on: boolean, storage: Pick<Storage, "setItem"> | undefined = safeStorage()): void {
  try {
    storage?.setItem(AUTOSAVE_STORAGE_KEY, on ? "on" : "off");
  } catch {
    // Private mode / storage full: the toggle still works for this page.
  }
}

function safeStorage(): Storage | undefined {
  try {
    return typeof window === "undefined" ? undefined : window.localStorage;
  } catch {
    return undefined;
  }
}
