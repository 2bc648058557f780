"""Who may see and do what with workflows: the one place that decides."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from backend.accounts.models import User
from backend.common.errors import Forbidden, NotFound
from backend.workflows.models import Workflow, WorkflowShare, WorkflowVersion

_LEVEL = {"view": 0, "run": 1, "edit": 2}


def workflow_list_for_user(*, user: User) -> QuerySet[Workflow]:
    qs = Workflow.objects.select_related("updated_by", "owner")
    if user.is_admin:
        return qs
    return qs.filter(
        Q(owner=user) | Q(shares__user=user) | Q(shares__queue__in=user.queues.values("id"))
    ).distinct()


def workflow_permission(*, workflow: Workflow, user: User) -> str | None:
    """The user's strongest permission on the workflow: edit, run, view or None.

    Direct shares and shares with a queue the user belongs to count; edit is capped at run for
    users who cannot build (reviewers, viewers)."""
    if user.is_admin or workflow.owner_id == user.id:
        return "edit" if user.can_build else "run"
    shares = WorkflowShare.objects.filter(
        Q(user=user) | Q(queue__in=user.queues.values("id")), workflow=workflow
    ).values_list("permission", flat=True)
    share = max(shares, key=lambda p: _LEVEL[p], default=None)
    if share == "edit" and not user.can_build:
        return "run"
    return share


def workflow_get_for_user(*, workflow_id: Any, user: User, need: str = "view") -> Workflow:
    """Return the workflow if the user may ``need`` (view/run/edit) it.

    Raises:
        NotFound: it does not exist or the user may not see it (no existence leak).
        Forbidden: the user sees it but lacks ``need``.
    """
    try:
        workflow = Workflow.objects.select_related("updated_by", "owner").get(id=int(workflow_id))
    except (Workflow.DoesNotExist, ValueError, TypeError):
        raise NotFound("Workflow not found.") from None
    perm = workflow_permission(workflow=workflow, user=user)
    if perm is None:
        raise NotFound("Workflow not found.")
    if _LEVEL[perm] < _LEVEL[need]:
        raise Forbidden(f"You may not {need} this workflow.")
    return workflow


def workflow_published_version(*, workflow: Workflow) -> WorkflowVersion | None:
    return workflow.versions.filter(published=True).order_by("-number").first()


def workflow_published_number(*, workflow: Workflow) -> int | None:
    return (
        workflow.versions.filter(published=True).order_by("-number").values_list("number", flat=True).first()
    )
