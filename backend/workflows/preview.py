"""The editor's live preview: one expression or template against a run's data.

Evaluation goes through `orchestrator_core.expressions` with the same limits as a run (JMESPath
only, bounded length, nesting and result size); nothing is ever eval'd. The context is the one
the run gave its nodes: ``{"trigger": run.inputs, "steps": {node_id: output}, "run", "vars"}``
with the steps that fired (succeeded, or failed into an error port).
"""

from __future__ import annotations

from typing import Any

from backend.accounts.models import User
from backend.common.errors import NotFound
from backend.runs.models import Run
from backend.runs.selectors import run_get_for_user
from backend.runs.store import step_record_from_row
from backend.workflows.models import Workflow
from orchestrator_core.engine.step import fired
from orchestrator_core.errors import ExpressionError
from orchestrator_core.expressions import evaluate, expression_context, render


def preview_run(*, workflow: Workflow, user: User, run_id: Any = None) -> Run | None:
    """The run to preview against: ``run_id`` (must belong to ``workflow``) or the latest one.

    Raises:
        NotFound: ``run_id`` is unknown, invisible or of another workflow.
    """
    if run_id is not None:
        run = run_get_for_user(run_id=run_id, user=user)
        if run.workflow_id != workflow.id:
            raise NotFound("Run not found.")
        return run
    return Run.objects.filter(workflow=workflow).order_by("-id").first()


def run_context(run: Run | None) -> dict[str, Any]:
    """The expression context a node of ``run`` saw (empty trigger and steps without a run)."""
    if run is None:
        return expression_context(trigger={}, steps={}, run_id="")
    steps = {}
    for row in run.steps.all().order_by("id"):
        record = step_record_from_row(row)
        if fired(record):
            steps[row.node_id] = row.output
    return expression_context(trigger=run.inputs, steps=steps, run_id=str(run.id))


def expression_preview(
    *,
    workflow: Workflow,
    user: User,
    expression: str | None = None,
    template: str | None = None,
    node_id: str = "",
    field: str = "",
    run_id: Any = None,
) -> dict[str, Any]:
    """Evaluate ``expression`` (plain JMESPath) or render ``template`` (``{{ }}``).

    Returns:
        ``{"ok": True, "value", "run_id"}`` or ``{"ok": False, "error": {code, message, position},
        "run_id"}``: a bad expression is an answer, not an API error.
    """
    run = preview_run(workflow=workflow, user=user, run_id=run_id)
    context = run_context(run)
    base = {"run_id": run.id if run is not None else None}
    try:
        if template is not None:
            value: Any = render(template, context, node_id=node_id, field=field)
        else:
            value = evaluate(expression or "", context, node_id=node_id, field=field)
    except ExpressionError as e:
        details = e.details if isinstance(e.details, dict) else {}
        position = details.get("position")
        return {
            **base,
            "ok": False,
            "error": {
                "code": str(e.code),
                "message": e.message,
                "position": position if isinstance(position, int) else 0,
            },
        }
    return {**base, "ok": True, "value": value}
