// The one small HTTP client for /api (see docs/api.md).
import type {
  ApprovalDetail,
  ApprovalSummary,
  NodeType,
  OutboxMessage,
  Paginated,
  PublishedVersion,
  RunDetail,
  RunSummary,
  User,
  ValidateResult,
  VersionDiff,
  VersionDocument,
  WorkflowDetail,
  WorkflowDocument,
  WorkflowSummary,
  WorkflowTemplate,
  WorkflowVersion,
} from "./types";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details ?? null;
  }
}

/** Builds an ApiError from a response status and its (possibly non-JSON) body text. */
export function parseError(status: number, bodyText: string, statusText = ""): ApiError {
  try {
    const body: unknown = JSON.parse(bodyText);
    if (body && typeof body === "object" && "error" in body) {
      const err = (body as { error: unknown }).error;
      if (err && typeof err === "object") {
        const e = err as { code?: unknown; message?: unknown; details?: unknown };
        return new ApiError(
          status,
          typeof e.code === "string" ? e.code : `HTTP_${status}`,
          typeof e.message === "string" ? e.message : statusText || `Request failed (${status})`,
          e.details,
        );
      }
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiError(status, `HTTP_${status}`, statusText || `Request failed (${status})`);
}

const BASE = "/api";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

let unauthorizedHandler: (() => void) | null = null;

/** Called on any 401 except from login and the initial /auth/me/ probe. */
export function setUnauthorizedHandler(fn: (() => void) | null): void {
  unauthorizedHandler = fn;
}

function readCookie(name: string): string | null {
  if (typeof document === "undefined") return null;
  for (const part of document.cookie.split(";")) {
    const [k, ...rest] = part.trim().split("=");
    if (k === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

let csrfPromise: Promise<string | null> | null = null;

function ensureCsrf(): Promise<string | null> {
  if (!csrfPromise) {
    csrfPromise = fetch(`${BASE}/auth/csrf/`, { credentials: "same-origin" })
      .then(async (r) => {
        if (!r.ok) return null;
        const body = (await r.json()) as { csrf_token?: string };
        return body.csrf_token ?? null;
      })
      .catch(() => {
        csrfPromise = null;
        return null;
      });
  }
  return csrfPromise;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  /** Do not redirect to /login on 401 (login form and the session probe). */
  skipAuthRedirect?: boolean;
}

export async function request<T>(path: string, opts: RequestOptions = {}, retried = false): Promise<T> {
  const method = (opts.method ?? "GET").toUpperCase();
  const headers: Record<string, string> = { Accept: "application/json" };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (UNSAFE.has(method)) {
    const fallback = await ensureCsrf();
    // Read the cookie at request time: Django rotates the token on login.
    const token = readCookie("csrftoken") ?? fallback;
    if (token) headers["X-CSRFToken"] = token;
  }
  let url = `${BASE}${path}`;
  if (opts.query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== "") qs.set(k, String(v));
    }
    const s = qs.toString();
    if (s) url += `?${s}`;
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    });
  } catch (e) {
    throw new ApiError(0, "NETWORK_ERROR", e instanceof Error ? e.message : "Network error");
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  if (!res.ok) {
    const err = parseError(res.status, text, res.statusText);
    if (err.status === 403 && !retried && UNSAFE.has(method) && /csrf/i.test(err.message)) {
      csrfPromise = null;
      return request<T>(path, opts, true);
    }
    if (err.status === 401 && !opts.skipAuthRedirect && unauthorizedHandler) unauthorizedHandler();
    throw err;
  }
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, "PARSE_ERROR", "The server sent a response that is not JSON");
  }
}

type Page = { page?: number };

