"""Policy rules checked on a workflow document (at publish time, and shown by validation)."""

from __future__ import annotations

from typing import Any

from backend.common.engine import registry
from backend.common.errors import ApiError
from backend.policies.selectors import effective_policy
from orchestrator_core.policy import sends_without_approval


def policy_document_problems(*, workflow: Any, document: Any) -> list[dict[str, Any]]:
    """The document's breaches of the workflow's effective policy, as validation issues
    (``{code: POLICY_VIOLATION, message, node_id}``); [] when none or the document is not a dict."""
    if not isinstance(document, dict):
        return []
    run_policy, _ = effective_policy(workflow)
    if not run_policy.external_send_requires_approval:
        return []
    side_effect_types = frozenset(t.key for t in registry().types() if t.side_effect)
    return [
        {
            "code": "POLICY_VIOLATION",
            "message": "The policy requires a human approval before anything is sent outside; "
            "put a human.approval node between the trigger and this node.",
            "node_id": node_id,
        }
        for node_id in sends_without_approval(document, side_effect_types)
    ]


def policy_check_publish(*, workflow: Any, document: Any) -> None:
    """Refuse to publish a document that breaks the policy.

    Raises:
        ApiError: 400 POLICY_VIOLATION, details listing the offending nodes.
    """
    problems = policy_document_problems(workflow=workflow, document=document)
    if problems:
        nodes = ", ".join(str(p["node_id"]) for p in problems)
        raise ApiError(
            f"The policy requires a human approval before sending outside; not so for: {nodes}.",
            code="POLICY_VIOLATION",
            details=problems,
        )
