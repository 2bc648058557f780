// Response shapes of the editor's own endpoints (docs/api.md): expression preview, version reviews.
import type { WorkflowVersion } from "../api/types";

export interface PreviewRequest {
  expression?: string;
  template?: string;
  node_id?: string;
  field?: string;
  run_id?: number | null;
}

export interface PreviewError {
  code: string;
  message: string;
  /** 0-based offset in the expression / template that was sent. */
  position: number;
}

export interface PreviewResult {
  ok: boolean;
  value?: unknown;
  error?: PreviewError;
  /** The run whose data was used; null when the workflow never ran. */
  run_id: number | null;
}

export type VersionReviewStatus = "pending" | "approved" | "rejected" | "superseded";

export interface VersionReviewBrief {
  id: number;
  status: VersionReviewStatus;
}

/** A version as listed, with its publish review when it had one. */
export type ReviewedVersion = WorkflowVersion & { review?: VersionReviewBrief | null };

export interface VersionReview {
  id: number;
  workflow: { id: number; name: string };
  version: ReviewedVersion;
  /** The version live when the review was asked for: the diff's left side. */
  base_number: number | null;
  status: VersionReviewStatus;
  requested_by: string | null;
  decided_by: string | null;
  comment: string;
  created_at: string;
  decided_at: string | null;
  can_decide: boolean;
}
