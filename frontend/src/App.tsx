import { BrowserRouter, Link, Route, Routes } from "react-router-dom";
import { TokensPage } from "./account/TokensPage";
import { InvitePage } from "./account/InvitePage";
import { AuditPage } from "./admin/AuditPage";
import { RequireAdmin } from "./admin/common";
import { ConnectorsPage } from "./admin/ConnectorsPage";
import { ModelCatalogPage } from "./admin/ModelCatalogPage";
import { PoliciesPage } from "./admin/PoliciesPage";
import { QueuesPage } from "./admin/QueuesPage";
import { UsersPage } from "./admin/UsersPage";
import { InboxPage } from "./approvals/InboxPage";
import { ReviewPage } from "./approvals/ReviewPage";
import { StatsPage } from "./approvals/StatsPage";
import { AuthProvider, RequireAuth } from "./auth/AuthContext";
import { Layout } from "./components/Layout";
import { Empty } from "./components/States";
import { EditorPage } from "./editor/EditorPage";
import { OutboxPage } from "./outbox/OutboxPage";
import { LoginPage } from "./pages/LoginPage";
import { WorkflowsPage } from "./pages/WorkflowsPage";
import { TemplatesPage } from "./pages/TemplatesPage";
import { RunPage } from "./runs/RunPage";
import { RunsPage } from "./runs/RunsPage";
import { UsagePage } from "./usage/UsagePage";

export function App() {
  return (
    <BrowserRouter>
      <AuthProvider>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route path="/invite/:token" element={<InvitePage />} />
          <Route
            element={
              <RequireAuth>
                <Layout />
              </RequireAuth>
            }
          >
            <Route index element={<WorkflowsPage />} />
            <Route path="workflows/:id" element={<EditorPage />} />
            <Route path="templates" element={<TemplatesPage />} />
            <Route path="runs" element={<RunsPage />} />
            <Route path="runs/:id" element={<RunPage />} />
            <Route path="inbox" element={<InboxPage />} />
            <Route path="inbox/stats" element={<StatsPage />} />
            <Route path="inbox/:id" element={<ReviewPage />} />
            <Route path="outbox" element={<OutboxPage />} />
            <Route path="usage" element={<UsagePage />} />
            <Route path="account/tokens" element={<TokensPage />} />
            <Route path="admin/users" element={<RequireAdmin><UsersPage /></RequireAdmin>} />
            <Route path="admin/queues" element={<RequireAdmin><QueuesPage /></RequireAdmin>} />
            <Route path="admin/connectors" element={<RequireAdmin><ConnectorsPage /></RequireAdmin>} />
            <Route path="admin/audit" element={<RequireAdmin><AuditPage /></RequireAdmin>} />
            <Route path="admin/policies" element={<RequireAdmin><PoliciesPage /></RequireAdmin>} />
            <Route path="admin/models" element={<RequireAdmin><ModelCatalogPage /></RequireAdmin>} />
            <Route
              path="*"
              element={
                <main className="page not-found">
                  <Empty>
                    <span>Page not found.</span>
                    <Link to="/">Back to workflows</Link>
                  </Empty>
                </main>
              }
            />
          </Route>
        </Routes>
      </AuthProvider>
    </BrowserRouter>
  );
}
