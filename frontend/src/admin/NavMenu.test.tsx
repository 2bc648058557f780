import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter, NavLink } from "react-router-dom";
import { afterEach, describe, expect, it } from "vitest";
import { NavMenu } from "./NavMenu";

function renderMenu() {
  return render(
    <MemoryRouter>
      <NavMenu label="Admin" buttonContent="Admin">
        <NavLink to="/admin/users">Users</NavLink>
        <NavLink to="/admin/audit">Audit log</NavLink>
      </NavMenu>
    </MemoryRouter>,
  );
}

afterEach(cleanup);

describe("NavMenu", () => {
  it("opens on click, closes on Escape and gives focus back to the button", () => {
    renderMenu();
    const button = screen.getByRole("button", { name: "Admin" });
    expect(button.getAttribute("aria-expanded")).toBe("false");
    expect(screen.queryByRole("link", { name: "Users" })).toBeNull();
    fireEvent.click(button);
    expect(button.getAttribute("aria-expanded")).toBe("true");
    const link = screen.getByRole("link", { name: "Users" });
    link.focus();
    fireEvent.keyDown(link, { key: "Escape" });
    expect(button.getAttribute("aria-expanded")).toBe("false");
    expect(document.activeElement).toBe(button);
  });

  it("closes after a link is chosen", () => {
    renderMenu();
    fireEvent.click(screen.getByRole("button", { name: "Admin" }));
    fireEvent.click(screen.getByRole("link", { name: "Audit log" }));
    expect(screen.getByRole("button", { name: "Admin" }).getAttribute("aria-expanded")).toBe("false");
  });
});