export const api = {
  csrf: () => ensureCsrf(),
  me: () => request<User>("/auth/me/", { skipAuthRedirect: true }),
  login: (username: string, password: string) =>
    request<User>("/auth/login/", { method: "POST", body: { username, password }, skipAuthRedirect: true }),
  logout: () => request<void>("/auth/logout/", { method: "POST", skipAuthRedirect: true }),

  nodeTypes: () => request<{ results: NodeType[] }>("/node-types/"),

  workflows: (q: Page = {}) => request<Paginated<WorkflowSummary>>("/workflows/", { query: q }),
  workflow: (id: number | string) => request<WorkflowDetail>(`/workflows/${id}/`),
  createWorkflow: (body: { name: string; description?: string; document?: WorkflowDocument }) =>
    request<WorkflowDetail>("/workflows/", { method: "POST", body }),
  updateWorkflow: (
    id: number | string,
    body: { name?: string; description?: string; document?: WorkflowDocument; revision: number },
  ) => request<WorkflowDetail>(`/workflows/${id}/`, { method: "PATCH", body }),
  deleteWorkflow: (id: number | string) => request<void>(`/workflows/${id}/`, { method: "DELETE" }),
  validateWorkflow: (id: number | string, document?: WorkflowDocument) =>
    request<ValidateResult>(`/workflows/${id}/validate/`, {
      method: "POST",
      body: document ? { document } : {},
    }),
  publishWorkflow: (id: number | string, note?: string) =>
    request<PublishedVersion>(`/workflows/${id}/publish/`, { method: "POST", body: note ? { note } : {} }),
  versions: (id: number | string, q: Page = {}) =>
    request<Paginated<WorkflowVersion>>(`/workflows/${id}/versions/`, { query: q }),
  version: (id: number | string, n: number) => request<VersionDocument>(`/workflows/${id}/versions/${n}/`),
  versionDiff: (id: number | string, n: number, against: number | "draft") =>
    request<VersionDiff>(`/workflows/${id}/versions/${n}/diff/`, { query: { against } }),
  rollback: (id: number | string, n: number, revision: number) =>
    request<WorkflowDetail>(`/workflows/${id}/versions/${n}/rollback/`, { method: "POST", body: { revision } }),
  exportUrl: (id: number | string) => `${BASE}/workflows/${id}/export/`,
  importWorkflow: (body: { name?: string; document: unknown }) =>
    request<WorkflowDetail>("/workflows/import/", { method: "POST", body }),
  templates: () => request<{ results: WorkflowTemplate[] }>("/templates/"),
  useTemplate: (key: string, name?: string) =>
    request<WorkflowDetail>(`/templates/${encodeURIComponent(key)}/use/`, { method: "POST", body: name ? { name } : {} }),
  startRun: (id: number | string, inputs: Record<string, unknown>, source: "published" | "draft") =>
    request<RunSummary>(`/workflows/${id}/runs/`, { method: "POST", body: { inputs, source } }),

  runs: (q: Page & { workflow?: number | string; status?: string } = {}) =>
    request<Paginated<RunSummary>>("/runs/", { query: q }),
  run: (id: number | string) => request<RunDetail>(`/runs/${id}/`),
  cancelRun: (id: number | string) => request<RunDetail>(`/runs/${id}/cancel/`, { method: "POST" }),

  approvals: (q: Page & { status?: string; queue?: string } = {}) =>
    request<Paginated<ApprovalSummary>>("/approvals/", { query: q }),
  approval: (id: number | string) => request<ApprovalDetail>(`/approvals/${id}/`),
  claimApproval: (id: number | string) =>
    request<ApprovalDetail>(`/approvals/${id}/claim/`, { method: "POST" }),
  releaseApproval: (id: number | string) =>
    request<ApprovalDetail>(`/approvals/${id}/release/`, { method: "POST" }),
  decideApproval: (
    id: number | string,
    body: {
      decision: "approve" | "reject";
      edited: Record<string, string>;
      comment: string;
      payload_hash: string;
    },
  ) => request<ApprovalDetail>(`/approvals/${id}/decision/`, { method: "POST", body }),

  outbox: (q: Page = {}) => request<Paginated<OutboxMessage>>("/outbox/", { query: q }),
};

// --- Admin, account and usage endpoints (kept apart from `api` so concurrent edits do not clash) ---

import type {
  AdminUser,
  ApiToken,
  ApiTokenCreated,
  AuditEvent,
  AuditFilters,
  Connector,
  ConnectorKindInfo,
  ConnectorWrite,
  QueueInfo,
  UsageGroup,
  UsageReport,
  UserCreateBody,
  UserCreated,
  UserUpdateBody,
} from "./types";

