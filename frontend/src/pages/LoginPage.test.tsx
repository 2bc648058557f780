import { cleanup, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AuthProvider } from "../auth/AuthContext";
import { LoginPage, ssoStartUrl } from "./LoginPage";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function serve(sso: boolean) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      if (url === "/api/auth/config/")
        return new Response(
          JSON.stringify({
            password_login: true,
            sso: sso
              ? { enabled: true, label: "Sign in with Contoso", login_url: "/api/auth/oidc/authenticate/" }
              : { enabled: false, label: "", login_url: "" },
          }),
        );
      if (url === "/api/auth/me/")
        return new Response(JSON.stringify({ error: { code: "NOT_AUTHENTICATED", message: "no" } }), { status: 401 });
      return new Response(JSON.stringify({ csrf_token: "t" }));
    }),
  );
}

function renderAt(path: string) {
  render(
    <MemoryRouter initialEntries={[path]}>
      <AuthProvider>
        <LoginPage />
      </AuthProvider>
    </MemoryRouter>,
  );
}

describe("LoginPage", () => {
  it("offers single sign-on when the server has it, keeping next", async () => {
    serve(true);
    renderAt("/login?next=/runs/4");
    const link = await screen.findByRole("link", { name: "Sign in with Contoso" });
    expect(link.getAttribute("href")).toBe("/api/auth/oidc/authenticate/?next=%2Fruns%2F4");
    expect(screen.getByLabelText("Username")).toBeTruthy();
  });

  it("has no SSO button when SSO is off, and explains a refused SSO sign-in", async () => {
    serve(false);
    renderAt("/login?sso_error=SSO_NO_ROLE");
    expect((await screen.findByRole("alert")).textContent).toContain("not in any group");
    await screen.findByLabelText("Username");
    expect(screen.queryByRole("link", { name: /SSO|Sign in with/ })).toBeNull();
  });

  it("leaves next out when it is the home page", () => {
    expect(ssoStartUrl("/api/auth/oidc/authenticate/", "/")).toBe("/api/auth/oidc/authenticate/");
  });
});
