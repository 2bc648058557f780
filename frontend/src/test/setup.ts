// jsdom lacks the layout APIs that @xyflow/react touches.
class RO {
  observe() {}
  unobserve() {}
  disconnect() {}
}
const g = globalThis as unknown as Record<string, unknown>;
g.ResizeObserver ??= RO;
g.DOMMatrixReadOnly ??= class {
  m22 = 1;
  constructor(_t?: string) {}
};