/** `/api/audit/export.csv` with the same filters as the list (empty ones left out). */
export function auditExportUrl(filters: AuditFilters): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) qs.set(k, String(v));
  const s = qs.toString();
  return `${BASE}/audit/export.csv${s ? `?${s}` : ""}`;
}

export const adminApi = {
  users: (q: Page = {}) => request<Paginated<AdminUser>>("/users/", { query: q }),
  createUser: (body: UserCreateBody) => request<UserCreated>("/users/", { method: "POST", body }),
  updateUser: (id: number, body: UserUpdateBody) =>
    request<AdminUser>(`/users/${id}/`, { method: "PATCH", body }),
  acceptInvitation: (token: string, password: string) =>
    request<User>("/auth/invitations/accept/", {
      method: "POST",
      body: { token, password },
      skipAuthRedirect: true,
    }),

  tokens: (q: Page = {}) => request<Paginated<ApiToken>>("/auth/tokens/", { query: q }),
  createToken: (name: string, expiresAt: string) =>
    request<ApiTokenCreated>("/auth/tokens/", { method: "POST", body: { name, expires_at: expiresAt } }),
  revokeToken: (id: number) => request<void>(`/auth/tokens/${id}/`, { method: "DELETE" }),

  connectors: (q: Page = {}) => request<Paginated<Connector>>("/connectors/", { query: q }),
  createConnector: (body: ConnectorWrite) => request<Connector>("/connectors/", { method: "POST", body }),
  updateConnector: (id: number, body: ConnectorWrite) =>
    request<Connector>(`/connectors/${id}/`, { method: "PATCH", body }),
  deleteConnector: (id: number) => request<void>(`/connectors/${id}/`, { method: "DELETE" }),
  connectorKinds: () => request<ConnectorKindInfo[]>("/connectors/kinds/"),

  audit: (q: Page & AuditFilters = {}) => request<Paginated<AuditEvent>>("/audit/", { query: { ...q } }),
  auditExportUrl,

  queues: () => request<QueueInfo[]>("/queues/"),
  createQueue: (body: { name: string; description?: string; members?: string[] }) =>
    request<QueueInfo>("/queues/", { method: "POST", body }),
  updateQueue: (id: number, body: { name?: string; description?: string; members?: string[] }) =>
    request<QueueInfo>(`/queues/${id}/`, { method: "PATCH", body }),
  deleteQueue: (id: number) => request<void>(`/queues/${id}/`, { method: "DELETE" }),

  usage: (q: { group_by: UsageGroup; days?: number; workflow?: number | string }) =>
    request<UsageReport>("/usage/", { query: q }),
};

// --- Approval votes, re-runs, models, webhooks, connector choices (kept apart from `api`) ---

import type {
  ApprovalDecision,
  ConnectorRef,
  ModelList,
  RerunResult,
  WebhookEndpoint,
} from "./types";

export const featureApi = {
  decide: (
    id: number | string,
    body: { decision: ApprovalDecision; edited: Record<string, string>; comment: string; payload_hash: string },
  ) => request<ApprovalDetail>(`/approvals/${id}/decision/`, { method: "POST", body }),
  rerun: (runId: number | string, fromNode?: string | null) =>
    request<RerunResult>(`/runs/${runId}/rerun/`, { method: "POST", query: { from_node: fromNode ?? undefined } }),
  models: () => request<ModelList>("/models/"),
  webhook: (workflowId: number | string) => request<WebhookEndpoint>(`/workflows/${workflowId}/webhook/`),
  rotateWebhook: (workflowId: number | string) =>
    request<WebhookEndpoint>(`/workflows/${workflowId}/webhook/rotate/`, { method: "POST" }),
  /** Every connector the user may pick (all pages; names and kinds are enough). */
  connectorChoices: async (): Promise<ConnectorRef[]> => {
    const out: ConnectorRef[] = [];
    for (let page = 1; page <= 20; page += 1) {
      const res = await request<Paginated<ConnectorRef> | ConnectorRef[]>("/connectors/", { query: { page } });
      if (Array.isArray(res)) return res;
      out.push(...res.results);
      if (!res.next) break;
    }
    return out;
  },
};

