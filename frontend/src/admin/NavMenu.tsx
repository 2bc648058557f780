import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { useLocation } from "react-router-dom";

/**
 * A disclosure menu for the top bar: a button (aria-expanded) that shows a list of links.
 * Escape closes it and returns focus to the button; it closes when focus or a click leaves it
 * and after navigation.
 */
export function NavMenu({
  label,
  buttonContent,
  active = false,
  align = "left",
  children,
}: {
  label: string;
  buttonContent: ReactNode;
  active?: boolean;
  align?: "left" | "right";
  children: ReactNode;
}) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const location = useLocation();

  useEffect(() => setOpen(false), [location.pathname]);
  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", onDown);
    return () => document.removeEventListener("mousedown", onDown);
  }, [open]);

  return (
    <div
      ref={root}
      className="nav-menu"
      onKeyDown={(e) => {
        if (e.key === "Escape" && open) {
          e.stopPropagation();
          setOpen(false);
          button.current?.focus();
        }
        if (e.key === "ArrowDown" && e.target === button.current) {
          e.preventDefault();
          setOpen(true);
          window.setTimeout(() => root.current?.querySelector<HTMLElement>(".nav-menu-list a, .nav-menu-list button")?.focus());
        }
      }}
      onBlur={(e) => {
        if (open && root.current && !root.current.contains(e.relatedTarget as Node | null) && e.relatedTarget) setOpen(false);
      }}
    >
      <button
        ref={button}
        type="button"
        className={`nav-menu-button${active ? " active" : ""}`}
        aria-expanded={open}
        aria-controls={id}
        aria-label={label}
        onClick={() => setOpen((o) => !o)}
      >
        {buttonContent}
        <span aria-hidden="true" className="caret">
          ▾
        </span>
      </button>
      <div id={id} className={`nav-menu-list align-${align}`} hidden={!open} onClick={() => setOpen(false)}>
        {children}
      </div>
    </div>
  );
}
