from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from backend.accounts.models import User
from backend.common.errors import NotFound
from backend.runs.models import Run
from backend.workflows.selectors import workflow_get_for_user, workflow_list_for_user


def run_list_for_user(*, user: User) -> QuerySet[Run]:
    qs = Run.objects.select_related("workflow", "version", "started_by")
    if user.is_admin:
        return qs
    return qs.filter(workflow__in=workflow_list_for_user(user=user).values("id"))


def run_get_for_user(*, run_id: Any, user: User, need: str = "view") -> Run:
    """Return the run if the user may ``need`` it (through its workflow).

    Raises:
        NotFound: missing or invisible. Forbidden: visible, but not ``need``.
    """
    try:
        run = Run.objects.select_related("workflow", "version", "started_by").get(id=int(run_id))
    except (Run.DoesNotExist, ValueError, TypeError):
        raise NotFound("Run not found.") from None
    workflow_get_for_user(workflow_id=run.workflow_id, user=user, need=need)
    return run