// --- Governance: sign-in options, connector tests, workflow sharing --------------------------

export interface AuthConfig {
  password_login: boolean;
  sso: { enabled: boolean; label: string; login_url: string };
}

export interface ConnectorTestResult {
  ok: boolean;
  message: string;
  duration_ms: number;
  details: Record<string, unknown>;
}

export type SharePermission = "view" | "run" | "edit";

export interface WorkflowShare {
  id: number;
  user: string | null;
  queue: string | null;
  permission: SharePermission;
  created_at: string | null;
}

export const governanceApi = {
  authConfig: () => request<AuthConfig>("/auth/config/", { skipAuthRedirect: true }),
  testConnector: (id: number) => request<ConnectorTestResult>(`/connectors/${id}/test/`, { method: "POST" }),
  shares: (workflowId: number | string) =>
    request<{ results: WorkflowShare[] }>(`/workflows/${workflowId}/shares/`),
  share: (
    workflowId: number | string,
    body: { username?: string; queue?: string; permission: SharePermission },
  ) => request<WorkflowShare>(`/workflows/${workflowId}/shares/`, { method: "POST", body }),
  unshare: (workflowId: number | string, shareId: number) =>
    request<void>(`/workflows/${workflowId}/shares/${shareId}/`, { method: "DELETE" }),
};

// --- Review inbox extras: statistics, reviewed-draft examples, queue notifications -----------

export interface ApprovalFigures {
  decided: number;
  approved: number;
  approval_rate: number | null;
  edit_rate: number | null;
  median_seconds: number | null;
  p90_seconds: number | null;
}

export interface ApprovalStats {
  days: number;
  queues: (ApprovalFigures & { queue: string })[];
  workflows: (ApprovalFigures & { workflow: { id: number; name: string } })[];
}

export interface ReviewExample {
  id: number;
  approval_id: number;
  run_id: number;
  approval_node_id: string;
  llm_node_id: string;
  draft: Record<string, string>;
  edited: Record<string, string> | null;
  decision: "approved" | "rejected" | "changes_requested";
  comment: string;
  reviewer: string | null;
  decided_at: string;
}

export type NotifyEvent = "created" | "escalated";

export interface QueueNotifySettings {
  notify_email_connector?: string | null;
  notify_webhook_connector?: string | null;
  notify_events?: NotifyEvent[];
}

export const inboxApi = {
  stats: (q: { days?: number; queue?: string; workflow?: number } = {}) =>
    request<ApprovalStats>("/approvals/stats/", { query: q }),
  examples: (workflowId: number | string, nodeId: string, q: Page = {}) =>
    request<Paginated<ReviewExample>>(
      `/workflows/${workflowId}/nodes/${encodeURIComponent(nodeId)}/examples/`,
      { query: q },
    ),
  updateQueueNotify: (id: number, body: QueueNotifySettings) =>
    request<QueueNotifySettings & { id: number; name: string }>(`/queues/${id}/`, { method: "PATCH", body }),
};

// --- Editor: expression preview, publish reviews, workflow choices (kept apart from `api`) ---

import type { PreviewRequest, PreviewResult, ReviewedVersion, VersionReview } from "../editor/apiTypes";

