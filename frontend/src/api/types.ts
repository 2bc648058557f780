// Types mirroring docs/api.md (the HTTP contract of the Django backend).

export type Role = "admin" | "builder" | "reviewer" | "viewer";

export interface User {
  id: number;
  username: string;
  display_name: string;
  role: Role;
  is_admin: boolean;
  queues: string[];
}

export interface Paginated<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** A validation problem (in `issues` and in error `details`). */
export interface Issue {
  code: string;
  message: string;
  node_id?: string | null;
  edge_id?: string | null;
}

export interface Health {
  status: string;
  mode: "embedded" | "production";
  version: string;
}

export interface Port {
  name: string;
  label: string;
}

/** A JSON Schema (pydantic flavour); kept loose on purpose. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  format?: string;
  ui?: { widget?: UiWidget; [k: string]: unknown };
  [k: string]: unknown;
}

export type UiWidget =
  | "textarea"
  | "expression"
  | "model-picker"
  | "fields"
  | "string-list"
  | "key-value"
  | (string & {});

export interface NodeType {
  key: string;
  version: number;
  title: string;
  category: string;
  icon: string;
  description: string;
  is_trigger: boolean;
  side_effect: boolean;
  inputs: Port[];
  outputs: Port[];
  config_schema: JsonSchema;
}

export interface DocNode {
  id: string;
  type: string;
  type_version: number;
  config: Record<string, unknown>;
  position: { x: number; y: number };
  label?: string;
}

export interface DocEdge {
  id: string;
  source: string;
  source_port: string;
  target: string;
  target_port: string;
}

/** A sticky note on the canvas: editor-only, ignored by the engine. */
export interface DocNote {
  id: string;
  text: string;
  position: { x: number; y: number };
}

export interface WorkflowDocument {
  schema_version: 1;
  nodes: DocNode[];
  edges: DocEdge[];
  /** Sticky notes (optional; the backend must keep this key as is). */
  notes?: DocNote[];
}

export type TriggerFieldType = "string" | "text" | "number" | "boolean";

export interface TriggerField {
  name: string;
  label: string;
  type: TriggerFieldType | (string & {});
  required: boolean;
}

export interface WorkflowSummary {
  id: number;
  name: string;
  description: string;
  revision: number;
  published_version: number | null;
  updated_at: string;
  updated_by: string | null;
  /** Username of the owner (only the owner or an admin may delete the workflow). */
  owner?: string | null;
}

export interface WorkflowDetail extends WorkflowSummary {
  document: WorkflowDocument;
  can_edit: boolean;
  can_run: boolean;
  trigger_fields: TriggerField[];
  issues?: Issue[];
}

export interface StaleRevisionDetails {
  current_revision: number;
  updated_by: string | null;
  updated_at: string;
}

export interface ValidateResult {
  valid: boolean;
  issues: Issue[];
}

export interface PublishedVersion {
  number: number;
  note: string;
  created_at: string;
  created_by: string | null;
}

export interface WorkflowVersion extends PublishedVersion {
  published: boolean;
}

export type RunStatus = "queued" | "running" | "waiting" | "succeeded" | "failed" | "cancelled";

export type StepStatus =
  | "queued"
  | "running"
  | "waiting"
  | "succeeded"
  | "failed"
  | "skipped"
  | "retrying"
  | "outcome_unknown";

export const FINAL_RUN_STATUSES: readonly RunStatus[] = ["succeeded", "failed", "cancelled"];

export interface Step {
  node_id: string;
  status: StepStatus;
  attempts: number;
  inputs: unknown;
  output: unknown;
  error: unknown;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number | null;
  model: string | null;
  tokens_in: number | null;
  tokens_out: number | null;
  cost_usd: number | null;
  /** Spent by the child runs of a loop, sub-workflow or agent step (not included in cost_usd). */
  children_cost_usd?: number | null;
  reason?: string | null;
  /** Only for a step that review rounds sent back (request changes): the round it is in. */
  round?: number;
  /** Only with `round`: what the step did in each earlier round. */
  rounds?: StepRound[];
}

export interface StepRound {
  round: number | null;
  status: StepStatus;
  output: unknown;
  error: unknown;
  started_at: string | null;
  ended_at: string | null;
  cost_usd: number | null;
}

export interface RunSummary {
  id: number;
  workflow: { id: number; name: string };
  version: number | null;
  status: RunStatus;
  inputs: Record<string, unknown>;
  error: unknown;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  started_by: string | null;
  duration_ms: number | null;
  cost_usd: number | null;
  last_seq: number;
}

export interface RunDetail extends RunSummary {
  document: WorkflowDocument;
  steps: Step[];
}

