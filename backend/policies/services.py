"""Policy writes: validation (model and connector names exist), the tighten-only rule for
workflow owners, the write, then an audit row with the values before and after.

Who may write (see docs/policies.md):

- the global policy: admins only;
- a workflow's policy: admins freely; the workflow's owner (a builder) only to make it stricter
  than what is stored (403 ``POLICY_LOOSENING_FORBIDDEN`` otherwise), never to remove it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from backend.accounts.models import User
from backend.audit.services import audit_record
from backend.common.engine import model_catalog
from backend.common.errors import ApiError, Forbidden
from backend.connectors.models import Connector
from backend.policies.models import Policy
from backend.workflows.models import Workflow

POLICY_FIELDS = (
    "run_max_usd",
    "run_max_tokens",
    "workflow_day_max_usd",
    "workflow_day_max_tokens",
    "user_month_max_usd",
    "user_month_max_tokens",
    "on_budget",
    "allowed_models",
    "allowed_connectors",
    "four_eyes",
    "external_send_requires_approval",
    "redact_pii",
    "publish_review",
    "retention_days",
)
_CAPS = (
    "run_max_usd",
    "run_max_tokens",
    "workflow_day_max_usd",
    "workflow_day_max_tokens",
    "user_month_max_usd",
    "user_month_max_tokens",
    "retention_days",
)
_LISTS = ("allowed_models", "allowed_connectors")
_FLAGS = ("four_eyes", "external_send_requires_approval", "redact_pii", "publish_review")
_DEFAULTS: dict[str, Any] = {name: None for name in (*_CAPS, *_LISTS)} | dict.fromkeys(_FLAGS, False)
_DEFAULTS["on_budget"] = ""
_ON_BUDGET_STRICTNESS = {"": -1, "downgrade": 0, "approve": 1, "stop": 2}


def policy_to_dict(policy: Policy | None) -> dict[str, Any]:
    """The stored values (JSON-ready); the defaults when ``policy`` is None."""
    out: dict[str, Any] = {}
    for name in POLICY_FIELDS:
        value = getattr(policy, name) if policy is not None else _DEFAULTS[name]
        out[name] = float(value) if isinstance(value, Decimal) else value
    return out


def _validate_names(values: dict[str, Any]) -> None:
    problems: list[dict[str, str]] = []
    models = values.get("allowed_models")
    if models is not None:
        known = {m.spec.name for m in model_catalog()}
        problems += [
            {"field": "allowed_models", "code": "UNKNOWN_MODEL", "message": f"No model named {name!r}."}
            for name in models
            if name not in known
        ]
    connectors = values.get("allowed_connectors")
    if connectors is not None:
        known = set(Connector.objects.filter(name__in=connectors).values_list("name", flat=True))
        problems += [
            {
                "field": "allowed_connectors",
                "code": "UNKNOWN_CONNECTOR",
                "message": f"No connector named {name!r}.",
            }
            for name in connectors
            if name not in known
        ]
    if problems:
        code = problems[0]["code"]
        raise ApiError(
            "The policy names models or connectors that do not exist.", code=code, details=problems
        )


def policy_loosened_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The fields where ``new`` is less strict than ``old`` (both `policy_to_dict`-shaped)."""
    loose: list[str] = []
    for name in _CAPS:
        if old[name] is not None and (new[name] is None or new[name] > old[name]):
            loose.append(name)
    for name in _LISTS:
        if old[name] is not None and (new[name] is None or set(new[name]) - set(old[name])):
            loose.append(name)
    loose += [name for name in _FLAGS if old[name] and not new[name]]
    if _ON_BUDGET_STRICTNESS[new["on_budget"] or ""] < _ON_BUDGET_STRICTNESS[old["on_budget"] or ""]:
        loose.append("on_budget")
    return loose


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out = {name: values.get(name, _DEFAULTS[name]) for name in POLICY_FIELDS}
    for name in _LISTS:
        if out[name] is not None:
            out[name] = sorted(set(out[name]))
    out["on_budget"] = out["on_budget"] or ""
    return out


def _write(policy: Policy, values: dict[str, Any], user: User) -> None:
    for name, value in values.items():
        setattr(policy, name, value)
    policy.updated_by = user
    policy.save()


@transaction.atomic
def policy_global_set(*, user: User, values: dict[str, Any], request: Any = None) -> Policy:
    """Replace the global policy (admins). ``values`` holds validated `POLICY_FIELDS`; missing
    ones go back to their defaults."""
    if not user.is_admin:
        raise Forbidden("Only admins can change the global policy.")
    clean = _clean(values)
    _validate_names(clean)
    policy = Policy.objects.select_for_update().filter(is_global=True).first() or Policy(is_global=True)
    before = policy_to_dict(policy if policy.pk else None)
    _write(policy, clean, user)
    audit_record(
        actor=user,
        action="policy.global.update",
        request=request,
        target=policy,
        data={"before": before, "after": policy_to_dict(policy)},
    )
    return policy


def _check_workflow_writer(*, user: User, workflow: Workflow) -> None:
    if user.is_admin:
        return
    if workflow.owner_id != user.id or not user.can_build:
        raise Forbidden("Only admins and the workflow's owner can change its policy.")


@transaction.atomic
def policy_workflow_set(
    *, user: User, workflow: Workflow, values: dict[str, Any], request: Any = None
) -> Policy:
    """Create or replace the workflow's policy. Owners may only tighten what is stored."""
    _check_workflow_writer(user=user, workflow=workflow)
    clean = _clean(values)
    _validate_names(clean)
    policy = Policy.objects.select_for_update().filter(workflow=workflow).first()
    before = policy_to_dict(policy)
    existed = policy is not None
    if not user.is_admin and policy is not None:
        loose = policy_loosened_fields(before, clean)
        if loose:
            raise ApiError(
                "Only an admin can loosen a workflow's policy.",
                code="POLICY_LOOSENING_FORBIDDEN",
                status_code=403,
                details=[{"field": name, "message": "Less strict than the stored value."} for name in loose],
            )
    policy = policy or Policy(workflow=workflow)
    _write(policy, clean, user)
    audit_record(
        actor=user,
        action="policy.workflow.update",
        request=request,
        target=policy,
        data={
            "workflow_id": workflow.pk,
            "before": before if existed else None,
            "after": policy_to_dict(policy),
        },
    )
    return policy


@transaction.atomic
def policy_workflow_delete(*, user: User, workflow: Workflow, request: Any = None) -> None:
    """Remove the workflow's policy (admins): its runs fall back to the global policy.
    Idempotent: nothing to remove is not an error (and leaves no audit row)."""
    if not user.is_admin:
        raise Forbidden("Only admins can remove a workflow's policy.")
    policy = Policy.objects.select_for_update().filter(workflow=workflow).first()
    if policy is None:
        return
    before = policy_to_dict(policy)
    policy_id = policy.pk
    policy.delete()
    audit_record(
        actor=user,
        action="policy.workflow.delete",
        request=request,
        data={"workflow_id": workflow.pk, "policy_id": policy_id, "before": before, "after": None},
    )
