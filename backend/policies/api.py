"""Policy endpoints: the global policy (admins) and each workflow's own (tighten-only)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.api import paginated, request_user
from backend.common.errors import Forbidden
from backend.common.schema import PAGE_PARAMETER, AnySerializer, WorkflowRefSerializer, error_responses
from backend.common.schema import paginated as paginated_of
from backend.policies.models import Policy
from backend.policies.selectors import (
    merge_policies,
    policy_overrides,
    policy_rows,
    run_policy_to_dict,
    settings_retention_days,
)
from backend.policies.services import (
    policy_global_set,
    policy_to_dict,
    policy_workflow_delete,
    policy_workflow_set,
)
from backend.workflows.selectors import workflow_get_for_user


@extend_schema_serializer(component_name="PolicyWrite")
class PolicyInputSerializer(AnySerializer):
    """A whole policy. Fields left out go back to their defaults (no cap, every model, off)."""

    run_max_usd = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=0, allow_null=True, required=False
    )
    run_max_tokens = serializers.IntegerField(min_value=0, max_value=10**15, allow_null=True, required=False)
    workflow_day_max_usd = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=0, allow_null=True, required=False
    )
    workflow_day_max_tokens = serializers.IntegerField(
        min_value=0, max_value=10**15, allow_null=True, required=False
    )
    user_month_max_usd = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=0, allow_null=True, required=False
    )
    user_month_max_tokens = serializers.IntegerField(
        min_value=0, max_value=10**15, allow_null=True, required=False
    )
    on_budget = serializers.ChoiceField(
        choices=Policy.OnBudget.choices,
        allow_blank=True,
        required=False,
        help_text="stop | downgrade | approve; empty on a workflow policy = the global choice.",
    )
    allowed_models = serializers.ListField(
        child=serializers.CharField(max_length=200),
        allow_null=True,
        required=False,
        max_length=500,
        help_text="Model names from /api/models/; null = every model.",
    )
    allowed_connectors = serializers.ListField(
        child=serializers.CharField(max_length=100),
        allow_null=True,
        required=False,
        max_length=500,
        help_text="Connector names; null = every connector.",
    )
    four_eyes = serializers.BooleanField(required=False, default=False)
    external_send_requires_approval = serializers.BooleanField(required=False, default=False)
    redact_pii = serializers.BooleanField(required=False, default=False)
    publish_review = serializers.BooleanField(required=False, default=False)
    retention_days = serializers.IntegerField(
        min_value=1,
        max_value=36500,
        allow_null=True,
        required=False,
        help_text="Days to keep finished runs; null = BATON_RETENTION_DAYS.",
    )


class PolicyValuesSerializer(AnySerializer):
    """Stored policy values (documentation of ``policy_to_dict``)."""

    run_max_usd = serializers.FloatField(allow_null=True)
    run_max_tokens = serializers.IntegerField(allow_null=True)
    workflow_day_max_usd = serializers.FloatField(allow_null=True)
    workflow_day_max_tokens = serializers.IntegerField(allow_null=True)
    user_month_max_usd = serializers.FloatField(allow_null=True)
    user_month_max_tokens = serializers.IntegerField(allow_null=True)
    on_budget = serializers.CharField(allow_blank=True)
    allowed_models = serializers.ListField(child=serializers.CharField(), allow_null=True)
    allowed_connectors = serializers.ListField(child=serializers.CharField(), allow_null=True)
    four_eyes = serializers.BooleanField()
    external_send_requires_approval = serializers.BooleanField()
    redact_pii = serializers.BooleanField()
    publish_review = serializers.BooleanField()
    retention_days = serializers.IntegerField(allow_null=True)


class GlobalPolicySerializer(PolicyValuesSerializer):
    updated_at = serializers.DateTimeField(allow_null=True)
    updated_by = serializers.CharField(allow_null=True)
    default_retention_days = serializers.IntegerField(help_text="BATON_RETENTION_DAYS (0 = keep forever).")


class EffectivePolicySerializer(AnySerializer):
    """The merged policy runs execute under (``run_policy_to_dict``)."""

    budgets = serializers.DictField(
        help_text="per_run, per_workflow_day, per_user_month: {max_usd, max_tokens}."
    )
    on_budget = serializers.CharField()
    allowed_models = serializers.ListField(child=serializers.CharField(), allow_null=True)
    allowed_connectors = serializers.ListField(child=serializers.CharField(), allow_null=True)
    four_eyes = serializers.BooleanField()
    external_send_requires_approval = serializers.BooleanField()
    redact_pii = serializers.BooleanField()
    publish_review = serializers.BooleanField()
    retention_days = serializers.IntegerField(help_text="0 = keep forever.")


class WorkflowPolicySerializer(AnySerializer):
    workflow = WorkflowRefSerializer()
    policy = PolicyValuesSerializer(allow_null=True, help_text="The workflow's own policy; null = none.")
    global_ = PolicyValuesSerializer(help_text="The global policy.")
    effective = EffectivePolicySerializer()
    can_edit = serializers.BooleanField(help_text="You may tighten it (admins may also loosen it).")
    can_delete = serializers.BooleanField()
    updated_at = serializers.DateTimeField(allow_null=True)
    updated_by = serializers.CharField(allow_null=True)

    def get_fields(self) -> dict[str, Any]:
        return {
            ("global" if name == "global_" else name): field for name, field in super().get_fields().items()
        }


_WRITE_ERRORS = error_responses(
    400,
    401,
    403,
    404,
    e400="Bad values (`BAD_REQUEST`), unknown names (`UNKNOWN_MODEL`, `UNKNOWN_CONNECTOR`).",
    e403="Not allowed (`PERMISSION_DENIED`, `POLICY_LOOSENING_FORBIDDEN` for an owner loosening it).",
)


def _meta(policy: Policy | None) -> dict[str, Any]:
    return {
        "updated_at": policy.updated_at.isoformat() if policy is not None else None,
        "updated_by": policy.updated_by.username if policy is not None and policy.updated_by else None,
    }


def _global_out(policy: Policy | None) -> dict[str, Any]:
    return {**policy_to_dict(policy), **_meta(policy), "default_retention_days": settings_retention_days()}


class GlobalPolicyApi(APIView):
    @extend_schema(
        summary="Get the global policy (admins)",
        operation_id="policy_global_get",
        responses={200: GlobalPolicySerializer, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        if not request_user(request).is_admin:
            raise Forbidden("Only admins can see the global policy.")
        return Response(_global_out(policy_rows(None)[0]))

    @extend_schema(
        summary="Replace the global policy (admins)",
        description="Every workflow's runs are bound by it; a workflow policy may only tighten it.",
        operation_id="policy_global_set",
        request=PolicyInputSerializer,
        responses={200: GlobalPolicySerializer, **_WRITE_ERRORS},
    )
    def put(self, request: Request) -> Response:
        user = request_user(request)
        if not user.is_admin:
            raise Forbidden("Only admins can change the global policy.")
        data = PolicyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = policy_global_set(user=user, values=dict(data.validated_data), request=request)
        return Response(_global_out(policy))


class PolicyOverrideSerializer(PolicyValuesSerializer):
    workflow = WorkflowRefSerializer()
    updated_at = serializers.DateTimeField(allow_null=True)
    updated_by = serializers.CharField(allow_null=True)


class WorkflowPolicyListApi(APIView):
    @extend_schema(
        summary="List workflow policies (admins)",
        description="Every workflow that has a policy of its own, by workflow name.",
        operation_id="policy_workflow_list",
        parameters=[PAGE_PARAMETER],
        responses={200: paginated_of(PolicyOverrideSerializer), **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        if not request_user(request).is_admin:
            raise Forbidden("Only admins can list workflow policies.")

        def row(p: Policy) -> dict[str, Any]:
            assert p.workflow is not None
            return {
                "workflow": {"id": p.workflow.pk, "name": p.workflow.name},
                **policy_to_dict(p),
                **_meta(p),
            }

        return paginated(self, request, policy_overrides(), row)


def _workflow_out(workflow: Any, user: Any) -> dict[str, Any]:
    g, w = policy_rows(workflow)
    run_policy, extras = merge_policies(g, w)
    return {
        "workflow": {"id": workflow.pk, "name": workflow.name},
        "policy": policy_to_dict(w) if w is not None else None,
        "global": policy_to_dict(g),
        "effective": run_policy_to_dict(run_policy, extras),
        "can_edit": bool(user.is_admin or (workflow.owner_id == user.id and user.can_build)),
        "can_delete": bool(user.is_admin),
        **_meta(w),
    }


class WorkflowPolicyApi(APIView):
    @extend_schema(
        summary="Get a workflow's policy",
        description="Its own policy (or null), the global one and the merged policy its runs execute under.",
        operation_id="policy_workflow_get",
        responses={200: WorkflowPolicySerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, workflow_id: int) -> Response:
        user = request_user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user, need="view")
        return Response(_workflow_out(workflow, user))

    @extend_schema(
        summary="Set a workflow's policy",
        description=(
            "Admins set anything; the workflow's owner may only make it stricter than what is stored "
            "(403 `POLICY_LOOSENING_FORBIDDEN`). It can never loosen the global policy: see the merge rule."
        ),
        operation_id="policy_workflow_set",
        request=PolicyInputSerializer,
        responses={200: WorkflowPolicySerializer, **_WRITE_ERRORS},
    )
    def put(self, request: Request, workflow_id: int) -> Response:
        user = request_user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user, need="edit")
        data = PolicyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy_workflow_set(user=user, workflow=workflow, values=dict(data.validated_data), request=request)
        return Response(_workflow_out(workflow, user))

    @extend_schema(
        summary="Remove a workflow's policy (admins)",
        operation_id="policy_workflow_delete",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request: Request, workflow_id: int) -> Response:
        user = request_user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user, need="edit")
        policy_workflow_delete(user=user, workflow=workflow, request=request)
        return Response(status=204)
