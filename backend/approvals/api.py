from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import User
from backend.approvals import services
from backend.approvals.models import Approval
from backend.approvals.selectors import approval_get_for_user, approval_list_for_user, approval_summary
from backend.common.api import paginated
from backend.common.schema import (
    PAGE_PARAMETER,
    AnySerializer,
    WorkflowRefSerializer,
    enum_field,
    error_responses,
)
from backend.common.schema import paginated as paginated_of


def _user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


def approval_detail(a: Approval) -> dict[str, Any]:
    return {
        **approval_summary(a),
        "instructions": a.instructions,
        "context": a.context,
        "fields": a.fields,
        "payload_hash": a.payload_hash,
        "decision": {"approved": "approve", "rejected": "reject"}.get(a.status),
        "comment": a.comment,
        "edited": a.edited,
    }


# --- Response shapes (documentation only: the views return the dicts built above) -------------


class ApprovalSummarySerializer(AnySerializer):
    id = serializers.IntegerField()
    run_id = serializers.IntegerField()
    workflow = WorkflowRefSerializer()
    node_id = serializers.CharField()
    queue = serializers.CharField(help_text="Name of the review queue.")
    title = serializers.CharField()
    status = enum_field("ApprovalStatusEnum", Approval.Status.values)
    claimed_by = serializers.CharField(allow_null=True, help_text="Username of the reviewer who claimed it.")
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decided_by = serializers.CharField(allow_null=True, help_text="Username.")


class ApprovalDetailSerializer(ApprovalSummarySerializer):
    instructions = serializers.CharField(allow_blank=True, help_text="Markdown.")
    context = serializers.DictField(child=serializers.CharField(), help_text="Read-only facts, label → text.")  # type: ignore[assignment]
    fields = serializers.DictField(child=serializers.CharField(), help_text="Editable fields, name → text.")  # type: ignore[assignment]
    payload_hash = serializers.CharField(help_text="sha256 hex; send it back with the decision.")
    decision = serializers.ChoiceField(choices=["approve", "reject"], allow_null=True)
    comment = serializers.CharField(allow_blank=True)
    edited = serializers.DictField(
        child=serializers.CharField(), allow_null=True, help_text="The fields the reviewer changed."
    )


_APPROVAL_CONFLICTS = "Already decided (`APPROVAL_DECIDED`) or claimed by someone else (`APPROVAL_CLAIMED`)."


class ApprovalListApi(APIView):
    @extend_schema(
        summary="List review items",
        description="Only an admin or a member of the item's queue sees it. Newest first.",
        operation_id="approvals_list",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=["pending", "decided", "all", *Approval.Status.values[1:]],
                default="pending",
                description="`decided` = approved or rejected; `all` = no filter; else one status.",
            ),
            OpenApiParameter("queue", OpenApiTypes.STR, description="Only items of this queue (name)."),
            PAGE_PARAMETER,
        ],
        responses={200: paginated_of(ApprovalSummarySerializer), **error_responses(401, 404)},
    )
    def get(self, request: Request) -> Response:
        qs = approval_list_for_user(user=_user(request))
        status = request.query_params.get("status", "pending")
        if status == "decided":
            qs = qs.filter(status__in=[Approval.Status.APPROVED, Approval.Status.REJECTED])
        elif status != "all":
            qs = qs.filter(status=status)
        queue = request.query_params.get("queue")
        if queue:
            qs = qs.filter(queue__name=queue)
        return paginated(self, request, qs, approval_summary)


class ApprovalDetailApi(APIView):
    @extend_schema(
        summary="Get a review item",
        operation_id="approvals_retrieve",
        responses={200: ApprovalDetailSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, approval_id: int) -> Response:
        return Response(approval_detail(approval_get_for_user(approval_id=approval_id, user=_user(request))))


class ApprovalClaimApi(APIView):
    @extend_schema(
        summary="Claim a review item",
        request=None,
        responses={200: ApprovalDetailSerializer, **error_responses(401, 404, 409, e409=_APPROVAL_CONFLICTS)},
    )
    def post(self, request: Request, approval_id: int) -> Response:
        user = _user(request)
        approval = approval_get_for_user(approval_id=approval_id, user=user)
        return Response(approval_detail(services.approval_claim(approval=approval, user=user)))


class ApprovalReleaseApi(APIView):
    @extend_schema(
        summary="Release a claimed review item",
        request=None,
        responses={200: ApprovalDetailSerializer, **error_responses(401, 404)},
    )
    def post(self, request: Request, approval_id: int) -> Response:
        user = _user(request)
        approval = approval_get_for_user(approval_id=approval_id, user=user)
        return Response(approval_detail(services.approval_release(approval=approval, user=user)))


class ApprovalDecisionApi(APIView):
    @extend_schema_serializer(component_name="ApprovalDecision")
    class InputSerializer(AnySerializer):
        decision = serializers.ChoiceField(choices=["approve", "reject"])
        edited = serializers.JSONField(required=False, allow_null=True)
        comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
        payload_hash = serializers.CharField(max_length=64)

    @extend_schema(
        summary="Decide a review item",
        description=(
            "Approve or reject once and resume the run. `payload_hash` must be the one you saw "
            "(409 `PAYLOAD_CHANGED` otherwise); `edited` may only change the item's `fields`."
        ),
        request=InputSerializer,
        responses={
            200: ApprovalDetailSerializer,
            **error_responses(
                400, 401, 404, 409, e409=f"{_APPROVAL_CONFLICTS} The item changed (`PAYLOAD_CHANGED`)."
            ),
        },
    )
    def post(self, request: Request, approval_id: int) -> Response:
        user = _user(request)
        approval = approval_get_for_user(approval_id=approval_id, user=user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decided = services.approval_decide(
            approval=approval,
            user=user,
            decision=data.validated_data["decision"],
            payload_hash_seen=data.validated_data["payload_hash"],
            edited=data.validated_data.get("edited"),
            comment=data.validated_data["comment"],
        )
        return Response(approval_detail(decided))