export interface StepStatusEvent {
  seq: number;
  type: "step.status";
  node_id: string;
  ts: string;
  data: Partial<Step>;
}

export interface RunStatusEvent {
  seq: number;
  type: "run.status";
  node_id: null;
  ts: string;
  data: { status: RunStatus; error: unknown };
}

export type RunEvent = StepStatusEvent | RunStatusEvent;

export type ApprovalStatus = "pending" | "decided" | (string & {});

export interface ApprovalSummary {
  id: number;
  run_id: number;
  workflow: { id: number; name: string };
  node_id: string;
  queue: string;
  title: string;
  status: ApprovalStatus;
  claimed_by: string | null;
  created_at: string;
  decided_at: string | null;
  decided_by: string | null;
  decision?: "approve" | "reject" | null;
}

export interface ApprovalDetail extends ApprovalSummary {
  instructions: string;
  context: Record<string, unknown>;
  fields: Record<string, string>;
  payload_hash: string;
  decision: "approve" | "reject" | null;
  comment: string;
  edited: Record<string, string> | null;
}

export interface OutboxMessage {
  id: number;
  run_id: number;
  to: string;
  subject: string;
  body: string;
  status: string;
  transport: "outbox" | "smtp" | (string & {});
  created_at: string;
}

export interface VersionDocument extends WorkflowVersion {
  document: WorkflowDocument;
}

export interface DiffField {
  path: string;
  before: unknown;
  after: unknown;
}

export interface DiffNode {
  id: string;
  type: string;
  label: string;
}

export interface DiffEdge {
  id: string | null;
  source: string;
  source_port: string;
  target: string;
  target_port: string;
}

export interface VersionDiff {
  nodes: { added: DiffNode[]; removed: DiffNode[]; changed: (DiffNode & { fields: DiffField[] })[] };
  edges: { added: DiffEdge[]; removed: DiffEdge[] };
}

export interface WorkflowTemplate {
  key: string;
  name: string;
  description: string;
  category: string;
  node_count: number;
}

// --- Admin, account and usage (users, tokens, connectors, audit, queues, usage) ---

export interface AdminUser extends User {
  email: string;
  is_active: boolean;
  invitation_pending: boolean;
  last_login: string | null;
  date_joined: string;
}

export interface UserCreated extends AdminUser {
  invite_url: string | null;
}

export interface UserCreateBody {
  username: string;
  email?: string;
  display_name?: string;
  role: Role;
  password?: string;
  queues?: string[];
}

export interface UserUpdateBody {
  role?: Role;
  display_name?: string;
  email?: string;
  is_active?: boolean;
  queues?: string[];
}

export interface ApiToken {
  id: number;
  name: string;
  prefix: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  active: boolean;
}

export interface ApiTokenCreated extends ApiToken {
  token: string;
}

export type ConnectorKind = "smtp" | "http" | "model" | "slack";

export interface Connector {
  id: number;
  name: string;
  kind: ConnectorKind;
  config?: Record<string, unknown>;
  allowed_hosts?: string[];
  secret_set?: boolean;
  secret_fields?: string[];
  created_by?: string | null;
  created_at?: string;
  updated_at?: string;
}

/** `GET /api/connectors/kinds/`: the JSON Schemas a connector form is generated from. */
export interface ConnectorKindInfo {
  kind: ConnectorKind;
  title: string;
  /** `ui.when: {field, values}` on a property: shown only when that config field has one of the values. */
  config_schema: JsonSchema;
  secret_schema: JsonSchema;
}

export interface ConnectorWrite {
  name?: string;
  kind?: ConnectorKind;
  config?: Record<string, unknown>;
  /** Write-only; leave out on PATCH to keep the stored secret. */
  secret?: Record<string, string>;
  allowed_hosts?: string[];
}

export interface AuditEvent {
  id: number;
  created_at: string;
  actor: string | null;
  action: string;
  target_type: string;
  target_id: string;
  ip: string | null;
  data: unknown;
  prev_hash: string;
  hash: string;
}

export interface AuditFilters {
  action?: string;
  actor?: string;
  since?: string;
  until?: string;
}

export interface QueueInfo {
  id: number;
  name: string;
  description: string;
  members: string[];
  pending: number;
  /** Notification settings (see QueueNotifyDialog); absent from older servers' answers. */
  notify_email_connector?: string | null;
  notify_webhook_connector?: string | null;
  notify_events?: ("created" | "escalated")[];
}

export type UsageGroup = "day" | "workflow" | "model" | "user";

export interface UsageFigures {
  runs: number;
  steps: number;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
}

