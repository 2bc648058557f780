"""Error codes shared by the engine, the API, the editor and the docs.

Every failure a user can see carries one of these codes. The codes are part of the public
contract: never rename one, only add.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    # Workflow documents and validation
    WORKFLOW_INVALID = "WORKFLOW_INVALID"
    WORKFLOW_TOO_LARGE = "WORKFLOW_TOO_LARGE"
    NODE_ID_DUPLICATE = "NODE_ID_DUPLICATE"
    NODE_TYPE_UNKNOWN = "NODE_TYPE_UNKNOWN"
    NODE_CONFIG_INVALID = "NODE_CONFIG_INVALID"
    EDGE_DANGLING = "EDGE_DANGLING"
    EDGE_DUPLICATE = "EDGE_DUPLICATE"
    PORT_UNKNOWN = "PORT_UNKNOWN"
    GRAPH_CYCLE = "GRAPH_CYCLE"
    NODE_UNREACHABLE = "NODE_UNREACHABLE"
    TRIGGER_MISSING = "TRIGGER_MISSING"
    TRIGGER_MULTIPLE = "TRIGGER_MULTIPLE"
    # Expressions
    EXPRESSION_INVALID = "EXPRESSION_INVALID"
    EXPRESSION_LIMIT = "EXPRESSION_LIMIT"
    # Running
    INPUT_INVALID = "INPUT_INVALID"
    NODE_FAILED = "NODE_FAILED"
    LLM_ERROR = "LLM_ERROR"
    LLM_OUTPUT_INVALID = "LLM_OUTPUT_INVALID"
    EMAIL_FAILED = "EMAIL_FAILED"
    NODE_TIMEOUT = "NODE_TIMEOUT"
    HTTP_ERROR = "HTTP_ERROR"
    HTTP_RESPONSE_TOO_LARGE = "HTTP_RESPONSE_TOO_LARGE"
    DESTINATION_NOT_ALLOWED = "DESTINATION_NOT_ALLOWED"
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
    APPROVAL_REJECTED = "APPROVAL_REJECTED"
    RUN_CANCELLED = "RUN_CANCELLED"
    RUN_TIMEOUT = "RUN_TIMEOUT"
    SIDE_EFFECT_BLOCKED = "SIDE_EFFECT_BLOCKED"
    # Sub-workflows and loops (child runs)
    SUBWORKFLOW_NOT_FOUND = "SUBWORKFLOW_NOT_FOUND"
    SUBWORKFLOW_NOT_PUBLISHED = "SUBWORKFLOW_NOT_PUBLISHED"
    SUBWORKFLOW_RECURSIVE = "SUBWORKFLOW_RECURSIVE"
    SUBWORKFLOW_DEPTH = "SUBWORKFLOW_DEPTH"
    SUBWORKFLOW_FAILED = "SUBWORKFLOW_FAILED"
    LOOP_ITEMS_INVALID = "LOOP_ITEMS_INVALID"
    LOOP_ITEM_FAILED = "LOOP_ITEM_FAILED"
    LEASE_LOST = "LEASE_LOST"
    BUDGET_EXCEEDED = "BUDGET_EXCEEDED"
    """An LLM call would exceed a budget of the run's policy (details: scope, limit, spent)."""
    MODEL_NOT_ALLOWED = "MODEL_NOT_ALLOWED"
    """The run's policy does not allow the model the node asked for (details: model, allowed)."""
    CONNECTOR_NOT_ALLOWED = "CONNECTOR_NOT_ALLOWED"
    """The run's policy does not allow the connector the node uses (details: connector, allowed)."""
    CONNECTOR_AUTH_FAILED = "CONNECTOR_AUTH_FAILED"
    """A connector could not get credentials (e.g. the OAuth2 token endpoint refused the client)."""
    POLICY_VIOLATION = "POLICY_VIOLATION"
    """A workflow breaks a rule of its policy (e.g. an outside send not behind a human approval)."""
    AGENT_STEP_LIMIT = "AGENT_STEP_LIMIT"
    """An ``llm.agent`` still wanted tools after its ``max_steps`` rounds (details: transcript)."""
    INTERNAL_ERROR = "INTERNAL_ERROR"


class BatonError(Exception):
    """An error with a stable code, a human message and optional structured details."""

    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        details: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": str(self.code), "message": self.message}
        if self.details is not None:
            out["details"] = self.details
        return out


class WorkflowInvalid(BatonError):
    """The workflow document cannot be parsed or does not validate; details lists Issues."""

    code = ErrorCode.WORKFLOW_INVALID


class ExpressionError(BatonError):
    """An expression or template failed to parse or evaluate (EXPRESSION_INVALID / _LIMIT)."""

    code = ErrorCode.EXPRESSION_INVALID


class NodeError(BatonError):
    """Raised by a node's execute() for an expected failure; the step fails with this code."""

    code = ErrorCode.NODE_FAILED


class LeaseLost(BatonError):
    """The run's lease was taken by another worker; the current worker must stop at once."""

    code = ErrorCode.LEASE_LOST