export const editorApi = {
  previewExpression: (workflowId: number | string, body: PreviewRequest) =>
    request<PreviewResult>(`/workflows/${workflowId}/expressions/preview/`, { method: "POST", body }),
  /** Publish; with the publish-review policy on, the answer has `review.status === "pending"`. */
  publish: (workflowId: number | string, note?: string) =>
    request<ReviewedVersion>(`/workflows/${workflowId}/publish/`, { method: "POST", body: note ? { note } : {} }),
  versionReviews: (q: Page & { status?: "pending" | "decided" | "all" } = {}) =>
    request<Paginated<VersionReview>>("/version-reviews/", { query: q }),
  versionReview: (id: number | string) => request<VersionReview>(`/version-reviews/${id}/`),
  decideVersionReview: (id: number | string, decision: "approve" | "reject", comment: string) =>
    request<VersionReview>(`/version-reviews/${id}/decision/`, { method: "POST", body: { decision, comment } }),
  /** Every workflow the user can see (all pages, at most 2000), for pickers. */
  workflowChoices: async (): Promise<WorkflowSummary[]> => {
    const out: WorkflowSummary[] = [];
    for (let page = 1; page <= 40; page += 1) {
      const res = await request<Paginated<WorkflowSummary>>("/workflows/", { query: { page } });
      out.push(...res.results);
      if (!res.next) break;
    }
    return out;
  },
};

// --- Policies: the global policy and each workflow's own (admins; owners may tighten theirs) ---

import type { GlobalPolicy, PolicyOverride, PolicyValues, WorkflowPolicy } from "../admin/policyTypes";

export const policyApi = {
  global: () => request<GlobalPolicy>("/policies/global/"),
  setGlobal: (body: PolicyValues) => request<GlobalPolicy>("/policies/global/", { method: "PUT", body }),
  overrides: (q: Page = {}) => request<Paginated<PolicyOverride>>("/policies/workflows/", { query: q }),
  workflow: (workflowId: number | string) => request<WorkflowPolicy>(`/workflows/${workflowId}/policy/`),
  setWorkflow: (workflowId: number | string, body: PolicyValues) =>
    request<WorkflowPolicy>(`/workflows/${workflowId}/policy/`, { method: "PUT", body }),
  deleteWorkflow: (workflowId: number | string) =>
    request<void>(`/workflows/${workflowId}/policy/`, { method: "DELETE" }),
};

// --- Model catalog admin: defaults (connector / litellm cost map) and admins' overrides ---

import type { ModelAdminRow, ModelOverrideBody } from "../admin/ModelCatalogPage";

export const gatewayApi = {
  modelOverrides: () => request<{ results: ModelAdminRow[] }>("/model-overrides/"),
  /** Null fields keep the default; all four null removes the override. */
  setModelOverride: (body: ModelOverrideBody) =>
    request<{ results: ModelAdminRow[] }>("/model-overrides/", { method: "PUT", body }),
};

// --- Review inbox filters and typed field edits (issue 7) ---

import type { ApprovalPage } from "./types";

export type InboxQuery = Page & {
  status?: string;
  queue?: string;
  due_soon?: 1;
  mine?: 1;
};

export const reviewApi = {
  /** The list with `counts` (pending / due soon / mine per queue). */
  list: (q: InboxQuery = {}) => request<ApprovalPage>("/approvals/", { query: q }),
  /** A decision whose edits may be typed values (fields of a `fields_schema` form). */
  decide: (
    id: number | string,
    body: { decision: ApprovalDecision; edited: Record<string, unknown>; comment: string; payload_hash: string },
  ) => request<ApprovalDetail>(`/approvals/${id}/decision/`, { method: "POST", body }),
};

// --- Editor: test one node on sample data (POST /workflows/{id}/nodes/{node_id}/test/) ---

export interface NodeTestInputs {
  trigger?: unknown;
  steps?: Record<string, Record<string, unknown>>;
}

export interface NodeTestResult {
  status: "succeeded" | "failed" | "waiting";
  output: Record<string, unknown> | null;
  ports: string[];
  inputs: Record<string, unknown>;
  error: { code: string; message: string; details?: unknown } | null;
  request: Record<string, unknown> | null;
  meta: Record<string, unknown>;
  duration_ms: number;
}

export const nodeTestApi = {
  /** Runs only this node of the saved draft (with `config` instead of the saved one, when given). */
  test: (workflowId: number | string, nodeId: string, inputs: NodeTestInputs, config?: Record<string, unknown>) =>
    request<NodeTestResult>(`/workflows/${workflowId}/nodes/${encodeURIComponent(nodeId)}/test/`, {
      method: "POST",
      body: config ? { inputs, config } : { inputs },
    }),
};