export interface UsageRow extends UsageFigures {
  key: string;
  label: string;
}

export interface UsageReport {
  group_by: UsageGroup;
  days: number;
  rows: UsageRow[];
  totals: UsageFigures;
}

// --- Approvals N-of-M, deadlines; run re-runs and live deltas; models; webhooks ---

export interface ApprovalVote {
  user: string;
  decision: "approve" | "reject" | "request_changes" | (string & {});
  edited: Record<string, string> | null;
  comment: string;
  created_at: string;
}

/** Fields the approval list/detail carry since N-of-M votes and deadlines (all optional for safety). */
export interface ApprovalVoting {
  approvals_required?: number;
  approvals_count?: number;
  due_at?: string | null;
  allow_starter?: boolean;
  on_due?: "timeout" | "escalate" | null;
  escalate_to?: string | null;
  escalated_at?: string | null;
  votes?: ApprovalVote[];
}

export type ApprovalDecision = "approve" | "reject" | "request_changes";

export interface StepDeltaEvent {
  seq: number;
  type: "step.delta";
  node_id: string;
  ts: string;
  data: { text: string };
}

/** One model try of an LLM step (step meta `attempts`), when the API exposes it. */
export interface LlmAttempt {
  model: string;
  outcome: "ok" | "error" | (string & {});
  error_code?: string | null;
  http_status?: number | null;
  duration_ms?: number | null;
}

export interface RerunResult extends RunSummary {
  rerun_of: number;
  rerun_from_node: string | null;
}

export interface ModelInfo {
  name: string;
  label: string;
  provider: string;
  litellm_model: string;
  tier: number | null;
  context_window: number | null;
  input_usd_per_1m: number | null;
  output_usd_per_1m: number | null;
  source: "demo" | "connector" | "settings" | (string & {});
  connector: string | null;
}

export interface ModelList {
  default_model: string;
  results: ModelInfo[];
}

export interface WebhookEndpoint {
  url: string;
  path: string;
  token: string;
  enabled: boolean;
  created_at: string;
  rotated_at: string | null;
}

export interface ConnectorRef {
  id: number;
  name: string;
  kind: string;
}

// Declaration merging: the new optional fields on existing shapes (older servers leave them out).
export interface ApprovalSummary extends ApprovalVoting {}

export interface Step {
  /** Step meta, when a server exposes it (LLM `attempts`, `copied_from_run`, ...). */
  meta?: { attempts?: LlmAttempt[]; copied_from_run?: number; [k: string]: unknown } | null;
}

export interface RunSummary {
  rerun_of?: number | null;
  rerun_from_node?: string | null;
}

/** A node's reliability settings (`settings_schema` of GET /api/node-types/). */
export interface NodeSettings {
  retry?: {
    max_attempts?: number;
    backoff_seconds?: number;
    backoff_multiplier?: number;
    max_backoff_seconds?: number;
    jitter?: boolean;
    retry_on?: string[];
  };
  timeout_seconds?: number | null;
  on_error?: "fail" | "continue" | "error_port" | (string & {});
  [k: string]: unknown;
}

export interface DocNode {
  settings?: NodeSettings;
}

/** GET /api/node-types/ (newer servers add the shared node `settings_schema`). */
export interface NodeTypeList {
  results: NodeType[];
  settings_schema?: JsonSchema;
}

// --- Review inbox: filters, counts, review context, typed fields (issue 7) ---

/** Pending / due soon / mine (claimed by you) counts of GET /api/approvals/ (`counts`). */
export interface ApprovalCountFigures {
  pending: number;
  due_soon: number;
  mine: number;
}

export interface ApprovalCounts extends ApprovalCountFigures {
  queues: (ApprovalCountFigures & { queue: string })[];
}

export interface ApprovalPage extends Paginated<ApprovalSummary> {
  counts?: ApprovalCounts;
}

export interface ApprovalRunStep {
  node_id: string;
  label: string;
  type: string;
  status: string;
  summary: string;
  model: string | null;
  cost_usd: number | null;
  tokens_in?: number | null;
  tokens_out?: number | null;
}

export interface ApprovalPassage {
  source: string;
  text: string;
  score: number | null;
}

/** What produced the draft (GET /api/approvals/{id}/ `run_context`). */
export interface ApprovalRunContext {
  trigger: unknown;
  steps: ApprovalRunStep[];
  passages: ApprovalPassage[];
  cost_usd: number;
}

export interface ApprovalDetail {
  run_context?: ApprovalRunContext;
  /** The node's JSON Schema of its editable fields, or null (free text). */
  fields_schema?: JsonSchema | null;
}
