import { useEffect, useState } from "react";
import { NavLink, Outlet, useLocation } from "react-router-dom";
import { NavMenu } from "../admin/NavMenu";
import { api, editorApi } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { decidableReviews } from "../editor/reviewStatus";
import { onInboxChanged } from "./inboxEvents";
import { useInboxSocket } from "./useInboxSocket";

/** Pending approvals plus the version reviews this user may decide (builders and admins). */
function usePendingCount(canBuild: boolean): number | null {
  const [count, setCount] = useState<number | null>(null);
  const [reviews, setReviews] = useState(0);
  useEffect(() => {
    let alive = true;
    const load = () =>
      api
        .approvals({ status: "pending" })
        .then((p) => alive && setCount(p.count))
        .catch(() => alive && setCount(null));
    // One page (50) of pending reviews is plenty: they are rare, and only the badge counts them.
    const loadReviews = () =>
      canBuild
        ? editorApi
            .versionReviews({ status: "pending" })
            .then((p) => alive && setReviews(decidableReviews(p.results)))
            .catch(() => undefined)
        : Promise.resolve();
    void load();
    void loadReviews();
    const t = window.setInterval(() => {
      void load();
      void loadReviews();
    }, 60000); // a fallback: the inbox socket pushes changes
    // Pages that know the inbox changed (a decision, a fresh list) say so: refresh now.
    const off = onInboxChanged(({ pending }) => {
      if (typeof pending === "number") setCount(pending);
      else void load();
      void loadReviews();
    });
    return () => {
      alive = false;
      window.clearInterval(t);
      off();
    };
  }, [canBuild]);
  return count == null ? (reviews || null) : count + reviews;
}

export function Layout() {
  const { user, logout } = useAuth();
  const pending = usePendingCount(user?.role === "admin" || user?.role === "builder");
  useInboxSocket(Boolean(user));
  const { pathname } = useLocation();
  return (
    <div className="app">
      <header className="topbar">
        <NavLink to="/" className="brand">
          Baton
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Workflows
          </NavLink>
          <NavLink to="/runs">Runs</NavLink>
          <NavLink to="/inbox">
            Review inbox
            {pending ? (
              <span className="count-badge" data-testid="inbox-count" aria-label={`${pending} pending`}>
                {pending}
              </span>
            ) : null}
          </NavLink>
          <NavLink to="/outbox">Outbox</NavLink>
          <NavLink to="/usage">Usage</NavLink>
          {user?.is_admin ? (
            <NavMenu label="Admin" buttonContent="Admin" active={pathname.startsWith("/admin/")}>
              <NavLink to="/admin/users">Users</NavLink>
              <NavLink to="/admin/queues">Queues</NavLink>
              <NavLink to="/admin/connectors">Connectors</NavLink>
              <NavLink to="/admin/models">Models</NavLink>
              <NavLink to="/admin/policies">Policies</NavLink>
              <NavLink to="/admin/audit">Audit log</NavLink>
            </NavMenu>
          ) : null}
        </nav>
        <div className="user">
          {user && (
            <NavMenu
              label={`Account: ${user.display_name || user.username}`}
              align="right"
              active={pathname.startsWith("/account/")}
              buttonContent={
                <span data-testid="current-user">
                  {user.display_name || user.username} <span className="role">{user.role}</span>
                </span>
              }
            >
              <NavLink to="/account/tokens">API tokens</NavLink>
            </NavMenu>
          )}
          <button type="button" className="btn small" onClick={() => void logout()}>
            Sign out
          </button>
        </div>
      </header>
      <div className="app-body">
        <Outlet />
      </div>
    </div>
  );
}
