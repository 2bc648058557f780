// Shapes of /api/policies/ and /api/workflows/{id}/policy/ (see backend/policies/api.py).

export type OnBudget = "stop" | "downgrade" | "approve";

/** A stored policy (global or one workflow's); null caps and lists mean "no limit". */
export interface PolicyValues {
  run_max_usd: number | null;
  run_max_tokens: number | null;
  workflow_day_max_usd: number | null;
  workflow_day_max_tokens: number | null;
  user_month_max_usd: number | null;
  user_month_max_tokens: number | null;
  /** "" on a workflow policy: the global choice. */
  on_budget: OnBudget | "";
  allowed_models: string[] | null;
  allowed_connectors: string[] | null;
  four_eyes: boolean;
  external_send_requires_approval: boolean;
  redact_pii: boolean;
  publish_review: boolean;
  retention_days: number | null;
}

export interface GlobalPolicy extends PolicyValues {
  updated_at: string | null;
  updated_by: string | null;
  /** BATON_RETENTION_DAYS; 0 keeps runs forever. */
  default_retention_days: number;
}

export interface PolicyOverride extends PolicyValues {
  workflow: { id: number; name: string };
  updated_at: string | null;
  updated_by: string | null;
}

export interface BudgetCap {
  max_usd: number | null;
  max_tokens: number | null;
}

export interface EffectivePolicy {
  budgets: { per_run: BudgetCap; per_workflow_day: BudgetCap; per_user_month: BudgetCap };
  on_budget: OnBudget;
  allowed_models: string[] | null;
  allowed_connectors: string[] | null;
  four_eyes: boolean;
  external_send_requires_approval: boolean;
  redact_pii: boolean;
  publish_review: boolean;
  retention_days: number;
}

export interface WorkflowPolicy {
  workflow: { id: number; name: string };
  policy: PolicyValues | null;
  global: PolicyValues;
  effective: EffectivePolicy;
  can_edit: boolean;
  can_delete: boolean;
  updated_at: string | null;
  updated_by: string | null;
}
